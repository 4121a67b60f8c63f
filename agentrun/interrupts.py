"""SIGINT and SIGTERM at any moment: exit 130, no traceback, and nothing already known lost.

How a signal is handled depends on what the process is doing:

* **start-up and loading**: the signal raises :class:`KeyboardInterrupt` in the main
  thread; the command line turns it into exit 130 without a traceback;
* **a run**: a watchdog thread hears the signal through the interpreter's wakeup file
  descriptor, so it is heard even while the event loop is blocked, and cancels the
  run on its loop; agents are cancelled, processes killed, the report written, exit 130;
* **writing outputs** (a protected section): the signal is deferred to the end of the
  section, so a report being written is finished, then the process exits 130;
* **a second signal** while the first is still being handled (a blocked loop, a slow
  clean-up): the watchdog runs the emergency handlers (the partial report from what
  is known, killing child process groups) and ends the process at once with 130.

Python runs signal handlers only between bytecodes of the main thread, and no thread
can run while a single C call holds the interpreter lock; that is why templates and
loading are bounded in time and size elsewhere: this module makes sure the *next*
chance to act is taken.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # asyncio is imported by the engine, not at start-up
    import asyncio

INTERRUPTED_EXIT = 130
"""The exit code of an interrupted process, whichever signal interrupted it."""

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class InterruptGuard:
    """Owns the process's SIGINT and SIGTERM handling; see the module docstring."""

    def __init__(self, exit_now: Callable[[int], Any] = os._exit) -> None:
        self._exit_now = exit_now
        self._lock = threading.Lock()
        self.received = 0
        """Signals received so far."""
        self._run: tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]] | None = None
        self._protected = 0
        self._deferred = False
        self._emergency: list[Callable[[], None]] = []
        self._installed = False
        self._exiting = False

    def install(self) -> bool:
        """Take over SIGINT and SIGTERM; only possible from the main thread.

        Returns:
            Whether the handlers were installed (false in another thread, where the
            embedding program keeps its own signal handling).
        """
        if self._installed:
            return True
        if threading.current_thread() is not threading.main_thread():
            return False
        read_end, write_end = os.pipe()
        os.set_blocking(write_end, False)
        signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
        for signum in SIGNALS:
            signal.signal(signum, self._on_signal)
        watchdog = threading.Thread(
            target=self._watch, args=(read_end,), name="agentrun-signals", daemon=True
        )
        watchdog.start()
        self._installed = True
        return True

    @contextmanager
    def running(self, task: asyncio.Task[Any]) -> Iterator[None]:
        """While the block runs, a signal cancels ``task`` (once) on its event loop."""
        loop = task.get_loop()
        with self._lock:
            self._run = (loop, task)
            pending = self.received > 0
        if pending:
            _cancel_once(task)  # a signal arrived just before the run began
        try:
            yield
        finally:
            with self._lock:
                self._run = None

    @contextmanager
    def protected(self) -> Iterator[None]:
        """Defer signals until the block ends (outputs being written); then raise
        :class:`KeyboardInterrupt` if one came."""
        with self._lock:
            self._protected += 1
        try:
            yield
        finally:
            with self._lock:
                self._protected -= 1
                deferred = self._deferred and self._protected == 0
                if deferred:
                    self._deferred = False
            if deferred:
                raise KeyboardInterrupt

    @contextmanager
    def on_emergency(self, handler: Callable[[], None]) -> Iterator[None]:
        """Run ``handler`` (from the watchdog thread) if a second signal forces an exit."""
        self._emergency.append(handler)
        try:
            yield
        finally:
            self._emergency.remove(handler)

    def exiting(self) -> None:
        """The command is over: from now on a signal is only counted (the exit code says it)."""
        with self._lock:
            self._exiting = True
            self._emergency.clear()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        """The main thread's handler: interrupts start-up, loading and waiting."""
        with self._lock:
            if self._exiting:
                self.received = max(self.received, 1)
                return
            if self._run is not None:
                return  # the watchdog cancels the run on its loop
            if self._protected:
                self._deferred = True
                return
        raise KeyboardInterrupt

    def _watch(self, read_end: int) -> None:
        while True:
            try:
                data = os.read(read_end, 64)
            except OSError:
                return
            if not data:
                return
            for _ in data:
                self._signalled()

    def _signalled(self) -> None:
        with self._lock:
            self.received += 1
            second = self.received >= 2 and not self._exiting
            run = self._run
        if second:
            self._escalate()
        elif run is not None:
            loop, task = run
            try:
                loop.call_soon_threadsafe(_cancel_once, task)
            except RuntimeError:
                pass  # the loop has just closed: the run is over anyway

    def _escalate(self) -> None:
        for handler in list(self._emergency):
            try:
                handler()
            except Exception as exc:  # the exit must happen whatever a handler does
                sys.stderr.write(f"agentrun: emergency handler failed: {exc}\n")
        sys.stderr.write("agentrun: interrupted again; stopping now\n")
        try:
            sys.stderr.flush()
            sys.stdout.flush()
        except Exception:
            pass  # a closed or broken stream must not keep the process alive
        self._exit_now(INTERRUPTED_EXIT)


def _cancel_once(task: asyncio.Task[Any]) -> None:
    if not task.done() and not task.cancelling():
        task.cancel()


_guard: InterruptGuard | None = None


def guard() -> InterruptGuard:
    """The process's guard, created on first use (installing it is the caller's choice)."""
    global _guard
    if _guard is None:
        _guard = InterruptGuard()
    return _guard
