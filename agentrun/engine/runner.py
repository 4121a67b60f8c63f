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
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from agentrun.checks.base import CheckInput
from agentrun.engine.context import Limit, RunContext
from agentrun.engine.limits import ProviderLimiter
from agentrun.engine.retry import compute_backoff
from agentrun.errors import AgentError
from agentrun.events.records import (
    AgentFinished,
    AgentStarted,
    AttemptFailed,
    AttemptStarted,
    CheckDecided,
    FallbackStarted,
    Queued,
    Retrying,
    Streamed,
)
from agentrun.graph.compiled import AgentNode
from agentrun.identity import InstanceId, Role
from agentrun.providers.base import AgentClient, Reply, Request
from agentrun.results import AgentResult, AgentStatus, AttemptRecord, CheckResult


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
            record, retryable, fatal, retry_after = await _attempt(
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
        wait = compute_backoff(number, node.backoff, ctx.rng)
        if retry_after is not None:
            wait = max(wait, retry_after)  # the server knows better than our backoff
        if agent_limit is not None and ctx.now() + wait >= agent_limit.at:
            return record.status, f"no time left for another attempt within the {agent_limit.label}"
        ctx.emit(
            Retrying, instance=instance, attempt=number + 1, wait_s=wait, caused_by=record.status
        )
        await asyncio.sleep(wait)
    raise AssertionError("unreachable: the loop returns on its last attempt")


async def _attempt(
    ctx: RunContext,
    node: AgentNode,
    instance: str,
    context: Mapping[str, Any],
    number: int,
    agent_limit: Limit | None,
    rejected: str | None,
    violations: tuple[str, ...],
) -> tuple[AttemptRecord, bool, bool, float | None]:
    """One attempt: (record, whether a retry may help, whether the agent's own limit
    fired, the server's Retry-After)."""
    ctx.emit(AttemptStarted, instance=instance, attempt=number)
    attempt_context = {
        **context,
        "agent": node.name,
        "attempt": number,
        "violations": list(violations),
        **({"state": ctx.board.snapshot()} if ctx.board else {}),  # as the attempt starts
    }
    begun = ctx.now()
    limiter = ctx.limiters.get(node.name)
    ticket: int | None = None
    outcome = "error"
    try:
        request = Request(
            agent=node.name,
            instance=instance,
            attempt=number,
            prompt=ctx.templates.render(node.prompt, attempt_context),
            system=ctx.templates.render(node.system, attempt_context) if node.system else None,
            context=attempt_context,
            rejected=rejected,
            violations=violations,
            on_delta=_streamer(ctx, instance, number) if ctx.streaming else None,
        )
        holds_slot = False
        if ctx.slots is not None or limiter is not None:
            limit = agent_limit  # waiting for a slot is bounded by the agent's limits only
            holds_slot, ticket = await _wait_for_slot(
                ctx, node, instance, number, limiter, agent_limit
            )
        try:
            # The attempt's clock starts once it holds its slots: queueing is not its time.
            begun = ctx.now()
            limit = Limit.tightest(
                Limit(begun + node.timeout, "timeout", node.timeout), agent_limit
            )
            reply = await _call(ctx.clients[node.name], request, limit)
            outcome = "ok"
        finally:
            if holds_slot and ctx.slots is not None:
                ctx.slots.release()
    except TimeoutError:
        assert limit is not None  # only our own scopes let TimeoutError through
        record = AttemptRecord(
            number, AgentStatus.TIMEOUT, ctx.now() - begun, error=f"{limit.label} exceeded"
        )
        return record, True, limit is agent_limit, None
    except AgentError as exc:
        if exc.throttled:
            outcome = "throttled"
        record = AttemptRecord(number, AgentStatus.FAILED, ctx.now() - begun, error=str(exc))
        return record, exc.retryable, False, exc.retry_after
    except Exception as exc:
        # A provider bug must not take the other agents down with it (isolation is
        # the contract), but it must not hide either: the debug option re-raises.
        if ctx.debug:
            raise
        message = f"unexpected {type(exc).__name__} in provider {node.provider!r}: {exc}"
        record = AttemptRecord(number, AgentStatus.FAILED, ctx.now() - begun, error=message)
        return record, False, False, None
    finally:
        if ticket is not None and limiter is not None:
            limiter.release(ticket, outcome)
    duration = ctx.now() - begun
    if not node.imperatives:
        record = AttemptRecord(number, AgentStatus.PASSED, duration, reply.text, usage=reply.usage)
        return record, True, False, None
    check_context = {**attempt_context, "prompt": request.prompt}
    try:
        # Checks (a judge, a python function) are bounded by their own timeouts and
        # also by the agent's: total_timeout and the deadline cover everything.
        async with asyncio.timeout_at(agent_limit.at if agent_limit else None):
            checks = await _check(ctx, node, instance, number, reply.text, duration, check_context)
    except TimeoutError:
        assert agent_limit is not None
        record = AttemptRecord(
            number,
            AgentStatus.TIMEOUT,
            ctx.now() - begun,
            reply.text,
            f"{agent_limit.label} exceeded while checking imperatives",
            usage=reply.usage,
        )
        return record, True, True, None
    broken = [c for c in checks if c.is_violation]
    if broken:
        error = "broke " + "; ".join(f"{c.name} ({c.message})" for c in broken)
        status = AgentStatus.VIOLATED
    else:
        error, status = None, AgentStatus.PASSED
    record = AttemptRecord(number, status, duration, reply.text, error, tuple(checks), reply.usage)
    return record, True, False, None


async def _call(client: AgentClient, request: Request, limit: Limit | None) -> Reply:
    """One provider call under the attempt's limit; only our own expired scope raises
    TimeoutError (a provider's own timeout is an ordinary, retryable failure)."""
    if limit is None:
        try:
            return await client.complete(request)
        except TimeoutError:
            raise AgentError("the provider timed out") from None
    async with asyncio.timeout_at(limit.at) as scope:
        try:
            return await client.complete(request)
        except TimeoutError:
            if scope.expired():
                raise
            raise AgentError("the provider timed out") from None


async def _wait_for_slot(
    ctx: RunContext,
    node: AgentNode,
    instance: str,
    number: int,
    limiter: ProviderLimiter | None,
    agent_limit: Limit | None,
) -> tuple[bool, int | None]:
    """Take a run-wide slot and the provider's (concurrency, then rate): whether a
    run-wide slot is held, and the provider's ticket."""
    if (ctx.slots is not None and ctx.slots.locked()) or (
        limiter is not None and limiter.would_wait()
    ):
        ctx.emit(Queued, instance=instance, attempt=number, provider=node.provider)
    holds_slot = False
    try:
        async with asyncio.timeout_at(agent_limit.at if agent_limit else None):
            if ctx.slots is not None:
                await ctx.slots.acquire()
                holds_slot = True
            ticket = await limiter.acquire() if limiter is not None else None
    except BaseException:
        if holds_slot and ctx.slots is not None:
            ctx.slots.release()
        raise
    return holds_slot, ticket


def _streamer(ctx: RunContext, instance: str, number: int) -> Callable[[str], None]:
    """The callback a streaming provider feeds each piece of text to."""
    received = 0

    def on_delta(delta: str) -> None:
        nonlocal received
        received += len(delta)
        ctx.emit(Streamed, instance=instance, attempt=number, delta=delta, chars=received)

    return on_delta


async def _check(
    ctx: RunContext,
    node: AgentNode,
    instance: str,
    number: int,
    output: str,
    duration: float,
    context: Mapping[str, Any],
) -> list[CheckResult]:
    """Run the agent's imperatives on an output, in order, each emitting its verdict."""
    if not node.imperatives:
        return []
    inp = CheckInput(output, duration, node.name, instance, context)
    verdicts = []
    for name in node.imperatives:
        verdict = await ctx.checks[name](inp)
        ctx.emit(CheckDecided, instance=instance, attempt=number, check=verdict)
        verdicts.append(verdict)
    return verdicts


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
