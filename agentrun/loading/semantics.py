"""Checks that need the whole paradigm: providers, references, fallbacks, pattern rules.

They run once the file has the right shape (:mod:`agentrun.loading.spec`) and report every
finding by ``loc``; the loader turns a ``loc`` into a line and column.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agentrun.errors import Severity
from agentrun.loading.chains import MAX_CHAIN, chain_depths, find_cycles
from agentrun.loading.model_base import or_default
from agentrun.loading.names import bad_names
from agentrun.loading.positions import Loc
from agentrun.loading.spec import SHARED_SETTINGS, AgentSpec, Paradigm, ProviderEntry

if TYPE_CHECKING:
    from agentrun.patterns.base import Pattern
    from agentrun.registry import Registry

_LISTED_NAMES = 8

_NO_BATCH = (
    "chat endpoints take one conversation per request; use max_concurrency"
    " (servers such as vLLM batch concurrent requests themselves)"
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One semantic problem, located by ``loc`` in the document."""

    loc: Loc
    message: str
    at_key: bool = False
    """Point at the key holding ``loc`` rather than at its value."""
    text_line: int | None = None
    """Line inside a multi-line string (a template), when known."""
    severity: Severity = Severity.ERROR


def provider_name_of(
    agent: AgentSpec, paradigm: Paradigm, registry: Registry | None = None
) -> str | None:
    """The provider an agent names: its own, the default, or a type inferred from its fields.

    A type is inferred from the first registered type that ``infers`` from a key the
    agent sets (``command`` -> command, ``callable`` -> python, ``url`` -> http, ...).

    Returns:
        An entry name under ``providers:`` or a provider type; ``None`` if nothing says.
    """
    if agent.provider:
        return agent.provider
    if paradigm.defaults.provider:
        return paradigm.defaults.provider
    set_keys = {key for key, value in agent.open_values.items() if value is not None}
    for descriptor in or_default(registry).providers.values():
        if set_keys.intersection(descriptor.infers):
            return descriptor.name
    return None


def provider_type_of(
    agent: AgentSpec, paradigm: Paradigm, registry: Registry | None = None
) -> str | None:
    """The provider type an agent resolves to, or ``None`` if it resolves to none."""
    name = provider_name_of(agent, paradigm, registry)
    if name is None:
        return None
    if name in paradigm.providers:
        return paradigm.providers[name].type
    return name if name in or_default(registry).providers else None


def pattern_of(paradigm: Paradigm, patterns: Mapping[str, Pattern] | None = None) -> Pattern:
    """The pattern object of a paradigm, from ``patterns`` (default: the built-ins)."""
    if patterns is None:
        # Imported here: the patterns import the engine, which imports this package.
        from agentrun.patterns import PATTERNS

        patterns = PATTERNS
    return patterns[paradigm.pattern]


def run_agents(paradigm: Paradigm, patterns: Mapping[str, Pattern] | None = None) -> list[str]:
    """The agents a pattern starts, in order, each once (its pattern decides)."""
    return pattern_of(paradigm, patterns).run_agents(paradigm)


def default_run_agents(paradigm: Paradigm) -> list[str]:
    """``run`` if given, else every agent that is not only a fallback or a judge."""
    if paradigm.run is not None:
        return list(dict.fromkeys(paradigm.run))
    helpers = _fallback_names(paradigm) | judge_names(paradigm)
    return [name for name in paradigm.agents if name not in helpers]


def check_paradigm(
    paradigm: Paradigm,
    registry: Registry | None = None,
    patterns: Mapping[str, Pattern] | None = None,
) -> list[Finding]:
    """The semantic problems of a paradigm whose shape is already valid (templates aside).

    Templates are checked by :func:`agentrun.loading.template_checks.check_templates`.

    Args:
        paradigm: the validated paradigm.
        registry: the provider types it may use (default: the default registry).
        patterns: the registered patterns (default: the registry's).

    Returns:
        The findings, errors and warnings, each once.
    """
    registry = or_default(registry)
    pattern = pattern_of(paradigm, registry.patterns if patterns is None else patterns)
    checker = _Checker(paradigm, registry, pattern)
    for loc, message in bad_names(paradigm):
        checker.error(loc, message, at_key=len(loc) == 2)
    checker.providers()
    checker.references()
    checker.fallback_cycles()
    checker.judge_cycles()
    pattern.check(paradigm, checker)
    checker.unused()
    return list(dict.fromkeys(checker.findings))


def hint(name: str, known: Iterable[str], *, what: str = "") -> str:
    """`` (did you mean 'x'?)`` for a close name, a short list of the known ones, or nothing."""
    known = list(known)
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    if what and not known:
        return f" (no {what} are defined)"
    if what and len(known) <= _LISTED_NAMES:
        return f" (defined: {', '.join(known)})"
    return ""


