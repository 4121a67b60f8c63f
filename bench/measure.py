"""What the benchmarks share: timing a section, memory peaks, and medians with their spread."""

from __future__ import annotations

import gc
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any


def peak_rss_kib() -> int:
    """The high-water mark of this process's resident set, in KiB (Linux units)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # macOS reports bytes, Linux kibibytes.
    return peak // 1024 if sys.platform == "darwin" else peak


class GcMeter:
    """Adds up the wall time the cyclic garbage collector spends, through ``gc.callbacks``."""

    def __init__(self) -> None:
        self.total_s = 0.0
        self.collections = 0
        self._began = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.total_s += time.perf_counter() - self._began
            self.collections += 1

    def install(self) -> None:
        """Start metering (once per process)."""
        if self not in gc.callbacks:
            gc.callbacks.append(self)


GC = GcMeter()
"""The process's meter: ``timed`` reports what it saw during each section."""


def timed(action: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    """Run ``action`` and return its value with the wall, CPU and GC seconds it took."""
    gc0, collections0 = GC.total_s, GC.collections
    wall0 = time.perf_counter()
    cpu0 = time.process_time()
    value = action()
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - wall0
    return value, {
        "wall_s": wall,
        "cpu_s": cpu,
        "gc_s": GC.total_s - gc0,
        "gc_collections": GC.collections - collections0,
    }


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median, min and max of some samples."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def median_range(figures: dict[str, float], fmt: str) -> str:
    """``median [min-max]`` with one format for all three."""
    return f"{figures['median']:{fmt}} [{figures['min']:{fmt}}-{figures['max']:{fmt}}]"
