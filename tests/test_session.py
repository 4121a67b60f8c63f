"""Sessions and executors: many runs on one session share its pools and limits, not their state."""

from __future__ import annotations

import asyncio
import gc
import io
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fake_llm_server import FakeLLMServer

from agentrun import api
from agentrun.engine.collector import collector_tuned
from agentrun.engine.executor import Case, LocalExecutor
from agentrun.engine.session import EngineOptions, open_session
from agentrun.events.records import AgentFinished, Event, EventBus, RunFinished, RunStarted
from agentrun.outputs.event_log import EventLog, event_dict
from agentrun.redact import Redactor
from agentrun.results import RunStatus


class Collect:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def handle(self, event: Event) -> None:
        self.events.append(event)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(latency=0.0) as srv:
        yield srv


def echo_paradigm(write_paradigm: Callable[[str], Path], server: FakeLLMServer) -> Path:
    return write_paradigm(
        f"""
        pattern: independent
        input: default
        vars: {{n: 0}}
        providers:
          llm: {{type: openai, base_url: "{server.openai_url}", api_key: sk-test, max_concurrency: 2}}
        agents:
          a: {{provider: llm, model: "m;reply=echo;latency=0.05"}}
          b: {{provider: llm, model: "m;reply=echo;latency=0.05", prompt: "b {{{{ vars.n }}}}"}}
        """
    )


def test_concurrent_runs_share_one_pool_and_one_limit(
    write_paradigm: Callable[[str], Path], server: FakeLLMServer
) -> None:
    server.reset()
    graph = api.compile_paradigm(echo_paradigm(write_paradigm, server), api.RunOptions())
    shared = Collect()

    async def main() -> list[tuple[str, list[str]]]:
        async with open_session(graph) as session:
            results = await asyncio.gather(
                *(session.run(f"input {n}", {"n": n}, EventBus([shared])) for n in range(10))
            )
            assert list(session.provider_sessions) == ["llm"]
            return [(r.status.value, [a.output or "" for a in r.agents]) for r in results]

    outcomes = asyncio.run(main())
    assert outcomes == [("passed", [f"input {n}", f"b {n}"]) for n in range(10)]
    assert server.stats()["peak_in_flight"] == 2  # the provider's limit holds across runs
    # On the shared bus, every run's events carry its own id and tell its own story.
    by_run: dict[str | None, list[Event]] = {}
    for event in shared.events:
        by_run.setdefault(event.run, []).append(event)
    assert None not in by_run and len(by_run) == 10
    inputs = set()
    for events in by_run.values():
        first, last = events[0], events[-1]
        assert isinstance(first, RunStarted) and isinstance(last, RunFinished)
        outputs = [e.result.output or "" for e in events if isinstance(e, AgentFinished)]
        n = last.result.agents[0].output or ""
        assert sorted(outputs) == sorted([n, "b " + n.removeprefix("input ")])
        inputs.add(n)
    assert inputs == {f"input {n}" for n in range(10)}


def test_a_session_keeps_its_pool_between_runs(
    write_paradigm: Callable[[str], Path], server: FakeLLMServer
) -> None:
    graph = api.compile_paradigm(echo_paradigm(write_paradigm, server), api.RunOptions())

    async def main() -> tuple[int, int]:
        async with open_session(graph) as session:
            first = await session.run("one")
            pool = id(session.provider_sessions["llm"].session)  # type: ignore[attr-defined]
            second = await session.run("two")
            again = id(session.provider_sessions["llm"].session)  # type: ignore[attr-defined]
            assert first.agents[0].output == "one" and second.agents[0].output == "two"
            return pool, again

    pool, again = asyncio.run(main())
    assert pool == again


def test_local_executor_streams_results_of_cases_with_their_envelope(
    write_paradigm: Callable[[str], Path], server: FakeLLMServer
) -> None:
    graph = api.compile_paradigm(echo_paradigm(write_paradigm, server), api.RunOptions())
    log = io.StringIO()
    cases = [Case(f"case-{n}", f"in {n}", {"n": n}) for n in range(5)]

    async def main() -> dict[str | None, str | None]:
        executor = LocalExecutor(concurrency=3)
        bus = EventBus([EventLog(log, Redactor(frozenset()))])
        return {
            done.case.id: done.result.agents[0].output
            async for done in executor.run_cases(graph, cases, bus)
        }

    assert asyncio.run(main()) == {f"case-{n}": f"in {n}" for n in range(5)}
    lines = [json.loads(line) for line in log.getvalue().splitlines()]
    assert {line["case"] for line in lines} == {f"case-{n}" for n in range(5)}
    finished = [line for line in lines if line["event"] == "run_finished"]
    assert len(finished) == 5 and len({line["run"] for line in finished}) == 5


