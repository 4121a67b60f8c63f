"""pipeline: stages in order, each stage's agents at once, fed the previous stage's outputs."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from agentrun.engine.context import Limit, RunContext
from agentrun.engine.runner import run_agent
from agentrun.errors import TemplateError
from agentrun.events.records import AgentFinished, StageFinished, StageStarted
from agentrun.graph.compiled import StageNode
from agentrun.identity import InstanceId
from agentrun.patterns.common import PatternOutcome, base_context, describe_require, require_met
from agentrun.results import AgentResult, AgentStatus, StageResult


def planned_instances(stages: tuple[StageNode, ...]) -> dict[tuple[str, str], InstanceId]:
    """The instance of each (stage, agent) as planned: the agent, qualified by its stage
    (``agent@stage``) when it is listed in several."""
    seen = Counter(name for stage in stages for name in stage.agents)
    return {
        (stage.name, name): InstanceId.of(name, stage=stage.name, qualified=seen[name] > 1)
        for stage in stages
        for name in stage.agents
    }


async def run_pipeline(ctx: RunContext, outer: Limit | None) -> PatternOutcome:
    """Run the stages in order; a failed stage stops the pipeline and skips the rest."""
    graph = ctx.graph
    context = base_context(graph)
    labels = planned_instances(graph.stages)
    stage_results: list[StageResult] = []
    failure: str | None = None
    for stage in graph.stages:
        if failure is None and outer is not None and ctx.now() >= outer.at:
            failure = f"{outer.label} exceeded before stage {stage.name!r}"
        if failure is not None:
            stage_results.append(_skip(ctx, stage, labels))
            continue
        result, reason = await _run_stage(ctx, stage, context, labels, outer)
        stage_results.append(result)
        failure = reason
    outputs = stage_results[-1].outputs if failure is None else ()
    return PatternOutcome(
        passed=failure is None,
        outputs=outputs,
        reason=failure,
        stages=tuple(stage_results),
        context=context,
    )


async def _run_stage(
    ctx: RunContext,
    stage: StageNode,
    context: dict[str, Any],
    labels: dict[tuple[str, str], InstanceId],
    outer: Limit | None,
) -> tuple[StageResult, str | None]:
    """Run one stage; return its result and, if it failed, why."""
    began = ctx.now()
    limit = outer
    if stage.timeout is not None:
        limit = Limit.tightest(
            outer,
            Limit(ctx.now() + stage.timeout, "stage timeout", stage.timeout),
        )
    items: list[Any] = list(context["previous"]) if stage.for_each else [None]
    plan: list[tuple[InstanceId, dict[str, Any]]] = []
    for index, item in enumerate(items):
        stage_context = dict(context)
        if stage.for_each:
            stage_context["item"] = item
        if stage.input is not None:
            try:
                stage_context["input"] = ctx.templates.render(stage.input, stage_context)
            except TemplateError as exc:
                ctx.emit(StageFinished, stage=stage.name, status=AgentStatus.FAILED, duration_s=0.0)
                failed = StageResult(stage.name, AgentStatus.FAILED)
                return failed, f"stage {stage.name!r} input: {exc}"
        for name in stage.agents:
            planned = labels[(stage.name, name)]
            if stage.for_each:
                qualified = planned != name
                planned = InstanceId.of(name, stage=stage.name, qualified=qualified, item=index)
            plan.append((planned, stage_context))
    ctx.emit(StageStarted, stage=stage.name, agents=tuple(instance for instance, _ in plan))
    async with asyncio.TaskGroup() as group:
        tasks = [
            group.create_task(run_agent(ctx, instance, stage_context, limit))
            for instance, stage_context in plan
        ]
    results = [task.result() for task in tasks]
    outputs = tuple(r.output for r in results if r.succeeded and r.output is not None)
    passed = sum(1 for r in results if r.succeeded)
    ok = bool(results) and require_met(stage.require, passed, len(results))
    status = AgentStatus.PASSED if ok else _failed_status(limit, ctx)
    duration = ctx.now() - began
    ctx.emit(StageFinished, stage=stage.name, status=status, duration_s=duration)
    context["previous"] = list(outputs)
    context["stages"] = {**context["stages"], stage.name: {"outputs": list(outputs)}}
    if not stage.for_each:
        context["agents"] = {**context["agents"], **{r.name: {"output": r.output} for r in results}}
    result = StageResult(stage.name, status, tuple(i for i, _ in plan), outputs, duration)
    if ok:
        return result, None
    if not results:
        return result, f"stage {stage.name!r} had no items: the previous stage produced no output"
    return (
        result,
        f"stage {stage.name!r} failed: {describe_require(stage.require, passed, len(results))}",
    )


def _failed_status(limit: Limit | None, ctx: RunContext) -> AgentStatus:
    """timeout when the stage's limit has passed, else failed."""
    if limit is not None and ctx.now() >= limit.at:
        return AgentStatus.TIMEOUT
    return AgentStatus.FAILED


def _skip(
    ctx: RunContext, stage: StageNode, labels: dict[tuple[str, str], InstanceId]
) -> StageResult:
    """Mark a stage that will not run, and each of its agents, as skipped."""
    instances = tuple(labels[(stage.name, name)] for name in stage.agents)
    for name, instance in zip(stage.agents, instances, strict=True):
        skipped = AgentResult(
            name=name,
            instance=instance,
            stage=stage.name,
            status=AgentStatus.SKIPPED,
            error="an earlier stage failed",
        )
        ctx.emit(AgentFinished, result=skipped)
    ctx.emit(StageFinished, stage=stage.name, status=AgentStatus.SKIPPED, duration_s=0.0)
    return StageResult(stage.name, AgentStatus.SKIPPED, instances)
