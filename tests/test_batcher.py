"""The reusable batcher on a real event loop: cancellation, backpressure, limits, timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from agentrun.engine.limits import ProviderLimiter
from agentrun.errors import ProviderError
from agentrun.providers.batching import Batcher, BatchInfo


class Recorder:
    """A send function that answers each value doubled, after ``gate`` opens."""

    def __init__(self) -> None:
        self.sent: list[list[int]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self, values: Sequence[int]) -> list[int | BaseException]:
        self.sent.append(list(values))
        await self.gate.wait()
        return [v * 2 if v >= 0 else ProviderError(f"negative {v}") for v in values]


def test_a_cancelled_item_leaves_a_batch_not_yet_sent() -> None:
    async def main() -> None:
        send = Recorder()
        batcher = Batcher(send, max_size=10, max_wait=0.05, max_queue=100)
        tasks = [asyncio.create_task(batcher.submit(v)) for v in range(4)]
        await asyncio.sleep(0.01)
        tasks[1].cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert send.sent == [[0, 2, 3]]
        assert results[0] == 0 and results[2] == 4 and results[3] == 6
        assert isinstance(results[1], asyncio.CancelledError)
        assert batcher.queued == 0

    asyncio.run(main())


def test_per_item_errors_and_per_item_timeouts() -> None:
    async def main() -> None:
        send = Recorder()
        batcher = Batcher(send, max_size=2, max_wait=0, max_queue=10)
        ok, bad = await asyncio.gather(
            batcher.submit(5), batcher.submit(-1), return_exceptions=True
        )
        assert ok == 10 and isinstance(bad, ProviderError) and str(bad) == "negative -1"
        send.gate.clear()  # the next request hangs
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await batcher.submit(7)
        await asyncio.sleep(0.01)
        assert batcher.in_flight == 0  # its only item gone, the request was cancelled

    asyncio.run(main())


def test_a_full_queue_makes_new_items_wait() -> None:
    async def main() -> None:
        send = Recorder()
        send.gate.clear()
        limiter = ProviderLimiter("svc", 1, None)
        batcher = Batcher(send, max_size=2, max_wait=0, max_queue=4, limiter=limiter)
        tasks = [asyncio.create_task(batcher.submit(v)) for v in range(10)]
        for _ in range(5):
            await asyncio.sleep(0)
        # One batch in flight (its 2 items left the queue), 4 queued, 4 waiting to enter.
        assert send.sent == [[0, 1]]
        assert batcher.queued == 4
        send.gate.set()
        assert await asyncio.gather(*tasks) == [v * 2 for v in range(10)]
        assert send.sent == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]

    asyncio.run(main())


def test_one_rate_token_per_request() -> None:
    async def main() -> None:
        send = Recorder()
        limiter = ProviderLimiter("svc", None, 20.0)  # 20 starts a second
        batcher = Batcher(send, max_size=50, max_wait=0, max_queue=500, limiter=limiter)
        loop = asyncio.get_running_loop()
        started = loop.time()
        # 200 items in 4 requests: 4 tokens (~0.15 s), not 200 (~10 s).
        await asyncio.gather(*(batcher.submit(v) for v in range(200)))
        assert len(send.sent) == 4
        assert loop.time() - started < 1.0

    asyncio.run(main())


def test_a_wrong_length_reply_fails_every_item_and_observers_hear_of_it() -> None:
    async def short(values: Sequence[int]) -> list[int | BaseException]:
        return list(values)[:-1]

    seen: list[tuple[str, BatchInfo]] = []

    async def main() -> list[object]:
        batcher = Batcher(
            short,
            max_size=3,
            max_wait=1.0,
            max_queue=9,
            who="provider 'x'",
            observer=lambda what, info: seen.append((what, info)),
        )
        return await asyncio.gather(*(batcher.submit(v) for v in range(3)), return_exceptions=True)

    results = asyncio.run(main())
    assert [str(r) for r in results] == ["provider 'x': batch reply had 2 items for 3 inputs"] * 3
    assert [(what, info.reason, info.size, info.status) for what, info in seen] == [
        ("flushed", "size", 3, None),
        ("finished", "size", 3, "failed"),
    ]


def test_close_cancels_open_and_in_flight_batches() -> None:
    async def main() -> None:
        send = Recorder()
        send.gate.clear()
        batcher = Batcher(send, max_size=2, max_wait=10.0, max_queue=10)
        tasks = [asyncio.create_task(batcher.submit(v)) for v in range(3)]
        await asyncio.sleep(0.01)
        await batcher.aclose()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert isinstance(results[0], ProviderError)  # in flight when closed
        assert "cancelled while in flight" in str(results[0])
        assert isinstance(results[2], asyncio.CancelledError)  # still in the open batch

    asyncio.run(main())
