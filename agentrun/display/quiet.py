"""Quiet display: nothing while the run goes on, the summary at the end."""

from __future__ import annotations

from agentrun.display.plain import PlainDisplay
from agentrun.events.records import Event, RunFinished


class QuietDisplay(PlainDisplay):
    """Prints only the final summary, exactly as the plain display ends."""

    def handle(self, event: Event) -> None:
        """Ignore everything but the end of the run."""
        if isinstance(event, RunFinished):
            super().handle(event)
