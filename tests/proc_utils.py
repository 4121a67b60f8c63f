"""Helpers to tell whether a process still runs (a zombie counts as gone)."""

from __future__ import annotations

from pathlib import Path


def is_running(pid: int) -> bool:
    """Whether ``pid`` names a live process (not a zombie waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")
