"""The command line: parse flags, call :mod:`agentrun.api`, print, map to an exit code.

One module per command; no YAML, no asyncio and no network here.
"""

from __future__ import annotations

from agentrun.cli import describe, report, run, starter, validate
from agentrun.cli.app import app
from agentrun.cli.entry import main
from agentrun.dataset.commands import cache_app, compare

__all__ = ["app", "main"]

# The order of `agentrun --help`: first steps first.
for _command in (
    starter.init,
    run.run,
    validate.validate,
    describe.graph,
    describe.schema,
    describe.plugins,
    report.report,
    compare,
):
    app.command()(_command)
app.add_typer(cache_app, name="cache")
