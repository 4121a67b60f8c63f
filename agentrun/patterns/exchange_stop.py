"""After a round of an exchange: its answers, its agreement and the ``until`` checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from agentrun.checks.judge import read_verdict
from agentrun.coordination.rounds import (
    Condition,
    ExchangeSettings,
    Message,
    agreement,
    contains_holds,
)
from agentrun.coordination.rules import expression_env
from agentrun.engine.context import RunContext
from agentrun.engine.runner import run_agent
from agentrun.identity import InstanceId
from agentrun.patterns.exchange_turns import Conversation
from agentrun.patterns.selection import answer_of
from agentrun.results import AgentResult


class StopChecks(NamedTuple):
    """Every condition's verdict, the round's agreement, and the condition that held."""

    checks: list[dict[str, Any]]
    share: float
    held: str | None


def answers_of(ctx: RunContext, results: Mapping[str, AgentResult | None]) -> dict[str, str | None]:
    """Each participant's answer this round (``None``: failed, or no answer)."""
    return {
        name: answer_of(ctx, r.output) if r is not None and r.succeeded else None
        for name, r in results.items()
    }


async def stop_checks(
    ctx: RunContext,
    s: ExchangeSettings,
    base: Mapping[str, Any],
    talk: Conversation,
    messages: Sequence[Message],
    answers: Mapping[str, str | None],
    count: int,
) -> StopChecks:
    """Check the ``until`` conditions in order; the first that holds stops the exchange."""
    share, modal = agreement(answers, count)
    checks: list[dict[str, Any]] = []
    for condition in s.until:
        held, detail = await _holds(ctx, condition, base, talk, messages, share, modal)
        checks.append({"condition": condition.name, "held": held, "detail": detail})
        if held:
            return StopChecks(checks, share, condition.name)
    return StopChecks(checks, share, None)


async def _holds(
    ctx: RunContext,
    condition: Condition,
    base: Mapping[str, Any],
    talk: Conversation,
    messages: Sequence[Message],
    share: float,
    modal: str | None,
) -> tuple[bool, str]:
    if condition.name == "consensus":
        detail = f"agreement {share:.2f} on {modal!r}, needs {condition.threshold:g}"
        return share >= condition.threshold and modal is not None, detail
    if condition.name == "contains":
        return contains_holds(condition, messages), f"contains {condition.text!r}"
    if condition.name == "state":
        return _state_holds(ctx, condition.text or "")
    return await _judge_holds(ctx, condition, base, talk, messages)


def _state_holds(ctx: RunContext, source: str) -> tuple[bool, str]:
    values = ctx.board.snapshot() if ctx.board is not None else {}
    try:
        value = expression_env().compile_expression(source)(
            state=values, input=ctx.graph.input, vars=ctx.graph.vars
        )
    except Exception as exc:
        return False, f"{source}: {type(exc).__name__}: {exc}"
    return bool(value), source


async def _judge_holds(
    ctx: RunContext,
    condition: Condition,
    base: Mapping[str, Any],
    talk: Conversation,
    messages: Sequence[Message],
) -> tuple[bool, str]:
    """The judge runs after the round; a failed judge call does not stop the exchange."""
    assert condition.agent is not None
    round_messages = [m.as_context() for m in messages]
    context = {
        **base,
        "rubric": condition.rubric,
        "inbox": round_messages,
        "transcript": [m.as_context() for m in talk.transcript],
    }
    result = await run_agent(ctx, InstanceId.of(condition.agent), context)
    if not result.succeeded:
        return False, f"judge {condition.agent} did not pass: {result.error}"
    passed, message = read_verdict(result.output or "")
    return passed, message
