"""The ``agentrun`` console entry point: signal handling first, then the command line.

SIGINT and SIGTERM are caught before anything else is even imported, so a signal at
any moment, start-up included, ends in exit 130 without a traceback. Once the command
has finished, a late signal can no longer cut the exit short: the streams are flushed
and the process ends with the command's code, or 130 if a signal came meanwhile.
"""

from __future__ import annotations

import signal
import sys

_signalled: list[int] = []
"""Signals received while the command line was being imported."""


def _early(signum: int, frame: object) -> None:
    # Raising here would interrupt an import anywhere, finalizers included ("Exception
    # ignored ... Traceback"): the signal is noted and acted on once imports are done.
    _signalled.append(signum)


def main() -> None:
    """Install the interrupt guard, then run the command line and exit with its code."""
    try:
        # Cheap handlers first: importing the command line takes a while.
        signal.signal(signal.SIGINT, _early)
        signal.signal(signal.SIGTERM, _early)
        from agentrun.cli import main as cli_main
        from agentrun.interrupts import guard

        guard().install()
        if _signalled:  # one came while importing: the guard now owns what comes next
            raise KeyboardInterrupt
        cli_main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        code = 130
    _exit(code)


def _exit(code: int) -> None:
    """End the process now: Python's own shutdown would reset the signal handlers, and a
    signal landing then would kill the process with a signal instead of exit 130."""
    import os

    from agentrun.interrupts import INTERRUPTED_EXIT, guard

    guard().exiting()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass  # a closed or broken stream has nothing left to give
    os._exit(INTERRUPTED_EXIT if guard().received and code == 0 else code)
