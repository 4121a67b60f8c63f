"""Running one round of an exchange: the turns, their contexts, and what they said.

Each turn is one :func:`run_agent` call, so timeouts, retries, imperatives with
repair and fallbacks apply per turn. A round is one task group: ``round_timeout``
cancels the turns still running and the round goes on with what arrived.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentrun.coordination.rounds import ExchangeSettings, Message
from agentrun.engine.context import Limit, RunContext
from agentrun.engine.runner import run_agent
from agentrun.errors import TemplateError
from agentrun.identity import InstanceId
from agentrun.results import AgentResult


@dataclass(slots=True)
class Conversation:
    """What the exchange remembers between rounds."""

    transcript: list[Message] = field(default_factory=list)
    latest: dict[str, Message] = field(default_factory=dict)
    """Each participant's latest message."""
    turns: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    """Each participant's own earlier turns: ``{prompt, output}`` (its conversation)."""


def turn_context(
    base: Mapping[str, Any],
    settings: ExchangeSettings,
    talk: Conversation,
    name: str,
    number: int,
    inbox: Sequence[Message],
) -> dict[str, Any]:
    """The template context of ``name``'s turn in round ``number``."""
    hears = set(settings.hears.get(name, ()))
    mine = talk.latest.get(name)
    context = {
        **base,
        "round": number,
        "rounds": settings.rounds,
        "inbox": [m.as_context() for m in inbox],
        "mine": mine.as_context() if mine is not None else None,
        "transcript": [
            m.as_context() for m in talk.transcript if m.sender in hears or m.sender == name
        ],
    }
    if settings.history:
        context["conversation"] = list(talk.turns.get(name, ()))
    return context


def inbox_for(
    settings: ExchangeSettings, talk: Conversation, name: str, previous: Sequence[Message]
) -> list[Message]:
    """Simultaneous turns hear the previous round; sequential ones the latest of each."""
    hears = settings.hears.get(name, ())
    if settings.turns == "sequential":
        return [talk.latest[q] for q in hears if q in talk.latest]
    by_sender = {m.sender: m for m in previous}
    return [by_sender[q] for q in hears if q in by_sender]


async def play_round(
    ctx: RunContext,
    settings: ExchangeSettings,
    talk: Conversation,
    base: Mapping[str, Any],
    active: Sequence[str],
    number: int,
    outer: Limit | None,
) -> dict[str, AgentResult | None]:
    """Every active participant's turn of round ``number``: its result, or ``None``
    when it never got to speak (a sequential round that ran out of time)."""
    previous = [m for m in talk.transcript if m.round == number - 1]
    results: dict[str, AgentResult | None] = dict.fromkeys(active)
    # round_timeout bounds every turn like a stage timeout: a turn it cuts off ends
    # as `timeout` (not cancelled) and the round goes on with what arrived.
    limit = outer
    if settings.round_timeout is not None:
        ends = Limit(ctx.now() + settings.round_timeout, "round_timeout", settings.round_timeout)
        limit = Limit.tightest(ends, outer)

    async def turn(name: str) -> None:
        inbox = inbox_for(settings, talk, name, previous)
        context = turn_context(base, settings, talk, name, number, inbox)
        result = await run_agent(ctx, InstanceId.of(name), context, limit)
        results[name] = result
        if settings.turns == "sequential" and result.succeeded:
            # The next speaker of this round hears this one at once.
            talk.latest[name] = Message(name, number, result.output or "", None)
        _remember(ctx, talk, name, context, result)

    if settings.turns == "sequential":
        for name in active:
            if limit is not None and ctx.now() >= limit.at:
                break  # the round is over: the rest do not get to speak
            await turn(name)
        return results
    async with asyncio.TaskGroup() as group:
        for name in active:
            group.create_task(turn(name))
    return results


def _remember(
    ctx: RunContext,
    talk: Conversation,
    name: str,
    context: Mapping[str, Any],
    result: AgentResult,
) -> None:
    """Keep a passing turn in the agent's own conversation (its prompt re-rendered)."""
    if not result.succeeded:
        return
    node = ctx.graph.agents[name]
    try:
        scope = {**context, "agent": name, "attempt": 1, "violations": []}
        if ctx.board is not None:
            scope["state"] = ctx.board.snapshot()
        prompt = ctx.templates.render(node.prompt, scope)
    except TemplateError:
        return  # the turn rendered once; a prompt that no longer does is left out
    talk.turns.setdefault(name, []).append({"prompt": prompt, "output": result.output or ""})
