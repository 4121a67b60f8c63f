"""What an imperative check is once compiled."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from agentrun.results import CheckResult, Usage

if TYPE_CHECKING:
    from agentrun.graph.runtime import Imperative


@dataclass(frozen=True, slots=True)
class CheckInput:
    """One attempt's output and what a check may need to judge it."""

    output: str
    duration_s: float
    agent: str
    instance: str
    context: Mapping[str, Any]
    usage: Usage | None = None
    """Tokens and cost of this attempt's reply, when its provider reported them."""
    agent_usage: Usage | None = None
    """Of every attempt of this agent instance so far, this one included."""
    run_usage: Usage | None = None
    """Of every reply of the run so far, this one included."""


class Check(Protocol):
    """A compiled imperative: ``await check(inp)`` gives its verdict, never raises."""

    name: str
    severity: str

    async def __call__(self, inp: CheckInput) -> CheckResult: ...


JudgeRunner = Callable[[str, str, CheckInput], Awaitable[tuple[bool, str]]]
"""``run_judge(judge_agent, judge_prompt, inp)`` runs the judge agent on a prompt and returns
(succeeded, reply text or error message). Provided by the runner."""


class CheckCompiler(Protocol):
    """Builds the check of one imperative; does all per-imperative work up front."""

    def __call__(self, name: str, spec: Imperative, *, run_judge: JudgeRunner | None) -> Check: ...


@dataclass(frozen=True, slots=True)
class CheckDescriptor:
    """Everything agentrun asks about one check type: its YAML key, argument and compiler."""

    name: str
    """The key an imperative holds, e.g. ``contains``."""
    argument: Any
    """Type of the key's value, validated by pydantic (``str``, ``Annotated[...]``, a model)."""
    compile: CheckCompiler
    """Turns a validated imperative into a :class:`Check`; ``spec.argument`` is the value."""
    slow: bool = False
    """Awaits user code or an agent: bounded by the imperative's ``timeout`` and counted
    in the worst-case time of the agents that use it."""
    description: str = ""
    """What the check asks of an output (schema description, ``agentrun plugins``)."""
