"""Where the run's outputs go: checked before the run, written safely after it.

* Paths are checked up front (exit 2): at most one output may be ``-`` (standard
  output, which then carries nothing else: the display moves to stderr), no output
  may be the paradigm file or share a path with another, and a file's folder must
  be writable (it is created if missing).
* The report, the JUnit XML and the HTML page are written after the run, each *atomically*: to a
  temporary file in the same folder, flushed to disk, then renamed over the target,
  so the file on disk is always the previous one or a complete new one. Devices
  (``/dev/null``, ``/dev/full``) and FIFOs cannot be renamed over: they are written
  directly, a FIFO opened without blocking (no reader: an error, not a hang).
* The ``--events`` log is a log: written as events happen (so a killed run keeps
  every event up to its end), straight to its file. A FIFO is opened without
  blocking before the run starts; without a reader that is an error up front.
* A write that fails (disk full, ``/dev/full``, EIO) is one line on stderr naming
  the file and the reason; the other outputs are still written and the run's exit
  code becomes 3 unless it was already worse.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from agentrun.errors import UsageError
from agentrun.outputs.event_log import EventLog
from agentrun.outputs.html_report import TimelineRecorder, render_run_html
from agentrun.outputs.json_report import render_report
from agentrun.outputs.junit import render_junit
from agentrun.outputs.step_summary import STEP_SUMMARY_VARIABLE, append_step_summary
from agentrun.redact import Redactor
from agentrun.results import RunResult

STDOUT = "-"
_FLAGS = {"report": "--report", "junit": "--junit", "events": "--events", "html": "--html"}


@dataclass(frozen=True, slots=True)
class OutputTargets:
    """The outputs a run was asked for: paths, ``-`` for standard output, or ``None``."""

    report: str | None = None
    junit: str | None = None
    events: str | None = None
    html: str | None = None

    def requested(self) -> dict[str, str]:
        """Kind → target, for the outputs asked for."""
        pairs = (
            ("report", self.report),
            ("junit", self.junit),
            ("events", self.events),
            ("html", self.html),
        )
        return {kind: target for kind, target in pairs if target is not None}

    @property
    def to_stdout(self) -> bool:
        """Whether an output claims standard output (the display then uses stderr)."""
        return STDOUT in self.requested().values()


class RunOutputs:
    """The outputs of one run: checked on creation, the event log open during the run."""

    def __init__(self, targets: OutputTargets, paradigm: Path | None, stdout: TextIO) -> None:
        """Check every target before anything runs.

        Raises:
            UsageError: two outputs claim stdout or one path, an output is the
                paradigm, or a folder cannot be written.
        """
        self.targets = targets
        self._stdout = stdout
        self._errors: list[str] = []
        self._mode = _new_file_mode()
        check_targets(targets.requested(), paradigm)
        self._events: TextIO | None = None
        self.event_log: EventLog | None = None
        self._timeline: TimelineRecorder | None = None
        self._deadline: float | None = None

    def record_timeline(self, redact: Redactor, deadline: float | None) -> TimelineRecorder | None:
        """The sink keeping the events' times for ``--html``, or ``None`` if not asked for."""
        if self.targets.html is None:
            return None
        self._deadline = deadline
        self._timeline = TimelineRecorder(redact)
        return self._timeline

    def open_event_log(self, redact: Redactor) -> EventLog | None:
        """The ``--events`` sink, opened now (before the run), or ``None``.

        Raises:
            UsageError: the file or FIFO cannot be opened.
        """
        target = self.targets.events
        if target is None:
            return None
        if target == STDOUT:
            stream = self._stdout
        else:
            try:
                stream = self._events = open_stream(Path(target))
            except OSError as exc:
                raise UsageError(f"cannot write {target}: {_reason(exc)}") from None
        self.event_log = EventLog(stream, redact)
        return self.event_log

    def finish(
        self,
        result: RunResult,
        redact: Redactor,
        stderr: TextIO,
        env: Mapping[str, str],
    ) -> tuple[str, ...]:
        """Write the report, the JUnit XML, the HTML and the step summary; close the event log.

        Returns:
            One line per output that could not be written (each also printed on stderr).
        """
        self._close_events()
        renderers: dict[str, Callable[[], str]] = {
            "report": lambda: render_report(result, redact),
            "junit": lambda: render_junit(result, redact),
            "html": lambda: render_run_html(
                result, redact, self._timeline.events if self._timeline else None, self._deadline
            ),
        }
        for kind, render in renderers.items():
            target = getattr(self.targets, kind)
            if target is not None:
                self._write(target, render)
        report = self.targets.report
        _step_summary(result, redact, stderr, env, None if report in (None, STDOUT) else report)
        for line in self._errors:
            stderr.write(f"agentrun: error: {line}\n")
        stderr.flush()
        return tuple(self._errors)

    def close(self) -> None:
        """Close the event log if the run never got to :meth:`finish`."""
        with contextlib.suppress(OSError):
            self._close_events()

    def _close_events(self) -> None:
        log, stream = self.event_log, self._events
        self._events = None
        if stream is not None:
            try:
                stream.close()
            except OSError as exc:
                if log is not None and log.error is None:
                    log.error = _reason(exc)
        if log is not None and log.error is not None:
            self._errors.append(f"cannot write {self.targets.events}: {log.error}")
            log.error = None

    def _write(self, target: str, render: Callable[[], str]) -> None:
        try:
            text = render()
            if target == STDOUT:
                self._stdout.write(text)
                self._stdout.flush()
            else:
                write_file(Path(target), text, self._mode)
        except (OSError, ValueError) as exc:
            self._errors.append(f"cannot write {target}: {_reason(exc)}")


