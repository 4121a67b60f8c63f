"""Checks on what a reply cost: ``max_tokens`` and ``max_cost``.

Both read the usage the provider reported. The bound applies to one ``scope``:

* ``attempt`` (default): this reply alone;
* ``agent``: every attempt of this agent instance so far, this one included;
* ``run``: every reply of the run so far (all agents, fallbacks and judges, this one
  included); agents that run at once add up in the order their replies arrive, so
  the first reply to cross the bound is the one that breaks it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import Field, Strict

from agentrun.checks.base import Check, CheckDescriptor, CheckInput, JudgeRunner
from agentrun.graph.runtime import Imperative
from agentrun.loading.model_base import StrictModel
from agentrun.results import CheckResult, Usage

Scope = Literal["attempt", "agent", "run"]
_Tokens = Annotated[int, Strict(), Field(ge=0)]
_Dollars = Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False)]


class TokenLimit(StrictModel):
    """A token bound over a scope."""

    limit: _Tokens
    """Largest number of tokens, prompt and completion together."""
    scope: Scope = "attempt"
    """What is counted: this attempt, the agent's attempts so far, or the whole run so far."""


class CostLimit(StrictModel):
    """A cost bound over a scope."""

    limit: _Dollars
    """Largest cost in USD."""
    scope: Scope = "attempt"
    """What is counted: this attempt, the agent's attempts so far, or the whole run so far."""


def _usage_in(inp: CheckInput, scope: str) -> Usage | None:
    if scope == "agent":
        return inp.agent_usage
    if scope == "run":
        return inp.run_usage
    return inp.usage


def _counted(scope: str) -> str:
    return {"agent": " over the agent's attempts", "run": " over the run"}.get(scope, "")


class BudgetCheck:
    """A bound on a usage figure; a reply with nothing to measure cannot be checked."""

    __slots__ = ("figure", "name", "scope", "severity")

    def __init__(
        self, name: str, severity: str, scope: str, figure: Callable[[Usage], str | None]
    ) -> None:
        self.name = name
        self.severity = severity
        self.scope = scope
        self.figure = figure
        """The violation message of a usage, or None within the bound; raises
        LookupError when the usage lacks the figure (no price)."""

    async def __call__(self, inp: CheckInput) -> CheckResult:
        """Judge the usage of the check's scope."""
        usage = _usage_in(inp, self.scope)
        try:
            if usage is None:
                raise LookupError("the provider reported no token usage")
            reason = self.figure(usage)
        except LookupError as exc:
            return CheckResult(self.name, False, str(exc), self.severity, error=True)
        if reason is None:
            return CheckResult(self.name, True, "", self.severity)
        return CheckResult(self.name, False, reason, self.severity)


def compile_max_tokens(
    name: str, spec: Imperative, *, run_judge: JudgeRunner | None = None
) -> Check:
    """``max_tokens``: at most this many tokens (prompt and completion) in the scope."""
    bound = (
        spec.argument if isinstance(spec.argument, TokenLimit) else TokenLimit(limit=spec.argument)
    )
    limit, where = bound.limit, _counted(bound.scope)

    def figure(usage: Usage) -> str | None:
        total = usage.total_tokens
        if total <= limit:
            return None
        return f"{total} tokens{where}, at most {limit} allowed"

    return BudgetCheck(name, spec.severity, bound.scope, figure)


def compile_max_cost(name: str, spec: Imperative, *, run_judge: JudgeRunner | None = None) -> Check:
    """``max_cost``: at most this many US dollars in the scope (needs the provider's ``price``)."""
    bound = (
        spec.argument if isinstance(spec.argument, CostLimit) else CostLimit(limit=spec.argument)
    )
    limit, where = bound.limit, _counted(bound.scope)
    allowed = f"at most {usd(limit)} allowed"

    def figure(usage: Usage) -> str | None:
        if usage.cost_usd is None:
            raise LookupError("no cost known: the provider has no price")
        cost = usage.cost_usd
        if cost <= limit:
            return None
        return f"cost {usd(cost, above=limit)}{where}, {allowed}"

    return BudgetCheck(name, spec.severity, bound.scope, figure)


def usd(amount: float, *, above: float | None = None) -> str:
    """``$0.0132``: three significant digits, more when needed to differ from ``above``."""
    digits = 3
    while True:
        text = _fixed(amount, digits)
        if above is None or text != _fixed(above, digits) or digits >= 15:
            return f"${text}"
        digits += 1


def _fixed(amount: float, digits: int) -> str:
    """``amount`` in plain decimals, ``digits`` significant ones, always showing cents."""
    decimals = 2 if amount == 0 else digits - 1 - math.floor(math.log10(abs(amount)))
    whole, _, cents = f"{amount:.{max(2, decimals)}f}".partition(".")
    return f"{whole}.{cents.rstrip('0').ljust(2, '0')}"


MAX_TOKENS = CheckDescriptor(
    "max_tokens",
    _Tokens | TokenLimit,
    compile_max_tokens,
    description="At most this many tokens: a number, or {limit, scope: attempt|agent|run}.",
)
MAX_COST = CheckDescriptor(
    "max_cost",
    _Dollars | CostLimit,
    compile_max_cost,
    description="At most this many US dollars: a number, or {limit, scope: attempt|agent|run}.",
)
