"""Displays consume the event stream; this module is the one place that picks one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TextIO

from agentrun.display.plain import PlainDisplay
from agentrun.display.quiet import QuietDisplay
from agentrun.events import EventSink
from agentrun.redact import Redactor

DISPLAY_MODES = ("auto", "plain", "quiet")


def choose_display(
    mode: str,
    stream: TextIO,
    env: Mapping[str, str],
    redact: Redactor,
    report_path: str | None = None,
) -> EventSink:
    """The display for ``--display MODE``: ``auto`` means plain lines for now on every
    stream (a terminal view is a separate display)."""
    if mode == "quiet":
        return QuietDisplay(stream, redact, report_path)
    if mode in ("auto", "plain"):
        return PlainDisplay(stream, redact, report_path)
    raise ValueError(f"unknown display mode {mode!r}; choose one of {', '.join(DISPLAY_MODES)}")
