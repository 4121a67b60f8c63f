"""The live view on a real pseudo-terminal: `agentrun run` under pexpect, screen read at the end.

Mock latencies set the order of events; nothing here asserts on timing. Each test
waits for the process to exit, replays everything it wrote through a small
terminal emulator, and asserts on the final screen (rows, symbols, summary).
"""

from __future__ import annotations

import os
import re
import sys
import textwrap
from pathlib import Path

import pexpect
import pytest
from vt_screen import Screen

ROWS, COLUMNS = 50, 120

PIPELINE = """
name: pty-team
pattern: pipeline
input: heat
defaults: {provider: mock, timeout: 10s, retries: 1, backoff: {initial: 50ms, jitter: false}}
imperatives:
  cites: {contains: "source:"}
  polite: {not_contains: "stupid", severity: warning}
agents:
  academic: {latency: 300ms, output: "study of {{ input }} source: doi", imperatives: [cites]}
  industry: {latency: 80ms, error: "503 from upstream", fallback: [backup]}
  backup: {latency: 100ms, output: "no industry data"}
  press: {latency: 200ms, outputs: ["rumours", "report source: paper"], imperatives: [cites, polite]}
  theorist: {latency: 800ms, output: "theory source: all", imperatives: [polite]}
  sleepy: {latency: 5s, timeout: 600ms, retries: 0}
  critic: {latency: 100ms, output: "fine"}
stages:
  - {name: gather, agents: [academic, industry, press]}
  - {name: theorise, agents: [theorist, sleepy]}
  - {name: critique, agents: [critic]}
"""

RACE = """
name: pty-race
pattern: competitive
imperatives:
  right: {equals: "42"}
agents:
  tortoise: {provider: mock, latency: 5s, output: "42"}
  hare: {provider: mock, latency: 300ms, output: "42", imperatives: [right]}
  cheat: {provider: mock, latency: 100ms, output: "41", imperatives: [right]}
"""

HANG = """
name: pty-hang
pattern: independent
agents:
  quick: {provider: mock, latency: 50ms, output: "done"}
  stuck: {provider: mock, hang: true}
"""


def test_screen_replays_cursor_moves() -> None:
    screen = Screen(5, 20)
    screen.feed("one\r\ntwo\r\n\x1b[2K\x1b[1A\x1b[2K\x1b[1A\x1b[2K\rnew\r\n\x1b[31mred\x1b[0m")
    assert screen.text() == "new\nred"
    assert screen.colour_seen


# --------------------------------------------------------------------------- running under a pty


class Finished:
    """A finished process: its exit status, raw output and final screen."""

    def __init__(self, status: int, raw: str, screen: Screen) -> None:
        self.status = status
        self.raw = raw
        self.screen = screen
        self.text = screen.text()


