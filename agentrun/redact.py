"""The one place that turns secret values into ``***`` before anything is written.

Text is always redacted *before* it is cut short: a cut through a secret would
leave a prefix the Redactor no longer recognises. :func:`clip` does both, in
that order, with the redactor of the run in progress (see :func:`redacting`),
so providers and checks that shorten a server's message need not be handed
the secrets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

MASK = "***"
ELLIPSIS = "…"


class Redactor:
    """Replaces every known secret value in a text with ``***``.

    Every serialiser (report, event log, displays, error messages) passes its text
    through one Redactor, so a secret cannot reach output by a path nobody thought of.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        found = {s for s in secrets if s}
        # Also the form a secret takes inside a JSON string ("\"", "\\", "\n" escaped),
        # since the report and the event log are redacted after serialisation.
        found |= {json.dumps(s, ensure_ascii=False)[1:-1] for s in found}
        # Longest first, so a secret that contains another is masked whole.
        values = sorted(found, key=len, reverse=True)
        self.longest = len(values[0]) if values else 0
        """Length of the longest secret (0 without secrets)."""
        self._pattern = re.compile("|".join(map(re.escape, values))) if values else None

    def __call__(self, text: str) -> str:
        """``text`` with every secret masked."""
        if self._pattern is None:
            return text
        return self._pattern.sub(MASK, text)

    def __bool__(self) -> bool:
        return self._pattern is not None

    def safe_prefix(self, text: str) -> tuple[str, str]:
        """Split a stream's buffered ``text`` into (redacted part safe to emit, part to
        hold back): what is held back is shorter than the longest secret, so a
        secret split across pieces is whole once the next piece arrives."""
        if self._pattern is None:
            return text, ""
        cut = len(text) - (self.longest - 1)
        if cut <= 0:
            return "", text
        out: list[str] = []
        done = 0
        for match in self._pattern.finditer(text):
            if match.start() >= cut:
                break
            out.append(text[done : match.start()] + MASK)
            done = match.end()  # a secret that starts before the cut is already whole
        cut = max(cut, done)
        out.append(text[done:cut])
        return "".join(out), text[cut:]


class StreamRedactor:
    """Redacts a text that arrives in pieces, holding back a tail that could be the
    start of a secret; :meth:`flush` releases it at the end of the stream."""

    def __init__(self, redact: Redactor) -> None:
        self._redact = redact
        self._held = ""

    def feed(self, piece: str) -> str:
        """The redacted text that is safe to pass on after ``piece`` (maybe empty)."""
        ready, self._held = self._redact.safe_prefix(self._held + piece)
        return ready

    def flush(self) -> str:
        """The redacted rest."""
        rest, self._held = self._redact(self._held), ""
        return rest


_NOTHING = Redactor()
_ACTIVE: ContextVar[Redactor | None] = ContextVar("agentrun_redactor", default=None)


@contextmanager
def redacting(secrets: Iterable[str]) -> Iterator[Redactor]:
    """Make a Redactor of ``secrets`` the active one (for this task and those it starts)."""
    redactor = Redactor(secrets)
    token = _ACTIVE.set(redactor)
    try:
        yield redactor
    finally:
        _ACTIVE.reset(token)


def active_redactor() -> Redactor:
    """The Redactor of the run in progress (one without secrets outside a run)."""
    return _ACTIVE.get() or _NOTHING


def clip(text: str, limit: int) -> str:
    """``text`` redacted, then cut to at most ``limit`` characters (ending in ``…`` when cut)."""
    text = active_redactor()(text)
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS
