"""Shell completion: ``--show-completion`` and ``--install-completion`` for bash, zsh
and fish, and paradigm files offered for FILE arguments.

The scripts are typer's (from its private modules: typer has no public API for
them that takes the shell as given); they call ``agentrun`` back with ``_AGENTRUN_COMPLETE`` set
(``complete_bash``, ``complete_zsh``, ``complete_fish``), which click answers before
running any command. typer's completion machinery is imported only then, so that
``agentrun --help`` stays as cheap as before.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer


class Shell(StrEnum):
    """The shells completion is offered for."""

    bash = "bash"
    zsh = "zsh"
    fish = "fish"


COMPLETE_VAR = "_AGENTRUN_COMPLETE"
_FLAGS = ("--show-completion", "--install-completion")


def with_shell(args: list[str], env: dict[str, str] | os._Environ[str]) -> list[str]:
    """``--show-completion`` / ``--install-completion`` given no shell take ``$SHELL``'s."""
    out = list(args)
    for index, arg in enumerate(out):
        if arg in _FLAGS and (index + 1 == len(out) or out[index + 1].startswith("-")):
            out.insert(index + 1, Path(env.get("SHELL", "")).name or "(no $SHELL)")
            break
    return out


def prepare(env: dict[str, str] | os._Environ[str]) -> None:
    """Register typer's completion classes when the shell asks for completions."""
    if env.get(COMPLETE_VAR):
        from typer._completion_classes import completion_init

        completion_init()


def show(ctx: Any, param: Any, shell: Shell | None) -> None:
    """Print the completion script of ``shell``."""
    if shell is None or ctx.resilient_parsing:
        return
    from typer._completion_shared import get_completion_script

    print(get_completion_script(prog_name="agentrun", complete_var=COMPLETE_VAR, shell=shell.value))
    raise typer.Exit()


def install(ctx: Any, param: Any, shell: Shell | None) -> None:
    """Write the completion script of ``shell`` where the shell loads it."""
    if shell is None or ctx.resilient_parsing:
        return
    from typer._completion_shared import install as install_script

    _, path = install_script(shell=shell.value, prog_name="agentrun", complete_var=COMPLETE_VAR)
    print(f"{shell.value} completion installed in {path}; it takes effect in a new shell")
    raise typer.Exit()


def paradigm_files(incomplete: str) -> list[str]:
    """Folders and ``*.yaml`` / ``*.yml`` files whose path starts with ``incomplete``."""
    folder, _, stem = incomplete.rpartition("/")
    base = Path(folder + "/" if folder or incomplete.startswith("/") else ".")
    try:
        entries = sorted(base.iterdir())
    except OSError:
        return []
    found = []
    for entry in entries:
        name = entry.name
        if not name.startswith(stem) or (name.startswith(".") and not stem.startswith(".")):
            continue
        shown = f"{folder}/{name}" if folder or incomplete.startswith("/") else name
        if entry.is_dir():
            found.append(shown + "/")
        elif entry.suffix in (".yaml", ".yml"):
            found.append(shown)
    return found
