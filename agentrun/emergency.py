"""The last resort of a run the event loop can no longer serve (a second signal).

When the loop is blocked (an ``async`` agent that never awaits) the watchdog thread
cannot cancel the run; on a second SIGINT or SIGTERM it runs this handler and exits
130. The handler kills the process groups of programs still running and writes the
report from what the events told so far, every agent not finished reported cancelled.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from agentrun.events.recorder import RunRecorder
from agentrun.graph.compiled import TaskGraph
from agentrun.outputs.json_report import render_report
from agentrun.providers import process_groups
from agentrun.redact import Redactor
from agentrun.results import RunResult, RunStatus


def partial_report_handler(
    graph: TaskGraph, recorder: RunRecorder, report: str | None, redact: Redactor
) -> Callable[[], None]:
    """A handler for :meth:`~agentrun.interrupts.InterruptGuard.on_emergency`.

    Args:
        graph: the graph being run.
        recorder: an event sink on the run's bus, holding what is known.
        report: where ``--report`` goes (``-`` for standard output), if anywhere.
        redact: the run's secret masker.
    """
    started = time.monotonic()

    def handler() -> None:
        process_groups.kill_all()
        if report is None:
            return
        agents = recorder.agent_results()
        result = RunResult(
            paradigm=graph.paradigm,
            pattern=graph.pattern,
            status=RunStatus.INTERRUPTED,
            duration_s=time.monotonic() - started,
            agents=tuple(agents),
            reason="interrupted",
            usage=recorder.total_usage(agents),
        )
        text = render_report(result, redact)
        if report == "-":
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            write_atomically(Path(report), text)

    return handler


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file renamed over it: a reader sees
    the old file or the whole new one, never a part."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
