"""Run one agent: attempts under their time limits, imperatives, retries, then fallbacks.

Timeouts come in three layers that all end up as one absolute :class:`Limit` per
await: the attempt's ``timeout``, the agent's ``total_timeout`` and an outer limit
(the pattern's ``deadline`` or a stage's ``timeout``). Only the attempt limit
leaves room for a retry. Cancellation is never swallowed: a cancelled agent
records its status ``cancelled`` and re-raises.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from agentrun.engine.attempt import attempt
from agentrun.engine.context import Limit, RunContext
from agentrun.engine.retry import next_wait
from agentrun.events.records import (
    AgentFinished,
    AgentStarted,
    AttemptFailed,
    FallbackStarted,
    Retrying,
)
from agentrun.graph.compiled import AgentNode
from agentrun.identity import InstanceId, Role
from agentrun.results import AgentResult, AgentStatus, AttemptRecord


async def run_agent(
    ctx: RunContext,
    instance: InstanceId,
    context: Mapping[str, Any],
    outer: Limit | None = None,
) -> AgentResult:
    """Run an agent instance with its retries and fallback chain; never raises but on
    cancellation.

    Args:
        ctx: the run's shared state.
        instance: who runs: the agent, its role, stage and the instance it serves.
        context: the template context (input, vars, previous, ...).
        outer: the pattern deadline or stage timeout, whichever is tighter.

    Returns:
        The agent's result; its ``output`` is the fallback's when one replaced it.
    """
    node = ctx.graph.agents[instance.agent]
    stage, role = instance.stage, instance.role
    ctx.emit(
        AgentStarted,
        agent=instance.agent,
        instance=instance,
        stage=stage,
        role=role,
        parent=instance.parent,
    )
    started = ctx.now()
    attempts: list[AttemptRecord] = []
    fallbacks: list[AgentResult] = []
    try:
        end = await ctx.board.wait_to_start(ctx, instance, outer) if ctx.board else None
        started = ctx.now()  # time spent waiting counts toward no timeout of the agent
        status, note = end or await _attempts(
            ctx, node, instance, context, outer, started, attempts
        )
        result = _result(node, instance, stage, role, status, attempts, started, ctx, note)
        if status not in (AgentStatus.PASSED, AgentStatus.SKIPPED):  # skipped: a hopeless wait
            for fallback in node.fallback:
                ctx.emit(FallbackStarted, instance=instance, fallback=fallback)
                substitute = await run_agent(
                    ctx, InstanceId.fallback(instance, fallback), context, outer
                )
                fallbacks.append(substitute)
                if substitute.succeeded:
                    result = _replaced(result, substitute, fallbacks, ctx, started)
                    break
            else:
                if fallbacks:
                    result = _replaced(result, None, fallbacks, ctx, started)
    except asyncio.CancelledError:
        cancelled = _result(
            node, instance, stage, role, AgentStatus.CANCELLED, attempts, started, ctx, None
        )
        ctx.emit(AgentFinished, result=_replaced(cancelled, None, fallbacks, ctx, started))
        raise
    result = ctx.board.settle(ctx, instance, result, context) if ctx.board else result
    ctx.emit(AgentFinished, result=result)  # after the commit: a write precedes its `passed`
    return result


async def _attempts(
    ctx: RunContext,
    node: AgentNode,
    instance: str,
    context: Mapping[str, Any],
    outer: Limit | None,
    started: float,
    attempts: list[AttemptRecord],
) -> tuple[AgentStatus, str | None]:
    """Make attempts until one passes or none may follow; return the final status."""
    total = None
    if not math.isinf(node.total_timeout):
        total = Limit(started + node.total_timeout, "total_timeout", node.total_timeout)
    agent_limit = Limit.tightest(total, outer)
    rejected: str | None = None
    violations: tuple[str, ...] = ()
    last = node.retries + 1
    for number in range(1, last + 1):
        begun = ctx.now()
        try:
            record, retryable, fatal, retry_after = await attempt(
                ctx, node, instance, context, number, agent_limit, rejected, violations
            )
        except asyncio.CancelledError:
            # The attempt in flight is part of the story: it started, then was cancelled.
            cancelled = AttemptRecord(
                number, AgentStatus.CANCELLED, ctx.now() - begun, error="cancelled"
            )
            attempts.append(cancelled)
            raise
        record = ctx.board.stage(instance, record, context) if ctx.board else record  # writes
        attempts.append(record)
        if record.status is AgentStatus.PASSED:
            return AgentStatus.PASSED, None
        ctx.emit(
            AttemptFailed,
            instance=instance,
            attempt=number,
            status=record.status,
            error=record.error or "",
            duration_s=record.duration_s,
        )
        if fatal or not retryable or number == last:
            return record.status, None
        if record.status is AgentStatus.VIOLATED:
            rejected = record.output
            violations = tuple(f"{c.name}: {c.message}" for c in record.checks if c.is_violation)
        wait, refused = next_wait(
            number, node.backoff, ctx.rng, retry_after, agent_limit, ctx.now()
        )
        if refused is not None:
            return record.status, refused
        ctx.emit(
            Retrying, instance=instance, attempt=number + 1, wait_s=wait, caused_by=record.status
        )
        await asyncio.sleep(wait)
    raise AssertionError("unreachable: the loop returns on its last attempt")


def _result(
    node: AgentNode,
    instance: InstanceId,
    stage: str | None,
    role: Role,
    status: AgentStatus,
    attempts: list[AttemptRecord],
    started: float,
    ctx: RunContext,
    note: str | None,
) -> AgentResult:
    last = attempts[-1] if attempts else None
    error = last.error if last and status is not AgentStatus.PASSED else None
    if status is AgentStatus.CANCELLED:
        error = "cancelled"
    if note:
        error = f"{error}; {note}" if error else note
    usages = [a.usage for a in attempts if a.usage is not None]
    return AgentResult(
        name=node.name,
        instance=instance,
        stage=stage,
        status=status,
        duration_s=ctx.now() - started,
        attempts=tuple(attempts),
        output=last.output if last and status is AgentStatus.PASSED else None,
        error=error,
        role=role,
        usage=sum(usages[1:], usages[0]) if usages else None,
    )


def _replaced(
    result: AgentResult,
    substitute: AgentResult | None,
    fallbacks: list[AgentResult],
    ctx: RunContext,
    started: float,
) -> AgentResult:
    """The agent's result with its fallbacks recorded (and the one that stood in, if any)."""
    usage = result.usage
    for fallback in fallbacks:
        if fallback.usage is not None:
            usage = fallback.usage if usage is None else usage + fallback.usage
    if substitute is None:
        return replace(
            result, fallbacks=tuple(fallbacks), duration_s=ctx.now() - started, usage=usage
        )
    return replace(
        result,
        fallbacks=tuple(fallbacks),
        replaced_by=substitute.name,
        output=substitute.output,
        duration_s=ctx.now() - started,
        usage=usage,
    )
