"""``agentrun report``: the HTML page of a run, drawn after the fact from its files."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from agentrun.cli.flags import parse_deadline
from agentrun.outputs.files import STDOUT, check_targets, write_file
from agentrun.outputs.html_report import load_events, load_report, render_html

_Html = Annotated[
    str,
    typer.Option("--html", metavar="PATH", help="Write the HTML report here (- for stdout)."),
]

_Events = Annotated[
    Path | None,
    typer.Option(
        "--events", metavar="PATH", help="The run's --events log: real times on the timeline."
    ),
]

_Deadline = Annotated[
    str | None,
    typer.Option("--deadline", metavar="DURATION", help="Draw the run's deadline (e.g. 2m)."),
]


def report(
    report_file: Annotated[
        Path, typer.Argument(metavar="REPORT", help="A JSON report written by run --report.")
    ],
    html: _Html,
    events: _Events = None,
    deadline: _Deadline = None,
) -> int:
    """Render a run's JSON report (and its event log) as a self-contained HTML page."""
    data = load_report(report_file)
    timed = load_events(events) if events is not None else None
    check_targets({"html": html}, None)
    page = render_html(data, timed, parse_deadline(deadline))
    if html == STDOUT:
        print(page, end="")
        return 0
    try:
        write_file(Path(html), page)
    except OSError as exc:
        print(f"agentrun: error: cannot write {html}: {exc.strerror or exc}", file=sys.stderr)
        return 3
    return 0
