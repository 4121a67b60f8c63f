"""Backoff between attempts: one pure function whose formula is in its docstring."""

from __future__ import annotations

import random

from agentrun.loading.spec import Backoff


def compute_backoff(retry: int, policy: Backoff, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number ``retry`` (1 for the first retry).

    ``base = min(max, initial * multiplier ** (retry - 1))``; with jitter the wait is
    drawn uniformly from ``[base / 2, base]``, so it never exceeds ``max`` and never
    collapses to zero (retries of many agents spread out without hammering).
    """
    try:
        base = min(policy.max, policy.initial * policy.multiplier ** (retry - 1))
    except OverflowError:
        base = policy.max
    if policy.jitter and base > 0:
        return (rng or random).uniform(base / 2, base)
    return base


def worst_case_waits(retries: int, policy: Backoff) -> float:
    """The longest total of the waits before ``retries`` retries."""
    return sum(
        compute_backoff(n, policy.model_copy(update={"jitter": False}))
        for n in range(1, retries + 1)
    )
