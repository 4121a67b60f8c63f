"""A session: provider clients, limits and checks opened once for many runs.

:func:`open_session` opens what the runs of one graph share (HTTP pools, provider
limits, compiled checks) and closes it however the session ends;
:meth:`Session.run` runs one input and may be called many times, concurrently.
:func:`execute` is one session of one run, the async heart behind
:func:`agentrun.api.run`.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

from agentrun.checks import compile_check
from agentrun.checks.base import Check, CheckInput, JudgeRunner
from agentrun.coordination.fold import CoordinationFold
from agentrun.coordination.setup import board_of, coordination_of, with_coordination
from agentrun.engine.batching import batch_event, bind_batching
from agentrun.engine.capture import routed_output
from agentrun.engine.case_checks import CaseChecks, with_imperatives
from agentrun.engine.collector import collector_tuned
from agentrun.engine.context import Limit, RunContext, SessionState
from agentrun.engine.imports import importable_from
from agentrun.engine.limits import ProviderLimiter
from agentrun.engine.runner import run_agent
from agentrun.events.fold import AgentState, RunFold
from agentrun.events.records import Event, EventBus, LimitChanged, RunFinished, RunStarted
from agentrun.graph.compiled import AgentNode, TaskGraph
from agentrun.graph.runtime import Imperative
from agentrun.identity import InstanceId, identity_of
from agentrun.patterns import PatternOutcome
from agentrun.providers import open_session as open_provider_session
from agentrun.providers.base import AgentClient, ClientOptions, ProviderSession
from agentrun.providers.batching import BatchInfo
from agentrun.providers.capture import DEFAULT_MAX_OUTPUT
from agentrun.redact import redacting
from agentrun.results import RunResult, RunStatus
from agentrun.templates import TemplateEngine

_current_run: ContextVar[RunContext] = ContextVar("agentrun_current_run")
"""The run an agent task belongs to: a judge runs within the run that asked for it."""


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """Session-wide settings that are not part of the paradigm."""

    max_concurrency: int | None = None
    """At most this many provider calls in flight across the session (``--max-concurrency``)."""
    seed: int | None = None
    """Seed of the backoff jitter, for reproducible runs (each run starts from it)."""
    debug: bool = False
    """Re-raise an unexpected exception of a provider instead of failing only its agent."""
    wrap_client: Callable[[AgentClient, AgentNode], AgentClient] | None = None
    """Wraps each agent's client once opened (the response cache of dataset runs)."""
    batch: bool = True
    """``False`` (``--no-batch``): providers with ``batch:`` send every item alone."""


