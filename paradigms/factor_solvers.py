"""Four ways to split a semiprime ``n = p * q``, raced by ``competitive_solver.yaml``.

================  ================================  ========================================
solver            cost                              fast when
================  ================================  ========================================
``trial``         about ``p / 3`` divisions         the smaller factor is small
``rho``           about ``sqrt(p)`` steps           always, for numbers of this size (Brent)
``fermat``        ``(sqrt(q) - sqrt(p))**2 / 2``    ``p`` and ``q`` are close to each other
``square_split``  one square root                   right only if ``p`` is ``isqrt(n)``
================  ================================  ========================================

``square_split`` is the fast heuristic that is wrong: it assumes balanced factors
and answers with the integers around ``sqrt(n)``, which is right only for nearly
equal factors such as twin primes. It is in the race to show that the verifier,
not speed, decides the winner.

Run a solver as a program, with the number on standard input::

    echo 1125899621629967 | python3 factor_solvers.py rho
    16777213 x 67108859
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from math import gcd, isqrt

from pace import pause


@dataclass(frozen=True, slots=True)
class Factors:
    """Two factors with ``p <= q``, printed as ``p x q``."""

    p: int
    q: int

    def __str__(self) -> str:
        return f"{self.p} x {self.q}"


def _ordered(a: int, b: int) -> Factors:
    return Factors(min(a, b), max(a, b))


def _require_composite_candidate(n: int) -> None:
    if n < 4:
        raise ValueError(f"expected an integer >= 4, got {n}")


def trial_division(n: int) -> Factors:
    """Try 2, 3 and then every ``6k - 1`` and ``6k + 1`` up to ``sqrt(n)``.

    Raises:
        ValueError: ``n`` is below 4 or prime.
    """
    _require_composite_candidate(n)
    for small in (2, 3):
        if n % small == 0:
            return _ordered(small, n // small)
    limit = isqrt(n)
    for k in range(5, limit + 1, 6):
        if n % k == 0:
            return _ordered(k, n // k)
        if n % (k + 2) == 0:
            return _ordered(k + 2, n // (k + 2))
    raise ValueError(f"{n} is prime")


def _brent(n: int, c: int, batch: int = 128) -> int:
    """One run of Brent's cycle search on ``x -> x*x + c (mod n)``: a divisor, maybe ``n``.

    Differences are multiplied together and only every ``batch`` steps go through a
    gcd, which is what makes Brent's variant faster than Floyd's in practice.
    """
    y, r, product, divisor = 2, 1, 1, 1
    x = saved = y
    while divisor == 1:
        x = y
        for _ in range(r):
            y = (y * y + c) % n
        done = 0
        while done < r and divisor == 1:
            saved = y
            for _ in range(min(batch, r - done)):
                y = (y * y + c) % n
                product = product * abs(x - y) % n
            divisor = gcd(product, n)
            done += batch
        r *= 2
    if divisor == n:
        # The batch overshot: step again from the saved point, one gcd per step.
        divisor = 1
        while divisor == 1:
            saved = (saved * saved + c) % n
            divisor = gcd(abs(x - saved), n)
    return divisor


def pollard_rho(n: int, attempts: int = 20) -> Factors:
    """Pollard's rho with Brent's cycle detection, trying ``c = 1, 2, ...`` until one works.

    Raises:
        ValueError: ``n`` is below 4, or no ``c`` found a factor (``n`` is most likely prime).
    """
    _require_composite_candidate(n)
    if n % 2 == 0:
        return _ordered(2, n // 2)
    for c in range(1, attempts + 1):
        divisor = _brent(n, c)
        if divisor != n:
            return _ordered(divisor, n // divisor)
    raise ValueError(f"no factor of {n} found in {attempts} attempts; it is most likely prime")


def fermat(n: int) -> Factors:
    """Fermat's method: find ``a`` with ``a*a - n == b*b``, so that ``n = (a - b) * (a + b)``.

    Raises:
        ValueError: ``n`` is below 4 or prime.
    """
    _require_composite_candidate(n)
    if n % 2 == 0:
        return _ordered(2, n // 2)
    start = isqrt(n)
    if start * start < n:
        start += 1
    for a in count(start):
        b_squared = a * a - n
        b = isqrt(b_squared)
        if b * b == b_squared:
            if a - b == 1:
                raise ValueError(f"{n} is prime")
            return _ordered(a - b, a + b)
    raise AssertionError("unreachable: a = (n + 1) / 2 always gives a square")


def square_split(n: int) -> Factors:
    """A fast, wrong heuristic: assume ``p ~ q ~ sqrt(n)`` and split ``n`` there.

    Answers ``r x (n // r)`` for ``r = isqrt(n)``, which multiplies back to ``n``
    only when ``r`` happens to divide it.

    Raises:
        ValueError: ``n`` is below 4.
    """
    _require_composite_candidate(n)
    root = isqrt(n)
    return Factors(root, n // root)


SOLVERS: dict[str, Callable[[int], Factors]] = {
    "trial": trial_division,
    "rho": pollard_rho,
    "fermat": fermat,
    "square_split": square_split,
}
"""Solver names, as given on the command line, to their functions."""


def parse_number(text: str) -> int:
    """The integer written in ``text`` (surrounding whitespace and ``_`` separators allowed).

    Raises:
        ValueError: ``text`` is not a positive integer.
    """
    cleaned = text.strip().replace("_", "")
    if not cleaned.isdigit():
        raise ValueError(f"expected a positive integer, got {text.strip()[:40]!r}")
    return int(cleaned)


def solve(algorithm: str, text: str) -> str:
    """Factor the number in ``text`` with the named solver; the answer as ``p x q``.

    Raises:
        KeyError: no solver has that name.
        ValueError: the text is not a number the solver can factor.
    """
    return str(SOLVERS[algorithm](parse_number(text)))


def guess(prompt: str) -> str:
    """The ``square_split`` heuristic as a ``python`` agent: the prompt is the number."""
    return solve("square_split", prompt)


def main(argv: list[str]) -> int:
    """``python3 factor_solvers.py ALGORITHM``: read the number on stdin, print ``p x q``."""
    if len(argv) != 2 or argv[1] not in SOLVERS:
        print(f"usage: python3 factor_solvers.py {{{','.join(SOLVERS)}}} < number", file=sys.stderr)
        return 2
    try:
        number = sys.stdin.read()
        pause(0.8, 0.8, argv[1])  # a real solver's start-up and setup (see pace.py)
        print(solve(argv[1], number))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
