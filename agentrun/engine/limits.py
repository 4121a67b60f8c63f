"""Per-provider limits: an adaptive concurrency cap and a start-rate limit.

Both are waited for *outside* an attempt's timeout: time spent queued is not the
provider's fault. The concurrency cap adapts like TCP congestion control: a 429
halves it (at most once per round of requests in flight), each success grows it
by ``1/limit``, back up to the configured ceiling.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Callable

Outcome = str
"""``ok``, ``throttled`` (the server answered 429) or ``error``."""


class AdaptiveLimit:
    """A semaphore whose size moves between 1 and ``ceiling`` with the server's answers.

    Without a ceiling it admits everything until the first 429, then starts from
    half of what was in flight and grows without bound again as requests succeed.
    """

    def __init__(
        self, ceiling: int | None, on_change: Callable[[int | None], None] | None = None
    ) -> None:
        self.ceiling = ceiling
        self._limit: float = float(ceiling) if ceiling else math.inf
        self.in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._on_change = on_change
        self._started = 0
        self._last_cut_at = -1
        """Serial number of the request that was last started when the limit was cut."""

    @property
    def limit(self) -> int | None:
        """The current cap (``None`` while unlimited)."""
        return None if math.isinf(self._limit) else max(1, int(self._limit))

    def would_wait(self) -> bool:
        """Whether ``acquire`` would have to wait now."""
        return bool(self._waiters) or not self._has_room()

    async def acquire(self) -> int:
        """Wait for a slot; returns a ticket for :meth:`release`."""
        if not self._waiters and self._has_room():
            return self._enter()
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.in_flight -= 1  # granted just as we were cancelled: hand the slot on
                self._wake()
            elif waiter in self._waiters:
                # A release between the cancellation and this handler may already have
                # dropped the cancelled waiter from the queue.
                self._waiters.remove(waiter)
            raise
        return self._started

    def release(self, ticket: int, outcome: Outcome) -> None:
        """Give the slot back and adapt the cap to how the request went."""
        self.in_flight -= 1
        before = self.limit
        if outcome == "throttled":
            # Only requests started after the previous cut may cut again: one burst of
            # 429s from one overload must not collapse the limit to 1.
            if ticket > self._last_cut_at:
                base = self._limit if not math.isinf(self._limit) else self.in_flight + 1
                self._limit = max(1.0, base / 2)
                self._last_cut_at = self._started
        elif outcome == "ok" and not math.isinf(self._limit):
            grown = self._limit + 1 / max(self._limit, 1.0)
            self._limit = min(grown, float(self.ceiling)) if self.ceiling else grown
        if self.limit != before and self._on_change is not None:
            self._on_change(self.limit)
        self._wake()

    def _has_room(self) -> bool:
        return self.in_flight < max(1, int(self._limit)) if not math.isinf(self._limit) else True

    def _enter(self) -> int:
        self.in_flight += 1
        self._started += 1
        return self._started

    def _wake(self) -> None:
        while self._waiters and self._has_room():
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._enter()
                waiter.set_result(None)


class RateLimit:
    """Spaces request starts at least ``1 / rate`` seconds apart, so no window of one
    period ever sees more than the configured number of starts."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self._next = -math.inf

    def busy(self, now: float) -> bool:
        """Whether a start now would have to wait."""
        return self._next > now

    def delay(self, now: float) -> float:
        """Reserve the next start slot; return how long to wait for it."""
        start = max(now, self._next)
        self._next = start + self.interval
        return start - now


class ProviderLimiter:
    """The limits of one provider entry, shared by every agent that names it."""

    def __init__(
        self,
        name: str,
        max_concurrency: int | None,
        rate_per_second: float | None,
        on_change: Callable[[int | None], None] | None = None,
    ) -> None:
        self.name = name
        self.concurrency = AdaptiveLimit(max_concurrency, on_change)
        self.rate = RateLimit(rate_per_second) if rate_per_second else None

    def would_wait(self) -> bool:
        """Whether a request starting now would be queued."""
        if self.concurrency.would_wait():
            return True
        return self.rate is not None and self.rate.busy(asyncio.get_running_loop().time())

    async def acquire(self) -> int:
        """Wait for a concurrency slot, then for the rate limit; return the slot's ticket."""
        ticket = await self.concurrency.acquire()
        if self.rate is not None:
            try:
                wait = self.rate.delay(asyncio.get_running_loop().time())
                if wait > 0:
                    await asyncio.sleep(wait)
            except asyncio.CancelledError:
                self.concurrency.release(ticket, "cancelled")
                raise
        return ticket

    def release(self, ticket: int, outcome: Outcome) -> None:
        """Give the slot back, reporting how the request went."""
        self.concurrency.release(ticket, outcome)
