"""Durations as written in paradigm files: ``250ms``, ``30s``, ``2m``, ``1h`` or bare seconds."""

from __future__ import annotations

import math
import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)?\s*$")
_UNLIMITED = frozenset({"none", "inf", "unlimited"})


def parse_duration(value: object) -> float:
    """Turn a duration into seconds.

    Args:
        value: ``"250ms"``, ``"30s"``, ``"2m"``, ``"1h"``, a bare number of seconds,
            or ``"none"`` for no limit (``math.inf``).

    Returns:
        The duration in seconds, never negative.

    Raises:
        ValueError: the value is not a duration.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 250ms, 30s or 2m, got {value!r}")
    if isinstance(value, int | float):
        if value < 0 or math.isnan(value):
            raise ValueError(f"a duration cannot be negative, got {value!r}")
        return float(value)
    if isinstance(value, str):
        if value.strip().lower() in _UNLIMITED:
            return math.inf
        match = _DURATION.match(value)
        if match:
            number, unit = match.groups()
            return float(number) * _UNITS[unit or "s"]
    raise ValueError(f"expected a duration such as 250ms, 30s or 2m, got {value!r}")


def format_duration(seconds: float) -> str:
    """Render seconds for people: ``250ms``, ``1.5s``, ``2m``, ``2m05s``, ``1h30m``, ``∞``."""
    if math.isinf(seconds):
        return "∞"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        text = f"{seconds:.3g}" if seconds < 10 else f"{seconds:.1f}".removesuffix(".0")
        return f"{text}s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h" if minutes == 0 else f"{hours}h{minutes:02d}m"
