"""RunState: the live view's model, folded from real event streams of the engine."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from agentrun import api
from agentrun.display.state import KEEP_SLOWEST, LATER_GROUP, RESCUE_GROUP, RunState
from agentrun.engine.session import execute
from agentrun.events.records import (
    AgentFinished,
    AgentStarted,
    Event,
    EventBus,
    RunFinished,
    RunStarted,
    StageStarted,
)
from agentrun.results import AgentResult, AgentStatus, AttemptRecord, RunResult, RunStatus


class Collect:
    """An event sink keeping every event."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def handle(self, event: Event) -> None:
        self.events.append(event)


def record(path: Path) -> list[Event]:
    """Run a paradigm through the engine and return its event stream."""
    graph = api.compile_paradigm(path, api.RunOptions())
    sink = Collect()
    asyncio.run(execute(graph, EventBus([sink])))
    return sink.events


def fold_checking(events: list[Event]) -> RunState:
    """Fold events one by one, checking the counts stay consistent after each."""
    state = RunState()
    for event in events:
        state.handle(event)
        assert sum(state.counts.values()) == state.total, event
        assert all(count >= 0 for count in state.counts.values()), event
        assert set(state.running) == {
            r.instance for r in state.rows.values() if r.status.value in ("running", "retrying")
        }
    return state


PIPELINE = """
name: team
pattern: pipeline
defaults: {provider: mock, retries: 1, backoff: {initial: 10ms, jitter: false}}
imperatives:
  cites: {contains: "source:"}
agents:
  seed: {output: "a"}
  gather: {output: "{{ item }} source: me", imperatives: [cites]}
  flaky: {fail_times: 5, fallback: [spare]}
  spare: {output: "spare"}
  fussy: {outputs: ["no", "source: yes"], imperatives: [cites]}
  final: {output: "done"}
stages:
  - {name: one, agents: [seed, flaky, fussy]}
  - {name: fan, agents: [gather], for_each: true}
  - {name: last, agents: [final]}
"""


def test_pipeline_stream(write_paradigm: Callable[..., Path]) -> None:
    path = write_paradigm(PIPELINE)
    state = fold_checking(record(path))
    assert state.paradigm == "team" and state.pattern == "pipeline"
    assert state.stages == ("one", "fan", "last")
    # One item of the fan stage per output of the first stage (the spare's included).
    assert {name: r.status.value for name, r in state.rows.items()} == {
        "seed": "passed",
        "flaky": "failed",
        "fussy": "passed",
        "gather[0]": "passed",
        "gather[1]": "passed",
        "gather[2]": "passed",
        "final": "passed",
    }
    flaky = state.rows["flaky"]
    assert (flaky.replaced_by, flaky.fallback, flaky.attempt) == ("spare", "spare", 2)
    assert state.rows["fussy"].attempt == 2
    assert [c.name for c in state.rows["fussy"].checks] == ["cites"]
    assert state.rows["gather[0]"].group == "fan"
    assert state.upcoming == {}
    assert state.done == state.total == 7
    assert state.problems == []  # flaky was replaced: not a problem
    assert state.stage_status == dict.fromkeys(("one", "fan", "last"), AgentStatus.PASSED)
    assert state.stage_done == {"one": 3, "fan": 3, "last": 1}
    assert isinstance(state.result, RunResult)
    assert [g for g, _ in state.groups()] == ["one", "fan", "last"]


def test_for_each_items_replace_one_placeholder() -> None:
    state = RunState()
    state.handle(RunStarted(0.0, "p", "pipeline", ("a", "b"), ("first", "second")))
    assert state.total == 2 and state.counts[AgentStatus.PENDING] == 2
    assert set(state.upcoming) == {"a", "b"}
    state.handle(StageStarted(0.1, "first", ("a",)))
    state.handle(StageStarted(0.2, "second", ("b[0]", "b[1]", "b[2]")))
    assert state.upcoming == {}
    assert list(state.rows) == ["a", "b[0]", "b[1]", "b[2]"]
    assert state.counts[AgentStatus.PENDING] == state.total == 4


