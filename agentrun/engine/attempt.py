"""One attempt of one agent, in named steps: render the request, wait for a slot,
call the provider, check the reply. What the attempt sent and what user code printed
on the way go into its record."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from agentrun.callables import located, user_frames
from agentrun.checks.base import CheckInput
from agentrun.engine.calls import DeltaStream, call_provider
from agentrun.engine.capture import AttemptLog, capture
from agentrun.engine.context import Limit, RunContext
from agentrun.engine.limits import ProviderLimiter
from agentrun.errors import AgentError, CallableFailed
from agentrun.events.records import AttemptStarted, CheckDecided, Queued, SlotTaken
from agentrun.graph.compiled import AgentNode
from agentrun.providers.base import Reply, Request
from agentrun.results import AgentStatus, AttemptRecord, CheckResult, Sent


@dataclass(slots=True)
class _Try:
    """One attempt in the making: its clock, the limit in force, what it sent."""

    number: int
    begun: float
    log: AttemptLog
    """What user code prints during the attempt."""
    limit: Limit | None = None
    sent: Sent | None = None
    stream: DeltaStream | None = None
    """Streamed pieces on their way to events, redacted across piece edges."""

    def record(self, status: AgentStatus, duration: float, **fields: Any) -> AttemptRecord:
        """The attempt's record, with what it sent and what user code printed."""
        return AttemptRecord(
            self.number, status, duration, sent=self.sent, log=self.log.text(), **fields
        )


class Outcome(NamedTuple):
    """How an attempt ended."""

    record: AttemptRecord
    retryable: bool
    """Whether another attempt may help."""
    fatal: bool
    """Whether the agent's own limit fired (no attempt may follow)."""
    retry_after: float | None
    """The server's Retry-After."""


async def attempt(
    ctx: RunContext,
    node: AgentNode,
    instance: str,
    context: Mapping[str, Any],
    number: int,
    agent_limit: Limit | None,
    rejected: str | None,
    violations: tuple[str, ...],
) -> Outcome:
    """One attempt, with what it sent and what user code printed on the way."""
    ctx.emit(AttemptStarted, instance=instance, attempt=number)
    attempt_context = {
        **context,
        "agent": node.name,
        "attempt": number,
        "violations": list(violations),
    }
    if ctx.board:
        attempt_context["state"] = ctx.board.snapshot()  # as the attempt starts
    current = _Try(number, ctx.now(), AttemptLog())
    with capture(current.log):
        try:
            request = _request(ctx, node, instance, attempt_context, current, rejected, violations)
            reply = await _call_in_slot(ctx, node, instance, request, current, agent_limit)
        except Exception as exc:
            outcome = _failed(ctx, node, current, agent_limit, exc)
        else:
            check_context = {**attempt_context, "prompt": request.prompt}
            outcome = await _checked(
                ctx, node, instance, current, reply, check_context, agent_limit
            )
    return outcome


def _request(
    ctx: RunContext,
    node: AgentNode,
    instance: str,
    attempt_context: Mapping[str, Any],
    current: _Try,
    rejected: str | None,
    violations: tuple[str, ...],
) -> Request:
    """Render the attempt's prompt and system into its request."""
    prompt = ctx.templates.render(node.prompt, attempt_context)
    system = ctx.templates.render(node.system, attempt_context) if node.system else None
    current.sent = Sent(prompt=prompt, system=system)
    if ctx.streaming:
        current.stream = DeltaStream(ctx, instance, current.number)

    def on_sent(sent: Sent) -> None:
        current.sent = sent  # a provider that sends something else says what

    return Request(
        agent=node.name,
        instance=instance,
        attempt=current.number,
        prompt=prompt,
        system=system,
        context=attempt_context,
        rejected=rejected,
        violations=violations,
        on_delta=current.stream.feed if current.stream is not None else None,
        on_sent=on_sent,
    )


async def _call_in_slot(
    ctx: RunContext,
    node: AgentNode,
    instance: str,
    request: Request,
    current: _Try,
    agent_limit: Limit | None,
) -> Reply:
    """Wait for the slots the attempt needs, then call its provider under its limit."""
    limiter = ctx.limiters.get(node.name)
    ticket: int | None = None
    holds_slot = False
    outcome = "error"
    try:
        # A reply the response cache already holds costs no slot and no rate.
        peek = getattr(ctx.clients[node.name], "peek", None)
        if (ctx.slots is not None or limiter is not None) and not (peek and peek(request)):
            current.limit = agent_limit  # waiting for a slot is bounded by the agent's limits only
            holds_slot, ticket = await _wait_for_slot(
                ctx, node, instance, current.number, limiter, agent_limit
            )
        # The attempt's clock starts once it holds its slots: queueing is not its time.
        current.begun = ctx.now()
        current.limit = Limit.tightest(
            Limit(current.begun + node.timeout, "timeout", node.timeout), agent_limit
        )
        reply = await call_provider(ctx.clients[node.name], request, current.limit)
        outcome = "ok"
        return reply
    except AgentError as exc:
        if exc.throttled:
            outcome = "throttled"
        raise
    finally:
        if holds_slot and ctx.slots is not None:
            ctx.slots.release()
        if ticket is not None and limiter is not None:
            limiter.release(ticket, outcome)
        if current.stream is not None:
            current.stream.close()


