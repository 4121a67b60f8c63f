"""Simulated work time for the offline examples, so that a run looks like a real one.

Real agents take from hundreds of milliseconds to seconds; the examples' stand-ins
answer in microseconds. Each waits a fixed, input-dependent time instead, scaled by
the ``EXAMPLE_PACE`` environment variable: ``1`` by default, ``0`` for no waiting
(the test suite sets it), ``2`` for twice as slow.
"""

from __future__ import annotations

import os
import time
import zlib


def pace() -> float:
    """The ``EXAMPLE_PACE`` factor; anything that is not a number counts as 1."""
    try:
        return max(0.0, float(os.environ.get("EXAMPLE_PACE", "1")))
    except ValueError:
        return 1.0


def pause(base: float, spread: float, key: str) -> None:
    """Wait ``base`` plus up to ``spread`` seconds (the same for the same ``key``), paced."""
    fraction = zlib.crc32(key.encode("utf-8")) % 1000 / 1000
    time.sleep(pace() * (base + spread * fraction))
