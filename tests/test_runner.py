"""One agent's life: attempts, the three timeout layers, retries with backoff, fallbacks."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import Ran


def test_retries_until_success_with_recorded_backoff(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        """
        pattern: independent
        agents:
          flaky:
            provider: mock
            fail_times: 2
            output: "third time lucky"
            retries: 3
            backoff: {initial: 10ms, multiplier: 3, max: 1s, jitter: false}
        """
    )
    flaky = ran.agent("flaky")
    assert flaky.status.value == "passed"
    assert [a.status.value for a in flaky.attempts] == ["failed", "failed", "passed"]
    assert flaky.output == "third time lucky"
    waits = [e["wait_s"] for e in ran.events if e["event"] == "retrying"]
    assert waits == [0.01, 0.03]


def test_jittered_backoff_stays_within_half_and_full(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        """
        pattern: independent
        agents:
          flaky:
            provider: mock
            fail_times: 4
            retries: 4
            backoff: {initial: 4ms, multiplier: 2, max: 20ms}
        """
    )
    waits = [e["wait_s"] for e in ran.events if e["event"] == "retrying"]
    bases = [0.004, 0.008, 0.016, 0.020]
    assert len(waits) == 4
    for wait, base in zip(waits, bases, strict=True):
        assert base / 2 <= wait <= base


def test_violation_is_retried_with_violations_in_context(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        """
        pattern: independent
        imperatives:
          has_number: {regex: '\\d'}
        agents:
          writer:
            provider: mock
            outputs:
              - "no digits here"
              - "fixed after: {{ violations | join('; ') }} (attempt {{ attempt }})"
            retries: 1
            backoff: {initial: 1ms}
            imperatives: [has_number]
        """
    )
    writer = ran.agent("writer")
    assert [a.status.value for a in writer.attempts] == ["violated", "passed"]
    assert writer.output == "fixed after: has_number: does not match '\\d' (attempt 2)"
    assert ran.result.exit_code == 0


def test_violation_then_fallback(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        """
        pattern: independent
        imperatives:
          short: {max_length: 5}
        agents:
          verbose:
            provider: mock
            output: "far too long an answer"
            retries: 1
            backoff: {initial: 1ms}
            imperatives: [short]
            fallback: [also_verbose, terse]
          also_verbose: {provider: mock, output: "still too long", imperatives: [short]}
          terse: {provider: mock, output: "ok"}
        """
    )
    verbose = ran.agent("verbose")
    assert verbose.status.value == "violated"
    assert [f.name for f in verbose.fallbacks] == ["also_verbose", "terse"]
    assert [f.status.value for f in verbose.fallbacks] == ["violated", "passed"]
    assert verbose.replaced_by == "terse"
    assert verbose.output == "ok"


def test_attempt_timeout_is_retried_but_total_timeout_ends_the_agent(
    run_paradigm: Callable[..., Ran],
) -> None:
    ran = run_paradigm(
        """
        pattern: independent
        agents:
          per_attempt:
            provider: mock
            hang: true
            timeout: 20ms
            retries: 2
            backoff: {initial: 1ms}
          total:
            provider: mock
            hang: true
            timeout: 10s
            total_timeout: 60ms
            retries: 5
        """
    )
    per_attempt = ran.agent("per_attempt")
    assert [a.status.value for a in per_attempt.attempts] == ["timeout"] * 3
    assert per_attempt.error == "timeout of 20ms exceeded"
    total = ran.agent("total")
    assert total.status.value == "timeout"
    assert len(total.attempts) == 1
    assert total.error == "total_timeout of 60ms exceeded"


def test_no_retry_when_backoff_would_cross_total_timeout(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        """
        pattern: independent
        agents:
          a:
            provider: mock
            error: nope
            retries: 3
            total_timeout: 1s
            backoff: {initial: 5s, max: 5s, jitter: false}
        """
    )
    a = ran.agent("a")
    assert len(a.attempts) == 1
    assert a.error == "nope; no time left for another attempt within the total_timeout of 1s"


def test_template_errors_are_not_retried(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        """
        pattern: independent
        input: "x"
        agents:
          a: {provider: mock, output: "{{ previous[3] }}", retries: 3}
        """
    )
    a = ran.agent("a")
    assert a.status.value == "failed"
    assert len(a.attempts) == 1
    assert a.error is not None and a.error.startswith("template error:")


def test_graph_worst_case(write_paradigm: Callable[[str], object]) -> None:
    from agentrun import api

    path = write_paradigm(
        """
        pattern: independent
        agents:
          a:
            provider: mock
            timeout: 10s
            retries: 2
            backoff: {initial: 1s, multiplier: 2, max: 8s}
            fallback: [b]
          b: {provider: mock, timeout: 5s}
        """
    )
    graph = api.compile_paradigm(path, api.RunOptions())  # type: ignore[arg-type]
    assert graph.worst_case("b") == 5
    assert graph.worst_case("a") == 3 * 10 + 1 + 2 + 5
    assert graph.worst_case_total() == 38


def test_the_deadline_bounds_imperative_checks_too(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        """
        pattern: independent
        deadline: 150ms
        imperatives:
          reviewed: {judge: {agent: slow_judge, rubric: anything}, timeout: 1m}
        agents:
          writer: {provider: mock, output: draft, imperatives: [reviewed]}
          slow_judge: {provider: mock, hang: true, timeout: 1m}
        """
    )
    writer = ran.agent("writer")
    assert writer.status.value == "timeout"
    assert writer.error == "deadline of 150ms exceeded while checking imperatives"
    assert ran.result.duration_s < 5


def test_judges_do_not_inherit_the_defaults_imperatives(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        """
        pattern: independent
        defaults: {imperatives: [long_answer, reviewed]}
        imperatives:
          long_answer: {min_length: 20}
          reviewed: {judge: {agent: judge, rubric: 'is it long?'}}
        agents:
          writer: {provider: mock, output: "a sufficiently long answer"}
          judge: {provider: mock, output: "PASS: long enough"}
        """
    )
    writer = ran.agent("writer")
    assert writer.status.value == "passed"
    assert [c.name for c in writer.checks] == ["long_answer", "reviewed"]
    assert writer.checks[1].message.startswith("PASS: long enough")


def test_timeouts_fire_whatever_the_agent_does(run_paradigm: Callable[..., Ran]) -> None:
    import sys

    ran = run_paradigm(
        f"""
        pattern: independent
        defaults: {{timeout: 200ms}}
        agents:
          hung_mock: {{provider: mock, hang: true}}
          sleeping_command: {{provider: command, command: ["{sys.executable}", "-c", "import time; time.sleep(300)"]}}
          blocking_function: {{provider: python, callable: "proc_wait:block", prompt: "30"}}
        """
    )
    assert ran.statuses() == {
        "hung_mock": "timeout",
        "sleeping_command": "timeout",
        "blocking_function": "timeout",
    }
    assert ran.result.duration_s < 10  # a hang guard: each one ended at its 200 ms limit


def test_a_provider_bug_fails_only_its_agent(
    run_paradigm: Callable[..., Ran], monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentrun.providers.mock import MockClient

    async def broken(self: MockClient, request: object) -> object:
        raise KeyError("bug")

    monkeypatch.delenv("AGENTRUN_DEBUG")
    monkeypatch.setattr(MockClient, "complete", broken)
    ran = run_paradigm(
        """
        pattern: independent
        agents:
          a: {provider: mock, retries: 2}
          b: {provider: python, callable: "json:dumps", prompt: "ok"}
        """
    )
    assert ran.statuses() == {"a": "failed", "b": "passed"}
    a = ran.agent("a")
    assert len(a.attempts) == 1  # a bug is not worth retrying
    assert a.error == "unexpected KeyError in provider 'mock': 'bug'"
