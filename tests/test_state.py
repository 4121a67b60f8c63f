"""The shared board: atomic commits, who writes, snapshots, waits and their ends."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from conftest import Ran

from agentrun.coordination import waiting


def _writers(n: int) -> str:
    return "".join(
        f"  w{i}: {{provider: mock, output: 'w{i}', latency: {(i * 7) % 13}ms, "
        f"writes: {{findings: '{{{{ output }}}}', total: '1'}}}}\n"
        for i in range(n)
    )


def test_hundreds_of_concurrent_writers_lose_and_duplicate_nothing(
    run_paradigm: Callable[..., Ran],
) -> None:
    ran = run_paradigm(
        "pattern: independent\nstate:\n  findings: {reducer: append}\n"
        "  total: {reducer: add}\nagents:\n" + _writers(300)
    )
    state = ran.report["state"]
    assert sorted(state["findings"]) == sorted(f"w{i}" for i in range(300))
    assert state["total"] == 300
    log = ran.report["state_log"]
    assert sorted({e["version"] for e in log}) == list(range(1, 301))  # one commit per agent
    by_version: dict[int, set[str]] = {}
    for entry in log:
        by_version.setdefault(entry["version"], set()).add(entry["key"])
    assert all(keys == {"findings", "total"} for keys in by_version.values())  # all at once


def test_only_passing_attempts_write(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        """
        pattern: independent
        imperatives:
          says_ok: {contains: ok}
        state:
          log: {reducer: append}
        agents:
          flaky: {provider: mock, fail_times: 1, retries: 1, output: ok-flaky, writes: log}
          broken: {provider: mock, output: nope, imperatives: [says_ok], writes: log}
          primary:
            provider: mock
            error: down
            fallback: [backup]
            writes: {log: "primary via {{ output }}"}
          backup: {provider: mock, output: ok-backup, writes: {log: "backup's own"}}
        require: 1
        """
    )
    assert ran.report["state"]["log"] == sorted(
        ["ok-flaky", "primary via ok-backup"], key=ran.report["state"]["log"].index
    )
    assert len(ran.report["state"]["log"]) == 2
    assert {e["by"] for e in ran.report["state_log"]} == {"flaky", "primary"}


def test_only_the_winner_of_a_race_writes(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        """
        pattern: competitive
        state:
          answer: {reducer: append}
        agents:
          fast: {provider: mock, output: fast, latency: 10ms, writes: answer}
          slow: {provider: mock, output: slow, latency: 300ms, writes: answer}
          same: {provider: mock, output: same, latency: 10ms, writes: answer}
        """
    )
    assert ran.report["state"]["answer"] == [ran.result.winner]


def test_a_value_that_cannot_be_written_is_a_repaired_violation(
    run_paradigm: Callable[..., Ran],
) -> None:
    ran = run_paradigm(
        """
        pattern: independent
        state:
          score: {parse: json, schema: {type: integer, minimum: 0, maximum: 10}}
        agents:
          a:
            provider: mock
            retries: 2
            outputs: ["not json", "42", "{% if violations %}7{% else %}x{% endif %}"]
            writes: score
        """
    )
    attempts = ran.report["agents"][0]["attempt_log"]
    assert [a["status"] for a in attempts] == ["violated", "violated", "passed"]
    assert attempts[0]["imperatives"][-1]["name"] == "state.score"
    assert "not JSON" in attempts[0]["imperatives"][-1]["message"]
    assert "schema" in attempts[1]["imperatives"][-1]["message"]
    assert ran.report["state"]["score"] == 7


def test_each_attempt_reads_the_snapshot_taken_when_it_started(
    run_paradigm: Callable[..., Ran],
) -> None:
    ran = run_paradigm(
        """
        pattern: independent
        state:
          findings: {reducer: append}
        agents:
          reader: {provider: python, callable: "helpers_coordination:slow_reader"}
          writer: {provider: mock, output: x, latency: 50ms, writes: findings}
        """
    )
    assert ran.agent("reader").output == "0"  # the commit at 50ms came after its start
    assert ran.report["state"]["findings"] == ["x"]


def test_wait_for_wakes_on_the_commit_it_needs(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        """
        pattern: independent
        state:
          findings: {reducer: append}
          verdict: {}
        agents:
          a: {provider: mock, output: A, latency: 30ms, writes: findings}
          b: {provider: mock, output: B, latency: 120ms, writes: findings}
          critic:
            provider: mock
            wait_for: "state.findings | length >= 2"
            output: "APPROVED {{ state.findings | join(',') }}"
            writes: verdict
          writer:
            provider: mock
            wait_for: "state.verdict is not none and agents.critic.done"
            output: "{{ state.verdict }}"
        """
    )
    assert ran.agent("writer").output in ("APPROVED A,B", "APPROVED B,A")
    critic = next(a for a in ran.report["agents"] if a["name"] == "critic")
    assert 0.08 < critic["waited_s"] < 1.0
    assert critic["duration_s"] < 0.05  # waiting counts toward no timeout of its own
    waits = [e for e in ran.events if e["event"] == "agent_waiting"]
    assert {e["instance"] for e in waits} == {"critic", "writer"}
    assert any("findings has 0 items" in e["detail"] for e in waits)
    finished = [e["name"] for e in ran.events if e["event"] == "agent_finished"]
    updated = [i for i, e in enumerate(ran.events) if e["event"] == "state_updated"]
    passed = [i for i, e in enumerate(ran.events) if e["event"] == "agent_finished"]
    assert finished.index("critic") < finished.index("writer")
    assert updated[0] < passed[0]  # a commit comes before its agent's `passed`


def test_a_commit_wakes_only_the_waiters_of_its_keys(
    run_paradigm: Callable[..., Ran], monkeypatch: Any
) -> None:
    calls: list[str] = []
    real = waiting.Waits._holds

    def counting(self: waiting.Waits, rule: Any) -> bool:
        calls.append(rule.source)
        return real(self, rule)

    monkeypatch.setattr(waiting.Waits, "_holds", counting)
    waiters = "".join(
        f"  r{i}: {{provider: mock, output: r, wait_for: 'state.a >= 1'}}\n" for i in range(50)
    )
    run_paradigm(
        "pattern: independent\nstate:\n  a: {reducer: add}\n  b: {reducer: add}\nagents:\n"
        + waiters
        + "  bw: {provider: mock, output: '1', latency: 20ms, writes: b}\n"
        + "  bw2: {provider: mock, output: '1', latency: 40ms, writes: b}\n"
        + "  aw: {provider: mock, output: '1', latency: 80ms, writes: a}\n"
    )
    # 50 checks on start, none for the two commits to b, 50 when a changes.
    assert len(calls) == 100


def test_wait_timeout_ends_the_wait_and_fallbacks_run(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        """
        pattern: independent
        state:
          findings: {reducer: append}
        agents:
          slow: {provider: mock, output: x, latency: 2s, writes: findings}
          critic:
            provider: mock
            wait_for: "state.findings | length >= 1"
            wait_timeout: 100ms
            fallback: [stand_in]
          stand_in: {provider: mock, output: "no findings yet"}
        require: 1
        deadline: 3s
        """
    )
    critic = ran.agent("critic")
    assert critic.status.value == "timeout"
    assert critic.error is not None
    assert critic.error.startswith(
        "wait_for not satisfied within 100ms: state.findings | length >= 1 (findings has 0 items)"
    )
    assert critic.replaced_by == "stand_in"


def test_a_wait_that_can_no_longer_come_true_ends_at_once(
    run_paradigm: Callable[..., Ran],
) -> None:
    started = time.monotonic()
    ran = run_paradigm(
        """
        pattern: independent
        state:
          findings: {reducer: append}
        agents:
          academic: {provider: mock, error: down, latency: 30ms, writes: findings}
          critic: {provider: mock, wait_for: "state.findings | length >= 1", wait_timeout: 1m}
          writer: {provider: mock, wait_for: "agents.critic.status == 'passed'"}
        """
    )
    assert time.monotonic() - started < 30  # not the minute of its wait_timeout
    assert ran.statuses() == {"academic": "failed", "critic": "skipped", "writer": "skipped"}
    assert ran.agent("critic").error == (
        "wait_for can no longer become true: state.findings | length >= 1 (findings has 0 items)"
    )
    assert ran.result.exit_code == 3


def test_agents_waiting_on_each_other_end_as_a_deadlock(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        """
        pattern: independent
        state:
          x: {reducer: add}
        agents:
          a: {provider: mock, output: "1", wait_for: "state.x >= 1 and agents.b.done", writes: x}
          b: {provider: mock, output: "1", wait_for: "state.x >= 1 and agents.a.done", writes: x}
        deadline: 1m
        """
    )
    assert ran.statuses() == {"a": "skipped", "b": "skipped"}
    assert (ran.agent("a").error or "").startswith("deadlock: no agent is running")
