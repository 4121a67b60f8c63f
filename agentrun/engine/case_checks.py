"""Imperatives that depend on the case: templated arguments and a case's extra checks.

An imperative argument holding ``{{ ... }}`` (``equals: "{{ vars.expected }}"``) is a
template, rendered with the run's ``input``, ``vars`` and ``case`` and compiled for that
run; compiled checks are kept by rendered argument, so cases sharing a value share the
check. Imperatives without templates are compiled once per session, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from agentrun.checks.base import Check, CheckInput
from agentrun.errors import TemplateError
from agentrun.graph.compiled import TaskGraph
from agentrun.graph.runtime import Imperative
from agentrun.results import CheckResult
from agentrun.templates import TemplateEngine

_KEPT = 4096
"""Distinct rendered checks kept per imperative set; beyond it they are compiled per run."""

Compile = Callable[[str, Imperative], Check]


def is_templated(argument: Any) -> bool:
    """Whether a check argument holds a template anywhere in its text."""
    if isinstance(argument, str):
        return "{{" in argument or "{%" in argument
    if isinstance(argument, list | tuple):
        return any(is_templated(item) for item in argument)
    if isinstance(argument, dict):
        return any(is_templated(item) for item in argument.values())
    return False


class CaseChecks:
    """The checks of each run: the session's, with templated ones rendered per run."""

    def __init__(
        self,
        graph: TaskGraph,
        templates: TemplateEngine,
        base: Mapping[str, Check],
        compile: Compile,
    ) -> None:
        self._base = base
        self._templates = templates
        self._compile = compile
        self._templated = tuple(
            name for name, imp in graph.imperatives.items() if is_templated(imp.argument)
        )
        self._kept: dict[tuple[str, str], Check] = {}

    @property
    def templated(self) -> tuple[str, ...]:
        """Names of the imperatives whose argument is a template."""
        return self._templated

    def for_run(self, graph: TaskGraph) -> Mapping[str, Check]:
        """The checks of one run of ``graph`` (its input, vars and case)."""
        if not self._templated:
            return self._base
        context = {"input": graph.input, "vars": dict(graph.vars), "case": dict(graph.case)}
        checks = dict(self._base)
        for name in self._templated:
            imperative = graph.imperatives[name]
            try:
                argument = self._render(imperative.argument, context)
                key = (name, repr(argument))
                check = self._kept.get(key)
                if check is None:
                    check = self._compile(name, replace(imperative, argument=argument))
                    if len(self._kept) < _KEPT:
                        self._kept[key] = check
            except Exception as exc:  # a case's bad value fails its check, not the run
                reason = exc if isinstance(exc, TemplateError) else f"{type(exc).__name__}: {exc}"
                check = _Broken(name, imperative.severity, f"argument for this case: {reason}")
            checks[name] = check
        return checks

    def _render(self, argument: Any, context: Mapping[str, Any]) -> Any:
        if isinstance(argument, str):
            return self._templates.render(argument, context)
        if isinstance(argument, list | tuple):
            return [self._render(item, context) for item in argument]
        if isinstance(argument, dict):
            return {key: self._render(item, context) for key, item in argument.items()}
        return argument


def with_imperatives(graph: TaskGraph, extra: tuple[str, ...]) -> TaskGraph:
    """``graph`` with ``extra`` imperatives added to every agent but the judges."""
    judges = {imp.judge.agent for imp in graph.imperatives.values() if imp.judge is not None}
    agents = {
        name: node
        if name in judges
        else replace(
            node,
            imperatives=node.imperatives + tuple(i for i in extra if i not in node.imperatives),
        )
        for name, node in graph.agents.items()
    }
    return replace(graph, agents=agents)


class _Broken:
    """A check whose argument could not be rendered for this run: it always fails."""

    __slots__ = ("name", "reason", "severity")

    def __init__(self, name: str, severity: str, reason: str) -> None:
        self.name = name
        self.severity = severity
        self.reason = reason

    async def __call__(self, inp: CheckInput) -> CheckResult:
        return CheckResult(self.name, False, self.reason, self.severity)
