"""Static checks of the board, each at ``path:line:col``: undeclared keys, two agents
that may write one ``replace`` key at the same time, waits that can never come true,
and wait cycles.

They run with ``validate`` and before ``run`` starts anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import jinja2

from agentrun.coordination.rules import Reads, expression_env, parse_expression, reads_of
from agentrun.coordination.rules import write_rules as rules_of_writes
from agentrun.loading.semantics import Finding, Findings, hint, pattern_of
from agentrun.loading.spec import Paradigm

if TYPE_CHECKING:
    from agentrun.patterns.base import Pattern

_TEMPLATE_FIELDS = ("prompt", "system", "reply")


def check_board(paradigm: Paradigm, patterns: Mapping[str, Pattern] | None = None) -> list[Finding]:
    """The board's problems in a paradigm whose shape is valid."""
    findings = Findings()
    declared = set(paradigm.state or {})
    writers: dict[str, list[str]] = {}
    for name, agent in paradigm.agents.items():
        for index, rule in enumerate(rules_of_writes(agent.writes)):
            loc = _write_loc(agent.writes, name, index, rule.key)
            if rule.key not in declared:
                message = "writes " + _undeclared(rule.key, declared)
                findings.error(loc, message, at_key=loc[-1] == rule.key)
            else:
                writers.setdefault(rule.key, []).append(name)
    waits = _waits(paradigm, declared, findings)
    _templates(paradigm, declared, findings)
    _concurrent_replace(paradigm, pattern_of(paradigm, patterns), writers, findings)
    _never_true(paradigm, waits, writers, findings)
    _cycles(waits, writers, findings)
    return findings.findings


def _undeclared(key: str, declared: set[str]) -> str:
    if not declared:
        return f"state key {key!r}, which is not declared (add it under state:)"
    return f"state key {key!r}, which is not declared under state:" + hint(key, declared)


def _write_loc(writes: Any, agent: str, index: int, key: str) -> tuple[str | int, ...]:
    if isinstance(writes, list):
        return ("agents", agent, "writes", index)
    if isinstance(writes, dict):
        return ("agents", agent, "writes", key)
    return ("agents", agent, "writes")


def _waits(paradigm: Paradigm, declared: set[str], findings: Findings) -> dict[str, Reads]:
    waits: dict[str, Reads] = {}
    for name, agent in paradigm.agents.items():
        if agent.wait_for is None:
            continue
        loc = ("agents", name, "wait_for")
        try:
            reads = reads_of(parse_expression(agent.wait_for))
        except jinja2.TemplateSyntaxError as exc:
            findings.error(loc, f"wait_for is not a valid expression: {exc.message}")
            continue
        for key in sorted(reads.keys or ()):
            if key not in declared:
                findings.error(loc, "wait_for reads " + _undeclared(key, declared))
        for other in sorted(reads.agents):
            if other not in paradigm.agents:
                findings.error(
                    loc, f"wait_for names no agent {other!r}" + hint(other, paradigm.agents)
                )
        waits[name] = reads
    return waits


def _templates(paradigm: Paradigm, declared: set[str], findings: Findings) -> None:
    for name, agent in paradigm.agents.items():
        for field in _TEMPLATE_FIELDS:
            source = getattr(agent, field)
            if not isinstance(source, str) or "state" not in source:
                continue
            try:
                reads = reads_of(expression_env().parse(source))
            except jinja2.TemplateSyntaxError:
                continue  # the template checks report the syntax
            for key in sorted(reads.keys or ()):
                if key not in declared:
                    findings.error(
                        ("agents", name, field), f"{field} reads " + _undeclared(key, declared)
                    )


def _concurrent_replace(
    paradigm: Paradigm, pattern: Pattern, writers: Mapping[str, list[str]], findings: Findings
) -> None:
    """Two writers of one ``replace`` key in a group of agents that run at once."""
    groups: list[tuple[list[str], bool]] = []
    if paradigm.stages is not None:
        groups = [(list(stage.agents), stage.for_each) for stage in paradigm.stages]
    elif getattr(paradigm.pattern_keys, "turns", None) != "sequential":
        groups = [(pattern.run_agents(paradigm), False)]
    for key, names in writers.items():
        if (paradigm.state or {})[key].reducer != "replace":
            continue
        for group, for_each in groups:
            inside = [n for n in dict.fromkeys(names) if n in group]
            if len(inside) >= 2 or (for_each and inside):
                pair = " and ".join(repr(n) for n in (inside * 2)[:2])
                if len(inside) == 1:
                    pair = f"every copy of {inside[0]!r} (a for_each stage)"
                message = (
                    f"state key {key!r} (reducer replace) is written by {pair}, which run "
                    "at the same time; use reducer append or merge"
                )
                findings.error(("agents", inside[-1], "writes"), message)


def _never_true(
    paradigm: Paradigm,
    waits: Mapping[str, Reads],
    writers: Mapping[str, list[str]],
    findings: Findings,
) -> None:
    """A wait that reads only keys nobody writes, false on their initial values."""
    state = paradigm.state or {}
    for name, reads in waits.items():
        if reads.keys is None or reads.agents or any(writers.get(k) for k in reads.keys):
            continue
        if any(k not in state for k in reads.keys):
            continue  # reported as undeclared
        values = {k: v.start_value() for k, v in state.items()}
        try:
            holds = expression_env().compile_expression(paradigm.agents[name].wait_for or "")(
                state=values, input=paradigm.input, vars=paradigm.vars, agents={}
            )
        except Exception:
            holds = False
        if not holds:
            message = "wait_for can never become true: no agent writes the keys it reads"
            findings.error(("agents", name, "wait_for"), message)


def _cycles(
    waits: Mapping[str, Reads], writers: Mapping[str, list[str]], findings: Findings
) -> None:
    """A waits on what only B writes, and B on what only A writes (any length)."""
    edges: dict[str, set[str]] = {}
    for name, reads in waits.items():
        if reads.keys is None or not reads.keys:
            continue
        sources = {w for k in reads.keys for w in writers.get(k, ())}
        if sources and all(set(writers.get(k, ())) <= sources for k in reads.keys):
            edges[name] = sources
    reported: set[frozenset[str]] = set()
    for start in edges:
        path = _cycle_from(start, edges)
        if path and frozenset(path) not in reported:
            reported.add(frozenset(path))
            loop = " -> ".join([*path, path[0]])
            findings.error(("agents", start, "wait_for"), f"wait_for cycle: {loop}")


def _cycle_from(start: str, edges: Mapping[str, set[str]]) -> list[str] | None:
    """A cycle through ``start`` where every agent waits only on the next one's writes."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    while stack:
        node, path = stack.pop()
        targets = edges.get(node, set())
        if len(targets) != 1:
            continue  # waits on several writers: one of them may break the cycle
        (nxt,) = targets
        if nxt == start:
            return path
        if nxt not in path:
            stack.append((nxt, [*path, nxt]))
    return None
