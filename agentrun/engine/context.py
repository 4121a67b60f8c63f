"""The state runs share (a session's) and the state of one run (its events, clock, jitter)."""

from __future__ import annotations

import asyncio
import itertools
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from agentrun.checks.base import Check
from agentrun.coordination.state import Board
from agentrun.durations import format_duration
from agentrun.engine.limits import ProviderLimiter
from agentrun.engine.spending import Spending
from agentrun.events.records import Event, EventBus
from agentrun.graph.compiled import TaskGraph
from agentrun.providers.base import AgentClient
from agentrun.templates import TemplateEngine


@dataclass(frozen=True, slots=True)
class Limit:
    """An absolute time limit (event-loop clock) and what to call it when it fires."""

    at: float
    what: str
    """``timeout``, ``total_timeout``, ``deadline``, ``stage timeout``."""
    seconds: float
    """The configured length, for messages."""

    @property
    def label(self) -> str:
        """``timeout of 30s``: built only when a limit fires, never on the hot path."""
        return f"{self.what} of {format_duration(self.seconds)}"

    @staticmethod
    def tightest(first: Limit | None, second: Limit | None) -> Limit | None:
        """The earlier of two limits (``None`` and infinite ones ignored)."""
        if first is None or math.isinf(first.at):
            return None if second is None or math.isinf(second.at) else second
        if second is None or second.at >= first.at:
            return first
        return second


class SessionState:
    """What every run of one session shares: the graph, clients, checks and limits."""

    def __init__(
        self,
        graph: TaskGraph,
        clients: Mapping[str, AgentClient],
        checks: Mapping[str, Check],
        templates: TemplateEngine,
        *,
        max_concurrency: int | None = None,
        debug: bool = False,
    ) -> None:
        self.graph = graph
        self.clients = clients
        self.checks = checks
        self.templates = templates
        self.slots = asyncio.Semaphore(max_concurrency) if max_concurrency else None
        """At most this many provider calls in flight across every run of the session."""
        self.limiters: Mapping[str, ProviderLimiter] = {}
        """The provider limits of each agent, by agent name (absent: unlimited)."""
        self.streaming = any(node.fields.get("stream") for node in graph.agents.values())
        """Whether any agent streams, so attempts carry a callback for the pieces."""
        self.debug = debug
        """Re-raise unexpected provider exceptions instead of failing only the agent."""


class RunContext:
    """What the agents of one run share: the session's state plus this run's own bus,
    clock, jitter, serial numbers and graph (the session's, with this run's input)."""

    def __init__(
        self,
        shared: SessionState,
        bus: EventBus,
        *,
        graph: TaskGraph | None = None,
        rng: random.Random | None = None,
        run_id: str | None = None,
        case_id: str | None = None,
        fold: Callable[[Event], None] | None = None,
        checks: Mapping[str, Check] | None = None,
    ) -> None:
        # Copied, not looked up through ``shared``: they are read several times per agent.
        self.graph = graph or shared.graph
        self.clients = shared.clients
        self.checks = shared.checks if checks is None else checks
        self.templates = shared.templates
        self.slots = shared.slots
        self.limiters = shared.limiters
        self.streaming = shared.streaming
        self.debug = shared.debug
        self.bus = bus
        self.rng = rng or random.Random()
        self.run_id = run_id
        self.case_id = case_id
        self._fold = fold
        self.loop = asyncio.get_running_loop()
        self.now: Callable[[], float] = self.loop.time
        """The event-loop clock (the loop's own method: this runs several times per agent)."""
        self.started_at = self.loop.time()
        self._serial = itertools.count(1)
        self.board: Board | None = None
        """The run's shared board, when the paradigm has ``state`` or waits."""
        self.spending = Spending()
        """Tokens and cost of the run's replies so far (``max_tokens``, ``max_cost``)."""

    def elapsed(self) -> float:
        """Seconds since the run started (the ``t`` of events)."""
        return self.loop.time() - self.started_at

    def emit(self, make: Callable[..., Event], **fields: Any) -> None:
        """Build an event stamped with the elapsed time and the run's envelope, fold it
        into the run's own state, then send it to every sink of the bus."""
        event = make(
            t=self.loop.time() - self.started_at, run=self.run_id, case=self.case_id, **fields
        )
        if self._fold is not None:
            self._fold(event)
        self.bus.emit(event)

    def serial(self) -> int:
        """A number unique within the run (labels of judge instances)."""
        return next(self._serial)
