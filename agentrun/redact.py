"""The one place that turns secret values into ``***`` before anything is written."""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"


class Redactor:
    """Replaces every known secret value in a text with ``***``.

    Every serialiser (report, event log, displays, error messages) passes its text
    through one Redactor, so a secret cannot reach output by a path nobody thought of.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is masked whole.
        values = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, values))) if values else None

    def __call__(self, text: str) -> str:
        """``text`` with every secret masked."""
        if self._pattern is None:
            return text
        return self._pattern.sub(MASK, text)

    def __bool__(self) -> bool:
        return self._pattern is not None