def test_cancelling_the_consumer_interrupts_every_run_in_flight(
    write_paradigm: Callable[[str], Path],
) -> None:
    graph = api.compile_paradigm(
        write_paradigm("pattern: independent\nagents:\n  a: {provider: mock, hang: true}\n"),
        api.RunOptions(),
    )

    async def main() -> list[tuple[str | None, RunStatus]]:
        seen: list[tuple[str | None, RunStatus]] = []

        async def consume() -> None:
            cases = [Case(f"c{n}") for n in range(4)]
            async for done in LocalExecutor(concurrency=2).run_cases(graph, cases, EventBus()):
                seen.append((done.case.id, done.result.status))

        task = asyncio.create_task(consume())
        await asyncio.sleep(0.1)
        task.cancel()
        await task  # the cancellation became interrupted results, not an exception
        return seen

    seen = asyncio.run(main())
    assert sorted(seen) == [("c0", RunStatus.INTERRUPTED), ("c1", RunStatus.INTERRUPTED)]


def test_execute_still_runs_one_input(write_paradigm: Callable[[str], Path]) -> None:
    from agentrun.engine.session import execute

    graph = api.compile_paradigm(
        write_paradigm("pattern: independent\nagents:\n  a: {provider: mock, output: hi}\n"),
        api.RunOptions(),
    )
    sink = Collect()
    result = asyncio.run(execute(graph, EventBus([sink]), EngineOptions(seed=1)))
    assert result.outputs == ("hi",)
    assert all(e.run is not None and e.case is None for e in sink.events)
    assert "run" not in event_dict(sink.events[0])  # a single run's log is unchanged


def test_api_run_leaves_sys_path_as_it_was(tmp_path: Path) -> None:
    (tmp_path / "beside_paradigm_mod.py").write_text("def shout(text):\n    return text.upper()\n")
    path = tmp_path / "p.yaml"
    path.write_text(
        "pattern: independent\ninput: hello\nagents:\n"
        "  a: {provider: python, callable: 'beside_paradigm_mod:shout'}\n"
    )
    before = list(sys.path)
    result = api.run(path, api.RunOptions(display="quiet"), stdout=io.StringIO(), env={})
    assert result.outputs == ("HELLO",)
    assert sys.path == before


def test_debug_comes_through_the_options_not_the_process(
    write_paradigm: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentrun.providers.mock import MockClient

    async def broken(self: MockClient, request: object) -> object:
        raise KeyError("bug")

    monkeypatch.delenv("AGENTRUN_DEBUG", raising=False)
    monkeypatch.setattr(MockClient, "complete", broken)
    path = write_paradigm("pattern: independent\nagents:\n  a: {provider: mock}\n")
    quiet = api.RunOptions(display="quiet")
    assert api.run(path, quiet, stdout=io.StringIO(), env={}).status is RunStatus.FAILED
    with pytest.raises(ExceptionGroup) as raised:
        api.run(path, quiet, stdout=io.StringIO(), env={"AGENTRUN_DEBUG": "1"})
    assert raised.group_contains(KeyError)
    with pytest.raises(ExceptionGroup) as raised:
        api.run(path, api.RunOptions(display="quiet", debug=True), stdout=io.StringIO(), env={})
    assert raised.group_contains(KeyError)


def test_the_collector_is_restored_exactly() -> None:
    threshold, enabled = gc.get_threshold(), gc.isenabled()
    kept = [object() for _ in range(10)]
    gc.freeze()  # a caller's own frozen objects stay frozen
    frozen = gc.get_freeze_count()
    try:
        gc.set_threshold(1234, 7, 8)
        with collector_tuned():
            assert gc.get_threshold()[0] >= 50_000
            with collector_tuned():
                pass
        assert gc.get_threshold() == (1234, 7, 8)
        assert gc.get_freeze_count() == frozen
        assert gc.isenabled() == enabled
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
    assert kept
    gc.set_threshold(700, 10, 10)
    try:
        with collector_tuned():
            assert gc.get_freeze_count() > 0
        assert gc.get_freeze_count() == 0 and gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*threshold)
