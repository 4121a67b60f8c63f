"""A pool of reusable instances of a user's class, for the ``python`` provider.

Instances are built on first demand (or all at once with ``warm``), lent to one
attempt at a time, reset after a clean use and discarded after a broken one.
A discarded or worn-out instance is replaced by the next borrower, never by a
background refill. Every instance is closed, each close bounded, when the pool
closes, whatever way the run ended.

User code runs in daemon threads (see :func:`call_in_daemon_thread`) rather than
a ``ThreadPoolExecutor``: the executor's workers are joined at interpreter exit,
so a call abandoned after a timeout would keep the process from exiting.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from agentrun.callables import call_in_daemon_thread

CLOSE_TIMEOUT_S = 5.0
"""How long one instance's ``close()`` may take before it is abandoned."""


class BuildFailed(Exception):
    """The class's constructor raised; the original exception is the ``__cause__``."""


@dataclass(frozen=True, slots=True)
class PoolSettings:
    """The ``pool:`` keys of a python provider."""

    size: int = 1
    warm: bool = False
    max_uses: int | None = None


@dataclass(slots=True)
class Instance:
    """One built object and how often it has been used."""

    label: str
    value: Any
    uses: int = 0


@dataclass(slots=True)
class PoolStats:
    """What a pool did, for the report and for tests."""

    size: int
    created: int = 0
    uses: int = 0
    resets: int = 0
    closed: int = 0
    discarded: Counter[str] = field(default_factory=Counter)
    max_waiting: int = 0
    peak_busy: int = 0


class InstancePool:
    """At most ``size`` instances of one class, each lent to one borrower at a time."""

    def __init__(self, name: str, build: Callable[[], Any], settings: PoolSettings) -> None:
        self.name = name
        self._build = build
        self._settings = settings
        self._idle: list[Instance] = []
        self._live = 0  # built and not yet discarded: idle plus lent
        self._serial = 0
        self._waiters = 0
        self._changed = asyncio.Condition()
        self._closing: set[asyncio.Task[None]] = set()
        self._warmed = not settings.warm
        self._closed = False
        self.stats = PoolStats(size=settings.size)

    @asynccontextmanager
    async def borrow(self) -> AsyncIterator[Instance]:
        """Lend an instance for one call; reset it after, or discard it if the call failed.

        Raises:
            BuildFailed: the constructor raised (the pool stays usable).
        """
        instance = await self._take()
        self.stats.peak_busy = max(self.stats.peak_busy, self._live - len(self._idle))
        try:
            yield instance
        except asyncio.CancelledError:
            self._discard(instance, "cancelled")
            raise
        except BaseException:
            self._discard(instance, "error")
            raise
        await self._give_back(instance)

    async def _take(self) -> Instance:
        if not self._warmed:
            self._warmed = True
            await self._warm()
            async with self._changed:
                self._changed.notify_all()
        async with self._changed:
            self._waiters += 1
            self.stats.max_waiting = max(self.stats.max_waiting, self._waiters)
            try:
                await self._changed.wait_for(
                    lambda: bool(self._idle) or self._live < self._settings.size
                )
            finally:
                self._waiters -= 1
            if self._idle:
                return self._idle.pop()
            self._live += 1  # the slot is ours while the constructor runs
        try:
            return await self._new()
        except BaseException:
            await self._release_slot()
            raise

    async def _warm(self) -> None:
        """Build every instance now; a constructor failure leaves the slot for later."""
        count = self._settings.size - self._live
        self._live += count
        built = await asyncio.gather(*(self._new() for _ in range(count)), return_exceptions=True)
        for item in built:
            if isinstance(item, Instance):
                self._idle.append(item)
            else:
                self._live -= 1

    async def _new(self) -> Instance:
        self._serial += 1
        label = f"{self.name}#{self._serial}"
        try:
            value = await call_in_daemon_thread(self._build)
        except Exception as exc:
            raise BuildFailed(str(exc)) from exc
        self.stats.created += 1
        return Instance(label, value)

    async def _release_slot(self) -> None:
        async with self._changed:
            self._live -= 1
            self._changed.notify()

    async def _give_back(self, instance: Instance) -> None:
        instance.uses += 1
        self.stats.uses += 1
        reset = getattr(instance.value, "reset", None)
        if callable(reset):
            try:
                await _call(reset)
            except asyncio.CancelledError:
                self._discard(instance, "cancelled")
                raise
            except Exception:
                self._discard(instance, "reset_failed")
                return
            self.stats.resets += 1
        limit = self._settings.max_uses
        if limit is not None and instance.uses >= limit:
            self._discard(instance, "max_uses")
            return
        async with self._changed:
            if self._closed:
                self._live -= 1
                self._schedule_close(instance)
                return
            self._idle.append(instance)
            self._changed.notify()

    def _discard(self, instance: Instance, reason: str) -> None:
        """Close ``instance`` in the background and free its slot for the next borrower.

        Synchronous on purpose: a cancelled borrower cannot await, yet its slot
        must be freed before anyone else looks.
        """
        self.stats.discarded[reason] += 1
        self._live -= 1
        self._schedule_close(instance)
        self._track(asyncio.get_running_loop().create_task(self._notify()))

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify()

    def _schedule_close(self, instance: Instance) -> None:
        self._track(asyncio.get_running_loop().create_task(self._close_one(instance)))

    def _track(self, task: asyncio.Task[None]) -> None:
        """Keep a background task until done, so ``aclose`` can wait for it."""
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close_one(self, instance: Instance) -> None:
        value = instance.value
        close = getattr(value, "aclose", None) or getattr(value, "close", None)
        if callable(close):
            try:
                await asyncio.wait_for(_call(close), CLOSE_TIMEOUT_S)
            except Exception:
                pass  # a close that fails or hangs cannot stop the others, nor the run's end
        self.stats.closed += 1

    async def aclose(self) -> None:
        """Close every idle instance and wait for every pending close, each bounded."""
        async with self._changed:
            self._closed = True
            idle, self._idle = self._idle, []
            self._live -= len(idle)
        for instance in idle:
            self._schedule_close(instance)
        while self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)


async def _call(function: Callable[[], Any]) -> Any:
    """Call a hook of an instance: awaited if async, else in a daemon thread."""
    if inspect.iscoroutinefunction(function):
        coroutine: Awaitable[Any] = function()
        return await coroutine
    value = await call_in_daemon_thread(function)
    if inspect.isawaitable(value):
        return await value
    return value
