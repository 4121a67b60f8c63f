"""Parsing of flag values shared by the commands: one-line usage errors, never tracebacks."""

from __future__ import annotations

import sys
from pathlib import Path

from agentrun.durations import parse_duration
from agentrun.errors import UsageError


def read_input(text: str | None, path: str | None) -> str | None:
    """The run's input from ``--input`` or ``--input-file`` (``-``: standard input).

    Standard input loses one trailing newline, as ``$(...)`` in a shell does: piping
    ``echo hello`` in gives ``hello``, the same as ``--input hello``.
    """
    if text is not None and path is not None:
        raise UsageError("use either --input or --input-file, not both")
    if path is None:
        return text
    if path == "-":
        data = sys.stdin.read()
        return data.removesuffix("\n").removesuffix("\r") if data.endswith("\n") else data
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--input-file: cannot read {path}: {exc}") from None


def parse_vars(pairs: list[str]) -> dict[str, str]:
    """``--var KEY=VALUE`` pairs as a mapping; a later key wins."""
    variables = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--var expects KEY=VALUE, got {pair!r}")
        variables[key.strip()] = value
    return variables


def parse_deadline(text: str | None) -> float | None:
    """``--deadline`` in seconds."""
    if text is None:
        return None
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"--deadline: {exc}") from None