class Session:
    """Clients, limits and checks of one graph, shared by every run until closed."""

    def __init__(self, graph: TaskGraph, options: EngineOptions) -> None:
        self.graph = graph
        self.options = options
        self._active: list[RunContext] = []
        templates = TemplateEngine()
        self._sessions: dict[str, ProviderSession] = {}
        self._clients: dict[str, AgentClient] = {}
        self._checks: dict[str, Check] = {}
        self._state = SessionState(
            graph,
            self._clients,
            self._checks,
            templates,
            max_concurrency=options.max_concurrency,
            debug=options.debug,
        )

    def _open(self) -> None:
        _open_clients(self.graph, self._state.templates, self._sessions, self._clients)
        limiters = _limiters(self.graph, self._limit_changed)
        self._state.limiters = bind_batching(
            self.graph,
            self._sessions,
            self._clients,
            limiters,
            enabled=self.options.batch,
            tell=self._batch_event,
        )
        if self.options.wrap_client is not None:
            for name, client in self._clients.items():
                self._clients[name] = self.options.wrap_client(client, self.graph.agents[name])
        judge = _judge_runner()

        def compile(name: str, imperative: Imperative) -> Check:
            return compile_check(name, imperative, run_judge=judge, registry=self.graph.registry)

        self._case_checks = CaseChecks(self.graph, self._state.templates, self._checks, compile)
        for name, imperative in self.graph.imperatives.items():
            if name not in self._case_checks.templated:
                self._checks[name] = compile(name, imperative)

    @property
    def provider_sessions(self) -> Mapping[str, ProviderSession]:
        """The open provider sessions (HTTP pools, ...), one per provider, by name."""
        return self._sessions

    async def aclose(self) -> None:
        """Close every provider session, even when the caller is being cancelled."""
        await _close(self._sessions)

    def _limit_changed(self, provider: str, limit: int | None) -> None:
        """A provider limit is the session's: tell every bus a run is using, once."""
        told: set[int] = set()
        for ctx in self._active:
            if id(ctx.bus) not in told:
                told.add(id(ctx.bus))
                ctx.bus.emit(LimitChanged(t=ctx.elapsed(), provider=provider, limit=limit))

    def _batch_event(self, provider: str, what: str, info: BatchInfo) -> None:
        """A batch mixes the runs of the session: tell every run using it, once per bus."""
        make, fields = batch_event(provider, what, info)
        told: set[int] = set()
        for ctx in self._active:
            if id(ctx.bus) not in told:
                told.add(id(ctx.bus))
                ctx.emit(make, **fields)

    async def run(
        self,
        input: str | None = None,
        vars: Mapping[str, Any] | None = None,
        bus: EventBus | None = None,
        case_id: str | None = None,
        imperatives: tuple[str, ...] = (),
        repeat: int = 0,
    ) -> RunResult:
        """Run one input to the end and return its result; never raises for agent failures.

        Args:
            input: replaces the paradigm's ``input`` for this run.
            vars: template variables over the paradigm's ``vars``, for this run.
            bus: where this run's events go (shared by several runs if wanted).
            case_id: the dataset case, carried in every event's envelope (``case.id``
                in templates).
            imperatives: extra imperatives every agent but the judges must pass.
            repeat: which repetition of the case this is (``case.repeat``).

        A cancellation of the calling task (Ctrl-C, SIGTERM) cancels every agent of
        this run, waits for their cleanup, and returns a result whose status is
        ``interrupted``.
        """
        graph = self.graph
        if input is not None or vars or case_id is not None:
            graph = replace(
                graph,
                input=graph.input if input is None else input,
                vars={**graph.vars, **(vars or {})},
                case={"id": case_id, "repeat": repeat},
            )
        if imperatives:
            graph = with_imperatives(graph, imperatives)
        fold = RunFold(AgentState)
        coordination = coordination_of(graph, self._state.templates)
        ctx = RunContext(
            self._state,
            bus or EventBus(),
            graph=graph,
            rng=random.Random(self.options.seed),
            run_id=uuid.uuid4().hex[:12],
            case_id=case_id,
            fold=fold.handle if coordination is None else _both(fold, coordination),
            checks=self._case_checks.for_run(graph),
        )
        if coordination is not None:
            ctx.board = coordination.board = board_of(graph, self._state.templates)
        token = _current_run.set(ctx)
        self._active.append(ctx)
        try:
            # Providers and checks clip long messages; secrets are masked before any cut.
            # What user code prints goes into the attempt it belongs to.
            with redacting(graph.secrets), routed_output():
                return await _run(ctx, fold, coordination)
        finally:
            self._active.remove(ctx)
            _current_run.reset(token)


@asynccontextmanager
async def open_session(
    graph: TaskGraph, options: EngineOptions | None = None
) -> AsyncIterator[Session]:
    """Open the provider clients, limits and checks of ``graph`` once, for many runs.

    ``python`` agents and checks import modules from the paradigm's folder while the
    session is open; ``sys.path`` is restored when it closes.
    """
    session = Session(graph, options or EngineOptions())
    async with AsyncExitStack() as stack:
        stack.enter_context(importable_from(graph.base_dir))
        stack.push_async_callback(session.aclose)
        session._open()
        yield session


async def execute(
    graph: TaskGraph, bus: EventBus, options: EngineOptions | None = None
) -> RunResult:
    """Run ``graph`` once in a session of its own; never raises for agent failures.

    A cancellation of the calling task (Ctrl-C, SIGTERM) cancels every agent, waits
    for their cleanup, and returns a result whose status is ``interrupted``.
    """
    with collector_tuned():
        async with open_session(graph, options) as session:
            return await session.run(bus=bus)


def _both(fold: RunFold[AgentState], coordination: CoordinationFold) -> Callable[[Event], None]:
    def both(event: Event) -> None:
        fold.handle(event)
        coordination.handle(event)

    return both


