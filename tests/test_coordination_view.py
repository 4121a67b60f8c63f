"""The live view of coordination: why an agent waits (with the values now), and how far
an exchange has got (round and agreement), folded from real event streams."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from test_display_state import fold_checking, record

from agentrun.coordination.events import AgentWaiting, RoundStarted
from agentrun.display.state import RunState
from agentrun.display.view import ViewOptions, header, note_text
from agentrun.results import AgentStatus

WAITS = """
pattern: independent
state:
  findings: {reducer: append}
agents:
  quick: {provider: mock, output: first, latency: 50ms, writes: findings}
  slow: {provider: mock, output: second, latency: 300ms, writes: findings}
  critic: {provider: mock, output: judged, wait_for: "state.findings | length >= 2"}
"""

DEBATE = """
pattern: exchange
rounds: 3
agents:
  a: {provider: mock, output: "1"}
  b: {provider: mock, output: "{{ round }}"}
"""


def _until(events: list[object], stop: Callable[[object], bool]) -> RunState:
    """The view's state right after the first event for which ``stop`` holds."""
    end = next(i for i, e in enumerate(events) if stop(e))
    return fold_checking(events[: end + 1])  # type: ignore[arg-type]


def _text(renderable: object) -> str:
    console = Console(width=160, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_a_waiting_agent_shows_what_it_waits_for_now(write_paradigm: Callable[[str], Path]) -> None:
    events = record(write_paradigm(WAITS))
    waits = [e for e in events if isinstance(e, AgentWaiting)]
    assert [w.detail for w in waits] == [
        "state.findings | length >= 2 (findings has 0 items)",
        "state.findings | length >= 2 (findings has 1 item)",
    ]
    state = _until(events, lambda e: e is waits[-1])
    row = state.rows["critic"]
    assert row.status is AgentStatus.WAITING
    assert state.counts[AgentStatus.WAITING] == 1
    note = note_text(row, str)
    assert note.plain == "waiting: state.findings | length >= 2 (findings has 1 item)"
    done = fold_checking(events)  # type: ignore[arg-type]
    assert done.rows["critic"].status is AgentStatus.PASSED
    assert done.rows["critic"].waiting is None


def test_an_exchange_shows_its_round_and_agreement(write_paradigm: Callable[[str], Path]) -> None:
    events = record(write_paradigm(DEBATE))
    state = _until(events, lambda e: isinstance(e, RoundStarted) and e.round == 2)
    assert state.exchange == "round 2/3, agreement 2/2"
    assert "round 2/3, agreement 2/2" in _text(header(state, ViewOptions(now=1.0, height=40)))
    assert state.counts[AgentStatus.RUNNING] == 0  # round 2's turns have not started yet
    done = fold_checking(events)  # type: ignore[arg-type]
    assert done.exchange == "round 3/3, agreement 1/2"
    assert done.done == 2  # each participant counts once, whatever its turns
