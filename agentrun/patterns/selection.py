"""Picking a pattern's result: a majority vote over the voters' answers, or an aggregator.

Shared by ``independent`` and ``exchange``. A vote that misses its quorum fails the
pattern with a pattern-level violation named ``vote`` (the run exits 1), unless every
voter failed through errors alone (then it exits 3, as any failure through errors).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agentrun.callables import import_callable
from agentrun.coordination.events import VoteDecided
from agentrun.coordination.vote import Ballot, Selection, count_votes, extract_answer
from agentrun.engine.context import Limit, RunContext
from agentrun.engine.runner import run_agent
from agentrun.identity import InstanceId
from agentrun.results import AgentResult


@dataclass(frozen=True, slots=True)
class Picked:
    """What the selection chose, or why it failed."""

    output: str | None
    failure: str | None = None
    violation: str | None = None
    source: InstanceId | None = None
    """The instance whose output was picked (the aggregator); ``None`` for a vote."""
    answer: str | None = None
    """The answer of the picked output."""


def answer_of(
    ctx: RunContext, output: str | None, selection: Selection | None = None
) -> str | None:
    """The answer in an output under the paradigm's ``answer:`` (the stripped output
    without one)."""
    return extract_answer(selection or ctx.graph.selection, output, import_callable)


async def select_result(
    ctx: RunContext,
    context: Mapping[str, Any],
    voters: Sequence[tuple[str, AgentResult | None]],
    outer: Limit | None,
    partial: bool = False,
    selection: Selection | None = None,
) -> Picked | None:
    """Run the paradigm's ``select`` (or ``selection``, a stage's) over ``voters`` (in
    ``run`` order); ``None`` without one. ``partial``: the voters are those of the last
    full round before a deadline."""
    selection = selection or ctx.graph.selection
    if selection is None:
        return None
    if selection.agent is not None:
        return await _aggregate(ctx, selection, context, outer, partial)
    if selection.quorum is None:
        return None
    ballots = [
        Ballot(
            name,
            result is not None and result.succeeded,
            answer_of(ctx, result.output, selection)
            if result is not None and result.succeeded
            else None,
            result.output if result is not None else None,
        )
        for name, result in voters
    ]
    verdict = count_votes(ballots, selection.quorum, selection.tie)
    ctx.emit(
        VoteDecided,
        answer=verdict.answer,
        votes=verdict.votes,
        quorum=verdict.quorum,
        quorum_met=verdict.quorum_met,
        tie=verdict.tie,
        result={**verdict.as_result(), "partial": partial},
        answers={b.voter: b.answer for b in ballots},
    )
    if verdict.quorum_met:
        return Picked(verdict.output, answer=verdict.answer)
    reason = verdict.reason()
    if not any(b.passed for b in ballots):
        return Picked(None, failure=reason)  # every voter failed: errors, not a disagreement
    return Picked(None, failure=reason, violation=f"vote: {reason}")


async def _aggregate(
    ctx: RunContext,
    selection: Selection,
    context: Mapping[str, Any],
    outer: Limit | None,
    partial: bool,
) -> Picked:
    agent = selection.agent or ""
    result = await run_agent(ctx, InstanceId.of(agent), context, outer)
    answer = answer_of(ctx, result.output, selection) if result.succeeded else None
    ctx.emit(
        VoteDecided,
        answer=answer,
        votes={},
        quorum="agent",
        quorum_met=result.succeeded,
        tie=False,
        result={
            "selected_by": agent,
            "answer": answer,
            "output": result.output,
            "from": agent,
            "partial": partial,
        },
    )
    if result.succeeded:
        return Picked(result.output, source=result.instance, answer=answer)
    return Picked(None, failure=f"the selector {agent} did not pass: {result.error}")
