"""Batched providers take their limits per request, not per attempt.

A batch of 32 attempts is one request: it must take one concurrency slot and one
rate token. So the provider's limiter moves from the attempts into the provider
session's batchers (each flush acquires it), and attempts of batched agents take
none: they would otherwise hold 32 slots for one request and starve the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from agentrun.engine.limits import ProviderLimiter
from agentrun.events.batches import BatchFinished, BatchFlushed
from agentrun.events.records import Event
from agentrun.graph.compiled import TaskGraph
from agentrun.providers.base import AgentClient, ProviderSession
from agentrun.providers.batching import BatchBinding, BatchInfo, Observer

Tell = Callable[[str, str, BatchInfo], None]
"""Told (provider, ``flushed`` | ``finished``, figures) for every batch."""


def bind_batching(
    graph: TaskGraph,
    sessions: Mapping[str, ProviderSession],
    clients: Mapping[str, AgentClient],
    limiters: Mapping[str, ProviderLimiter],
    *,
    enabled: bool,
    tell: Tell,
) -> dict[str, ProviderLimiter]:
    """Hand each batching provider session its limiter; return the limiters attempts
    still take (those of agents that do not batch)."""
    per_attempt = dict(limiters)
    bound: set[str] = set()
    for name, node in graph.agents.items():
        if not getattr(clients[name], "batched", False):
            continue
        bind = getattr(sessions[node.provider], "bind_batching", None)
        if bind is None:
            continue
        per_attempt.pop(name, None)
        if node.provider not in bound:
            bound.add(node.provider)
            bind(BatchBinding(limiters.get(name), _observer(node.provider, tell), enabled))
    return per_attempt


def _observer(provider: str, tell: Tell) -> Observer:
    def observe(what: str, info: BatchInfo) -> None:
        tell(provider, what, info)

    return observe


def batch_event(provider: str, what: str, info: BatchInfo) -> tuple[type[Event], dict[str, Any]]:
    """The event (and its fields) for one flush or finish, for ``RunContext.emit``."""
    fields: dict[str, Any] = {
        "provider": provider,
        "batch": info.id,
        "size": info.size,
        "reason": info.reason,
        "oldest_wait_ms": round(info.oldest_wait_ms, 3),
    }
    if what == "flushed":
        return BatchFlushed, fields
    return BatchFinished, {**fields, "status": info.status, "duration_s": info.duration_s}
