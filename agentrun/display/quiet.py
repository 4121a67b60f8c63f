"""Quiet display: nothing while the run goes on, the summary at the end."""

from __future__ import annotations

from typing import TextIO

from agentrun.display.summary import printable, summary_lines
from agentrun.events import Event, RunFinished
from agentrun.redact import Redactor


class QuietDisplay:
    """Prints only the final summary."""

    def __init__(self, stream: TextIO, redact: Redactor, report_path: str | None = None) -> None:
        self._stream = stream
        self._redact = redact
        self._report_path = report_path

    def handle(self, event: Event) -> None:
        """Ignore everything but the end of the run."""
        if isinstance(event, RunFinished):
            lines = summary_lines(event.result, self._report_path)
            self._stream.write("\n".join(printable(self._redact(line)) for line in lines) + "\n")
            self._stream.flush()

    def close(self) -> None:
        """Nothing to release."""
