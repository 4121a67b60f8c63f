"""What an imperative check is once compiled."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from agentrun.results import CheckResult


@dataclass(frozen=True, slots=True)
class CheckInput:
    """One attempt's output and what a check may need to judge it."""

    output: str
    duration_s: float
    agent: str
    instance: str
    context: Mapping[str, Any]


class Check(Protocol):
    """A compiled imperative: ``await check(inp)`` gives its verdict, never raises."""

    name: str
    severity: str

    async def __call__(self, inp: CheckInput) -> CheckResult: ...


JudgeRunner = Callable[[str, str, CheckInput], Awaitable[tuple[bool, str]]]
"""``run_judge(judge_agent, judge_prompt, inp)`` runs the judge agent on a prompt and returns
(succeeded, reply text or error message). Provided by the runner."""
