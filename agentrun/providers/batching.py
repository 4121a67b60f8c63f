"""Client-side micro-batching: many attempts' items, one request.

A :class:`Batcher` collects items into an open batch and flushes it when it holds
``max_size`` items (reason ``size``), when ``max_wait`` has passed since its oldest
item arrived (``wait``), or, with ``max_wait`` 0, at the end of the event-loop turn
(``tick``). Each flushed batch gets one task of its own that takes one slot and one
rate token of the provider's limiter, sends the live items in enqueue order and
resolves each item's future with its own result or error; the caller that filled the
batch never runs the request on its own task.

The queue is bounded: an item waits to enter while ``max_queue`` items are queued or
waiting for a slot. An item whose caller is cancelled (a timeout, a race loser) leaves
its batch if the batch is not sent yet; once sent, its result is dropped, and the
request is cancelled only when every item of the batch is gone.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Literal, Protocol, TypeVar

from pydantic import Field

from agentrun.errors import ProviderError
from agentrun.loading.model_base import Duration, StrictModel

T = TypeVar("T")
R = TypeVar("R")

FlushReason = Literal["size", "wait", "tick"]

_ids = itertools.count(1)


class BatchFields(StrictModel):
    """The ``batch:`` key of a provider entry (http, mock, python)."""

    max_size: int = Field(default=32, ge=1)
    """Flush when this many items are queued."""
    max_wait: Duration = 0.01
    """Flush this long after the oldest queued item arrived (0: the same loop turn)."""
    max_queue: int | None = Field(default=None, ge=1)
    """At most this many items queued; more wait to enter (default: max_size * concurrency * 4)."""
    body: str | None = None
    """http: the request body, rendered once per batch with ``prompts`` and ``items``."""
    output_path: str | None = None
    """http: dotted path of the list in the reply, one entry per item, same order."""
    item_error_path: str | None = None
    """http: a non-null value at this path inside an entry fails only that item."""


class Limiter(Protocol):
    """What a batcher needs of a provider limiter: one slot and token per request."""

    async def acquire(self) -> int: ...

    def release(self, ticket: int, outcome: str) -> None: ...


@dataclass(frozen=True, slots=True)
class BatchInfo:
    """What observers learn about one flushed batch."""

    id: int
    size: int
    reason: FlushReason
    oldest_wait_ms: float
    status: str | None = None
    """``passed``, ``failed`` or ``cancelled`` once finished; ``None`` at flush."""
    duration_s: float | None = None


@dataclass(eq=False, slots=True)
class _Item(Generic[T, R]):
    value: T
    future: asyncio.Future[R]
    at: float


@dataclass(eq=False, slots=True)
class _Batch(Generic[T, R]):
    id: int
    items: list[_Item[T, R]] = field(default_factory=list)
    timer: asyncio.TimerHandle | asyncio.Handle | None = None
    task: asyncio.Task[None] | None = None
    sent: bool = False


Send = Callable[[Sequence[T]], Awaitable[Sequence[R | BaseException]]]
"""Sends the values of one batch; returns one result or exception per value, in order."""
Observer = Callable[[str, BatchInfo], None]
"""Told ``flushed`` and ``finished`` with a batch's figures."""


