"""Provider limits under cancellation: waiters cancelled in any order leave no trace."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from conftest import Ran

from agentrun.engine.limits import AdaptiveLimit


def test_waiters_cancelled_while_a_release_hands_slots_on() -> None:
    async def scenario() -> tuple[int, int]:
        limit = AdaptiveLimit(1)
        held = await limit.acquire()
        waiting = [asyncio.create_task(limit.acquire()) for _ in range(3)]
        await asyncio.sleep(0)  # every waiter is queued
        for task in waiting:
            task.cancel()  # cancels the queued futures at once
        limit.release(held, "ok")  # the wake-up finds only cancelled waiters
        results = await asyncio.gather(*waiting, return_exceptions=True)
        assert all(isinstance(r, asyncio.CancelledError) for r in results)
        return limit.in_flight, len(limit._waiters)

    assert asyncio.run(scenario()) == (0, 0)


def test_granted_waiter_cancelled_hands_its_slot_on() -> None:
    async def scenario() -> int:
        limit = AdaptiveLimit(1)
        held = await limit.acquire()
        first = asyncio.create_task(limit.acquire())
        second = asyncio.create_task(limit.acquire())
        await asyncio.sleep(0)
        limit.release(held, "ok")  # grants `first`
        first.cancel()  # ...which is cancelled before it runs
        second.cancel()
        await asyncio.gather(first, second, return_exceptions=True)
        return limit.in_flight

    assert asyncio.run(scenario()) == 0


def test_race_losers_queued_on_a_provider_limit_are_cancelled(
    run_paradigm: Callable[..., Ran],
) -> None:
    ran = run_paradigm(
        """
        pattern: competitive
        providers:
          slow_pool: {type: mock, max_concurrency: 1}
        agents:
          quick: {provider: slow_pool, output: "42", latency: 50ms}
          b: {provider: slow_pool, output: "b", latency: 2s}
          c: {provider: slow_pool, output: "c", latency: 2s}
          d: {provider: slow_pool, output: "d", latency: 2s}
        """
    )
    assert ran.result.winner == "quick"
    assert ran.statuses() == {
        "quick": "passed",
        "b": "cancelled",
        "c": "cancelled",
        "d": "cancelled",
    }
    assert "ValueError" not in ran.out
