"""The --html report: built from the report and the events, escaped, and opened in a
real headless Chromium (skipped where Chromium is not installed)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from browser import chromium_path, open_page

from agentrun.outputs.html_report import embed_json, load_events, render_html
from agentrun.outputs.html_timeline import build_rows, failures, span

HOSTILE = "<img src=x onerror=alert(1)>"
PARADIGM = f"""\
pattern: independent
deadline: 2s
imperatives:
  has_absent: {{contains: absent}}
agents:
  flaky:
    output: hello
    imperatives: [has_absent]
    retries: 2
    backoff: {{initial: 10ms, max: 20ms}}
    fallback: [rescuer]
  rescuer: {{output: "absent </script><script>alert(1)</script>"}}
  broken: {{output: nope, imperatives: [has_absent], retries: 1, backoff: {{initial: 10ms}}}}
  fine: {{output: "{HOSTILE}"}}
"""
ATTEMPTS = 3 + 1 + 2 + 1  # flaky, its fallback rescuer, broken, fine


def agentrun(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentrun", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One run of the paradigm with --report, --events and --html, in its folder."""
    folder = tmp_path_factory.mktemp("html")
    (folder / "p.yaml").write_text(PARADIGM)
    done = agentrun(
        folder, "run", "p.yaml", "--display", "plain",
        "--report", "r.json", "--events", "e.jsonl", "--html", "r.html",
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    return folder


def attempt_bars(dom: str) -> list[str]:
    return re.findall(r'class="bar k-attempt st-(\w+)', dom)


def test_the_events_give_each_attempt_its_times_and_each_retry_its_wait(ran: Path) -> None:
    report = json.loads((ran / "r.json").read_text())
    _, rows = build_rows(report, load_events(ran / "e.jsonl"))
    flaky = next(r for r in rows if r["i"] == "flaky")
    kinds = [seg[0] for seg in flaky["x"]]
    assert kinds.count("attempt") == 3 and kinds.count("backoff") == 2
    assert [seg[3] for seg in flaky["x"] if seg[0] == "attempt"] == [1, 2, 3]
    assert all(seg[1] <= seg[2] for seg in flaky["x"])
    rescuer = next(r for r in rows if r["r"] == "fallback")
    assert rescuer["p"] == "flaky"
    assert rescuer["x"][0][1] >= max(seg[2] for seg in flaky["x"] if seg[0] == "attempt")


def test_without_events_the_times_come_from_the_durations(ran: Path) -> None:
    report = json.loads((ran / "r.json").read_text())
    details, rows = build_rows(report, None)
    assert sum(seg[0] == "attempt" for row in rows for seg in row["x"]) == ATTEMPTS
    assert [rows[n]["i"] for n in failures(rows, details)] == ["broken"]
    page = render_html(report)
    assert "times estimated from durations" in page


def test_a_pipeline_without_events_lays_its_stages_end_to_end() -> None:
    report: dict[str, Any] = {
        "stages": [{"name": "one", "duration_s": 2.0}, {"name": "two", "duration_s": 1.0}],
        "agents": [
            {"instance": "a", "stage": "one", "attempt_log": [{"duration_s": 2.0}]},
            {"instance": "b", "stage": "two", "attempt_log": [{"duration_s": 1.0}]},
        ],
    }
    _, rows = build_rows(report, None)
    assert rows[1]["x"][0][1:3] == [2.0, 3.0]
    assert span(rows, report, 3.5) == 3.5  # a near deadline stretches the axis
    assert span(rows, report, 60.0) == 3.0  # a far one is named, not drawn


def test_no_agent_text_can_end_the_embedded_script() -> None:
    text = embed_json({"out": "</script><script>alert(1)</script>&\u2028"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"out": "</script><script>alert(1)</script>&\u2028"}


def test_the_page_holds_two_scripts_whatever_the_outputs_say(ran: Path) -> None:
    page = (ran / "r.html").read_text()
    assert page.count("</script>") == 2
    assert HOSTILE not in page
    assert "https://" not in page and "http://" not in page  # nothing to fetch


def test_report_renders_after_the_fact_like_run_does(ran: Path) -> None:
    done = agentrun(ran, "report", "r.json", "--events", "e.jsonl", "--html", "again.html")
    assert done.returncode == 0, done.stderr
    assert (ran / "again.html").read_text() == (ran / "r.html").read_text().replace(
        '"deadline":2.0', '"deadline":null'
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1, 2]", "bad.json: not a run's report (no agents list)"),
        ('{"agents": [', "bad.json:1:13: not JSON: Expecting value"),
    ],
)
def test_a_bad_report_is_one_line(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "bad.json").write_text(content)
    done = agentrun(tmp_path, "report", "bad.json", "--html", "out.html")
    assert done.returncode == 2
    assert done.stderr.strip() == f"agentrun: error: {message}"
    assert not (tmp_path / "out.html").exists()