class Batcher(Generic[T, R]):
    """Collects items and sends them in batches; see the module docstring.

    Args:
        send: sends one batch (never an empty one); an exception it raises fails
            every item of the batch; a reply of the wrong length likewise.
        max_size: items per batch at most.
        max_wait: seconds from the oldest item to the flush; 0 flushes at the end
            of the current loop turn.
        max_queue: items queued or waiting for a slot at most.
        limiter: taken once per request (concurrency slot, then rate token).
        observer: told of every flush and finish.
        who: how errors name the provider (``provider 'x'``).
    """

    def __init__(
        self,
        send: Send[T, R],
        *,
        max_size: int,
        max_wait: float,
        max_queue: int,
        limiter: Limiter | None = None,
        observer: Observer | None = None,
        who: str = "batch",
    ) -> None:
        self._send = send
        self.max_size = max_size
        self.max_wait = max_wait
        self.max_queue = max_queue
        self.limiter = limiter
        self.observer = observer
        self.who = who
        self._room = asyncio.Semaphore(max_queue) if max_queue else None
        self._open: _Batch[T, R] | None = None
        self._live: set[asyncio.Task[None]] = set()
        self.queued = 0
        """Items queued or waiting for a slot right now."""

    @property
    def in_flight(self) -> int:
        """Batches flushed and not finished (waiting for a slot, or sent)."""
        return len(self._live)

    async def submit(self, value: T) -> R:
        """Enqueue one item and wait for its own result.

        A per-item timeout is the caller's scope (``asyncio.timeout``): queue time
        counts, and a timed-out item leaves the queue like a cancelled one.

        Raises:
            BaseException: the item's own error, or its whole batch's.
        """
        room = self._room
        if room is not None:
            await room.acquire()  # backpressure: a full queue makes new items wait here
        loop = asyncio.get_running_loop()
        item: _Item[T, R] = _Item(value, loop.create_future(), loop.time())
        batch = self._enqueue(item)
        try:
            return await item.future
        except asyncio.CancelledError:
            self._leave(batch, item)
            raise

    def _enqueue(self, item: _Item[T, R]) -> _Batch[T, R]:
        batch = self._open
        if batch is None:
            batch = self._open = _Batch(next(_ids))
            loop = asyncio.get_running_loop()
            if self.max_wait > 0:
                batch.timer = loop.call_at(item.at + self.max_wait, self._flush, batch, "wait")
            else:
                batch.timer = loop.call_soon(self._flush, batch, "tick")
        batch.items.append(item)
        self.queued += 1
        if len(batch.items) >= self.max_size:
            self._flush(batch, "size")
        return batch

    def _flush(self, batch: _Batch[T, R], reason: FlushReason) -> None:
        if batch is not self._open:
            return  # flushed already (its timer fired after a size flush, or vice versa)
        self._open = None
        if batch.timer is not None:
            batch.timer.cancel()
            batch.timer = None
        if not batch.items:
            return
        batch.task = asyncio.get_running_loop().create_task(self._run(batch, reason))
        self._live.add(batch.task)
        batch.task.add_done_callback(self._live.discard)

    def _leave(self, batch: _Batch[T, R], item: _Item[T, R]) -> None:
        """A cancelled item leaves its batch; the request goes when nobody waits for it."""
        if not item.future.done():
            item.future.cancel()
        if batch.sent:
            if all(i.future.done() for i in batch.items) and batch.task is not None:
                batch.task.cancel()
            return
        batch.items.remove(item)
        self._release_room(1)
        if batch.items:
            return
        if batch is self._open:
            self._open = None
            if batch.timer is not None:
                batch.timer.cancel()
        elif batch.task is not None:
            batch.task.cancel()  # still waiting for a slot: it need not wait any more

    def _release_room(self, count: int) -> None:
        self.queued -= count
        if self._room is not None:
            for _ in range(count):
                self._room.release()

    async def _run(self, batch: _Batch[T, R], reason: FlushReason) -> None:
        """Take a slot, send the batch, resolve its items: the flusher of one batch."""
        try:
            ticket = await self.limiter.acquire() if self.limiter is not None else None
        except asyncio.CancelledError:
            self._abandon(batch.items, "cancelled before it was sent")
            raise
        batch.sent = True
        items = list(batch.items)
        self._release_room(len(items))
        waited = asyncio.get_running_loop().time() - items[0].at
        info = BatchInfo(batch.id, len(items), reason, waited * 1000)
        self._tell("flushed", info)
        started, outcome, status = time.perf_counter(), "error", "failed"
        try:
            results = await self._send([item.value for item in items])
            if len(results) != len(items):
                raise ProviderError(
                    f"{self.who}: batch reply had {len(results)} items for {len(items)} inputs"
                )
            outcome, status = "ok", "passed"
            for item, result in zip(items, results, strict=True):
                _settle(item.future, result)
        except asyncio.CancelledError:
            outcome = status = "cancelled"
            self._abandon(items, "cancelled while in flight")
            raise
        except Exception as exc:
            if isinstance(exc, ProviderError) and exc.throttled:
                outcome = "throttled"
            for item in items:
                _settle(item.future, exc)
        finally:
            if ticket is not None and self.limiter is not None:
                self.limiter.release(ticket, outcome)
            took = time.perf_counter() - started
            self._tell("finished", _finished(info, status, took))

    def _abandon(self, items: Sequence[_Item[T, R]], why: str) -> None:
        """Items still waited for when their batch is cancelled (the session closing)."""
        for item in items:
            _settle(item.future, ProviderError(f"{self.who}: batch {why}", retryable=False))

    def _tell(self, what: str, info: BatchInfo) -> None:
        if self.observer is not None:
            self.observer(what, info)

    async def aclose(self) -> None:
        """Cancel the open batch and every request in flight; wait for them to end."""
        batch, self._open = self._open, None
        if batch is not None:
            if batch.timer is not None:
                batch.timer.cancel()
            for item in batch.items:
                item.future.cancel()
        tasks = list(self._live)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _settle(future: asyncio.Future[R], result: R | BaseException) -> None:
    if future.done():
        return  # its caller has gone: the result is dropped
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)


