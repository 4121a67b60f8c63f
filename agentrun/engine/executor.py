"""Executors decide where inputs run; the local one runs them in this process.

An executor takes a graph and a stream of cases (an id, an input, variables) and
yields one :class:`CaseResult` per case as each finishes. Cancelling the task that
consumes the stream interrupts every run in flight: their ``interrupted`` results
are still yielded, then the stream ends (cases not yet started never run).
Closing the stream early (``break``) cancels what is in flight without results.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from agentrun.engine.session import EngineOptions, Session, open_session
from agentrun.events.records import EventBus
from agentrun.graph.compiled import TaskGraph
from agentrun.results import RunResult


@dataclass(frozen=True, slots=True)
class Case:
    """One input to run: its id (``None`` for a single run), input and variables."""

    id: str | None = None
    input: str | None = None
    """Replaces the paradigm's ``input``; ``None`` keeps it."""
    vars: Mapping[str, Any] = field(default_factory=dict)
    """Template variables over the paradigm's ``vars``."""
    imperatives: tuple[str, ...] = ()
    """Extra imperatives every agent but the judges must pass."""
    repeat: int = 0
    """Which repetition of the case this is (``case.repeat`` in templates)."""


@dataclass(frozen=True, slots=True)
class CaseResult:
    """A case and the result of its run."""

    case: Case
    result: RunResult


class Executor(Protocol):
    """Runs the cases of a graph somewhere and yields their results as they finish."""

    def run_cases(
        self, graph: TaskGraph, cases: Iterable[Case] | AsyncIterable[Case], bus: EventBus
    ) -> AsyncGenerator[CaseResult, None]:
        """Results in the order runs finish, not the order of ``cases``; ``aclose()``
        cancels what is still running."""
        ...


class LocalExecutor:
    """Runs cases in this process on one session: shared pools and limits, at most
    ``concurrency`` runs at a time."""

    def __init__(self, options: EngineOptions | None = None, *, concurrency: int = 1) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.options = options or EngineOptions()
        self.concurrency = concurrency

    async def run_cases(
        self, graph: TaskGraph, cases: Iterable[Case] | AsyncIterable[Case], bus: EventBus
    ) -> AsyncGenerator[CaseResult, None]:
        """Results in the order runs finish; see the module docstring for cancellation."""
        source = _aiter(cases)
        pending: set[asyncio.Task[CaseResult]] = set()
        async with open_session(graph, self.options) as session:
            try:
                stopping = False
                while True:
                    if not stopping:
                        stopping = await self._fill(session, source, pending, bus)
                    if not pending:
                        return
                    try:
                        done, pending = await asyncio.wait(
                            pending, return_when=asyncio.FIRST_COMPLETED
                        )
                    except asyncio.CancelledError:
                        done, stopping = await _interrupt(pending), True
                        pending = set()
                    for task in done:
                        yield task.result()
            finally:
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                # Closed here, not by the garbage collector's finalizer task on the loop.
                await source.aclose()

    async def _fill(
        self,
        session: Session,
        source: AsyncIterator[Case],
        pending: set[asyncio.Task[CaseResult]],
        bus: EventBus,
    ) -> bool:
        """Start cases until ``concurrency`` runs are in flight; whether the source is dry."""
        while len(pending) < self.concurrency:
            try:
                case = await anext(source)
            except StopAsyncIteration:
                return True
            pending.add(asyncio.create_task(_run_case(session, case, bus)))
        return False


async def _run_case(session: Session, case: Case, bus: EventBus) -> CaseResult:
    result = await session.run(
        case.input,
        case.vars,
        bus,
        case_id=case.id,
        imperatives=case.imperatives,
        repeat=case.repeat,
    )
    return CaseResult(case, result)


async def _interrupt(pending: set[asyncio.Task[CaseResult]]) -> set[asyncio.Task[CaseResult]]:
    """Cancel every run in flight and wait for their cleanup; re-raise unless the
    cancellation was ours to turn into ``interrupted`` results."""
    for task in pending:
        task.cancel()
    # The consumer's cancellation stays pending while runs clean up, so a repeated
    # Ctrl-C finds it cancelling and does not cut the cleanup short.
    await asyncio.gather(*pending, return_exceptions=True)
    current = asyncio.current_task()
    if current is None or current.uncancel() > 0:
        raise asyncio.CancelledError  # cancelled from above for another reason
    return {task for task in pending if not task.cancelled()}


async def _aiter(cases: Iterable[Case] | AsyncIterable[Case]) -> AsyncGenerator[Case, None]:
    if isinstance(cases, AsyncIterable):
        async for case in cases:
            yield case
    else:
        for case in cases:
            yield case