def test_a_bad_event_line_names_its_line(ran: Path, tmp_path: Path) -> None:
    (tmp_path / "e.jsonl").write_text('{"event": "agent_started", "t": 0}\nnot json\n')
    done = agentrun(
        tmp_path, "report", str(ran / "r.json"), "--events", "e.jsonl", "--html", "o.html"
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "agentrun: error: e.jsonl:2:1: not JSON: Expecting value"


def test_html_may_not_share_a_path_with_the_report(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(PARADIGM)
    done = agentrun(tmp_path, "run", "p.yaml", "--report", "x", "--html", "x")
    assert done.returncode == 2
    assert done.stderr.strip() == "agentrun: error: --report and --html both write x"


def test_html_is_refused_for_a_dataset(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(PARADIGM)
    (tmp_path / "cases.jsonl").write_text('{"input": "x"}\n')
    done = agentrun(tmp_path, "run", "p.yaml", "--cases", "cases.jsonl", "--html", "x.html")
    assert done.returncode == 2
    assert "--html takes a single run" in done.stderr


@pytest.fixture(scope="module")
def chromium() -> str:
    return chromium_path()


@pytest.mark.slow
def test_chromium_renders_one_bar_per_attempt_and_lists_the_failures(
    ran: Path, chromium: str
) -> None:
    page = open_page(chromium, (ran / "r.html").as_uri())
    assert page.console == []
    assert len(attempt_bars(page.dom)) == ATTEMPTS
    assert page.dom.count('class="bar k-backoff') == 3  # two for flaky, one for broken
    failures_html = page.dom.split('id="failures"', 1)[1].split("</section>", 1)[0]
    assert "broken" in failures_html and "flaky" not in failures_html
    assert "Failures (1)" in page.dom


@pytest.mark.slow
def test_chromium_shows_a_hostile_output_as_text(ran: Path, chromium: str) -> None:
    page = open_page(chromium, (ran / "r.html").as_uri() + "#fine")
    assert page.console == []
    detail = page.dom.split('id="detail"', 1)[1].split("</section>", 1)[0]
    assert "&lt;img src=x onerror=alert(1)&gt;" in detail
    assert "<img" not in page.dom


@pytest.mark.slow
def test_the_console_check_sees_a_broken_page(tmp_path: Path, chromium: str) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text("<script>console.error('seen'); missing();</script>")
    assert len(open_page(chromium, bad.as_uri()).console) == 2


def big_report(agents: int) -> dict[str, Any]:
    """A run of ``agents`` agents, each with two attempts and a failed imperative."""
    attempt = {"status": "violated", "duration_s": 0.5, "output": "x" * 200, "error": "broke c",
               "imperatives": [{"name": "c", "passed": False, "message": "missing 'y'"}],
               "sent": {"prompt": "p" * 300, "system": None}}  # fmt: skip
    return {
        "paradigm": "big", "pattern": "independent", "status": "failed", "exit_code": 1,
        "duration_s": 2.0, "stages": [],
        "agents": [
            {"instance": f"agent_{n}", "role": "agent", "status": "violated" if n % 3 else "passed",
             "duration_s": 1.0, "attempt_log": [attempt, {**attempt, "status": "passed"}],
             "imperatives": attempt["imperatives"], "error": "broke c", "fallbacks": []}
            for n in range(agents)
        ],
    }  # fmt: skip


@pytest.mark.slow
def test_ten_thousand_agents_open_quickly_with_few_rows_drawn(
    tmp_path: Path, chromium: str
) -> None:
    path = tmp_path / "big.html"
    path.write_text(render_html(big_report(10_000)))
    started = time.monotonic()
    page = open_page(chromium, path.as_uri())
    took = time.monotonic() - started
    assert page.console == []
    timing = dict(re.findall(r'data-(render|since-navigation)-ms="([\d.]+)"', page.dom))
    size = path.stat().st_size / 1e6
    print(f"10,000 agents: {size:.1f} MB, script {timing['render']} ms, ready after "
          f"{timing['since-navigation']} ms, chromium --dump-dom {took:.1f}s")  # fmt: skip
    assert page.dom.count('class="row"') < 200  # only the rows in view are in the DOM
    assert float(timing["since-navigation"]) < 5000
    assert "Failures (6666)" in page.dom


def test_queued_time_is_a_segment_of_its_own() -> None:
    report = {
        "agents": [{"instance": "a", "status": "passed", "attempt_log": [{"status": "passed"}]}]
    }
    events = [
        {"event": "agent_started", "t": 0.0, "instance": "a"},
        {"event": "attempt_started", "t": 0.1, "instance": "a", "attempt": 1},
        {"event": "queued", "t": 0.1, "instance": "a", "attempt": 1},
        {"event": "slot_taken", "t": 0.6, "instance": "a", "attempt": 1},
        {"event": "agent_finished", "t": 0.9, "instance": "a"},
    ]
    _, [row] = build_rows(report, events)
    assert sorted(row["x"]) == [
        ["attempt", 0.1, 0.9, 1, "passed"],
        ["queued", 0.1, 0.6, 1, "waiting"],
    ]


def test_several_paradigms_get_one_page_each(tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / f"{name}.yaml").write_text("pattern: independent\nagents:\n  a: {output: hi}\n")
    done = agentrun(tmp_path, "run", "one.yaml", "two.yaml", "--display", "quiet", "--html", "out")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["one.html", "two.html"]
