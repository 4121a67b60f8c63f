"""Event records of client-side batching: a batch flushed, a batch finished."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from agentrun.events.records import Event


@dataclass(frozen=True, slots=True)
class BatchFlushed(Event):
    """A batch of ``size`` items left the queue for one request (``reason``: size, wait, tick)."""

    kind: ClassVar[str] = "batch_flushed"
    provider: str
    batch: int
    size: int
    reason: str
    oldest_wait_ms: float


@dataclass(frozen=True, slots=True)
class BatchFinished(Event):
    """A batch's request ended: ``status`` is passed, failed or cancelled."""

    kind: ClassVar[str] = "batch_finished"
    provider: str
    batch: int
    size: int
    reason: str
    oldest_wait_ms: float
    status: str
    duration_s: float
