"""Names a paradigm refers to, checked on its raw data when the file has the wrong shape.

The semantic checks (:mod:`agentrun.loading.semantics`) need a validated paradigm, so a
file with a structural mistake would show its unknown agents and imperatives only once
that mistake is fixed. These checks read the interpolated document itself, wherever a
reference list and the mapping it refers to are well formed, and word each problem as
the semantic checks do, so a new user sees every mistake in one pass.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from agentrun.loading.positions import Loc
from agentrun.loading.semantics import Finding, hint

_Ref = tuple[Loc, Any, str]
"""Where a list of names sits, the value found there, and what it names."""


def check_raw_references(data: Mapping[str, Any]) -> list[Finding]:
    """Unknown agents and imperatives that ``data`` refers to, each once.

    Args:
        data: the interpolated top-level mapping (a paradigm that failed validation).

    Returns:
        One finding per name that is not a key of the raw ``agents:`` or
        ``imperatives:`` mapping; references whose target mapping is malformed are
        skipped, as are entries that are not strings (validation reports those).
    """
    known = {
        "agent": _names_of(data.get("agents")),
        "imperative": _names_of(data.get("imperatives", {})),
    }
    findings: list[Finding] = []
    for loc, value, what in _references(data):
        names = known[what]
        if names is None:
            continue
        for index, name in _listed(value, loc):
            if isinstance(name, str) and name not in names:
                where = (*loc, index) if isinstance(index, int) else loc
                message = f"unknown {what} {name!r}{hint(name, names, what=what + 's')}"
                findings.append(Finding(where, message))
    return list(dict.fromkeys(findings))


def _names_of(section: object) -> list[str] | None:
    """The string keys of a mapping, or ``None`` when it is not one."""
    if not isinstance(section, dict):
        return None
    return [key for key in section if isinstance(key, str)]


def _listed(value: object, loc: Loc) -> list[tuple[int | None, object]]:
    """The items of a list of names (by index), or the one name of a ``judge.agent``."""
    if loc[-1] == "agent":
        return [(None, value)]
    return list(enumerate(value)) if isinstance(value, list) else []


def _references(data: Mapping[str, Any]) -> Iterator[_Ref]:
    """Every place that lists agents or imperatives by name, as the semantic checks see it."""
    for name, agent in _items(data.get("agents")):
        yield ("agents", name, "imperatives"), agent.get("imperatives"), "imperative"
        yield ("agents", name, "fallback"), agent.get("fallback"), "agent"
    defaults = data.get("defaults")
    if isinstance(defaults, dict):
        yield ("defaults", "imperatives"), defaults.get("imperatives"), "imperative"
    winner = data.get("winner")
    if isinstance(winner, dict):
        yield ("winner", "imperatives"), winner.get("imperatives"), "imperative"
    for name, imperative in _items(data.get("imperatives")):
        judge = imperative.get("judge")
        if isinstance(judge, dict) and "agent" in judge:
            yield ("imperatives", name, "judge", "agent"), judge["agent"], "agent"
    yield ("fallback",), data.get("fallback"), "agent"
    yield ("run",), data.get("run"), "agent"
    stages = data.get("stages")
    for index, stage in enumerate(stages if isinstance(stages, list) else ()):
        if isinstance(stage, dict):
            yield ("stages", index, "agents"), stage.get("agents"), "agent"


def _items(section: object) -> Iterator[tuple[str, dict[str, Any]]]:
    """The entries of a mapping of named mappings (agents, imperatives) that are mappings."""
    if isinstance(section, dict):
        for name, entry in section.items():
            if isinstance(name, str) and isinstance(entry, dict):
                yield name, entry
