"""Dataset flags through the real command line: choosing and ordering cases, YAML case
files, JUnit per case, flaky cases across repeats, the plain display, an interrupted run
resumed, and refreshing the response cache."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.fake_llm_server import FakeLLMServer

pytestmark = pytest.mark.slow  # every test starts several agentrun processes

ECHO = """\
pattern: independent
imperatives:
  right:
    equals: "{{ vars.expected }}"
agents:
  bot:
    provider: mock
    output: "{{ input }}"
    imperatives: [right]
"""


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentrun", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _cases(tmp_path: Path, count: int, failing: frozenset[int] = frozenset()) -> None:
    """``count`` cases ``c00``..; those in ``failing`` expect another output."""
    (tmp_path / "p.yaml").write_text(ECHO)
    lines = [
        json.dumps({"id": f"c{i:02d}", "input": f"q{i}", "vars": {"expected": f"q{i}"}})
        if i not in failing
        else json.dumps({"id": f"c{i:02d}", "input": f"q{i}", "vars": {"expected": "no"}})
        for i in range(count)
    ]
    (tmp_path / "cases.jsonl").write_text("\n".join(lines) + "\n")


def _order(tmp_path: Path, *flags: str) -> list[str]:
    """The case ids of a run, in the order they ran (one case in flight at a time)."""
    results = tmp_path / "order.jsonl"
    proc = _run(
        "run", "p.yaml", "--cases", "cases.jsonl", "--case-concurrency", "1",
        "--results", str(results), "--display", "quiet", *flags, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr
    return [json.loads(line)["id"] for line in results.read_text().splitlines()[1:]]


def test_shuffle_with_a_seed_is_a_reproducible_permutation(tmp_path: Path) -> None:
    _cases(tmp_path, 20)
    straight = _order(tmp_path)
    assert straight == [f"c{i:02d}" for i in range(20)]
    first = _order(tmp_path, "--shuffle", "--seed", "7")
    again = _order(tmp_path, "--shuffle", "--seed", "7")
    other = _order(tmp_path, "--shuffle", "--seed", "8")
    assert first != straight
    assert sorted(first) == straight
    assert again == first
    assert other != first and sorted(other) == straight


def test_limit_and_filter_choose_the_cases(tmp_path: Path) -> None:
    _cases(tmp_path, 20)
    assert _order(tmp_path, "--limit", "3") == ["c00", "c01", "c02"]
    assert _order(tmp_path, "--filter", "1[0-2]$") == ["c10", "c11", "c12"]
    # The filter applies first, then the limit.
    assert _order(tmp_path, "--filter", "^c1", "--limit", "2") == ["c10", "c11"]
    proc = _run("run", "p.yaml", "--cases", "cases.jsonl", "--filter", "zzz", cwd=tmp_path)
    assert proc.returncode == 2
    assert "no case left to run (check --filter and --limit)" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_yaml_case_file(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(ECHO)
    (tmp_path / "cases.yaml").write_text(
        "- id: first\n  input: same\n  vars: {expected: same}\n"
        "- input: other\n  vars: {expected: same}\n"
    )
    proc = _run(
        "run", "p.yaml", "--cases", "cases.yaml", "--report", "r.json",
        "--display", "quiet", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    summary = json.loads((tmp_path / "r.json").read_text())["summary"]
    assert summary["cases"] == {
        "total": 2, "passed": 1, "failed": 1, "errored": 0, "interrupted": 0, "distinct": 2,
    }  # fmt: skip
    # An id-less case is named by its position in the list.
    assert summary["failure_reasons"][0]["examples"] == ["2"]
    (tmp_path / "bad.yaml").write_text(
        "- input: a\n  vars: {expected: a}\n- {id: x}\n- {id: yes, input: b}\n"
    )
    bad = _run("run", "p.yaml", "--cases", "bad.yaml", cwd=tmp_path)
    assert bad.returncode == 2
    assert "bad.yaml:3: case has no 'input'" in bad.stderr
    # YAML reads a bare yes as a boolean: told plainly, not taken as the id "True".
    assert "bad.yaml:4: 'id' must be text or a number, got a boolean" in bad.stderr


def test_junit_has_one_testcase_per_case_and_repeat(tmp_path: Path) -> None:
    _cases(tmp_path, 3, failing=frozenset({1}))
    proc = _run(
        "run", "p.yaml", "--cases", "cases.jsonl", "--repeat", "2", "--junit", "j.xml",
        "--display", "quiet", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    root = ET.parse(tmp_path / "j.xml").getroot()
    cases = root.findall("./testsuite/testcase")
    names = sorted(case.get("name") or "" for case in cases)
    assert names == sorted(f"c{i:02d} (repeat {r})" for i in range(3) for r in (1, 2))
    failed = sorted(c.get("name") or "" for c in cases if c.find("failure") is not None)
    assert failed == ["c01 (repeat 1)", "c01 (repeat 2)"]
    assert root.get("tests") == "6" and root.get("failures") == "2"
    single = _run(
        "run", "p.yaml", "--cases", "cases.jsonl", "--junit", "one.xml", cwd=tmp_path
    )  # fmt: skip
    assert single.returncode == 1
    one = ET.parse(tmp_path / "one.xml").getroot().findall("./testsuite/testcase")
    assert sorted(case.get("name") or "" for case in one) == ["c00", "c01", "c02"]


def test_a_case_failing_on_odd_repeats_is_flaky(tmp_path: Path) -> None:
    (tmp_path / "odd_agent.py").write_text(
        "def answer(prompt):\n"
        "    if int(prompt) % 2:\n"
        "        raise ValueError('odd repeat')\n"
        "    return 'even'\n"
    )
    (tmp_path / "p.yaml").write_text(
        "pattern: independent\n"
        "agents:\n"
        "  bot: {provider: python, callable: 'odd_agent:answer', prompt: '{{ case.repeat }}',"
        " retries: 0}\n"
    )
    (tmp_path / "cases.jsonl").write_text('{"id": "only", "input": "x"}\n')
    proc = _run(
        "run", "p.yaml", "--cases", "cases.jsonl", "--repeat", "4", "--report", "r.json",
        "--display", "quiet", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode != 0, proc.stderr
    summary = json.loads((tmp_path / "r.json").read_text())["summary"]
    assert summary["flaky"] == [{"id": "only", "passed": 2, "runs": 4, "pass_rate": 0.5}]
    assert summary["cases"]["passed"] == 2
    assert summary["cases"]["errored"] + summary["cases"]["failed"] == 2
    # One repeat only: nothing both passed and failed, so nothing is flaky.
    once = _run(
        "run", "p.yaml", "--cases", "cases.jsonl", "--report", "once.json", cwd=tmp_path
    )  # fmt: skip
    assert once.returncode == 0, once.stderr
    assert json.loads((tmp_path / "once.json").read_text())["summary"]["flaky"] == []


def test_plain_display_prints_a_line_per_case(tmp_path: Path) -> None:
    _cases(tmp_path, 3, failing=frozenset({2}))
    proc = _run(
        "run", "p.yaml", "--cases", "cases.jsonl", "--repeat", "2", "--display", "plain",
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.startswith("case ")]
    assert len(lines) == 6, proc.stdout
    heads = sorted(line.split(" in ")[0] for line in lines)
    assert heads == sorted(
        [f"case c0{i}: passed" for i in (0, 1)]
        + [f"case c0{i} #2: passed" for i in (0, 1)]
        + ["case c02: failed", "case c02 #2: failed"]
    )
    failed = [line for line in lines if ": failed" in line]
    assert all(line.endswith(")") and " (" in line for line in failed), failed
    assert "progress: 6/6 cases (100%)" in proc.stdout


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    """The aggregate without its timings (they differ from run to run)."""
    summary = dict(report["summary"])
    summary.pop("latency_s")
    summary["agents"] = {
        name: {k: v for k, v in tally.items() if k != "latency_s"}
        for name, tally in summary["agents"].items()
    }
    return {**report, "summary": summary}


def test_interrupted_then_resumed_equals_a_straight_run(tmp_path: Path) -> None:
    paradigm = ECHO.replace("provider: mock\n", "provider: mock\n    latency: 0.05\n")
    _cases(tmp_path, 60, failing=frozenset({3, 17, 41}))
    (tmp_path / "p.yaml").write_text(paradigm)
    base = ("run", "p.yaml", "--cases", "cases.jsonl", "--case-concurrency", "2")
    straight = _run(*base, "--report", "straight.json", "--display", "quiet", cwd=tmp_path)
    assert straight.returncode == 1, straight.stderr
    results = tmp_path / "r.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "agentrun", *base, "--results", "r.jsonl", "--display", "quiet"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if results.exists() and len(results.read_text().splitlines()) > 10:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    assert "Traceback" not in output
    written = [json.loads(line) for line in results.read_text().splitlines()[1:]]
    assert 10 <= len(written) < 60  # stopped midway
    resumed = _run(*base, "--resume", "r.jsonl", "--report", "resumed.json", cwd=tmp_path)
    assert resumed.returncode == 1, resumed.stderr
    after = json.loads((tmp_path / "resumed.json").read_text())
    assert _comparable(after) == _comparable(json.loads((tmp_path / "straight.json").read_text()))
    assert after["summary"]["cases"]["total"] == 60
    final = {json.loads(line)["id"] for line in results.read_text().splitlines()[1:]}
    assert final == {f"c{i:02d}" for i in range(60)}


def test_cache_refresh_asks_again_and_overwrites(tmp_path: Path) -> None:
    with FakeLLMServer() as server:
        (tmp_path / "p.yaml").write_text(
            "pattern: independent\n"
            "agents:\n  bot:\n    provider: openai\n"
            f"    base_url: {server.openai_url}\n    model: m\n"
        )
        (tmp_path / "cases.jsonl").write_text(
            "".join(json.dumps({"id": str(i), "input": f"q{i}"}) + "\n" for i in range(3))
        )
        args = ("run", "p.yaml", "--cases", "cases.jsonl", "--display", "quiet")
        assert _run(*args, "--cache", cwd=tmp_path).returncode == 0
        assert server.stats()["completed"] == 3
        refreshed = _run(*args, "--cache-refresh", "--report", "refresh.json", cwd=tmp_path)
        assert refreshed.returncode == 0, refreshed.stderr
        assert server.stats()["completed"] == 6  # every case asked the server again
        cache = json.loads((tmp_path / "refresh.json").read_text())["summary"]["cache"]
        assert cache.get("hits", 0) == 0
        again = _run(*args, "--cache", "--report", "again.json", cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert server.stats()["completed"] == 6  # the refreshed replies were stored
        assert json.loads((tmp_path / "again.json").read_text())["summary"]["cache"]["hits"] == 3
        stats = _run("cache", "stats", "p.yaml", cwd=tmp_path)
        assert json.loads(stats.stdout)["entries"] == 3
