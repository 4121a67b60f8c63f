"""Keep Python's cyclic garbage collector from rescanning what lives for a whole run."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_depth = 0
"""How many ``collector_tuned`` blocks are open (nested blocks leave the settings alone)."""

RUN_THRESHOLD = 50_000
"""Allocations between young-generation collections while a run is loaded or running."""


@contextmanager
def collector_tuned() -> Iterator[None]:
    """Freeze what exists now and collect less often until the block ends.

    Loading a large paradigm and running it allocate several long-lived objects
    per agent (YAML nodes, tasks, events, results). With the default threshold
    the collector sweeps them, the modules and everything else alive again and
    again: about a third of the engine's CPU at 10,000 agents. The settings are
    restored exactly when the outermost block ends.
    """
    global _depth
    if _depth:
        _depth += 1
        try:
            yield
        finally:
            _depth -= 1
        return
    threshold = gc.get_threshold()
    # Unfreezing thaws every frozen object: when the caller froze some already, the
    # permanent generation is theirs, and it is left exactly as it was.
    freezes = gc.get_freeze_count() == 0
    if freezes:
        gc.freeze()
    gc.set_threshold(max(threshold[0], RUN_THRESHOLD), *threshold[1:])
    _depth = 1
    try:
        yield
    finally:
        _depth = 0
        gc.set_threshold(*threshold)
        if freezes:
            gc.unfreeze()
