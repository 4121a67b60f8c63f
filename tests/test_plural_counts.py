"""Counts read as English: one agent, two agents."""

from __future__ import annotations

from collections.abc import Callable

from conftest import Ran


def test_one_agent_is_singular(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        """
        pattern: independent
        input: hi
        agents:
          only: {provider: mock, error: down}
        """
    )
    assert "run paradigm (independent): 1 agent\n" in ran.out
    assert ran.report["reason"] == "0 of 1 agent passed; require: all"
    assert "1 agents" not in ran.out
