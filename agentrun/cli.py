"""The command line: parse flags, call :mod:`agentrun.api`, print, map to an exit code.

No YAML, no asyncio and no network here.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from agentrun import __version__, api
from agentrun.display import DISPLAY_MODES, make_console, styled_output
from agentrun.display.graph_tree import graph_tree
from agentrun.display.problems import SourceCache, render_problems
from agentrun.durations import parse_duration
from agentrun.errors import AgentrunError, Severity, SpecError, UsageError
from agentrun.graph.describe import GRAPH_FORMATS, describe_graph
from agentrun.graph.mermaid import graph_mermaid
from agentrun.loading.schema import paradigm_schema
from agentrun.plugins import format_registrations
from agentrun.registry import default_registry

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Run multi-agent paradigms: independent, pipeline and competitive patterns.",
)


def _version(value: bool) -> None:
    if value:
        print(f"agentrun {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Run multi-agent paradigms."""


@app.command()
def run(
    file: Annotated[Path, typer.Argument(help="The paradigm file.")],
    input_text: Annotated[
        str | None, typer.Option("--input", help="Input text (replaces the paradigm's input).")
    ] = None,
    input_file: Annotated[
        str | None, typer.Option("--input-file", help="Read the input from a file, or - for stdin.")
    ] = None,
    var: Annotated[
        list[str] | None, typer.Option("--var", help="Template variable KEY=VALUE (repeatable).")
    ] = None,
    mock: Annotated[
        bool, typer.Option("--mock", help="Swap openai, anthropic and http providers for the mock.")
    ] = False,
    env_file: Annotated[
        str | None,
        typer.Option("--env-file", help="Read KEY=VALUE variables for ${VAR} from this file."),
    ] = None,
    report: Annotated[
        str | None, typer.Option("--report", help="Write the JSON report here (- for stdout).")
    ] = None,
    events: Annotated[
        str | None, typer.Option("--events", help="Write every event as JSON lines here.")
    ] = None,
    junit: Annotated[
        str | None, typer.Option("--junit", help="Write JUnit XML here (one testcase per agent).")
    ] = None,
    display: Annotated[
        str, typer.Option("--display", help=f"One of {', '.join(DISPLAY_MODES)}.")
    ] = "auto",
    max_concurrency: Annotated[
        int | None,
        typer.Option("--max-concurrency", min=1, help="At most N provider calls in flight."),
    ] = None,
    deadline: Annotated[
        str | None, typer.Option("--deadline", help="Time limit of the whole pattern (e.g. 2m).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed of the retry jitter, for reproducibility.")
    ] = None,
    rounds: Annotated[
        int | None, typer.Option("--rounds", help="Replace an exchange's rounds (1: no exchange).")
    ] = None,
) -> int:
    """Run a paradigm. Exit 0 passed, 1 an imperative was violated, 3 errors or timeouts,
    2 invalid paradigm or flags, 130 interrupted."""
    if display not in DISPLAY_MODES:
        raise UsageError(f"--display must be one of {', '.join(DISPLAY_MODES)}, got {display!r}")
    options = api.RunOptions(
        input_text=_read_input(input_text, input_file),
        variables=_parse_vars(var or []),
        mock=mock,
        report=report,
        events=events,
        junit=junit,
        display=display,
        max_concurrency=max_concurrency,
        deadline=_parse_deadline(deadline),
        seed=seed,
        env_file=env_file,
        rounds=rounds,
    )
    return api.run(file, options).exit_code


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Paradigm files or folders.")],
) -> int:
    """Check paradigm files without running them. Exit 0 all valid, 1 any invalid."""
    verdicts = api.validate(paths)
    errors = styled_output(sys.stderr, os.environ)
    warnings = styled_output(sys.stdout, os.environ)
    sources = SourceCache()
    for verdict in verdicts:
        for problem in verdict.problems:
            out = errors if problem.severity is Severity.ERROR else warnings
            render_problems([problem], out, sources)
        print(f"{verdict.path}: {'ok' if verdict.valid else 'invalid'}", flush=True)
    invalid = sum(1 for v in verdicts if not v.valid)
    print(f"{len(verdicts) - invalid} valid, {invalid} invalid")
    return 1 if invalid else 0


@app.command()
def schema() -> int:
    """Print the JSON Schema of a paradigm file (for editors)."""
    print(json.dumps(paradigm_schema(), indent=2))
    return 0


@app.command()
def plugins() -> int:
    """List the provider types, checks and patterns: built-in and from installed plugins."""
    print(format_registrations(default_registry()))
    return 0


@app.command()
def graph(
    file: Annotated[Path, typer.Argument(help="The paradigm file.")],
    mock: Annotated[
        bool, typer.Option("--mock", help="Show the graph as --mock would run it.")
    ] = False,
    output_format: Annotated[
        str, typer.Option("--format", help=f"One of {', '.join(GRAPH_FORMATS)}.")
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


def _read_input(text: str | None, path: str | None) -> str | None:
    if text is not None and path is not None:
        raise UsageError("use either --input or --input-file, not both")
    if path is None:
        return text
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--input-file: cannot read {path}: {exc}") from None


def _parse_vars(pairs: list[str]) -> dict[str, str]:
    variables = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--var expects KEY=VALUE, got {pair!r}")
        variables[key.strip()] = value
    return variables


def _parse_deadline(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"--deadline: {exc}") from None


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one-line errors for bad flags and files, exit codes per the contract."""
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="agentrun", standalone_mode=False)
    except typer.TyperException as exc:
        # Bad flags and arguments: one line, no usage box.
        hint = " (see agentrun --help)" if not argv and len(sys.argv) < 2 else ""
        print(f"agentrun: error: {exc.format_message()}{hint}", file=sys.stderr)
        code = 2
    except SpecError as exc:
        render_problems(exc.problems, styled_output(sys.stderr, os.environ))
        code = exc.exit_code
    except AgentrunError as exc:
        print(f"agentrun: error: {exc}", file=sys.stderr)
        code = exc.exit_code
    except typer.Exit as exc:
        code = exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        code = 130
    sys.exit(code if isinstance(code, int) else 0)
