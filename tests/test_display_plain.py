"""Plain and quiet displays, and the chooser: no control codes, one line per event, the right
display for the terminal and environment."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from agentrun import api
from agentrun.display import (
    Terminal,
    choose_display,
    inspect_terminal,
    make_console,
    styled_output,
)
from agentrun.display.live import LiveDisplay
from agentrun.display.plain import PlainDisplay
from agentrun.display.quiet import QuietDisplay
from agentrun.outputs.text_summary import STYLES, SYMBOLS, printable
from agentrun.redact import Redactor
from agentrun.results import AgentStatus, RunResult

STORY = """
name: story
pattern: competitive
defaults: {provider: mock, backoff: {initial: 10ms, jitter: false}}
imperatives:
  answer: {equals: "42"}
agents:
  flaky: {fail_times: 1, retries: 1, output: "42", latency: 50ms, imperatives: [answer]}
  wrong: {output: "41", imperatives: [answer], fallback: [spare]}
  spare: {output: "\\u001b[31mred\\u001b[0m", imperatives: [answer], latency: 10ms}
  crash: {error: "bad \\u001b[2J escape\\nsecond line"}
"""

LINE = re.compile(r"^\[\s*\d+\.\d{3}s\] \S")


class TTY(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def run_with(
    write_paradigm: Callable[..., Path], text: str, display: str, **options: object
) -> tuple[str, RunResult]:
    out = io.StringIO()
    opts = api.RunOptions(display=display, **options)  # type: ignore[arg-type]
    result = api.run(write_paradigm(text), opts, stdout=out, stderr=out, env={})
    return out.getvalue(), result


def test_plain_lines_have_no_control_codes(write_paradigm: Callable[..., Path]) -> None:
    out, result = run_with(write_paradigm, STORY, "plain")
    assert result.winner == "flaky"
    assert "\x1b" not in out
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", out)
    events, summary = out.split("\nstory (competitive): ")
    for line in events.splitlines():
        assert LINE.match(line), line
    text = events
    assert "run story (competitive): 3 agents" in text
    assert "flaky  attempt 1 failed: mock failure on attempt 1 of 1" in text
    assert "flaky  retrying: attempt 2 in 10ms" in text
    assert "flaky  check ✓ answer" in text
    assert "wrong  check ✗ answer: expected '42', got '41'" in text
    assert "wrong  falling back on spare" in text
    assert "wrong>spare  started (fallback for wrong)" in text
    assert "\\x1b[31mred\\x1b[0m" in text  # the escape is shown, not performed
    assert "crash  ✗ failed" in text and "bad \\x1b[2J escape\\nsecond line" in text
    assert "flaky  WINNER; cancelling the other racers" in text
    assert summary.startswith("PASSED in ")
    assert "  agents: 1 passed, 1 failed, 1 violated (of 3)" in summary


def test_every_plain_line_names_its_agent_for_grep(write_paradigm: Callable[..., Path]) -> None:
    out, _ = run_with(write_paradigm, STORY, "plain")
    flaky = [line for line in out.splitlines() if "] flaky " in line]
    assert [line.split("] flaky  ")[1].split()[0] for line in flaky] == [
        "started",
        "attempt",
        "retrying:",
        "check",
        "✓",
        "WINNER;",
    ]


def test_quiet_prints_only_the_summary(write_paradigm: Callable[..., Path], tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    out, _ = run_with(write_paradigm, STORY, "quiet", report=str(report))
    lines = out.splitlines()
    assert lines[0].startswith("story (competitive): PASSED in ")
    assert not any(LINE.match(line) for line in lines)
    assert lines[-1] == f"  report: {report}"
    assert "\x1b" not in out


def test_report_to_stdout_keeps_stdout_pure_json(write_paradigm: Callable[..., Path]) -> None:
    path = write_paradigm(STORY)
    done = subprocess.run(
        [sys.executable, "-m", "agentrun", "run", str(path), "--report", "-"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["winner"] == "flaky"
    assert "flaky  WINNER" in done.stderr  # the display went to stderr
    assert "\x1b" not in done.stderr


# --------------------------------------------------------------------------- the chooser


@pytest.mark.parametrize(
    ("stream", "env", "expected"),
    [
        (TTY(), {}, LiveDisplay),
        (TTY(), {"CI": "true"}, PlainDisplay),
        (TTY(), {"CI": "1"}, PlainDisplay),
        (TTY(), {"CI": "false"}, LiveDisplay),
        (TTY(), {"CI": ""}, LiveDisplay),
        (TTY(), {"TERM": "dumb"}, PlainDisplay),
        (TTY(), {"NO_COLOR": "1"}, LiveDisplay),
        (io.StringIO(), {}, PlainDisplay),
    ],
)
def test_auto(stream: io.StringIO, env: dict[str, str], expected: type) -> None:
    assert isinstance(choose_display("auto", stream, env, Redactor()), expected)


def test_explicit_modes_whatever_the_stream() -> None:
    pipe = io.StringIO()
    assert isinstance(choose_display("live", pipe, {}, Redactor()), LiveDisplay)
    assert isinstance(choose_display("plain", TTY(), {}, Redactor()), PlainDisplay)
    assert isinstance(choose_display("quiet", TTY(), {}, Redactor()), QuietDisplay)
    with pytest.raises(ValueError, match="unknown display mode 'fancy'"):
        choose_display("fancy", pipe, {}, Redactor())


def test_inspect_terminal() -> None:
    assert inspect_terminal(TTY(), {}) == Terminal(tty=True, interactive=True, color=True)
    assert inspect_terminal(TTY(), {"NO_COLOR": "1"}).color is False
    assert inspect_terminal(TTY(), {"NO_COLOR": ""}).color is True  # empty means unset
    assert inspect_terminal(TTY(), {"CI": "true"}) == Terminal(True, False, False)
    assert inspect_terminal(io.StringIO(), {}) == Terminal(False, False, False)
    closed = io.StringIO()
    closed.close()
    assert inspect_terminal(closed, {}).tty is False


def test_styled_output_is_a_console_only_when_colour_is_wanted() -> None:
    pipe = io.StringIO()
    assert styled_output(pipe, {}) is pipe
    tty = TTY()
    assert styled_output(tty, {"NO_COLOR": "x"}) is tty
    assert isinstance(styled_output(tty, {}), Console)


def test_make_console_follows_the_given_environment() -> None:
    console = make_console(TTY(), {"NO_COLOR": "1", "COLUMNS": "77"})
    assert console.is_terminal and console.no_color and console.width == 77
    assert make_console(io.StringIO(), {}).width == 120


# --------------------------------------------------------------------------- vocabulary


def test_each_status_has_its_own_symbol_and_style() -> None:
    assert set(SYMBOLS) == set(STYLES) == set(AgentStatus)
    assert len(set(SYMBOLS.values())) == len(AgentStatus)
    finals = [s for s in AgentStatus if s.is_final]
    assert len({STYLES[s] for s in finals if s is not AgentStatus.SKIPPED}) == len(finals) - 1


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain", "plain"),
        ("two\nlines", "two\\nlines"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("tab\there", "tab here"),
        ("bell\x07 and \x9b csi", "bell\\x07 and \\x9b csi"),
    ],
)
def test_printable(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_queue_and_limit_lines() -> None:
    from agentrun.display.plain import describe
    from agentrun.events.records import LimitChanged, Queued

    assert describe(Queued(t=0.0, instance="a", attempt=1, provider="llm")) == (
        "a  queued for a slot of provider llm"
    )
    assert describe(LimitChanged(t=0.0, provider="llm", limit=4)) == (
        "provider llm: concurrency limit now 4"
    )
