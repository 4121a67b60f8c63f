"""Which variables the paradigm's templates read, and whether every case provides them.

A case that lacks a variable some template needs is an error before anything runs
(``cases.jsonl:9: case has no 'expected' (used at paradigm.yaml:12:15)``); a case
variable that no template reads is a warning (likely a typo).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any

import jinja2
from jinja2 import nodes

from agentrun.dataset.cases import CaseSet
from agentrun.loading.positions import Loc, Positions
from agentrun.templates import TemplateEngine

_SKIPPED = frozenset({"cases", "description"})


def var_uses(data: Any, positions: Positions, shown: str) -> dict[str, str]:
    """``vars.NAME`` of every template in the document, with its first position."""
    engine = TemplateEngine()
    uses: dict[str, str] = {}
    for loc, source in _strings(data, ()):
        if "{{" not in source and "{%" not in source:
            continue
        try:
            tree = engine.parse(source)
        except jinja2.TemplateSyntaxError:
            continue  # the loader reports it
        for name, line in _vars_read(tree):
            if name not in uses:
                pos = positions.locate_in_text(loc, line)
                uses[name] = f"{shown}:{pos.line}:{pos.column}"
    return uses


def case_problems(
    case_set: CaseSet,
    uses: Mapping[str, str],
    provided: Collection[str],
    imperatives: Collection[str],
) -> tuple[list[str], list[str]]:
    """(errors, warnings) of the cases against the templates: a missing variable, an
    unknown imperative; a variable nobody reads (warned once per name)."""
    errors: list[str] = []
    warnings: list[str] = []
    needed = [name for name in uses if name not in provided]
    unused: set[str] = set()
    for case in case_set.cases:
        where = f"{case_set.source}:{case.line}"
        for name in needed:
            if name not in case.vars:
                errors.append(f"{where}: case has no {name!r} (used at {uses[name]})")
        for name in case.imperatives:
            if name not in imperatives:
                errors.append(f"{where}: case names unknown imperative {name!r}")
        for name in case.vars:
            if name not in uses and name not in unused:
                unused.add(name)
                warnings.append(f"{where}: warning: case var {name!r} is used by no template")
    return errors, warnings


def _vars_read(tree: nodes.Template) -> Iterator[tuple[str, int]]:
    for member in tree.find_all((nodes.Getattr, nodes.Getitem)):
        assert isinstance(member, nodes.Getattr | nodes.Getitem)  # narrows find_all's type
        base = member.node
        if not isinstance(base, nodes.Name) or base.name != "vars":
            continue
        if isinstance(member, nodes.Getattr):
            yield member.attr, member.lineno
        elif isinstance(member.arg, nodes.Const) and isinstance(member.arg.value, str):
            yield member.arg.value, member.lineno


def _strings(value: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, dict):
        for key, item in value.items():
            if not (loc == () and key in _SKIPPED) and key != "description":
                yield from _strings(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*loc, index))
