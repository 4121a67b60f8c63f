"""Load-time checks of templates: syntax, and every name they read from their context.

A template that would fail on its first render (a typo in ``{{ inptu }}``, an agent
that does not exist, ``item`` outside a ``for_each`` stage) is reported with the
file's other problems instead of in the middle of a run.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

import jinja2
from jinja2 import meta, nodes

from agentrun.loading.positions import Loc
from agentrun.loading.semantics import Finding, hint, provider_name_of, stage_names
from agentrun.loading.spec import Paradigm
from agentrun.templates import CONTEXT_NAMES, TemplateEngine

_TEXT_FIELDS = ("prompt", "system", "output", "stdin")
_LIST_FIELDS = ("outputs", "command")
_LOADING_TAGS: dict[type[nodes.Node], str] = {
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from ... import",
    nodes.Extends: "extends",
}


def check_templates(paradigm: Paradigm, extra_vars: Collection[str] = ()) -> list[Finding]:
    """Problems in every template of a paradigm (agents, provider entries, defaults, stages).

    Args:
        paradigm: the validated paradigm.
        extra_vars: variable names given on the command line.

    Returns:
        One finding per syntax error or unknown name.
    """
    checker = _TemplateChecker(paradigm, frozenset(extra_vars))
    with_item = _item_agents(paradigm)
    for name, agent in paradigm.agents.items():
        checker.check_all(("agents", name), agent, name in with_item)
    for name, entry in paradigm.providers.items():
        users = {
            a for a, spec in paradigm.agents.items() if provider_name_of(spec, paradigm) == name
        }
        checker.check_all(("providers", name), entry, users <= with_item)
    if paradigm.defaults.system is not None:
        users = {a for a, spec in paradigm.agents.items() if spec.system is None}
        checker.check(("defaults", "system"), paradigm.defaults.system, users <= with_item)
    for index, stage in enumerate(paradigm.stages or ()):
        if stage.input is not None:
            checker.check(("stages", index, "input"), stage.input, stage.for_each)
    return checker.findings


def _item_agents(paradigm: Paradigm) -> set[str]:
    """Agents whose templates may read ``item``: those run only within ``for_each`` stages.

    A fallback stands in for its agent, so it shares the agent's context; an agent
    reached from anywhere else would render ``item`` as an undefined name.
    """
    if paradigm.pattern != "pipeline":
        return set()
    inside: list[str] = []
    outside = list(paradigm.fallback or ())
    outside += [imp.judge.agent for imp in paradigm.imperatives.values() if imp.judge]
    for stage in paradigm.stages or ():
        (inside if stage.for_each else outside).extend(stage.agents)
    return _reachable(paradigm, inside) - _reachable(paradigm, outside)


def _reachable(paradigm: Paradigm, start: list[str]) -> set[str]:
    seen: set[str] = set()
    todo = [name for name in start if name in paradigm.agents]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += [f for f in paradigm.agents[name].fallback or () if f in paradigm.agents]
    return seen


def _sources(spec: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    """Every template string of an agent or provider entry, with its ``loc``."""
    for field in _TEXT_FIELDS:
        value = getattr(spec, field, None)
        if isinstance(value, str):
            yield (*loc, field), value
    for field in _LIST_FIELDS:
        for index, value in enumerate(getattr(spec, field, None) or ()):
            yield (*loc, field, index), value
    yield from _strings(getattr(spec, "body", None), (*loc, "body"))
    yield from _strings(getattr(spec, "url", None), (*loc, "url"))
    stand_in = getattr(spec, "mock", None)
    if stand_in is not None:
        yield from _sources(stand_in, (*loc, "mock"))


def _strings(value: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*loc, index))


class _TemplateChecker:
    def __init__(self, paradigm: Paradigm, extra_vars: frozenset[str]) -> None:
        self.paradigm = paradigm
        self.vars = set(paradigm.vars) | extra_vars
        self.stages = stage_names(paradigm)
        self.engine = TemplateEngine()
        self.findings: list[Finding] = []

    def add(self, loc: Loc, message: str, line: int | None) -> None:
        self.findings.append(Finding(loc, message, text_line=line))

    def check_all(self, loc: Loc, spec: Any, item_ok: bool) -> None:
        for where, source in _sources(spec, loc):
            self.check(where, source, item_ok)

    def check(self, loc: Loc, source: str, item_ok: bool) -> None:
        """Report the syntax error, or every unknown name, of the template at ``loc``."""
        if "{" not in source:
            return
        try:
            tree = self.engine.parse(source)
        except jinja2.TemplateSyntaxError as exc:
            self.add(loc, f"template syntax error: {exc.message}", exc.lineno)
            return
        if not self._known_parts(loc, tree):
            return
        try:
            free = meta.find_undeclared_variables(tree)
        except jinja2.TemplateError as exc:  # anything else the compiler refuses
            self.add(loc, f"template error: {exc.message or exc}", getattr(exc, "lineno", None))
            return
        unseen = set(free)
        for name in tree.find_all(nodes.Name):
            if name.name in unseen and name.ctx == "load":
                unseen.discard(name.name)  # report each name once, at its first use
                self._top_level(loc, name, item_ok)
        for member in tree.find_all((nodes.Getattr, nodes.Getitem)):
            assert isinstance(member, nodes.Getattr | nodes.Getitem)  # narrows find_all's type
            if isinstance(member.node, nodes.Name) and member.node.name in free:
                self._member(loc, member, member.node.name)

    def _known_parts(self, loc: Loc, tree: nodes.Template) -> bool:
        """Report unknown filters and tests, and tags that load other templates.

        Returns:
            Whether the template has none of them (its names can then be checked).
        """
        before = len(self.findings)
        for node in tree.find_all((nodes.Filter, nodes.Test)):
            assert isinstance(node, nodes.Filter | nodes.Test)  # narrows find_all's type
            kind, known = (
                ("filter", self.engine.filters)
                if isinstance(node, nodes.Filter)
                else ("test", self.engine.tests)
            )
            if node.name not in known:
                message = f"unknown {kind} {node.name!r}" + hint(node.name, sorted(known))
                self.add(loc, message, node.lineno)
        for tag in tree.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
            word = _LOADING_TAGS[type(tag)]
            message = (
                f"{{% {word} %}} is not supported: a template cannot load other templates"
                " (write the text in place, or use prompt_file: for a long prompt)"
            )
            self.add(loc, message, tag.lineno)
        return len(self.findings) == before

    def _top_level(self, loc: Loc, node: nodes.Name, item_ok: bool) -> None:
        if node.name == "item" and not item_ok:
            message = "template uses 'item', which exists only in a for_each stage"
            self.add(loc, message, node.lineno)
        elif node.name not in CONTEXT_NAMES:
            message = f"template uses undefined name {node.name!r}"
            self.add(loc, message + hint(node.name, sorted(CONTEXT_NAMES)), node.lineno)

    def _member(self, loc: Loc, node: nodes.Getattr | nodes.Getitem, base: str) -> None:
        """Check ``agents.X``, ``stages.X`` and ``vars.X`` (or ``['X']``) against the paradigm."""
        if isinstance(node, nodes.Getattr):
            key = node.attr
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            key = node.arg.value
        else:
            return
        line = node.lineno
        if base == "agents" and key not in self.paradigm.agents:
            message = f"template uses unknown agent {key!r}"
            self.add(loc, message + hint(key, self.paradigm.agents), line)
        elif base == "stages" and self.paradigm.pattern != "pipeline":
            self.add(loc, "template uses stages, but only a pipeline has stages", line)
        elif base == "stages" and key not in self.stages:
            self.add(loc, f"template uses unknown stage {key!r}" + hint(key, self.stages), line)
        elif base == "vars" and key not in self.vars:
            message = f"template uses undefined variable 'vars.{key}'"
            self.add(loc, message + hint(key, sorted(self.vars)), line)
