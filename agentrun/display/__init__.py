"""Displays consume the event stream; this module is the one place that picks one.

It is also the one place that looks at the terminal: whether a stream is a TTY,
``CI``, ``TERM=dumb`` and ``NO_COLOR``. Every other module receives what it
decided (a :class:`Terminal`, or a ready :class:`rich.console.Console`).

========= ================================================================
mode      what is shown
========= ================================================================
``auto``  ``live`` on an interactive terminal (a TTY, ``CI`` unset, ``TERM``
          not ``dumb``), else ``plain``
``live``  a Rich view redrawn in place, then the final summary
``plain`` one timestamped line per meaningful event, then the summary;
          no control codes at all
``quiet`` only the final summary
========= ================================================================
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, TextIO

from rich.console import Console

from agentrun.display.live import LiveDisplay
from agentrun.display.plain import PlainDisplay
from agentrun.display.quiet import QuietDisplay
from agentrun.events.records import Event
from agentrun.redact import Redactor

__all__ = [
    "DISPLAY_MODES",
    "Display",
    "Terminal",
    "choose_display",
    "inspect_terminal",
    "make_console",
    "styled_output",
]

DISPLAY_MODES = ("auto", "live", "plain", "quiet")

NON_TERMINAL_WIDTH = 120
"""Columns of Rich output written to a file or a pipe (Rich would assume 80)."""

_FALSE_WORDS = frozenset({"", "0", "false", "no"})


class Display(Protocol):
    """An event sink that may hold the terminal and must give it back in :meth:`close`."""

    def handle(self, event: Event) -> None:
        """Take one event. Must be quick: it runs on the event loop."""

    def close(self) -> None:
        """Release the terminal; called once after the run, however it ended."""


@dataclass(frozen=True, slots=True)
class Terminal:
    """What a stream is attached to, as far as output is concerned."""

    tty: bool
    """The stream is a terminal."""
    interactive: bool
    """A terminal a person watches: a TTY, ``CI`` unset and ``TERM`` not ``dumb``."""
    color: bool
    """Colour is wanted: an interactive terminal and ``NO_COLOR`` unset or empty."""


def inspect_terminal(stream: TextIO, env: Mapping[str, str]) -> Terminal:
    """Decide how to write to ``stream`` given the environment ``env``."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):  # a closed or file-like stream without a descriptor
        tty = False
    in_ci = env.get("CI", "").strip().lower() not in _FALSE_WORDS
    dumb = env.get("TERM", "").lower() == "dumb"
    interactive = tty and not in_ci and not dumb
    return Terminal(tty=tty, interactive=interactive, color=interactive and not env.get("NO_COLOR"))


def make_console(
    stream: TextIO, env: Mapping[str, str], terminal: Terminal | None = None
) -> Console:
    """A Rich console on ``stream`` that follows ``env`` rather than the process environment."""
    terminal = terminal or inspect_terminal(stream, env)
    return Console(
        file=stream,
        force_terminal=terminal.tty,
        no_color=not terminal.color,
        highlight=False,
        emoji=False,
        width=None if terminal.tty else NON_TERMINAL_WIDTH,
        _environ=dict(env),
    )


def styled_output(stream: TextIO, env: Mapping[str, str]) -> Console | TextIO:
    """A colour console when ``stream`` is a terminal that wants colour, else the bare stream
    (plain text, no control codes: CI logs, pipes, ``NO_COLOR``)."""
    terminal = inspect_terminal(stream, env)
    return make_console(stream, env, terminal) if terminal.color else stream


def choose_display(
    mode: str,
    stream: TextIO,
    env: Mapping[str, str],
    redact: Redactor,
    report_path: str | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
    show_output: bool = False,
) -> Display:
    """The display for ``--display MODE`` writing to ``stream``.

    Args:
        mode: one of :data:`DISPLAY_MODES`.
        stream: where the display writes (stderr when the report goes to stdout).
        env: the environment (``CI``, ``TERM``, ``NO_COLOR``, ``COLUMNS``, ...).
        redact: masks secrets in everything shown.
        report_path: the report file, named in the final summary.
        clock: monotonic seconds, for the live view's ticking times.
        show_output: the plain display prints each agent's output.

    Raises:
        ValueError: ``mode`` is not a display mode.
    """
    if mode not in DISPLAY_MODES:
        raise ValueError(f"unknown display mode {mode!r}; choose one of {', '.join(DISPLAY_MODES)}")
    terminal = inspect_terminal(stream, env)
    if mode == "auto":
        mode = "live" if terminal.interactive else "plain"
    if mode == "quiet":
        return QuietDisplay(stream, redact, report_path)
    if mode == "plain":
        return PlainDisplay(stream, redact, report_path, show_output=show_output)
    return LiveDisplay(make_console(stream, env, terminal), redact, report_path, clock=clock)
