"""RunFold: the one fold of the event stream, read by the report and by the live view."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fake_llm_server import FakeLLMServer

from agentrun import api
from agentrun.display.state import RunState
from agentrun.engine.session import execute
from agentrun.events.fold import AgentState, RunFold
from agentrun.events.records import (
    AgentFinished,
    AgentStarted,
    AttemptStarted,
    Event,
    EventBus,
    RunFinished,
    RunStarted,
    StageStarted,
)
from agentrun.identity import InstanceId, Role
from agentrun.results import AgentResult, AgentStatus, Usage


class Collect:
    """An event sink keeping every event."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def handle(self, event: Event) -> None:
        self.events.append(event)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(latency=0.0) as srv:
        yield srv


def record(path: Path) -> list[Event]:
    """Run a paradigm through the engine and return its event stream."""
    graph = api.compile_paradigm(path, api.RunOptions())
    sink = Collect()
    asyncio.run(execute(graph, EventBus([sink])))
    return sink.events


def fold(events: list[Event]) -> RunFold[AgentState]:
    state = RunFold(AgentState)
    for event in events:
        state.handle(event)
    return state


def test_the_report_is_the_fold_of_the_stream(
    write_paradigm: Callable[..., Path], server: FakeLLMServer
) -> None:
    path = write_paradigm(
        f"""
        pattern: pipeline
        providers:
          llm: {{type: openai, base_url: "{server.openai_url}", api_key: sk-test}}
        imperatives:
          fair: {{judge: {{agent: referee, rubric: "is it fair?"}}}}
        agents:
          seed: {{provider: llm, model: "m;reply=one two"}}
          each: {{provider: llm, model: "m;reply=three", imperatives: [fair]}}
          referee: {{provider: llm, model: "m;reply=PASS: fair"}}
        stages:
          - {{name: first, agents: [seed]}}
          - {{name: fan, agents: [each], for_each: true}}
        """
    )
    events = record(path)
    finished = events[-1]
    assert isinstance(finished, RunFinished)
    state = fold(events[:-1])  # what the engine had folded when it built the report
    assert state.agent_results() == list(finished.result.agents)
    usage = state.total_usage()
    assert usage is not None and usage == finished.result.usage
    judged = [e for e in events if isinstance(e, AgentFinished) and e.result.role == Role.JUDGE]
    assert judged and all(e.result.usage for e in judged)
    # Judges' tokens count in the totals, though judges have no entry of their own.
    own = sum(a.usage.total_tokens for a in finished.result.agents if a.usage is not None)
    assert state.tokens == usage.total_tokens > own
    assert list(state.agents) == ["seed", "each[0]"]
    assert state.counts[AgentStatus.PASSED] == state.done == state.total == 2
    assert state.stage_done == {"first": 1, "fan": 1}


def test_an_interrupted_stream_reports_cancelled_and_never_started() -> None:
    a = InstanceId.of("a", stage="one")
    items = [InstanceId.of("b", stage="two", item=i) for i in range(2)]
    state = RunFold(AgentState)
    state.handle(RunStarted(0.0, "p", "pipeline", (a, InstanceId.of("b"), "c"), ("one", "two")))
    assert state.counts[AgentStatus.PENDING] == state.total == 3
    state.handle(StageStarted(0.0, "one", (a,)))
    state.handle(AgentStarted(0.0, "a", a, "one"))
    state.handle(AttemptStarted(0.0, a, 1))
    assert state.running == {"a": state.agents["a"]}
    state.handle(StageStarted(0.1, "two", tuple(items)))
    state.handle(AgentStarted(0.1, "b", items[0], "two"))
    # Interrupted: a and b[0] are cut short, b[1] shares b's placeholder, c never started.
    results = state.agent_results()
    assert [(r.instance, r.status, r.stage, r.error) for r in results] == [
        ("a", AgentStatus.CANCELLED, "one", "cancelled"),
        ("b[0]", AgentStatus.CANCELLED, "two", "cancelled"),
        ("c", AgentStatus.SKIPPED, None, "never started"),
    ]
    assert state.total == 4  # a, b[0], b[1] and the placeholder of c
    assert state.counts[AgentStatus.RUNNING] == 2 and state.counts[AgentStatus.PENDING] == 2
    assert state.total_usage() is None


def test_the_live_view_reads_the_same_fold(write_paradigm: Callable[..., Path]) -> None:
    path = write_paradigm(
        """
        pattern: independent
        fallback: [saviour]
        agents:
          ok: {provider: mock, output: "fine"}
          broken: {provider: mock, error: "boom"}
          saviour: {provider: mock, output: "saved"}
        """
    )
    events = record(path)
    report, view = fold(events), RunState()
    for event in events:
        view.handle(event)
    assert isinstance(view, RunFold)
    assert view.counts == report.counts
    assert view.agent_results() == report.agent_results()
    assert (view.done, view.total, view.tokens) == (report.done, report.total, report.tokens)
    assert [r.status for r in view.rows.values()] == [e.status for e in report.agents.values()]
    assert [r.instance for r in view.problems] == ["broken"]


def test_a_second_finish_of_an_agent_changes_nothing() -> None:
    state = RunFold(AgentState)
    state.handle(RunStarted(0.0, "p", "independent", ("a",)))
    state.handle(AgentStarted(0.0, "a", "a", None))
    first = AgentResult("a", InstanceId.of("a"), None, AgentStatus.PASSED, 0.2, usage=Usage(1, 2))
    state.handle(AgentFinished(0.2, first))
    state.handle(AgentFinished(0.3, AgentResult("a", InstanceId.of("a"), None, AgentStatus.FAILED)))
    assert state.agent_results() == [first]
    assert (state.done, state.tokens, state.counts[AgentStatus.PASSED]) == (1, 3, 1)
    assert state.counts[AgentStatus.FAILED] == 0
