"""The process groups of programs still running, for a last-resort kill.

A cancelled ``command`` agent kills its own group from the event loop; when the loop
cannot run (a second Ctrl-C while it is blocked), the interrupt watchdog's emergency
handler kills every group registered here instead, from its own thread.
"""

from __future__ import annotations

import os
import signal
import weakref
from typing import Protocol


class _Started(Protocol):
    @property
    def pid(self) -> int: ...


_live: weakref.WeakSet[_Started] = weakref.WeakSet()
# Weak: a process object forgotten by its agent is finished with; the set never grows.


def register(process: _Started) -> None:
    """Remember the group led by ``process`` (started with ``start_new_session``)."""
    _live.add(process)


def kill_all() -> int:
    """SIGKILL every registered group that is still there; safe from any thread.

    Returns:
        How many groups were signalled.
    """
    killed = 0
    for process in list(_live):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue  # the whole group has exited
        killed += 1
    return killed
