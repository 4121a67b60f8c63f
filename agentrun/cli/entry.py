"""The console entry point: run the typer app, turn every expected error into one line."""

from __future__ import annotations

import os
import sys
from typing import Any

import typer

from agentrun.cli import completion
from agentrun.cli.app import build_command
from agentrun.cli.hints import suggest_command, suggest_flag
from agentrun.display import styled_output
from agentrun.display.problems import render_problems
from agentrun.errors import AgentrunError, SpecError

USAGE_EXIT = 2


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one-line errors for bad flags and files, exit codes per the contract.

    ``agentrun`` alone prints the help on standard output and exits 2 (no command
    was given); ``-h`` and ``--help`` print it and exit 0.
    """
    args = completion.with_shell(sys.argv[1:] if argv is None else argv, os.environ)
    completion.prepare(os.environ)
    command = build_command()
    try:
        if not args:
            # A first-time user typing `agentrun` wants the help, not an error box.
            command.main(args=["--help"], prog_name="agentrun", standalone_mode=False)
            code: Any = USAGE_EXIT
        else:
            code = command.main(args=args, prog_name="agentrun", standalone_mode=False)
    except typer.TyperException as exc:
        # Bad flags and arguments: one line, no usage box.
        print(f"agentrun: error: {_usage_message(exc)}", file=sys.stderr)
        code = USAGE_EXIT
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


def _usage_message(exc: typer.TyperException) -> str:
    """Click's message, with our own suggestion for an unknown flag or command."""
    kind = type(exc).__name__  # click or typer's vendored click: the same class names
    ctx = getattr(exc, "ctx", None)
    if kind == "NoSuchOption" and ctx is not None:
        given = str(getattr(exc, "option_name", ""))
        flags = {name for param in ctx.command.params for name in _names(param)}
        hint = suggest_flag(given, flags)
        message = f"No such option: {given}"
        return f"{message} (did you mean {hint}?)" if hint else message
    message = exc.format_message()
    if message.startswith("No such command") and "Did you mean" not in message and ctx:
        given = message.split("'")[1] if message.count("'") >= 2 else ""
        hint = suggest_command(given, ctx.command.list_commands(ctx))
        if hint:
            return f"{message} Did you mean '{hint}'?"
    return message


def _names(param: Any) -> list[str]:
    return [*getattr(param, "opts", ()), *getattr(param, "secondary_opts", ())]
