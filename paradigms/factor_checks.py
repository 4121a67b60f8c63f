"""The verifier of ``competitive_solver.yaml``: does an answer really factor the input?

Checking a factorisation is cheap even when finding one is not, which is what
lets a race of untrusted solvers be decided by correctness rather than speed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_ANSWER = re.compile(r"^\s*(\d+)\s*(?:x|X|\*|×|,|\s)\s*(\d+)\s*$")
_WITNESSES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)
"""Miller-Rabin with these bases is exact for every n below 3.3 * 10**24."""


def is_prime(n: int) -> bool:
    """Deterministic Miller-Rabin for ``n < 3.3e24`` (a strong probable-prime test above).

    Args:
        n: any integer.

    Returns:
        Whether ``n`` is prime.
    """
    if n < 2:
        return False
    for p in _WITNESSES:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in _WITNESSES:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def is_factorisation(answer: str, context: Mapping[str, Any]) -> tuple[bool, str]:
    """The answer ``p x q`` (or ``p q``) must satisfy ``p * q == N`` with ``1 < p <= q < N``.

    Both factors must also be prime, so that the answer is the factorisation of
    the semiprime, not just some split of it.

    Args:
        answer: a solver's output.
        context: the check context; ``input`` holds N.

    Returns:
        ``(True, "")`` for a correct answer, else ``(False, reason)``.
    """
    try:
        n = int(str(context["input"]).strip())
    except (KeyError, ValueError):
        return False, f"the input is not an integer: {str(context.get('input'))[:40]!r}"
    match = _ANSWER.match(answer)
    if match is None:
        return False, f"expected 'p x q', got {answer.strip()[:60]!r}"
    p, q = int(match.group(1)), int(match.group(2))
    if not 1 < p <= q < n:
        return False, f"factors must satisfy 1 < p <= q < {n}, got {p} and {q}"
    if p * q != n:
        return False, f"{p} x {q} = {p * q}, not {n}"
    for factor in (p, q):
        if not is_prime(factor):
            return False, f"{factor} is not prime"
    return True, ""
