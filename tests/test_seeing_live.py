"""The live view says why an agent waits, counts the backoff down, lists the longest
running calls, fills the screen before cutting a list, and is honest when interrupted."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from conftest import Ran
from rich.console import Console

from agentrun.display.state import RunState
from agentrun.display.view import ViewOptions, render_view
from agentrun.events.records import (
    AgentFinished,
    AgentStarted,
    AttemptFailed,
    AttemptStarted,
    Queued,
    Retrying,
    RunFinished,
    RunStarted,
    SlotTaken,
)
from agentrun.results import AgentResult, AgentStatus, RunResult, RunStatus


def _render(state: RunState, options: ViewOptions) -> str:
    console = Console(file=io.StringIO(), width=110, color_system=None, _environ={})
    with console.capture() as capture:
        console.print(render_view(state, options))
    return capture.get()


def _started(state: RunState, names: tuple[str, ...], t: float = 0.0) -> None:
    state.handle(RunStarted(0.0, "demo", "independent", names))
    for name in names:
        state.handle(AgentStarted(t, name, name, None))
        state.handle(AttemptStarted(t, name, 1))


def test_a_queued_agent_says_what_it_waits_for() -> None:
    state = RunState()
    _started(state, ("a", "b", "c"))
    state.handle(Queued(0.1, "a", 1, "llm"))
    state.handle(Queued(0.1, "b", 1, "llm", reason="rate_limit"))
    state.handle(Queued(0.1, "c", 1, "llm", reason="max_concurrency"))
    text = _render(state, ViewOptions(now=1.0, height=40))
    assert re.search(r"a\s+queued\s.*waiting for a slot of provider llm", text)
    assert re.search(r"b\s+queued\s.*waiting for the rate limit of provider llm", text)
    assert re.search(r"c\s+queued\s.*waiting for a run-wide slot \(max_concurrency\)", text)
    state.handle(SlotTaken(1.2, "a", 1, 1.1))
    text = _render(state, ViewOptions(now=1.5, height=40))
    assert re.search(r"a\s+running\s", text) and "slot of provider" not in text


def test_the_backoff_counts_down() -> None:
    state = RunState()
    _started(state, ("a",))
    state.handle(AttemptFailed(1.0, "a", 1, AgentStatus.FAILED, "boom", 1.0))
    state.handle(Retrying(1.0, "a", 2, 2.0, AgentStatus.FAILED))
    assert "retry in 1.5s after: boom" in _render(state, ViewOptions(now=1.5, height=40))
    assert "retry in 0.5s after: boom" in _render(state, ViewOptions(now=2.5, height=40))


def test_running_longest_is_ordered_by_how_long_each_call_has_run() -> None:
    state = RunState()
    names = tuple(f"agent{i:03d}" for i in range(60))
    _started(state, names)
    # agent000 started first but queued until 5s; agent059's call began at once.
    state.handle(Queued(0.0, "agent000", 1, "llm"))
    state.handle(SlotTaken(5.0, "agent000", 1, 5.0))
    for name in names[1:59]:
        state.handle(AttemptStarted(3.0, name, 2))  # a second attempt: its call is younger
    state.handle(Queued(0.0, "agent058", 2, "llm"))
    text = _render(state, ViewOptions(now=6.0, height=80))
    assert "running longest (59 running, 1 queued)" in text
    # Longest-running call first; agent058 waits, so it is not running at all.
    assert re.findall(r"agent\d{3}", text) == ["agent059", *names[1:58], "agent000"]


def test_spare_rows_are_used_before_and_n_more() -> None:
    state = RunState()
    names = tuple(f"agent{i:03d}" for i in range(100))
    _started(state, names)
    text = _render(state, ViewOptions(now=1.0, height=60))
    shown = len(re.findall(r"agent\d{3}", text))
    assert shown > 40  # not the old ten, whatever the screen had
    assert f"… and {100 - shown} more" in text
    assert len(text.splitlines()) <= 60


def test_an_interrupted_run_does_not_claim_everything_done() -> None:
    state = RunState()
    names = tuple(f"a{i}" for i in range(11))
    _started(state, names)
    finished = []
    for name in names[:3]:
        result = AgentResult(name, name, None, AgentStatus.PASSED, 0.5)  # type: ignore[arg-type]
        state.handle(AgentFinished(0.5, result))
        finished.append(result)
    cut = [
        AgentResult(n, n, None, AgentStatus.CANCELLED, 1.0, error="cancelled")  # type: ignore[arg-type]
        for n in names[3:]
    ]
    result = RunResult("demo", "independent", RunStatus.INTERRUPTED, 1.0, (*finished, *cut))
    state.handle(RunFinished(1.0, result))
    text = _render(state, ViewOptions(now=1.0, height=40, final=True))
    assert "interrupted: 3/11 done" in text
    assert "11/11 done" not in text


def test_the_engine_says_why_an_attempt_queued_and_when_it_got_its_slot(
    run_paradigm: Callable[..., Ran],
) -> None:
    ran = run_paradigm(
        """
        pattern: independent
        agents:
          a: {provider: mock, output: one, latency: 20ms}
          b: {provider: mock, output: two, latency: 20ms}
        """,
        max_concurrency=1,
    )
    queued = [e for e in ran.events if e["event"] == "queued"]
    taken = [e for e in ran.events if e["event"] == "slot_taken"]
    assert [(e["instance"], e["reason"]) for e in queued] == [("b", "max_concurrency")]
    assert [e["instance"] for e in taken] == ["b"] and taken[0]["waited_s"] >= 0.015
    assert "b  got its slot after" in ran.out
