"""A pipeline stage's ``select``: its result picked by a vote or an aggregator, and
what the next stages see of it (``previous`` and ``stages.NAME.result``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentrun.engine.context import Limit, RunContext
from agentrun.graph.compiled import StageNode
from agentrun.patterns.selection import Picked, select_result
from agentrun.results import AgentResult


async def pick_stage_result(
    ctx: RunContext,
    stage: StageNode,
    context: dict[str, Any],
    results: Sequence[AgentResult],
    limit: Limit | None,
) -> Picked | None:
    """The stage's selection over its agents (each ``for_each`` copy a voter of its own);
    ``None`` when the stage has no ``select``."""
    if stage.selection is None:
        return None
    outputs = [r.output or "" for r in results if r.succeeded and r.output is not None]
    scope = {**context, "previous": outputs}
    voters = [(str(r.instance), r) for r in results]
    return await select_result(ctx, scope, voters, limit, selection=stage.selection)


def record_stage(
    context: dict[str, Any],
    stage: StageNode,
    results: Sequence[AgentResult],
    outputs: tuple[str, ...],
    picked: Picked | None,
) -> None:
    """What later stages read: ``previous``, ``stages.NAME`` and (outside ``for_each``)
    ``agents.NAME``; a selection makes ``previous`` its one output."""
    entry: dict[str, Any] = {"outputs": list(outputs)}
    previous = list(outputs)
    if picked is not None:
        entry["result"] = {"output": picked.output, "answer": picked.answer}
        if picked.output is not None:
            previous = [picked.output]
    context["previous"] = previous
    context["stages"] = {**context["stages"], stage.name: entry}
    if not stage.for_each:
        context["agents"] = {**context["agents"], **{r.name: {"output": r.output} for r in results}}
