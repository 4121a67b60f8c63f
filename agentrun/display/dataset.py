"""The view of a dataset run: cases done of total, pass rate, speed, ETA, latest failures.

``live`` redraws a progress bar in place (Rich); ``plain`` prints a line per finished
case and a progress line every few seconds; ``quiet`` prints only the summary. The
per-agent view of single runs is not used here: with thousands of cases it would
show nothing useful and cost a lot.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from rich.console import Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.text import Text

from agentrun.display import inspect_terminal, make_console
from agentrun.durations import format_duration

PROGRESS_EVERY = 5.0
"""Seconds between progress lines in plain mode."""
LATEST_FAILURES = 5


class DatasetDisplay:
    """Counts finished cases; subclasses draw them."""

    def __init__(
        self, stream: TextIO, total: int, done: int = 0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.stream = stream
        self.total = total
        self.done = done
        self.passed = 0
        self.finished = 0
        self.clock = clock
        self.started = clock()
        self.failures: deque[str] = deque(maxlen=LATEST_FAILURES)

    def case_done(self, record: Mapping[str, Any]) -> None:
        """Take one finished case record."""
        self.done += 1
        self.finished += 1
        self.passed += record["status"] == "passed"
        if record["status"] in ("failed", "errored"):
            self.failures.append(
                f"{_name(record)}: {record['status']}: {record.get('reason') or ''}"
            )

    def progress(self) -> str:
        """``120/1000 cases (12%) · pass 95.0% · 40.1 cases/s · ETA 22s``."""
        elapsed = max(self.clock() - self.started, 1e-9)
        speed = self.finished / elapsed
        share = self.done / self.total if self.total else 1.0
        rate = f"{self.passed / self.finished:.1%}" if self.finished else "n/a"
        eta = format_duration((self.total - self.done) / speed) if speed > 0 else "?"
        return (
            f"{self.done}/{self.total} cases ({share:.0%}) · pass {rate} · "
            f"{speed:.1f} cases/s · ETA {eta}"
        )

    def finish(self, lines: list[str]) -> None:
        """Stop drawing and print the summary."""
        self.close()
        self.stream.write("\n".join(lines) + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Give the terminal back (idempotent)."""


class QuietDatasetDisplay(DatasetDisplay):
    """Only the summary."""


class PlainDatasetDisplay(DatasetDisplay):
    """A line per finished case, a progress line every few seconds; no control codes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._next = self.started + PROGRESS_EVERY

    def case_done(self, record: Mapping[str, Any]) -> None:
        """Print the case's line, and the progress when it is due."""
        super().case_done(record)
        reason = (
            f" ({record['reason']})"
            if record["status"] != "passed" and record.get("reason")
            else ""
        )
        duration = format_duration(float(record.get("duration_s") or 0.0))
        self.stream.write(f"case {_name(record)}: {record['status']} in {duration}{reason}\n")
        now = self.clock()
        if now >= self._next or self.done == self.total:
            self._next = now + PROGRESS_EVERY
            self.stream.write(f"progress: {self.progress()}\n")
        self.stream.flush()


class LiveDatasetDisplay(DatasetDisplay):
    """A progress bar redrawn in place, with the latest failures under it."""

    def __init__(
        self, stream: TextIO, total: int, done: int = 0, *, env: Mapping[str, str], **kwargs: Any
    ) -> None:
        super().__init__(stream, total, done, **kwargs)
        self._live: Live | None = Live(
            self._render(),
            console=make_console(stream, env),
            refresh_per_second=4,
            get_renderable=self._render,
            transient=True,
        )
        self._live.start()

    def _render(self) -> Group:
        bar = ProgressBar(total=max(self.total, 1), completed=self.done, width=40)
        lines: list[Any] = [bar, Text(self.progress())]
        if self.failures:
            lines.append(Text("latest failures:", style="bold red"))
            lines.extend(Text(f"  {line}"[:200]) for line in self.failures)
        return Group(*lines)

    def close(self) -> None:
        """Stop the live view."""
        if self._live is not None:
            self._live.stop()
            self._live = None


def choose_dataset_display(
    mode: str, stream: TextIO, env: Mapping[str, str], total: int, done: int = 0
) -> DatasetDisplay:
    """The dataset view for ``--display MODE``; ``auto`` is live on an interactive terminal."""
    if mode == "auto":
        mode = "live" if inspect_terminal(stream, env).interactive else "plain"
    if mode == "quiet":
        return QuietDatasetDisplay(stream, total, done)
    if mode == "plain":
        return PlainDatasetDisplay(stream, total, done)
    return LiveDatasetDisplay(stream, total, done, env=env)


def _name(record: Mapping[str, Any]) -> str:
    repeat = int(record.get("repeat") or 0)
    return f"{record['id']}" + (f" #{repeat + 1}" if repeat else "")
