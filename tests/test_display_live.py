"""LiveDisplay and its view, fed events directly with a fake clock and a terminal console."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text
from vt_screen import Screen

from agentrun import api
from agentrun.display import Display, choose_display
from agentrun.display.live import LiveDisplay
from agentrun.display.sheet import Sheet
from agentrun.display.state import RunState
from agentrun.display.view import ViewOptions, clock_text, render_view
from agentrun.events.records import (
    AgentFinished,
    AgentStarted,
    AttemptFailed,
    AttemptStarted,
    CheckDecided,
    FallbackStarted,
    Retrying,
    RunFinished,
    RunStarted,
    WinnerChosen,
)
from agentrun.outputs.text_summary import MAX_ROWS
from agentrun.redact import Redactor
from agentrun.results import (
    AgentResult,
    AgentStatus,
    AttemptRecord,
    CheckResult,
    RunResult,
    RunStatus,
    Usage,
)

SECRET = "sk-test-0123456789abcdef"


class FakeClock:
    """Monotonic seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_live(
    clock: FakeClock, *, rows: int = 40, columns: int = 110
) -> tuple[LiveDisplay, io.StringIO]:
    out = io.StringIO()
    console = Console(
        file=out,
        force_terminal=True,
        width=columns,
        height=rows,
        color_system="truecolor",
        _environ={},
    )
    return LiveDisplay(console, Redactor([SECRET]), "out/report.json", clock=clock), out


def screen_of(raw: str, rows: int = 80, columns: int = 110) -> str:
    screen = Screen(rows, columns)
    screen.feed(raw.replace("\n", "\r\n"))  # what a terminal's line discipline does
    return screen.text()


def passed(name: str, seconds: float, **extra: object) -> AgentResult:
    attempt = AttemptRecord(1, AgentStatus.PASSED, seconds, output="ok")
    return AgentResult(name, name, None, AgentStatus.PASSED, seconds, (attempt,), "ok", **extra)  # type: ignore[arg-type]


def test_scripted_run_final_screen() -> None:
    clock = FakeClock()
    live, out = make_live(clock)
    names = ("alpha", "beta", "gamma")
    live.handle(RunStarted(0.0, "demo", "competitive", names))
    for name in names:
        live.handle(AgentStarted(0.0, name, name, None))
        live.handle(AttemptStarted(0.0, name, 1))
    live.handle(CheckDecided(0.2, "alpha", 1, CheckResult("cites", True)))
    live.handle(CheckDecided(0.2, "alpha", 1, CheckResult("tone", False, "rude", "warning")))
    live.handle(AttemptFailed(0.3, "beta", 1, AgentStatus.FAILED, f"key {SECRET} rejected", 0.3))
    live.handle(Retrying(0.3, "beta", 2, 0.1, AgentStatus.FAILED))
    clock.now += 1
    live.handle(AttemptStarted(0.4, "beta", 2))
    live.handle(FallbackStarted(0.5, "gamma", "spare"))
    live.handle(AgentStarted(0.5, "spare", "gamma>spare", None, role="fallback", parent="gamma"))
    live.handle(AttemptStarted(0.5, "gamma>spare", 1))
    live.handle(WinnerChosen(0.6, "alpha"))
    alpha = passed("alpha", 0.6, usage=Usage(1200, 34, 0.0021))
    beta = AgentResult(
        "beta", "beta", None, AgentStatus.CANCELLED, 0.6, (), error=f"cancelled {SECRET}"
    )
    gamma = AgentResult(
        "gamma", "gamma", None, AgentStatus.FAILED, 0.6, (), error="boom", replaced_by=None
    )
    for result in (alpha, beta, gamma):
        live.handle(AgentFinished(0.6, result))
    run = RunResult(
        "demo",
        "competitive",
        RunStatus.PASSED,
        0.61,
        (alpha, beta, gamma),
        winner="alpha",
        usage=Usage(1200, 34, 0.0021),
    )
    live.handle(RunFinished(0.61, run))
    live.close()  # a second close after the summary changes nothing
    raw = out.getvalue()
    assert SECRET not in raw
    assert raw.rindex("\x1b[?25h") > raw.rindex("\x1b[?25l")  # the cursor is given back
    text = screen_of(raw)
    assert re.search(
        r"✓\s+alpha\s+passed\s+1\s+0\.6s\s+✓cites ✗tone \(warning\)\s+1,234\s+★ winner", text
    )
    assert re.search(r"⊘\s+beta\s+cancelled\s+2", text)
    assert "cancelled ***" in text
    assert re.search(r"✗\s+gamma\s+failed\s+.*boom", text)
    assert "★ winner: alpha" in text
    assert "PASSED  demo (competitive) in 610ms — winner: alpha" in text
    assert "tokens   1234, $0.0021" in text
    assert "report   out/report.json" in text
    assert "problems ✗ gamma failed: boom" in text
    assert text.count(" PASSED ") == 1


