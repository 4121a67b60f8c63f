"""``agentrun init``: write a starter paradigm that runs at once with ``--mock``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agentrun.scaffold import STARTER_PATTERNS, write_starter


def init(
    pattern: Annotated[
        str,
        typer.Argument(metavar="PATTERN", help=f"One of {', '.join(STARTER_PATTERNS)}."),
    ] = "independent",
    output: Annotated[
        Path,
        typer.Option("--output", "-o", metavar="FILE", help="Where to write the paradigm."),
    ] = Path("paradigm.yaml"),
) -> int:
    """Write a commented starter paradigm and the Python module its agents call.

    Refuses to overwrite either file. Run the result at once with --mock.
    """
    written = write_starter(pattern, output)
    print(f"wrote {written.paradigm} and {written.module}")
    print(f"next: agentrun run {written.paradigm} --mock")
    return 0
