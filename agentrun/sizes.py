"""Sizes in bytes: ``64KiB``, ``2MB``, ``1.5MiB`` or a bare number of bytes (pure functions)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)


def parse_size(value: Any) -> int:
    """Bytes from ``64KiB``, ``2MB`` (powers of 1000), ``1MiB`` (powers of 1024) or a number.

    Raises:
        ValueError: the value is not a positive size.
    """
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str) and (match := _SIZE.match(value)):
        unit = _UNITS.get(match.group(2).lower())
        if unit is not None:
            number = float(match.group(1)) * unit
    if number is None or not number >= 1 or number == float("inf"):
        raise ValueError(f"expected a size such as 64KiB, 2MB or a number of bytes, got {value!r}")
    return int(number)


def format_size(size: int) -> str:
    """``512 bytes``, ``64 KiB``, ``1 MiB``, ``1.5 MiB``: for messages."""
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor:
            return f"{size / factor:.4g} {unit}"
    return f"{size} bytes"


ByteSize = Annotated[
    int,
    BeforeValidator(parse_size),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*([kKmMgG]i?[bB]|[bB])?\s*$"},
                {"type": "integer", "minimum": 1},
            ],
            "description": "64KiB, 2MB, 1MiB or a number of bytes",
        }
    ),
]
"""A size in bytes, written as ``64KiB``, ``2MB`` or a number."""