def _fallback_names(paradigm: Paradigm) -> set[str]:
    names = set(paradigm.fallback or ())
    for name, agent in paradigm.agents.items():
        names.update(f for f in agent.fallback or () if f != name)  # a self-loop is an error
    return names


def judge_names(paradigm: Paradigm) -> set[str]:
    """Agents that some imperative asks to judge."""
    return {imp.judge.agent for imp in paradigm.imperatives.values() if imp.judge is not None}


def reachable(paradigm: Paradigm, start: list[str]) -> set[str]:
    """The agents of ``start`` and every agent their fallback chains reach."""
    seen: set[str] = set()
    todo = [name for name in start if name in paradigm.agents]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += [f for f in paradigm.agents[name].fallback or () if f in paradigm.agents]
    return seen


def stage_names(paradigm: Paradigm) -> list[str]:
    """The name of each stage of a pipeline, in order (default ``stage1``, ``stage2``, ...)."""
    return [stage.name or f"stage{i}" for i, stage in enumerate(paradigm.stages or (), 1)]


class Findings:
    """Collects findings; the paradigm-wide checks and each pattern's rules add to it."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def error(self, loc: Loc, message: str, *, at_key: bool = False) -> None:
        """Add an error at ``loc`` (at its key when ``at_key``)."""
        self.findings.append(Finding(loc, message, at_key=at_key))

    def warn(self, loc: Loc, message: str) -> None:
        """Add a warning at the key holding ``loc``."""
        self.findings.append(Finding(loc, message, at_key=True, severity=Severity.WARNING))

    def duplicates(self, loc: Loc, names: list[str], where: str) -> None:
        """An error for each agent of the list at ``loc`` listed a second time."""
        for index, name in enumerate(names):
            if name in names[:index]:
                self.error((*loc, index), f"agent {name!r} is listed twice {where}")

    def require_fits(self, loc: Loc, require: object, count: int, which: str) -> None:
        """An error when the ``require`` at ``loc`` asks for more than ``count`` agents."""
        if isinstance(require, int) and require > count:
            agents = "agent" if count == 1 else "agents"
            self.error(loc, f"require: {require} is more than the {count} {agents} {which}")


class _Checker(Findings):
    """Runs the checks of :func:`check_paradigm`, collecting findings."""

    def __init__(self, paradigm: Paradigm, registry: Registry, pattern: Pattern) -> None:
        super().__init__()
        self.p = paradigm
        self.registry = registry
        self.pattern = pattern

    def providers(self) -> None:
        types = self.registry.providers
        known = [*self.p.providers, *types]
        default = self.p.defaults.provider
        if default and default not in known:
            message = f"unknown provider {default!r}{hint(default, known)}"
            self.error(("defaults", "provider"), message)
        for name, agent in self.p.agents.items():
            loc: Loc = ("agents", name)
            provider = provider_name_of(agent, self.p, self.registry)
            kind = provider_type_of(agent, self.p, self.registry)
            if provider is None:
                self.error(
                    loc,
                    f"agent {name!r} has no provider; set provider: (a name under providers: "
                    f"or one of {', '.join(types)}) or defaults.provider",
                    at_key=True,
                )
            elif kind is None and agent.provider:
                where = (*loc, "provider")
                self.error(where, f"unknown provider {provider!r}{hint(provider, known)}")
            if kind is None:
                continue
            self._fields_apply(loc, agent, kind)
            entry = self.p.providers.get(provider or "")
            for needed in types[kind].required:
                if agent.provider_field(needed) is None and (
                    entry is None or entry.provider_field(needed) is None
                ):
                    where_else = f" or on provider {provider!r}" if entry is not None else ""
                    self.error(
                        loc,
                        f"agent {name!r} uses provider type {kind!r}, which needs {needed!r}; "
                        f"set it on the agent{where_else}",
                        at_key=True,
                    )
        for name, entry in self.p.providers.items():
            self._fields_apply(("providers", name), entry, entry.type)

    def _fields_apply(self, loc: Loc, spec: AgentSpec | ProviderEntry, kind: str) -> None:
        applies = self.registry.providers[kind].field_names | SHARED_SETTINGS
        for field, value in spec.open_values.items():
            if value is not None and field not in applies:
                message = f"field {field!r} does not apply to provider type {kind!r}"
                if field == "batch" and self.registry.providers[kind].network:
                    message += f": {_NO_BATCH}"
                self.error((*loc, field), message, at_key=True)
        if kind == "mock" and None not in (
            spec.provider_field("output"),
            spec.provider_field("outputs"),
        ):
            self.error(
                (*loc, "outputs"), "output and outputs exclude each other; keep one", at_key=True
            )

    def references(self) -> None:
        p = self.p
        for name, agent in p.agents.items():
            self._names(
                ("agents", name, "imperatives"), agent.imperatives, p.imperatives, "imperative"
            )
            self._names(("agents", name, "fallback"), agent.fallback, p.agents, "agent")
        self._names(
            ("defaults", "imperatives"), p.defaults.imperatives, p.imperatives, "imperative"
        )
        if p.winner is not None:
            self._names(
                ("winner", "imperatives"), p.winner.imperatives, p.imperatives, "imperative"
            )
        for name, imperative in p.imperatives.items():
            if imperative.judge is not None:
                loc = ("imperatives", name, "judge")
                self._names(loc, [imperative.judge.agent], p.agents, "agent", key="agent")
        self._names(("fallback",), p.fallback, p.agents, "agent")
        self._names(("run",), p.run, p.agents, "agent")
        for index, stage in enumerate(p.stages or ()):
            self._names(("stages", index, "agents"), stage.agents, p.agents, "agent")

    def _names(
        self,
        loc: Loc,
        names: list[str] | None,
        known: Collection[str],
        what: str,
        *,
        key: str | None = None,
    ) -> None:
        """Report each of ``names`` (a list at ``loc``, or the one under ``key``) not known."""
        for index, name in enumerate(names or ()):
            if name not in known:
                where = (*loc, key) if key else (*loc, index)
                self.error(where, f"unknown {what} {name!r}{hint(name, known, what=what + 's')}")

    def fallback_cycles(self) -> None:
        edges: dict[str, list[str]] = {}
        for name, agent in self.p.agents.items():
            for index, target in enumerate(agent.fallback or ()):
                if target == name:
                    loc = ("agents", name, "fallback", index)
                    self.error(loc, f"agent {name!r} cannot fall back on itself")
                elif target in self.p.agents:
                    edges.setdefault(name, []).append(target)
        reported: set[tuple[str, ...]] = set()
        for cycle in find_cycles(edges, list(self.p.agents)):
            if cycle not in reported:
                reported.add(cycle)
                fallback = self.p.agents[cycle[0]].fallback or []
                loc = ("agents", cycle[0], "fallback", fallback.index(cycle[1]))
                self.error(loc, "fallback cycle: " + " -> ".join((*cycle, cycle[0])))
        depths = chain_depths(edges, list(self.p.agents))
        too_deep = {name for name, depth in depths.items() if depth > MAX_CHAIN}
        inside = {target for name in too_deep for target in edges.get(name, ())}
        for name in sorted(too_deep - inside, key=list(self.p.agents).index):
            message = (
                f"agent {name!r} starts a fallback chain {depths[name]} agents deep; "
                f"at most {MAX_CHAIN} are allowed"
            )
            self.error(("agents", name, "fallback"), message, at_key=True)

    def judge_cycles(self) -> None:
        """A judge whose own checks lead back to it would judge itself forever."""
        p = self.p
        judges = judge_names(p)
        edges: dict[str, list[str]] = {}
        via: dict[tuple[str, str], str] = {}
        for name, agent in p.agents.items():
            inherited = [] if name in judges else list(p.defaults.imperatives or ())
            for imperative in [*inherited, *(agent.imperatives or ())]:
                spec = p.imperatives.get(imperative)
                if spec is None or spec.judge is None or spec.judge.agent not in p.agents:
                    continue
                judge = spec.judge.agent
                if judge == name:
                    loc = ("imperatives", imperative, "judge", "agent")
                    self.error(loc, f"agent {name!r} would judge itself through {imperative!r}")
                elif judge not in edges.get(name, []):
                    edges.setdefault(name, []).append(judge)
                    via[(name, judge)] = imperative
        for cycle in dict.fromkeys(find_cycles(edges, list(p.agents))):
            imperative = via[(cycle[0], cycle[1])]
            loc = ("imperatives", imperative, "judge", "agent")
            self.error(loc, "judge cycle: " + " -> ".join((*cycle, cycle[0])))
        depths = chain_depths(edges, list(p.agents))
        for (name, judge), imperative in via.items():
            if depths.get(judge, 0) + 1 > MAX_CHAIN and depths.get(name, 0) == depths[judge] + 1:
                message = (
                    f"judges judging judges: {imperative!r} starts a chain of "
                    f"{depths[judge] + 1} judges; at most {MAX_CHAIN} are allowed"
                )
                self.error(("imperatives", imperative, "judge", "agent"), message)
                break

    def unused(self) -> None:
        p = self.p
        used = set(self.pattern.run_agents(p)) | _fallback_names(p) | judge_names(p)
        for name in p.agents:
            if name not in used:
                self.warn(("agents", name), f"agent {name!r} is never used")
        listed = set(p.defaults.imperatives or ()) | set(p.winner.imperatives if p.winner else ())
        for agent in p.agents.values():
            listed.update(agent.imperatives or ())
        for name in p.imperatives:
            if name not in listed:
                self.warn(("imperatives", name), f"imperative {name!r} is never used")
        named = {provider_name_of(agent, p, self.registry) for agent in p.agents.values()}
        for name in p.providers:
            if name not in named:
                self.warn(("providers", name), f"provider {name!r} is never used")
