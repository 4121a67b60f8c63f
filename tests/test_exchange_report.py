"""What the report says of an exchange: per-turn rows, answers, cut-off turns, deadlines."""

from __future__ import annotations

from collections.abc import Callable
from textwrap import dedent

from conftest import Ran

ANSWER = "answer: {regex: 'answer (\\S+)'}\n"


def test_each_participant_reports_its_turns_and_answer(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        "pattern: exchange\nrounds: 2\n"
        + ANSWER
        + dedent(
            """
        agents:
          a: {provider: mock, output: "answer {{ round }}"}
          b: {provider: mock, output: "{{ 'answer 5' if round == 1 else 'no idea' }}"}
        """
        )
    )
    rows = {a["instance"]: a for a in ran.report["agents"]}
    assert [(t["round"], t["status"], t["answer"]) for t in rows["a"]["turns"]] == [
        (1, "passed", "1"),
        (2, "passed", "2"),
    ]
    assert [t["output"] for t in rows["b"]["turns"]] == ["answer 5", "no idea"]
    assert rows["a"]["answer"] == "2"
    assert rows["b"]["answer"] is None  # its last turn gave no answer
    assert rows["a"]["output"] == "answer 2"  # the last turn's output
    assert rows["a"]["attempts"] == 2  # summed over the turns
    assert len(rows["a"]["attempt_log"]) == 2


def test_a_turn_cut_off_by_round_timeout_is_a_timeout(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        """
        pattern: exchange
        agents:
          quick: {provider: mock, output: "answer 1"}
          stuck: {provider: mock, hang: true}
        rounds: 2
        round_timeout: 200ms
        require: 1
        """
    )
    rows = {a["instance"]: a for a in ran.report["agents"]}
    assert rows["stuck"]["status"] == "timeout"
    assert rows["stuck"]["error"] == "round_timeout of 200ms exceeded"
    assert [t["status"] for t in rows["stuck"]["turns"]] == ["timeout"]
    assert ran.result.exit_code == 0


def test_a_deadline_votes_over_the_last_full_round_marked_partial(
    run_paradigm: Callable[..., Ran],
) -> None:
    ran = run_paradigm(
        "pattern: exchange\nrounds: 3\ndeadline: 500ms\nselect: vote\n"
        + ANSWER
        + dedent(
            """
        agents:
          a: {provider: mock, output: "answer {{ round }}"}
          b: {provider: mock, output: "answer {{ round }}", latency: 300ms}
        """
        )
    )
    assert ran.report["stop_reason"] == "deadline"
    assert [r["round"] for r in ran.report["rounds"]] == [1, 2]
    result = ran.report["result"]
    assert result["partial"] is True
    assert result["answer"] == "1"  # round 2 was cut: b timed out in it
    assert result["votes"] == {"1": 2}
    assert ran.report["status"] == "failed"


def test_an_independent_vote_reports_each_answer(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        "pattern: independent\nselect: vote\n"
        + ANSWER
        + dedent(
            """
        agents:
          a: {provider: mock, output: "answer 4"}
          b: {provider: mock, output: "nothing"}
        """
        )
    )
    answers = {a["instance"]: a["answer"] for a in ran.report["agents"]}
    assert answers == {"a": "4", "b": None}
    assert ran.report["result"]["partial"] is False
