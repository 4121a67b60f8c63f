"""What user code prints goes to its attempt's log, not to the terminal or the report.

While a run is in progress ``sys.stdout`` and ``sys.stderr`` are routers: a write
made where :data:`_CURRENT` holds a log (the attempt's task on the loop, or the daemon
thread a sync function runs in, which inherits the task's context) lands in that
log; any other write goes to the real stream. The routers are installed around a
run and the previous streams put back afterwards, so nothing changes for good.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TextIO, cast

LOG_LIMIT = 65_536
"""Characters of an attempt's log kept; the rest is counted, not stored."""


class AttemptLog:
    """The text user code printed during one attempt, capped at ``LOG_LIMIT``."""

    __slots__ = ("_kept", "_limit", "_parts", "total")

    _lock = threading.Lock()
    """Sync user code writes from its own thread; writes are rare, so one lock serves all."""

    def __init__(self, limit: int = LOG_LIMIT) -> None:
        self._limit = limit
        self._parts: list[str] | None = None  # most attempts print nothing
        self._kept = 0
        self.total = 0
        """Characters written, kept or not."""

    def write(self, text: str) -> None:
        """Keep ``text`` while there is room; count it always."""
        with self._lock:
            if self._parts is None:
                self._parts = []
            self.total += len(text)
            room = self._limit - self._kept
            if room > 0:
                self._parts.append(text[:room])
                self._kept += min(room, len(text))

    def text(self) -> str | None:
        """The log, with how much was dropped; ``None`` when nothing was printed."""
        with self._lock:
            if not self.total or self._parts is None:
                return None
            kept = "".join(self._parts)
            if self.total > self._kept:
                kept += f"… [truncated: {self.total} characters in all]"
            return kept


_CURRENT: ContextVar[AttemptLog | None] = ContextVar("agentrun_attempt_log", default=None)


class _Router:
    """A text stream that sends each write to the current attempt's log, if any."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        log = _CURRENT.get()
        if log is None:
            return self.stream.write(text)
        log.write(text)
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if _CURRENT.get() is None:
            self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        # encoding, isatty, fileno, buffer...: the real stream answers.
        return getattr(self.stream, name)


_installed: list[tuple[TextIO, TextIO, _Router, _Router]] = []
"""The streams the routers replaced, while runs are in progress (one entry)."""
_users = 0
"""Runs in progress: several runs of a session may overlap; the last one restores."""


@contextmanager
def routed_output() -> Iterator[None]:
    """Route ``sys.stdout``/``sys.stderr`` through the routers for the block's duration."""
    global _users
    if _users == 0:
        out, err = sys.stdout, sys.stderr
        routers = _Router(out), _Router(err)
        sys.stdout, sys.stderr = cast(TextIO, routers[0]), cast(TextIO, routers[1])
        _installed.append((out, err, *routers))
    _users += 1
    try:
        yield
    finally:
        _users -= 1
        if _users == 0:
            out, err, router_out, router_err = _installed.pop()
            # Put back only what is still ours: something installed after us owns it now.
            if cast(object, sys.stdout) is router_out:
                sys.stdout = out
            if cast(object, sys.stderr) is router_err:
                sys.stderr = err


class capture:
    """Send what the current task (and threads it starts through the callables
    module) prints to ``log`` for the block's duration.

    A class rather than a generator: it is entered once per attempt.
    """

    __slots__ = ("_log", "_token")

    def __init__(self, log: AttemptLog) -> None:
        self._log = log

    def __enter__(self) -> AttemptLog:
        self._token = _CURRENT.set(self._log)
        return self._log

    def __exit__(self, *exc: object) -> None:
        _CURRENT.reset(self._token)
