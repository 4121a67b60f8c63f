"""Backoff between attempts: one pure function whose formula is in its docstring."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentrun.engine.context import Limit

MAX_RETRY_AFTER = 60.0
"""The longest ``Retry-After`` wait honoured, in seconds. A server asking for more
fails the agent at once: without ``total_timeout`` or a deadline it would otherwise
be waited for as long as it says, even ``inf``."""


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


def next_wait(
    retry: int,
    policy: BackoffPolicy,
    rng: random.Random | None,
    retry_after: float | None,
    limit: Limit | None,
    now: float,
) -> tuple[float, str | None]:
    """The wait before retry number ``retry``, or why there is to be no retry.

    The wait is the backoff, or the server's ``Retry-After`` when longer. No retry
    when that wait would cross the agent's tightest ``limit``, or when the server
    asks for more than :data:`MAX_RETRY_AFTER`: both fail fast, saying so.
    """
    wait = compute_backoff(retry, policy, rng)
    if retry_after is not None:
        asked = "forever" if math.isinf(retry_after) else f"{retry_after:g}s"
        if limit is not None and now + retry_after >= limit.at:
            return wait, f"the server asked to wait {asked} (Retry-After), beyond the {limit.label}"
        if retry_after > MAX_RETRY_AFTER:
            return wait, (
                f"the server asked to wait {asked} (Retry-After), "
                f"more than the {MAX_RETRY_AFTER:g}s agentrun waits at most"
            )
        wait = max(wait, retry_after)  # the server knows better than our backoff
    if limit is not None and now + wait >= limit.at:
        return wait, f"no time left for another attempt within the {limit.label}"
    return wait, None