def _env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"CI", "NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES", "GITHUB_STEP_SUMMARY"}
    }
    env.update({"TERM": "xterm-256color", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def _spawn(args: list[str], cwd: Path, **env: str) -> pexpect.spawn:
    return pexpect.spawn(
        sys.executable,
        ["-m", "agentrun", *args],
        cwd=str(cwd),
        env=_env(**env),
        dimensions=(ROWS, COLUMNS),
        encoding="utf-8",
        codec_errors="replace",
        timeout=60,
    )


def _finish(child: pexpect.spawn, already: str = "") -> Finished:
    child.expect(pexpect.EOF, timeout=60)
    raw = already + (child.before or "")
    child.close()
    status = child.exitstatus if child.exitstatus is not None else 128 + (child.signalstatus or 0)
    screen = Screen(ROWS, COLUMNS)
    screen.feed(raw)
    return Finished(status, raw, screen)


def _run(tmp_path: Path, paradigm: str, *extra: str, **env: str) -> Finished:
    path = tmp_path / "paradigm.yaml"
    path.write_text(textwrap.dedent(paradigm), encoding="utf-8")
    return _finish(_spawn(["run", str(path), *extra], tmp_path, **env))


def _normalise(text: str) -> str:
    """Times vary from run to run; everything else on the summary must not."""
    return re.sub(r"\d+(\.\d+)?(ms|s)\b", "<t>", text)


def _rows(text: str) -> dict[str, str]:
    """Agent name -> its table row on the final screen."""
    found = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] not in found and parts[0] in "✓✗!⏱⊘-↻·":
            found[parts[1]] = line
    return found


@pytest.mark.slow
def test_pipeline_final_screen(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    done = _run(tmp_path, PIPELINE, "--report", str(report))
    assert done.status == 3, done.text  # a timeout alone failed the pipeline
    text = done.text
    # Auto picked the live view: cursor hidden while drawing, shown again at the end.
    assert "\x1b[?25l" in done.raw
    assert done.screen.cursor_visible
    assert done.screen.colour_seen, "colour is on by default on a terminal"
    rows = _rows(text)
    assert "stage gather" in text and "stage theorise" in text and "stage critique" in text
    assert rows["academic"].split()[:3] == ["✓", "academic", "passed"]
    assert "✓cites" in rows["academic"]
    assert rows["industry"].split()[:4] == ["✗", "industry", "failed", "2"]
    assert "→ replaced by backup" in rows["industry"]
    assert rows["press"].split()[:4] == ["✓", "press", "passed", "2"]
    assert "✓cites ✓polite" in rows["press"]
    assert rows["sleepy"].split()[:3] == ["⏱", "sleepy", "timeout"]
    assert "timeout of 600ms exceeded" in rows["sleepy"]
    assert rows["critic"].split()[:3] == ["-", "critic", "skipped"]
    assert "an earlier stage failed" in rows["critic"]
    # No spinner survives into the final frame.
    assert not re.search("[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]", text)
    summary = text[text.index(" FAILED ") :]
    assert _normalise(summary) == _normalise(
        textwrap.dedent(
            f"""\
             FAILED  pty-team (pipeline) in 1.3s
            reason   stage 'theorise' failed: 1 of 2 agents passed; require: all
            agents   ✓ 3 passed  ✗ 1 failed  ⏱ 1 timeout  - 1 skipped  (of 6)
            slowest  theorist 800ms, sleepy 600ms, press 450ms
            problems ⏱ sleepy timeout: timeout of 600ms exceeded
            report   {report}"""
        )
    )


@pytest.mark.slow
def test_competitive_winner_is_marked(tmp_path: Path) -> None:
    done = _run(tmp_path, RACE, "--display", "live")
    assert done.status == 0, done.text
    rows = _rows(done.text)
    assert rows["hare"].split()[:3] == ["✓", "hare", "passed"]
    assert "★ winner" in rows["hare"]
    assert rows["cheat"].split()[:3] == ["!", "cheat", "violated"]
    assert rows["tortoise"].split()[:3] == ["⊘", "tortoise", "cancelled"]
    assert "★ winner: hare" in done.text
    assert "PASSED  pty-race (competitive)" in done.text
    assert "— winner: hare" in done.text


@pytest.mark.slow
def test_no_color_keeps_the_view_without_colour(tmp_path: Path) -> None:
    done = _run(tmp_path, RACE, NO_COLOR="1")
    assert done.status == 0
    assert "\x1b[?25l" in done.raw  # still the live view
    assert not done.screen.colour_seen, "NO_COLOR must remove every colour"
    assert "★ winner" in done.text


@pytest.mark.slow
@pytest.mark.parametrize("env", [{"CI": "true"}, {"TERM": "dumb"}])
def test_auto_is_plain_in_ci_and_on_dumb_terminals(tmp_path: Path, env: dict[str, str]) -> None:
    done = _run(tmp_path, RACE, **env)
    assert done.status == 0
    assert "\x1b" not in done.raw
    assert "hare  WINNER; cancelling the other racers" in done.raw


@pytest.mark.slow
def test_interrupt_restores_the_terminal_and_prints_the_summary(tmp_path: Path) -> None:
    path = tmp_path / "paradigm.yaml"
    path.write_text(textwrap.dedent(HANG), encoding="utf-8")
    junit = tmp_path / "junit.xml"
    child = _spawn(["run", str(path), "--junit", str(junit)], tmp_path)
    child.expect("1/2 done", timeout=60)  # quick has finished, stuck still runs
    seen = (child.before or "") + str(child.after)
    child.sendintr()
    done = _finish(child, seen)
    assert done.status == 130, done.text
    assert done.screen.cursor_visible
    assert done.raw.rindex("\x1b[?25h") > done.raw.rindex("\x1b[?25l")
    rows = _rows(done.text)
    assert rows["quick"].split()[:3] == ["✓", "quick", "passed"]
    assert rows["stuck"].split()[:3] == ["⊘", "stuck", "cancelled"]
    assert "INTERRUPTED  pty-hang (independent)" in done.text
    assert 'name="status" value="interrupted"' in junit.read_text()


@pytest.mark.slow
def test_many_agents_are_summarised(tmp_path: Path) -> None:
    agents = "\n".join(
        f"  a{i:03d}: {{provider: mock, latency: {50 + i % 7 * 20}ms"
        + (", error: boom}" if i % 50 == 0 else ", output: ok}")
        for i in range(200)
    )
    done = _run(tmp_path, f"name: crowd\npattern: independent\nrequire: any\nagents:\n{agents}\n")
    assert done.status == 0, done.text
    text = done.text
    assert "200/200 done" in text
    assert "✓ 196 passed  ✗ 4 failed" in text
    assert len(_rows(text)) < 20, "200 agents must not be listed one per row"
    assert "problems ✗ a000 failed: boom" in text