def _finished(info: BatchInfo, status: str, took: float) -> BatchInfo:
    return BatchInfo(info.id, info.size, info.reason, info.oldest_wait_ms, status, took)


def default_queue(fields: BatchFields, max_concurrency: int | None) -> int:
    """``max_queue`` when unset: ``max_size * max_concurrency * 4``."""
    if fields.max_queue is not None:
        return fields.max_queue
    return fields.max_size * (max_concurrency or 1) * 4


@dataclass(slots=True)
class BatchBinding:
    """What the engine hands a batching provider session before the first run."""

    limiter: Limiter | None = None
    """The provider's limiter, taken once per request instead of once per attempt."""
    observer: Observer | None = None
    enabled: bool = True
    """``False`` (``--no-batch``): every item is sent alone, through the same body."""


class BatchGroup:
    """The batchers of one provider session, one per distinct batch setup of its agents.

    Agents naming one provider entry share its batcher, so their items share requests;
    agents that override the entry's keys (another url, another body) get their own.
    """

    def __init__(self, max_concurrency: int | None) -> None:
        self.binding = BatchBinding()
        self._max_concurrency = max_concurrency
        self._batchers: dict[object, Batcher[object, object]] = {}

    def bind(self, binding: BatchBinding) -> None:
        """Set the limiter, observer and on/off switch (before the first item)."""
        self.binding = binding

    def batcher(
        self, key: object, fields: BatchFields, send: Send[T, R], who: str
    ) -> Batcher[T, R]:
        """The batcher of one setup, built on first use (inside the running loop)."""
        found = self._batchers.get(key)
        if found is None:
            binding = self.binding
            enabled = binding.enabled
            found = self._batchers[key] = Batcher(
                send,  # type: ignore[arg-type]
                max_size=fields.max_size if enabled else 1,
                max_wait=fields.max_wait if enabled else 0.0,
                max_queue=default_queue(fields, self._max_concurrency),
                limiter=binding.limiter,
                observer=binding.observer,
                who=who,
            )
        return found  # type: ignore[return-value]

    def stats(self) -> list[Batcher[object, object]]:
        """Every batcher built so far."""
        return list(self._batchers.values())

    async def aclose(self) -> None:
        """Close every batcher: open batches and requests in flight are cancelled."""
        for batcher in self._batchers.values():
            await batcher.aclose()
        self._batchers.clear()
