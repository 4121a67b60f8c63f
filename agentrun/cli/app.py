"""The typer application every command module registers on, and its root options."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from agentrun import __version__
from agentrun.cli import completion

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Run multi-agent paradigms: independent, pipeline, competitive and exchange patterns.\n\n"
    "Start with: agentrun init, then agentrun run paradigm.yaml --mock",
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
    install_completion: Annotated[
        completion.Shell | None,
        typer.Option(
            "--install-completion",
            metavar="SHELL",
            callback=completion.install,
            is_eager=True,
            expose_value=False,
            help="Install completion for bash, zsh or fish (default: $SHELL).",
        ),
    ] = None,
    show_completion: Annotated[
        completion.Shell | None,
        typer.Option(
            "--show-completion",
            metavar="SHELL",
            callback=completion.show,
            is_eager=True,
            expose_value=False,
            help="Print the completion script of bash, zsh or fish (default: $SHELL).",
        ),
    ] = None,
) -> None:
    """Run multi-agent paradigms."""


def build_command() -> Any:
    """The click command of :data:`app`, its arguments' help showing only their metavar."""
    command = typer.main.get_command(app)
    for sub in getattr(command, "commands", {}).values():
        for param in sub.params:
            if param.param_type_name == "argument" and hasattr(param, "display_type"):
                # Newer typer appends the Python type (`FILE <list[str]>`); the metavar says it.
                param.display_type = _no_type
    return command


def _no_type(ctx: object = None) -> str:
    return ""
