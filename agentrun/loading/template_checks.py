"""Load-time checks of templates: syntax, and every name they read from their context.

A template that would fail on its first render (a typo in ``{{ inptu }}``, an agent
that does not exist, ``item`` outside a ``for_each`` stage) is reported with the
file's other problems instead of in the middle of a run.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import jinja2
from jinja2 import meta, nodes

from agentrun.errors import Severity
from agentrun.loading.model_base import OpenModel, or_default
from agentrun.loading.positions import Loc
from agentrun.loading.semantics import (
    Finding,
    hint,
    pattern_of,
    provider_name_of,
    provider_type_of,
)
from agentrun.loading.spec import Paradigm
from agentrun.templates import CONTEXT_NAMES, TemplateEngine

if TYPE_CHECKING:
    from agentrun.patterns.base import Pattern, TemplateScope
    from agentrun.registry import Registry

_COMMON_TEMPLATES = ("prompt", "system")
_LOADING_TAGS: dict[type[nodes.Node], str] = {
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from ... import",
    nodes.Extends: "extends",
}


def check_templates(
    paradigm: Paradigm,
    extra_vars: Collection[str] = (),
    registry: Registry | None = None,
    patterns: Mapping[str, Pattern] | None = None,
) -> list[Finding]:
    """Problems in every template of a paradigm (agents, provider entries, defaults, stages).

    Args:
        paradigm: the validated paradigm.
        extra_vars: variable names given on the command line.
        registry: the provider types, whose descriptors say which keys are templates.
        patterns: the registered patterns (default: the registry's).

    Returns:
        One finding per syntax error or unknown name.
    """
    registry = or_default(registry)
    pattern = pattern_of(paradigm, registry.patterns if patterns is None else patterns)
    scope = pattern.template_scope(paradigm)
    checker = _TemplateChecker(paradigm, frozenset(extra_vars), registry, scope)
    with_item = scope.item_agents
    for name, agent in paradigm.agents.items():
        kind = provider_type_of(agent, paradigm, registry)
        checker.check_all(("agents", name), agent, kind, name in with_item)
    for name, entry in paradigm.providers.items():
        users = {
            a
            for a, spec in paradigm.agents.items()
            if provider_name_of(spec, paradigm, registry) == name
        }
        checker.check_all(("providers", name), entry, entry.type, users <= with_item)
    if paradigm.defaults.system is not None:
        users = {a for a, spec in paradigm.agents.items() if spec.system is None}
        checker.check(("defaults", "system"), paradigm.defaults.system, users <= with_item)
    for index, stage in enumerate(paradigm.stages or ()):
        if stage.input is not None:
            checker.check(("stages", index, "input"), stage.input, stage.for_each)
    for name, imperative in paradigm.imperatives.items():
        # An imperative's argument is a template once it holds one (a dataset's
        # expectations: `equals: "{{ vars.expected }}"`).
        for loc, source in _strings(imperative.argument, ("imperatives", name, imperative.check)):
            if "{{" in source or "{%" in source:
                checker.check(loc, source, False)
    checker.unused_flags(extra_vars)
    return checker.findings


def template_keys(registry: Registry, kind: str | None) -> frozenset[str]:
    """Keys whose strings are templates: what the provider type lists (every type's when
    the type is unknown), besides prompt and system."""
    descriptor = registry.providers.get(kind or "")
    chosen = [descriptor] if descriptor else registry.providers.values()
    return frozenset(key for d in chosen for key in d.templates)


def _sources(
    spec: OpenModel, loc: Loc, keys: frozenset[str], registry: Registry
) -> Iterator[tuple[Loc, str]]:
    """Every template string of an agent, provider entry or stand-in, with its ``loc``."""
    for field in _COMMON_TEMPLATES:
        yield from _strings(getattr(spec, field, None), (*loc, field))
    for field, value in spec.open_values.items():
        if field in keys:
            yield from _strings(value, (*loc, field))
    stand_in = getattr(spec, "mock", None)
    if isinstance(stand_in, OpenModel):
        yield from _sources(stand_in, (*loc, "mock"), template_keys(registry, "mock"), registry)


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
    def __init__(
        self,
        paradigm: Paradigm,
        extra_vars: frozenset[str],
        registry: Registry,
        scope: TemplateScope,
    ) -> None:
        self.paradigm = paradigm
        self.registry = registry
        self.vars = set(paradigm.vars) | extra_vars
        self.used_vars: set[str] = set()
        self.stages = scope.stages
        # The board's snapshot is in every template once `state:` declares keys.
        board = frozenset({"state"}) if paradigm.state is not None else frozenset()
        self.names = CONTEXT_NAMES | scope.names | board
        self.engine = TemplateEngine()
        self.findings: list[Finding] = []

    def add(self, loc: Loc, message: str, line: int | None) -> None:
        self.findings.append(Finding(loc, message, text_line=line))

    def check_all(self, loc: Loc, spec: OpenModel, kind: str | None, item_ok: bool) -> None:
        keys = template_keys(self.registry, kind)
        for where, source in _sources(spec, loc, keys, self.registry):
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
        elif node.name not in self.names:
            message = f"template uses undefined name {node.name!r}"
            if node.name in self.vars:  # `{{ tone }}` for a variable declared under vars:
                message += f" (did you mean 'vars.{node.name}'?)"
            else:
                message += hint(node.name, sorted(self.names))
            self.add(loc, message, node.lineno)

    def unused_flags(self, extra_vars: Collection[str]) -> None:
        """Warn about each ``--var`` that no ``vars:`` key declares and no template reads.

        A warning, not an error: one set of ``--var`` flags often serves several paradigms.
        """
        for name in extra_vars:
            if name not in self.paradigm.vars and name not in self.used_vars:
                known = sorted(set(self.paradigm.vars) | self.used_vars)
                message = (
                    f"--var {name}: no variable {name!r} is declared under vars: "
                    f"or used by a template{hint(name, known)}"
                )
                self.findings.append(
                    Finding(("vars",), message, at_key=True, severity=Severity.WARNING)
                )

    def _member(self, loc: Loc, node: nodes.Getattr | nodes.Getitem, base: str) -> None:
        """Check ``agents.X``, ``stages.X`` and ``vars.X`` (or ``['X']``) against the paradigm."""
        if isinstance(node, nodes.Getattr):
            key = node.attr
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            key = node.arg.value
        else:
            return
        line = node.lineno
        stages = self.stages or ()
        if base == "vars":
            self.used_vars.add(key)
        if base == "agents" and key not in self.paradigm.agents:
            message = f"template uses unknown agent {key!r}"
            self.add(loc, message + hint(key, self.paradigm.agents), line)
        elif base == "stages" and self.stages is None:
            self.add(loc, "template uses stages, but only a pipeline has stages", line)
        elif base == "stages" and key not in stages:
            self.add(loc, f"template uses unknown stage {key!r}" + hint(key, stages), line)
        elif base == "vars" and key not in self.vars:
            message = f"template uses undefined variable 'vars.{key}'"
            self.add(loc, message + hint(key, sorted(self.vars)), line)
