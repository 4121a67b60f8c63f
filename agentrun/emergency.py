"""The last resort of a run the event loop can no longer serve (a second signal).

When the loop is blocked (an ``async`` agent that never awaits) the watchdog thread
cannot cancel the run; on a second SIGINT or SIGTERM it runs this handler and exits
130. The handler kills the process groups of programs still running and writes the
report from what the events told so far, every agent not finished reported cancelled.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from agentrun.events.fold import AgentState, RunFold
from agentrun.graph.compiled import TaskGraph
from agentrun.outputs.files import write_file
from agentrun.outputs.json_report import render_report
from agentrun.providers import process_groups
from agentrun.redact import Redactor
from agentrun.results import RunResult, RunStatus


def partial_report_handler(
    graph: TaskGraph, fold: RunFold[AgentState], report: str | None, redact: Redactor
) -> Callable[[], None]:
    """A handler for :meth:`~agentrun.interrupts.InterruptGuard.on_emergency`.

    Args:
        graph: the graph being run.
        fold: a fold of the run's event stream (a sink on its bus): what is known.
        report: where ``--report`` goes (``-`` for standard output), if anywhere.
        redact: the run's secret masker.
    """
    started = time.monotonic()

    def handler() -> None:
        process_groups.kill_all()
        if report is None:
            return
        agents = fold.agent_results()
        result = RunResult(
            paradigm=graph.paradigm,
            pattern=graph.pattern,
            status=RunStatus.INTERRUPTED,
            duration_s=time.monotonic() - started,
            agents=tuple(agents),
            reason="interrupted",
            usage=fold.total_usage(),
        )
        text = render_report(result, redact)
        if report == "-":
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            write_file(Path(report), text)

    return handler
