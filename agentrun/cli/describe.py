"""Commands that describe without running: ``schema``, ``plugins`` and ``graph``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from agentrun import api
from agentrun.cli.completion import paradigm_files
from agentrun.display import make_console
from agentrun.display.graph_tree import graph_tree
from agentrun.errors import UsageError
from agentrun.graph.describe import GRAPH_FORMATS, describe_graph
from agentrun.graph.mermaid import graph_mermaid
from agentrun.loading.schema import paradigm_schema
from agentrun.plugins import format_registrations
from agentrun.registry import default_registry


def schema() -> int:
    """Print the JSON Schema of a paradigm file (for editors)."""
    print(json.dumps(paradigm_schema(), indent=2))
    return 0


def plugins() -> int:
    """List the provider types, checks and patterns: built-in and from installed plugins."""
    print(format_registrations(default_registry()))
    return 0


def graph(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="The paradigm file.", autocompletion=paradigm_files),
    ],
    mock: Annotated[
        bool, typer.Option("--mock", help="Show the graph as --mock would run it.")
    ] = False,
    output_format: Annotated[
        str,
        typer.Option("--format", metavar="FORMAT", help=f"One of {', '.join(GRAPH_FORMATS)}."),
    ] = "text",
) -> int:
    """Print the compiled task graph with each agent's worst-case time."""
    if output_format not in GRAPH_FORMATS:
        raise UsageError(
            f"--format must be one of {', '.join(GRAPH_FORMATS)}, got {output_format!r}"
        )
    compiled = api.compile_paradigm(file, api.RunOptions(mock=mock), for_run=False)
    if output_format == "tree":
        make_console(sys.stdout, os.environ).print(graph_tree(compiled))
    elif output_format == "mermaid":
        print(graph_mermaid(compiled))
    else:
        print(describe_graph(compiled))
    return 0
