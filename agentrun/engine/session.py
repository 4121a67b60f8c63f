"""Execute a task graph: open providers, compile checks, run the pattern, rescue, record.

This is the async heart behind :func:`agentrun.api.run`. It owns the provider
sessions of one run and closes them however the run ends.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from agentrun.checks import compile_check
from agentrun.checks.base import Check, CheckInput, JudgeRunner
from agentrun.engine.collector import collector_tuned
from agentrun.engine.context import Limit, RunContext
from agentrun.engine.limits import ProviderLimiter
from agentrun.engine.runner import run_agent
from agentrun.events.recorder import RunRecorder
from agentrun.events.records import EventBus, LimitChanged, RunFinished, RunStarted
from agentrun.graph.compiled import TaskGraph
from agentrun.loading.spec import parse_rate
from agentrun.patterns import PATTERNS, PatternOutcome
from agentrun.patterns.pipeline import instance_names
from agentrun.providers import open_session
from agentrun.providers.base import AgentClient, ClientOptions, ProviderSession
from agentrun.providers.capture import DEFAULT_MAX_OUTPUT
from agentrun.redact import redacting
from agentrun.results import RunResult, RunStatus
from agentrun.templates import TemplateEngine


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """Run-wide settings that are not part of the paradigm."""

    max_concurrency: int | None = None
    """At most this many provider calls in flight across the run (``--max-concurrency``)."""
    seed: int | None = None
    """Seed of the backoff jitter, for reproducible runs."""


async def execute(
    graph: TaskGraph, bus: EventBus, options: EngineOptions | None = None
) -> RunResult:
    """Run ``graph`` to the end and return its result; never raises for agent failures.

    A cancellation of the calling task (Ctrl-C, SIGTERM) cancels every agent, waits
    for their cleanup, and returns a result whose status is ``interrupted``.
    """
    # Providers and checks clip long messages; the run's secrets are masked before any cut.
    with collector_tuned(), redacting(graph.secrets):
        return await _execute(graph, bus, options or EngineOptions())


async def _execute(graph: TaskGraph, bus: EventBus, options: EngineOptions) -> RunResult:
    recorder = RunRecorder()
    bus.add(recorder)
    templates = TemplateEngine()
    sessions: dict[str, ProviderSession] = {}
    clients: dict[str, AgentClient] = {}
    checks: dict[str, Check] = {}
    ctx = RunContext(
        graph,
        bus,
        clients,
        checks,
        templates,
        max_concurrency=options.max_concurrency,
        rng=random.Random(options.seed),
        streaming=any(node.fields.get("stream") for node in graph.agents.values()),
    )
    interrupted = False
    outcome: PatternOutcome | None = None
    rescued_by: str | None = None
    try:
        _open_clients(graph, templates, sessions, clients)
        ctx.limiters = _limiters(ctx)
        judge = _judge_runner(ctx)
        for name, spec in graph.imperatives.items():
            checks[name] = compile_check(name, spec, run_judge=judge)
        ctx.emit(
            RunStarted,
            paradigm=graph.paradigm,
            pattern=graph.pattern,
            agents=_planned(graph),
            stages=tuple(stage.name for stage in graph.stages),
        )
        outer = None
        if graph.deadline is not None:
            outer = Limit(ctx.now() + graph.deadline, "deadline", graph.deadline)
        outcome = await PATTERNS[graph.pattern](ctx, outer)
        if not outcome.passed:
            rescued_by = await _rescue(ctx, outcome)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is None or task.uncancel() > 0:
            raise  # cancelled from above for another reason: not ours to swallow
        interrupted = True
    finally:
        await _close(sessions)
    result = _result(ctx, recorder, outcome, rescued_by, interrupted)
    ctx.emit(RunFinished, result=result)
    return result


def _open_clients(
    graph: TaskGraph,
    templates: TemplateEngine,
    sessions: dict[str, ProviderSession],
    clients: dict[str, AgentClient],
) -> None:
    for node in graph.agents.values():
        session = sessions.get(node.provider)
        if session is None:
            entry = graph.providers.get(node.provider) if node.provider_type != "mock" else None
            session = sessions[node.provider] = open_session(node.provider_type, entry)
        clients[node.name] = session.client(
            ClientOptions(
                agent=node.name,
                provider=node.provider,
                fields=node.fields,
                templates=templates,
                base_dir=graph.base_dir,
                model=node.model,
                temperature=node.temperature,
                max_tokens=node.max_tokens,
                max_output=node.max_output or DEFAULT_MAX_OUTPUT,
            )
        )


NETWORK_TYPES = frozenset({"openai", "anthropic", "http"})


def _limiters(ctx: RunContext) -> dict[str, ProviderLimiter]:
    """One limiter per provider that has limits (or can be throttled), keyed by agent."""
    graph = ctx.graph
    by_provider: dict[str, ProviderLimiter] = {}
    by_agent: dict[str, ProviderLimiter] = {}
    for node in graph.agents.values():
        entry = graph.providers.get(node.provider)
        limited = entry is not None and (entry.max_concurrency or entry.rate_limit)
        if not limited and node.provider_type not in NETWORK_TYPES:
            continue
        limiter = by_provider.get(node.provider)
        if limiter is None:
            rate = parse_rate(entry.rate_limit) if entry and entry.rate_limit else None

            def changed(limit: int | None, provider: str = node.provider) -> None:
                ctx.emit(LimitChanged, provider=provider, limit=limit)

            limiter = by_provider[node.provider] = ProviderLimiter(
                node.provider, entry.max_concurrency if entry else None, rate, changed
            )
        by_agent[node.name] = limiter
    return by_agent


async def _close(sessions: dict[str, ProviderSession]) -> None:
    """Close every session, even when the run is being cancelled."""
    for session in sessions.values():
        await asyncio.shield(session.aclose())


def _judge_runner(ctx: RunContext) -> JudgeRunner:
    async def run_judge(judge: str, prompt: str, inp: CheckInput) -> tuple[bool, str]:
        context = {**inp.context, "input": prompt}
        result = await run_agent(
            ctx,
            judge,
            instance=f"{inp.instance}/judge:{judge}#{ctx.serial()}",
            stage=None,
            context=context,
            role="judge",
            parent=inp.instance,
        )
        if result.succeeded:
            return True, result.output or ""
        return False, result.error or result.status.value

    return run_judge


async def _rescue(ctx: RunContext, outcome: PatternOutcome) -> str | None:
    """Try the pattern-level fallbacks in order; the first that passes rescues the run."""
    for name in ctx.graph.fallback:
        result = await run_agent(
            ctx, name, instance=f"rescue:{name}", stage=None, context=outcome.context, role="rescue"
        )
        if result.succeeded:
            return name
    return None


def _planned(graph: TaskGraph) -> tuple[str, ...]:
    if graph.pattern == "pipeline":
        labels = instance_names(graph.stages)
        return tuple(labels[(stage.name, name)] for stage in graph.stages for name in stage.agents)
    return graph.run


def _result(
    ctx: RunContext,
    recorder: RunRecorder,
    outcome: PatternOutcome | None,
    rescued_by: str | None,
    interrupted: bool,
) -> RunResult:
    agents = recorder.agent_results()
    if interrupted or outcome is None:
        status, reason = RunStatus.INTERRUPTED, "interrupted"
    elif outcome.passed or rescued_by is not None:
        status, reason = RunStatus.PASSED, None
    else:
        status, reason = RunStatus.FAILED, outcome.reason
    outputs = outcome.outputs if outcome is not None else ()
    if rescued_by is not None:
        rescue = recorder.results[f"rescue:{rescued_by}"]
        outputs = (rescue.output or "",)
        reason = f"rescued by {rescued_by}: {outcome.reason if outcome else ''}"
    return RunResult(
        paradigm=ctx.graph.paradigm,
        pattern=ctx.graph.pattern,
        status=status,
        duration_s=ctx.elapsed(),
        agents=tuple(agents),
        stages=outcome.stages if outcome is not None else (),
        winner=outcome.winner if outcome is not None else None,
        rescued_by=rescued_by,
        outputs=outputs,
        reason=reason,
        usage=recorder.total_usage(agents),
    )
