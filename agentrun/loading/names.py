"""Names a paradigm gives its agents, stages, imperatives and providers.

Instance labels are built from agent and stage names with separators (``a@stage``,
``a[0]``, ``a>backup``, ``a/judge:j#1``, ``rescue:a``); a name holding one of those
characters would make two different instances look alike in a report. Such agent
names, empty names and names with whitespace or control characters are refused; a
stage name only appears after ``@``, so it may hold anything but ``[``, ``]``, ``@``
and control characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from agentrun.loading.positions import Loc
from agentrun.loading.spec import Paradigm

RESERVED = "[]@>/:#"
"""Characters instance labels use as separators."""

_BAD_AGENT = re.compile(r"[\[\]@>/:#\s\x00-\x1f\x7f]")
_BAD_STAGE = re.compile(r"[\[\]@\x00-\x1f\x7f]")


def name_problem(name: str, *, stage: bool = False) -> str | None:
    """Why ``name`` cannot name an agent (or a stage), or ``None`` when it can."""
    if not name:
        return "a name cannot be empty"
    found = (_BAD_STAGE if stage else _BAD_AGENT).search(name)
    if found is None:
        return None
    char = found.group()
    shown = repr(char) if char.isspace() or not char.isprintable() else f"'{char}'"
    if stage:
        return f"stage name {name!r} contains {shown}; stage names cannot hold any of []@"
    return (
        f"agent name {name!r} contains {shown}; names cannot hold whitespace or any of {RESERVED}"
    )


def bad_names(paradigm: Paradigm) -> Iterator[tuple[Loc, str]]:
    """Each name of the paradigm that cannot be used, with where it is defined."""
    for name in paradigm.agents:
        problem = name_problem(str(name))
        if problem is not None:
            yield ("agents", name), problem
    for index, stage in enumerate(paradigm.stages or ()):
        if stage.name is not None and (problem := name_problem(stage.name, stage=True)):
            yield ("stages", index, "name"), problem
