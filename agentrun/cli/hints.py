"""One-line messages for mistyped flags and commands, with a suggestion that helps."""

from __future__ import annotations

import difflib
from collections.abc import Collection

# Flags people reach for from other tools, and what agentrun calls the same thing.
# A suggestion is made only when its flag exists on the command at hand.
COMMON_MISTAKES: dict[str, str] = {
    "--quiet": "--display quiet",
    "-q": "--display quiet",
    "--silent": "--display quiet",
    "--plain": "--display plain",
    "--live": "--display live",
    "--no-live": "--display plain",
    "--json": "--report PATH",
    "--output": "--report PATH",
    "--out": "--report PATH",
    "-o": "--report PATH",
    "--xml": "--junit PATH",
    "--log": "--events PATH",
    "--jsonl": "--events PATH",
    "--offline": "--mock",
    "--dry-run": "--mock",
    "--fake": "--mock",
    "--env": "--env-file PATH",
    "--dotenv": "--env-file PATH",
    "--set": "--var KEY=VALUE",
    "--variable": "--var KEY=VALUE",
    "--vars": "--var KEY=VALUE",
    "-e": "--var KEY=VALUE",
    "--timeout": "--deadline DURATION",
    "--concurrency": "--max-concurrency N",
    "--parallel": "--max-concurrency N",
    "--jobs": "--max-concurrency N",
    "-j": "--max-concurrency N",
    "--prompt": "--input TEXT",
    "--text": "--input TEXT",
    "--stdin": "--input-file -",
    "--file": "--input-file PATH",
}


def suggest_flag(given: str, flags: Collection[str]) -> str | None:
    """What the user probably meant by ``given``, among the command's real ``flags``."""
    name = given.partition("=")[0]
    known = COMMON_MISTAKES.get(name)
    if known is not None:
        first = known.split()[0]
        if first in flags:
            return known
    close = difflib.get_close_matches(name, sorted(flags), n=1, cutoff=0.6)
    return close[0] if close else None


def suggest_command(given: str, commands: Collection[str]) -> str | None:
    """The closest command name, if one is close enough."""
    close = difflib.get_close_matches(given, sorted(commands), n=1, cutoff=0.6)
    return close[0] if close else None
