"""The state one run shares between its agents: clients, checks, events, limits, the clock."""

from __future__ import annotations

import asyncio
import itertools
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from agentrun.checks.base import Check
from agentrun.durations import format_duration
from agentrun.engine.limits import ProviderLimiter
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


class RunContext:
    """Everything the agents of one run share. Built by the engine, passed down explicitly."""

    def __init__(
        self,
        graph: TaskGraph,
        bus: EventBus,
        clients: Mapping[str, AgentClient],
        checks: Mapping[str, Check],
        templates: TemplateEngine,
        *,
        max_concurrency: int | None = None,
        rng: random.Random | None = None,
        limiters: Mapping[str, ProviderLimiter] | None = None,
        streaming: bool = False,
    ) -> None:
        self.graph = graph
        self.bus = bus
        self.clients = clients
        self.checks = checks
        self.templates = templates
        self.rng = rng or random.Random()
        self.slots = asyncio.Semaphore(max_concurrency) if max_concurrency else None
        self.limiters: Mapping[str, ProviderLimiter] = limiters or {}
        """The provider limits of each agent, by agent name (absent: unlimited)."""
        self.streaming = streaming
        """Whether any agent streams, so attempts carry a callback for the pieces."""
        self.loop = asyncio.get_running_loop()
        self.now: Callable[[], float] = self.loop.time
        """The event-loop clock (the loop's own method: this runs several times per agent)."""
        self.started_at = self.loop.time()
        self._serial = itertools.count(1)

    def elapsed(self) -> float:
        """Seconds since the run started (the ``t`` of events)."""
        return self.loop.time() - self.started_at

    def emit(self, make: Callable[..., Event], **fields: Any) -> None:
        """Build an event stamped with the elapsed time and send it to every sink."""
        self.bus.emit(make(t=self.loop.time() - self.started_at, **fields))

    def serial(self) -> int:
        """A number unique within the run (labels of judge instances)."""
        return next(self._serial)