def test_failed_pipeline_skips_and_records_problems(write_paradigm: Callable[..., Path]) -> None:
    path = write_paradigm(
        """
        pattern: pipeline
        defaults: {provider: mock}
        agents:
          broken: {error: "boom"}
          later: {output: "never"}
        stages:
          - {name: one, agents: [broken]}
          - {name: two, agents: [later]}
        """
    )
    state = fold_checking(record(path))
    assert state.rows["later"].status is AgentStatus.SKIPPED
    assert state.rows["later"].group == "two"
    assert [r.instance for r in state.problems] == ["broken"]
    assert state.stage_status["two"] is AgentStatus.SKIPPED


def test_competitive_winner_and_cancelled(write_paradigm: Callable[..., Path]) -> None:
    path = write_paradigm(
        """
        pattern: competitive
        agents:
          fast: {provider: mock, latency: 10ms, output: "win"}
          slow: {provider: mock, hang: true}
        """
    )
    state = fold_checking(record(path))
    assert state.winner == "fast"
    assert state.rows["fast"].winner
    assert state.rows["slow"].status is AgentStatus.CANCELLED
    assert state.running == {}


def test_rescue_agents_have_their_own_group(write_paradigm: Callable[..., Path]) -> None:
    path = write_paradigm(
        """
        pattern: independent
        fallback: [saviour]
        agents:
          broken: {provider: mock, error: "boom"}
          saviour: {provider: mock, output: "saved"}
        """
    )
    state = fold_checking(record(path))
    assert state.rows["rescue:saviour"].group == RESCUE_GROUP
    assert [g for g, _ in state.groups()] == [None, RESCUE_GROUP]


def _result(name: str, seconds: float, status: AgentStatus = AgentStatus.PASSED) -> AgentResult:
    attempt = AttemptRecord(1, status, seconds)
    return AgentResult(name, name, None, status, seconds, (attempt,))


def test_slowest_keeps_only_the_top_few() -> None:
    state = RunState()
    names = tuple(f"a{i}" for i in range(50))
    state.handle(RunStarted(0.0, "p", "independent", names))
    for i, name in enumerate(names):
        state.handle(AgentStarted(0.0, name, name, None))
        state.handle(AgentFinished(1.0, _result(name, (i * 7919 % 50) / 10)))
    assert len(state.slowest()) == KEEP_SLOWEST
    durations = [row.duration or 0.0 for row in state.slowest()]
    assert durations == sorted(durations, reverse=True)
    assert durations[0] == 4.9


def test_run_finished_reconciles_unstarted_pipeline_agents() -> None:
    state = RunState()
    state.handle(RunStarted(0.0, "p", "pipeline", ("a", "b"), ("one", "two")))
    state.handle(StageStarted(0.0, "one", ("a",)))
    state.handle(AgentStarted(0.0, "a", "a", "one"))
    cancelled = AgentResult("a", "a", "one", AgentStatus.CANCELLED, 0.5, error="cancelled")
    never = AgentResult("b", "b", None, AgentStatus.SKIPPED, error="never started")
    result = RunResult("p", "pipeline", RunStatus.INTERRUPTED, 0.5, (cancelled, never))
    state.handle(RunFinished(0.5, result))
    assert state.rows["a"].status is AgentStatus.CANCELLED
    assert state.rows["b"].group == LATER_GROUP
    assert state.stage_status == {"one": AgentStatus.CANCELLED, "two": AgentStatus.SKIPPED}
    assert state.running == {}
    assert state.done == state.total == 2
    assert sum(state.counts.values()) == 2


def test_streamed_characters_show_until_tokens_arrive() -> None:
    from agentrun.events.records import AttemptStarted, Streamed
    from agentrun.results import Usage

    state = RunState()
    state.handle(RunStarted(t=0.0, paradigm="p", pattern="independent", agents=("a",)))
    state.handle(AgentStarted(t=0.0, agent="a", instance="a", stage=None))
    state.handle(AttemptStarted(t=0.0, instance="a", attempt=1))
    state.handle(Streamed(t=0.1, instance="a", attempt=1, delta="Hello ", chars=6))
    state.handle(Streamed(t=0.2, instance="a", attempt=1, delta="world", chars=11))
    row = state.rows["a"]
    assert row.streamed == 11
    state.handle(AttemptStarted(t=0.3, instance="a", attempt=2))
    assert row.streamed is None  # a new attempt streams from zero
    done = AgentResult("a", "a", None, AgentStatus.PASSED, 0.4, output="x", usage=Usage(3, 4))
    state.handle(AgentFinished(t=0.4, result=done))
    assert row.tokens == 7
    assert state.tokens == 7
