"""The one event stream: every state change of a run is a frozen record.

The displays, the ``--events`` log and the report all consume these records and
nothing else, so what a person sees, what CI greps and what the JSON report says
tell the same story. ``t`` is seconds since the run started.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from agentrun.identity import InstanceId, Role
from agentrun.results import AgentResult, AgentStatus, CheckResult, RunResult


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every event.

    ``run`` and ``case`` are the envelope: which run of a session, and which case of
    a dataset, the event belongs to, so several runs can share one bus, display and
    event log. Both are keyword-only and default to ``None`` (a bare event).
    """

    kind: ClassVar[str] = "event"
    t: float
    run: str | None = field(default=None, kw_only=True)
    case: str | None = field(default=None, kw_only=True)


@dataclass(frozen=True, slots=True)
class RunStarted(Event):
    """The pattern is about to start; ``agents`` are the instances planned so far."""

    kind: ClassVar[str] = "run_started"
    paradigm: str
    pattern: str
    agents: tuple[InstanceId, ...]
    stages: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StageStarted(Event):
    """A pipeline stage started."""

    kind: ClassVar[str] = "stage_started"
    stage: str
    agents: tuple[InstanceId, ...]


@dataclass(frozen=True, slots=True)
class StageFinished(Event):
    """A pipeline stage ended (passed, failed, timeout or skipped)."""

    kind: ClassVar[str] = "stage_finished"
    stage: str
    status: AgentStatus
    duration_s: float


@dataclass(frozen=True, slots=True)
class AgentStarted(Event):
    """An agent instance started (role: agent, fallback, judge or rescue)."""

    kind: ClassVar[str] = "agent_started"
    agent: str
    instance: InstanceId
    stage: str | None
    role: Role = Role.AGENT
    parent: InstanceId | None = None


@dataclass(frozen=True, slots=True)
class AttemptStarted(Event):
    """An attempt started."""

    kind: ClassVar[str] = "attempt_started"
    instance: InstanceId
    attempt: int


@dataclass(frozen=True, slots=True)
class Queued(Event):
    """An attempt waits for a slot of its provider (concurrency or rate limit)."""

    kind: ClassVar[str] = "queued"
    instance: InstanceId
    attempt: int
    provider: str
    reason: str = "concurrency"
    """What it waits for: ``concurrency`` (the provider's slots), ``rate_limit`` (the
    provider's rate) or ``max_concurrency`` (the run's slots)."""


@dataclass(frozen=True, slots=True)
class SlotTaken(Event):
    """A queued attempt got its slots after ``waited_s``; its call starts now."""

    kind: ClassVar[str] = "slot_taken"
    instance: InstanceId
    attempt: int
    waited_s: float


@dataclass(frozen=True, slots=True)
class LimitChanged(Event):
    """A provider's adaptive concurrency limit moved (``None``: unlimited)."""

    kind: ClassVar[str] = "limit_changed"
    provider: str
    limit: int | None


@dataclass(frozen=True, slots=True)
class Streamed(Event):
    """Text arrived on a streaming reply; ``chars`` is the attempt's total so far."""

    kind: ClassVar[str] = "streamed"
    instance: InstanceId
    attempt: int
    delta: str
    chars: int


@dataclass(frozen=True, slots=True)
class CheckDecided(Event):
    """An imperative was checked on an attempt's output."""

    kind: ClassVar[str] = "check"
    instance: InstanceId
    attempt: int
    check: CheckResult


@dataclass(frozen=True, slots=True)
class AttemptFailed(Event):
    """An attempt failed, timed out or broke an imperative."""

    kind: ClassVar[str] = "attempt_failed"
    instance: InstanceId
    attempt: int
    status: AgentStatus
    error: str
    duration_s: float


@dataclass(frozen=True, slots=True)
class Retrying(Event):
    """The agent waits ``wait_s`` and then makes attempt ``attempt``."""

    kind: ClassVar[str] = "retrying"
    instance: InstanceId
    attempt: int
    wait_s: float
    caused_by: AgentStatus


@dataclass(frozen=True, slots=True)
class FallbackStarted(Event):
    """An agent that failed every attempt hands over to a fallback."""

    kind: ClassVar[str] = "fallback"
    instance: InstanceId
    fallback: str


@dataclass(frozen=True, slots=True)
class AgentFinished(Event):
    """An agent instance reached a final status."""

    kind: ClassVar[str] = "agent_finished"
    result: AgentResult


@dataclass(frozen=True, slots=True)
class WinnerChosen(Event):
    """The competitive pattern has a winner; every other racer is being cancelled."""

    kind: ClassVar[str] = "winner"
    instance: InstanceId


@dataclass(frozen=True, slots=True)
class RunFinished(Event):
    """The run ended; ``result`` is what the report holds."""

    kind: ClassVar[str] = "run_finished"
    result: RunResult


class EventSink(Protocol):
    """Anything that consumes events: displays, the event log, the run's fold."""

    def handle(self, event: Event) -> None:
        """Take one event. Must be quick: it runs on the event loop."""


class EventBus:
    """Sends each event to every sink, in order, synchronously."""

    def __init__(self, sinks: list[EventSink] | None = None) -> None:
        self._handlers: list[Callable[[Event], None]] = [s.handle for s in sinks or []]

    def add(self, sink: EventSink) -> None:
        """Add a sink; it receives events emitted from now on."""
        self._handlers.append(sink.handle)

    def emit(self, event: Event) -> None:
        """Deliver ``event`` to every sink."""
        for handle in self._handlers:
            handle(event)