def test_fallback_and_retry_show_while_running() -> None:
    clock = FakeClock()
    live, _ = make_live(clock)
    live.handle(RunStarted(0.0, "demo", "independent", ("a", "b")))
    live.handle(AgentStarted(0.0, "a", "a", None))
    live.handle(AttemptFailed(0.1, "a", 1, AgentStatus.TIMEOUT, "timeout of 1s exceeded", 1.0))
    live.handle(Retrying(0.1, "a", 2, 0.5, AgentStatus.TIMEOUT))
    live.handle(AgentStarted(0.0, "b", "b", None))
    live.handle(FallbackStarted(0.2, "b", "spare"))
    live.handle(AgentStarted(0.2, "spare", "b>spare", None, role="fallback", parent="b"))
    live.handle(AttemptStarted(0.2, "b>spare", 2))
    options = ViewOptions(now=1.5, height=40)
    text = _render(live.state, options)
    assert re.search(r"↻\s+a\s+retrying\s+.*1\.5s.*retrying after: timeout of 1s exceeded", text)
    assert "→ fallback spare (attempt 2)" in text
    live.close()


def test_redraws_are_throttled_and_folding_does_not_draw() -> None:
    clock = FakeClock()
    live, _ = make_live(clock)
    names = tuple(f"agent{i}" for i in range(2000))
    live.handle(RunStarted(0.0, "big", "independent", names))
    assert live.redraws == 1
    for name in names:  # thousands of events at one instant: no redraw at all
        live.handle(AgentStarted(0.0, name, name, None))
        live.handle(AttemptStarted(0.0, name, 1))
    assert live.redraws == 1
    for step, name in enumerate(names):  # 20 s of events, one every 10 ms
        clock.now += 0.01
        live.handle(AgentFinished(step * 0.01, passed(name, 0.1)))
    # At most ten redraws a second, whatever the event rate.
    assert 190 <= live.redraws - 1 <= 201
    live.close()


def test_many_agents_are_summarised_not_listed() -> None:
    state = RunState()
    names = tuple(f"agent{i:04d}" for i in range(1000))
    state.handle(RunStarted(0.0, "big", "independent", names))
    for name in names:
        state.handle(AgentStarted(0.0, name, name, None))
    for name in names[:300]:
        state.handle(AgentFinished(1.0, passed(name, 1.0)))
    broken = AgentResult("agent0300", "agent0300", None, AgentStatus.FAILED, 2.0, error="boom")
    state.handle(AgentFinished(2.0, broken))
    text = _render(state, ViewOptions(now=3.0, height=40))
    assert "301/1000 done" in text
    assert "running longest (699 running)" in text
    assert "… and" in text and "more" in text
    assert "problems (1, latest last)" in text
    assert "slowest finished" in text
    assert len(text.splitlines()) <= 40
    assert "agent0999" not in text  # the newest runner is not among the longest running
    # The final frame of a big run keeps the header only; the summary says the rest.
    final = _render(state, ViewOptions(now=3.0, height=40, final=True))
    assert "running longest" not in final and "agent0001" not in final


def test_table_when_agents_fit_and_summary_on_a_short_terminal() -> None:
    state = RunState()
    names = tuple(f"a{i}" for i in range(MAX_ROWS))
    state.handle(RunStarted(0.0, "p", "independent", names))
    tall = _render(state, ViewOptions(now=0.0, height=60))
    assert all(name in tall for name in names)
    short = _render(state, ViewOptions(now=0.0, height=20))
    assert len(short.splitlines()) <= 20
    assert "a39" not in short
    final = _render(state, ViewOptions(now=0.0, height=20, final=True))
    assert all(name in final for name in names)


