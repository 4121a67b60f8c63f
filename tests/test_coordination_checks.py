"""Static checks of the board, each at the line and column of the node at fault."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agentrun import api
from agentrun.errors import SpecError


def _problems(write_paradigm: Callable[[str], Path], text: str) -> str:
    with pytest.raises(SpecError) as caught:
        api.load(write_paradigm(text), for_run=True)
    return str(caught.value)


def test_undeclared_keys_with_did_you_mean(write_paradigm: Callable[[str], Path]) -> None:
    text = _problems(
        write_paradigm,
        "pattern: independent\nstate:\n  findings: {reducer: append}\nagents:\n"
        "  a: {provider: mock, writes: [findngs]}\n"
        "  b: {provider: mock, wait_for: 'state.nope | length > 1'}\n"
        "  c: {provider: mock, prompt: '{{ state.findinsg }}'}\n",
    )
    assert (
        ":5:32: writes state key 'findngs', which is not declared under state: "
        "(did you mean 'findings'?)"
    ) in text
    assert ":6:33: wait_for reads state key 'nope', which is not declared" in text
    assert ":7:31: prompt reads state key 'findinsg'" in text


def test_two_concurrent_writers_of_a_replace_key(write_paradigm: Callable[[str], Path]) -> None:
    text = _problems(
        write_paradigm,
        "pattern: independent\nstate:\n  verdict: {}\nagents:\n"
        "  a: {provider: mock, writes: verdict}\n  b: {provider: mock, writes: verdict}\n",
    )
    assert (
        ":6:31: state key 'verdict' (reducer replace) is written by 'a' and 'b', which run at "
        "the same time; use reducer append or merge"
    ) in text


def test_sequential_turns_and_separate_stages_may_share_a_replace_key(
    write_paradigm: Callable[[str], Path],
) -> None:
    api.load(
        write_paradigm(
            "pattern: pipeline\nstate:\n  verdict: {}\nagents:\n"
            "  a: {provider: mock, writes: verdict}\n  b: {provider: mock, writes: verdict}\n"
            "stages: [{agents: [a]}, {agents: [b]}]\n"
        ),
        for_run=True,
    )


def test_a_wait_that_can_never_come_true(write_paradigm: Callable[[str], Path]) -> None:
    text = _problems(
        write_paradigm,
        "pattern: independent\nstate:\n  x: {reducer: add}\nagents:\n"
        "  a: {provider: mock, wait_for: 'state.x > 0'}\n",
    )
    assert ":5:33: wait_for can never become true: no agent writes the keys it reads" in text


def test_a_wait_cycle_is_named(write_paradigm: Callable[[str], Path]) -> None:
    text = _problems(
        write_paradigm,
        "pattern: independent\nstate:\n  x: {reducer: add}\n  y: {reducer: add}\nagents:\n"
        "  a: {provider: mock, output: '1', wait_for: 'state.y > 0', writes: x}\n"
        "  b: {provider: mock, output: '1', wait_for: 'state.x > 0', writes: y}\n",
    )
    assert "wait_for cycle: a -> b -> a" in text