async def _run(
    ctx: RunContext, fold: RunFold[AgentState], coordination: CoordinationFold | None = None
) -> RunResult:
    graph = ctx.graph
    interrupted = False
    outcome: PatternOutcome | None = None
    rescued_by: str | None = None
    try:
        ctx.emit(
            RunStarted,
            paradigm=graph.paradigm,
            pattern=graph.pattern,
            agents=graph.strategy.planned(graph),
            stages=tuple(stage.name for stage in graph.stages),
        )
        outer = None
        if graph.deadline is not None:
            outer = Limit(ctx.now() + graph.deadline, "deadline", graph.deadline)
        outcome = await graph.strategy.run(ctx, outer)
        if not outcome.passed:
            rescued_by = await _rescue(ctx, outcome)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is None or task.uncancel() > 0:
            raise  # cancelled from above for another reason: not ours to swallow
        interrupted = True
    result = _result(ctx, fold, outcome, rescued_by, interrupted)
    if coordination is not None:
        result = with_coordination(result, coordination, outcome)
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
            named = graph.providers.get(node.provider) if node.provider_type != "mock" else None
            entry = named.entry if named is not None else None
            session = sessions[node.provider] = open_provider_session(
                node.provider_type, entry, graph.registry
            )
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


def _limiters(
    graph: TaskGraph, on_change: Callable[[str, int | None], None]
) -> dict[str, ProviderLimiter]:
    """One limiter per provider that has limits (or can be throttled), keyed by agent."""
    by_provider: dict[str, ProviderLimiter] = {}
    by_agent: dict[str, ProviderLimiter] = {}
    network = graph.registry.network_types
    for node in graph.agents.values():
        entry = graph.providers.get(node.provider)
        limited = entry is not None and (entry.max_concurrency or entry.rate_per_second)
        if not limited and node.provider_type not in network:
            continue
        limiter = by_provider.get(node.provider)
        if limiter is None:
            rate = entry.rate_per_second if entry else None

            def changed(limit: int | None, provider: str = node.provider) -> None:
                on_change(provider, limit)

            limiter = by_provider[node.provider] = ProviderLimiter(
                node.provider, entry.max_concurrency if entry else None, rate, changed
            )
        by_agent[node.name] = limiter
    return by_agent


async def _close(sessions: dict[str, ProviderSession]) -> None:
    """Close every session, even when the run is being cancelled."""
    for session in sessions.values():
        await asyncio.shield(session.aclose())


def _judge_runner() -> JudgeRunner:
    async def run_judge(judge: str, prompt: str, inp: CheckInput) -> tuple[bool, str]:
        ctx = _current_run.get()
        context = {**inp.context, "input": prompt}
        instance = InstanceId.judge(identity_of(inp.instance), judge, ctx.serial())
        result = await run_agent(ctx, instance, context)
        if result.succeeded:
            return True, result.output or ""
        return False, result.error or result.status.value

    return run_judge


async def _rescue(ctx: RunContext, outcome: PatternOutcome) -> str | None:
    """Try the pattern-level fallbacks in order; the first that passes rescues the run."""
    for name in ctx.graph.fallback:
        result = await run_agent(ctx, InstanceId.rescue(name), outcome.context)
        if result.succeeded:
            return name
    return None


def _result(
    ctx: RunContext,
    fold: RunFold[AgentState],
    outcome: PatternOutcome | None,
    rescued_by: str | None,
    interrupted: bool,
) -> RunResult:
    agents = fold.agent_results()
    if interrupted or outcome is None:
        status, reason = RunStatus.INTERRUPTED, "interrupted"
    elif outcome.passed or rescued_by is not None:
        status, reason = RunStatus.PASSED, None
    else:
        status, reason = RunStatus.FAILED, outcome.reason
    outputs = outcome.outputs if outcome is not None else ()
    sources = outcome.output_sources if outcome is not None else ()
    if rescued_by is not None:
        rescuer = InstanceId.rescue(rescued_by)
        rescue = fold.result_of(rescuer)
        outputs = ((rescue.output if rescue is not None else None) or "",)
        sources = (rescuer,)
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
        output_sources=sources,
        reason=reason,
        usage=fold.total_usage(),
    )