def _failed(
    ctx: RunContext, node: AgentNode, current: _Try, agent_limit: Limit | None, exc: Exception
) -> Outcome:
    """The record of an attempt whose request or call raised."""
    took = ctx.now() - current.begun
    if isinstance(exc, TimeoutError):
        assert current.limit is not None  # only our own scopes let TimeoutError through
        record = current.record(AgentStatus.TIMEOUT, took, error=f"{current.limit.label} exceeded")
        return Outcome(record, True, current.limit is agent_limit, None)
    if isinstance(exc, AgentError):
        frames = (
            user_frames(exc.__cause__) if isinstance(exc, CallableFailed) and exc.__cause__ else ()
        )
        error = located(frames, str(exc))
        record = current.record(AgentStatus.FAILED, took, error=error, traceback=frames)
        return Outcome(record, exc.retryable, False, exc.retry_after)
    # A provider bug must not take the other agents down with it (isolation is
    # the contract), but it must not hide either: the debug option re-raises.
    if ctx.debug:
        raise exc
    message = f"unexpected {type(exc).__name__} in provider {node.provider!r}: {exc}"
    record = current.record(AgentStatus.FAILED, took, error=message)
    return Outcome(record, False, False, None)


async def _checked(
    ctx: RunContext,
    node: AgentNode,
    instance: str,
    current: _Try,
    reply: Reply,
    check_context: Mapping[str, Any],
    agent_limit: Limit | None,
) -> Outcome:
    """Check the reply against the agent's imperatives: the attempt's verdict."""
    number, duration = current.number, ctx.now() - current.begun
    spent = ctx.spending.add(instance, reply.usage)  # every reply counts, checked or not
    if not node.imperatives:
        record = current.record(
            AgentStatus.PASSED,
            duration,
            output=reply.text,
            usage=reply.usage,
            output_truncated=reply.truncated_from,
        )
        return Outcome(record, True, False, None)
    try:
        # Checks (a judge, a python function) are bounded by their own timeouts and
        # also by the agent's: total_timeout and the deadline cover everything.
        async with asyncio.timeout_at(agent_limit.at if agent_limit else None):
            inp = CheckInput(
                reply.text, duration, node.name, instance, check_context, reply.usage, *spent
            )
            checks = await _check(ctx, node, instance, number, inp)
    except TimeoutError:
        assert agent_limit is not None
        late = f"{agent_limit.label} exceeded while checking imperatives"
        took = ctx.now() - current.begun
        record = current.record(
            AgentStatus.TIMEOUT,
            took,
            output=reply.text,
            error=late,
            usage=reply.usage,
            output_truncated=reply.truncated_from,
        )
        return Outcome(record, True, True, None)
    status, error = _verdict(checks)
    record = current.record(
        status,
        duration,
        output=reply.text,
        error=error,
        checks=tuple(checks),
        usage=reply.usage,
        output_truncated=reply.truncated_from,
    )
    # A check that cannot run will not run on the next output either.
    return Outcome(record, status is not AgentStatus.FAILED, False, None)


def _verdict(checks: list[CheckResult]) -> tuple[AgentStatus, str | None]:
    """Violated when an imperative was broken; failed when a check itself broke."""
    broken = [c for c in checks if c.is_violation]
    unable = [
        f"{c.name} could not run: {located(c.traceback, c.message.removeprefix('raised '))}"
        for c in checks
        if c.error
    ]
    if broken:
        error = "broke " + "; ".join(f"{c.name} ({c.message})" for c in broken)
        return AgentStatus.VIOLATED, "; ".join([error, *unable])
    if unable:
        return AgentStatus.FAILED, "; ".join(unable)
    return AgentStatus.PASSED, None


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
    reason = _queue_reason(ctx, limiter)
    if reason is not None:
        ctx.emit(Queued, instance=instance, attempt=number, provider=node.provider, reason=reason)
    queued_at = ctx.now()
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
    if reason is not None:
        ctx.emit(SlotTaken, instance=instance, attempt=number, waited_s=ctx.now() - queued_at)
    return holds_slot, ticket


def _queue_reason(ctx: RunContext, limiter: ProviderLimiter | None) -> str | None:
    """What an attempt starting now would wait for, if anything (see ``Queued.reason``)."""
    if ctx.slots is not None and ctx.slots.locked():
        return "max_concurrency"
    if limiter is None or not limiter.would_wait():
        return None
    return "concurrency" if limiter.concurrency.would_wait() else "rate_limit"


async def _check(
    ctx: RunContext,
    node: AgentNode,
    instance: str,
    number: int,
    inp: CheckInput,
) -> list[CheckResult]:
    """Run the agent's imperatives on an output, in order, each emitting its verdict."""
    verdicts = []
    for name in node.imperatives:
        verdict = await ctx.checks[name](inp)
        ctx.emit(CheckDecided, instance=instance, attempt=number, check=verdict)
        verdicts.append(verdict)
    return verdicts
