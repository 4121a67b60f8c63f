"""``select`` on pipeline stages (and ``stages.NAME.result``), and where it is refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Ran

from agentrun import api
from agentrun.errors import SpecError

STAGE = """
pattern: pipeline
answer: {regex: 'answer (\\S+)'}
agents:
  a: {provider: mock, output: "answer 4"}
  b: {provider: mock, output: "answer 4"}
  c: {provider: mock, output: "answer 5"}
  merge: {provider: mock, output: "answer {{ previous | length }}"}
  next:
    provider: mock
    output: "{{ previous | length }} {{ stages.solve.result.answer }} {{ stages.solve.outputs | length }}"
stages:
  - {name: solve, agents: [a, b, c], select: SELECT}
  - {name: after, agents: [next]}
"""


@pytest.mark.parametrize(
    ("select", "output"),
    [("vote", "1 4 3"), ("'{agent: merge}'", "1 3 3"), ("'{vote: {quorum: unanimous}}'", "")],
)
def test_a_stage_select_feeds_the_next_stage_one_result(
    run_paradigm: Callable[..., Ran], select: str, output: str
) -> None:
    ran = run_paradigm(STAGE.replace("SELECT", select.strip("'")))
    if not output:  # 4, 4, 5 is not unanimous: the stage fails with a vote violation
        assert ran.result.exit_code == 1
        assert "no answer reached unanimous: 4×2, 5×1" in (ran.report["reason"] or "")
        return
    assert ran.report["outputs"] == [output]
    assert ran.result.exit_code == 0


def test_a_stage_vote_reports_each_answer(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(STAGE.replace("SELECT", "vote"))
    answers = {a["instance"]: a.get("answer") for a in ran.report["agents"]}
    assert answers == {"a": "4", "b": "4", "c": "5", "next": None}
    assert ran.report["result"]["votes"] == {"4": 2, "5": 1}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "pattern: competitive\nagents: {a: {provider: mock}, b: {provider: mock}}\n"
            "select: vote\n",
            ":3:1: select: a competitive pattern's result is its winner; remove select",
        ),
        (
            "pattern: pipeline\nagents: {a: {provider: mock}}\nstages: [{agents: [a]}]\n"
            "select: vote\n",
            ":4:1: select: a pipeline selects per stage; set select on a stage",
        ),
        (
            "pattern: pipeline\nagents: {a: {provider: mock}}\n"
            "stages: [{agents: [a], select: {agent: a}}]\n",
            ":3:40: select: the selector 'a' is also an agent of this stage",
        ),
        (
            "pattern: pipeline\nagents: {a: {provider: mock}, mergr: {provider: mock}}\n"
            "stages: [{agents: [a], select: {agent: merge}}]\n",
            "select: no agent named 'merge' (did you mean 'mergr'?)",
        ),
    ],
)
def test_select_where_it_does_not_apply(
    write_paradigm: Callable[[str], Path], text: str, expected: str
) -> None:
    with pytest.raises(SpecError) as caught:
        api.load(write_paradigm(text), for_run=True)
    assert expected in str(caught.value)