def test_control_codes_from_agents_are_escaped() -> None:
    clock = FakeClock()
    live, out = make_live(clock)
    live.handle(RunStarted(0.0, "p", "independent", ("a",)))
    live.handle(AgentStarted(0.0, "a", "a", None))
    bad = AgentResult("a", "a", None, AgentStatus.FAILED, 0.1, (), error="\x1b[2J\x1b[31mred\nnext")
    live.handle(AgentFinished(0.1, bad))
    live.handle(RunFinished(0.1, RunResult("p", "independent", RunStatus.FAILED, 0.1, (bad,))))
    raw = out.getvalue()
    assert "\x1b[2J" not in raw
    assert "\\x1b[2J\\x1b[31mred\\nnext" in screen_of(raw)


def test_close_without_a_finished_run_leaves_a_clean_terminal() -> None:
    clock = FakeClock()
    live, out = make_live(clock)
    live.handle(RunStarted(0.0, "p", "independent", ("a", "b")))
    live.handle(AgentStarted(0.0, "a", "a", None))
    live.handle(AgentFinished(0.4, passed("a", 0.4)))
    live.close()
    raw = out.getvalue()
    assert raw.rindex("\x1b[?25h") > raw.rindex("\x1b[?25l")
    assert "p (independent) stopped after 0.4s: 1 of 2 agents finished" in screen_of(raw)


def test_close_before_the_run_started_prints_nothing() -> None:
    live, out = make_live(FakeClock())
    live.close()
    assert out.getvalue() == ""


def test_live_mode_on_a_pipe_prints_the_final_frame_once(
    write_paradigm: Callable[..., Path],
) -> None:
    path = write_paradigm(
        """
        name: piped
        pattern: independent
        agents:
          one: {provider: mock, latency: 300ms, output: "1"}
          two: {provider: mock, output: "2"}
        """
    )
    out = io.StringIO()
    result = api.run(path, api.RunOptions(display="live"), stdout=out, env={})
    assert result.exit_code == 0
    text = out.getvalue()
    assert "\x1b" not in text  # Rich degrades: no cursor moves, no colour
    assert text.count("agentrun piped · independent") == 1
    assert re.search(r"✓\s+one\s+passed", text)
    assert "PASSED  piped (independent)" in text


def test_the_ticker_redraws_between_events_and_stops_with_the_run(
    write_paradigm: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_paradigm(
        """
        pattern: independent
        agents:
          slow: {provider: mock, latency: 600ms, output: "done"}
        """
    )
    displays: list[LiveDisplay] = []
    original = choose_display

    def spy(*args: Any, **kwargs: Any) -> Display:
        display = original(*args, **kwargs)
        assert isinstance(display, LiveDisplay)
        displays.append(display)
        return display

    monkeypatch.setattr(api, "choose_display", spy)
    api.run(path, api.RunOptions(display="live"), stdout=io.StringIO(), env={})
    (display,) = displays
    # Four events happen at the start and two at the end: only the ticker redraws between.
    assert display.redraws >= 3
    assert display._timer is None


def test_clock_text() -> None:
    assert [clock_text(s) for s in (0.0, 3.44, 59.94, 125.0)] == ["0.0s", "3.4s", "59.9s", "2m05s"]


def _render(state: RunState, options: ViewOptions) -> str:
    console = Console(file=io.StringIO(), width=110, color_system=None, _environ={})
    with console.capture() as capture:
        console.print(render_view(state, options))
    return capture.get()


def test_sheet_hides_empty_columns_and_cuts_long_cells() -> None:
    sheet = Sheet(header=True)
    long_name = "n" * 60
    cells = (Text("✓"), Text(long_name), Text("passed"), Text("1"), Text("1.0s"))
    sheet.add_row((*cells, Text(""), Text(""), Text("a note")))
    sheet.add_line(Text("a heading"))
    lines = sheet.render().plain.splitlines()
    assert lines[0].split() == ["agent", "status", "try", "time", "note"]
    assert set(lines[1]) == {"─"}
    assert lines[2].startswith("✓  " + "n" * 39 + "…  passed")
    assert lines[2].endswith("1.0s  a note")
    assert lines[3] == "a heading"
