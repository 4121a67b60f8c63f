"""Backoff between attempts: one pure function whose formula is in its docstring."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Wait between attempts: ``min(max, initial * multiplier ** (n - 1))``, jittered."""

    initial: float = 0.5
    max: float = 8.0
    multiplier: float = 2.0
    jitter: bool = True


def compute_backoff(retry: int, policy: BackoffPolicy, rng: random.Random | None = None) -> float:
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


def worst_case_waits(retries: int, policy: BackoffPolicy) -> float:
    """The longest total of the waits before ``retries`` retries."""
    steady = replace(policy, jitter=False)
    return sum(compute_backoff(n, steady) for n in range(1, retries + 1))
