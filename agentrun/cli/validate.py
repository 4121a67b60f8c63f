"""``agentrun validate``: check paradigm files without running them."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from agentrun import api
from agentrun.cli.completion import paradigm_files
from agentrun.discovery import discover_paradigms, looks_like_paradigm
from agentrun.display import styled_output
from agentrun.display.problems import SourceCache, render_problems
from agentrun.errors import Severity


def validate(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="PATH", help="Paradigm files or folders.", autocompletion=paradigm_files
        ),
    ],
    offline: Annotated[
        bool,
        typer.Option(
            "--offline", help="Run no user code: find python modules without importing them."
        ),
    ] = False,
    only_paradigms: Annotated[
        bool,
        typer.Option(
            "--only-paradigms",
            help="Leave out named YAML files without a top-level agents: key, as a folder "
            "search does (for commit hooks given every changed YAML file).",
        ),
    ] = False,
) -> int:
    """Check paradigm files without running them. Exit 0 all valid, 1 any invalid.

    Folders are searched for *.yaml and *.yml files with a top-level agents: key;
    hidden folders, node_modules and virtual environments are skipped.
    """
    found = discover_paradigms(paths)
    files, skipped_count = list(found.files), found.skipped
    if only_paradigms:
        files = [path for path in found.files if looks_like_paradigm(path)]
        skipped_count += len(found.files) - len(files)
    verdicts = api.validate(files, offline=offline)
    errors = styled_output(sys.stderr, os.environ)
    warnings = styled_output(sys.stdout, os.environ)
    sources = SourceCache()
    for verdict in verdicts:
        for problem in verdict.problems:
            out = errors if problem.severity is Severity.ERROR else warnings
            render_problems([problem], out, sources)
        print(f"{verdict.path}: {'ok' if verdict.valid else 'invalid'}", flush=True)
    invalid = sum(1 for v in verdicts if not v.valid)
    skipped = f", {skipped_count} skipped" if skipped_count else ""
    print(f"{len(verdicts) - invalid} valid, {invalid} invalid{skipped}")
    return 1 if invalid else 0