def write_file(path: Path, text: str, mode: int = 0o644) -> None:
    """Write ``text`` to ``path``: atomically for a regular file, directly for a
    device or FIFO (which cannot be renamed over).

    Raises:
        OSError: the text could not be written whole.
    """
    try:
        existing = path.stat()
    except FileNotFoundError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        with open_stream(path) as stream:
            stream.write(text)
        return
    if existing is not None:
        mode = stat.S_IMODE(existing.st_mode)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with open(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def open_stream(path: Path) -> TextIO:
    """Open for writing without ever blocking on a FIFO that has no reader."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        is_fifo = stat.S_ISFIFO(path.stat().st_mode)
    except FileNotFoundError:
        is_fifo = False
    if not is_fifo:
        flags |= os.O_TRUNC
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a FIFO nobody reads
            raise OSError(exc.errno, "no process is reading this FIFO") from None
        raise
    os.set_blocking(fd, True)  # a slow reader slows the writes, it does not fail them
    return open(fd, "w", encoding="utf-8")


def check_targets(targets: Mapping[str, str], paradigm: Path | None) -> None:
    """Refuse clashing targets and unwritable folders before the run (exit 2).

    Args:
        targets: output kind (``report``, ``junit``, ``events``) to path or ``-``.
        paradigm: the paradigm file, which no output may overwrite.

    Raises:
        UsageError: two outputs claim stdout or one path, or a folder cannot be written.
    """
    claims = [_FLAGS[kind] for kind, target in targets.items() if target == STDOUT]
    if len(claims) > 1:
        raise UsageError(f"only one output may go to standard output (-): {', '.join(claims)}")
    seen: dict[str, str] = {}
    for kind, target in targets.items():
        if target == STDOUT:
            continue
        path = Path(target)
        if paradigm is not None and _same_file(path, paradigm):
            raise UsageError(f"{_FLAGS[kind]} {target} would overwrite the paradigm file")
        key = str(path.resolve())
        if key in seen and not _is_device(path):
            raise UsageError(f"{seen[key]} and {_FLAGS[kind]} both write {target}")
        seen[key] = _FLAGS[kind]
        _check_writable(path)


def _check_writable(path: Path) -> None:
    try:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if path.parent != Path():
            path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() and not os.access(path.parent, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {_reason(exc)}") from None


def _same_file(path: Path, other: Path) -> bool:
    try:
        return path.exists() and os.path.samefile(path, other)
    except OSError:
        return False


def _is_device(path: Path) -> bool:
    try:
        return stat.S_ISCHR(path.stat().st_mode)
    except OSError:
        return False


def _step_summary(
    result: RunResult,
    redact: Redactor,
    stderr: TextIO,
    env: Mapping[str, str],
    report: str | None,
) -> None:
    """Append to ``GITHUB_STEP_SUMMARY``: a CI nicety whose failure only warns."""
    step_summary = env.get(STEP_SUMMARY_VARIABLE)
    if not step_summary:
        return
    try:
        append_step_summary(Path(step_summary), result, redact, report)
    except OSError as exc:
        stderr.write(
            f"agentrun: warning: cannot write {STEP_SUMMARY_VARIABLE} "
            f"({step_summary}): {exc.strerror or exc}\n"
        )


def _new_file_mode() -> int:
    """The mode a new file gets under the umask (a temporary file starts at 0600)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)
