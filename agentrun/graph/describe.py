"""``agentrun graph``: the compiled task graph as indented text with worst-case times.

The phrases built here (the title's rails, a group's heading, an agent's budget)
are shared with the tree and Mermaid drawings in :mod:`agentrun.graph.mermaid` and
:mod:`agentrun.display.graph_tree`.
"""

from __future__ import annotations

import math

from agentrun.durations import format_duration
from agentrun.graph.compiled import TaskGraph
from agentrun.patterns.base import LayoutGroup

GRAPH_FORMATS = ("text", "tree", "mermaid")
"""What ``agentrun graph --format`` accepts."""


def describe_graph(graph: TaskGraph) -> str:
    """Stages, agents, fallbacks, judges, imperatives and each agent's worst-case time."""
    lines = [title_text(graph)]
    layout = graph.strategy.layout(graph)
    for group in layout.groups:
        lines.append(group_heading(group))
        for name in group.agents:
            lines += _agent_lines(graph, name, "  ")
    if layout.notes:
        lines.append("dataflow and budgets:")
        lines += [f"  {note}" for note in layout.notes]
    if graph.fallback:
        lines.append("if the pattern fails, try in order:")
        for name in graph.fallback:
            lines += _agent_lines(graph, name, "  ")
    return "\n".join(lines)


def title_text(graph: TaskGraph) -> str:
    """``name: pattern, deadline 1m, require all; worst case 28s``."""
    rails = [graph.pattern]
    if graph.deadline is not None:
        rails.append(f"deadline {format_duration(graph.deadline)}")
    rails += graph.strategy.layout(graph).rails
    return (
        f"{graph.paradigm}: {', '.join(rails)}; "
        f"worst case {format_duration(graph.worst_case_total())}"
    )


def group_heading(group: LayoutGroup) -> str:
    """``stage draft (require all)`` or ``racers (all at once)``."""
    return f"{group.title} ({group.detail})" if group.detail else group.title


def budget_text(graph: TaskGraph, name: str) -> str:
    """``timeout 10s, 1 retry, total 30s``: an agent's time rails."""
    node = graph.agents[name]
    budget = [f"timeout {format_duration(node.timeout)}"]
    if node.retries:
        budget.append(f"{node.retries} retr{'y' if node.retries == 1 else 'ies'}")
    if not math.isinf(node.total_timeout):
        budget.append(f"total {format_duration(node.total_timeout)}")
    return ", ".join(budget)


def agent_text(graph: TaskGraph, name: str) -> str:
    """``a [mock] timeout 10s, 1 retry; worst case 23s``."""
    node = graph.agents[name]
    return (
        f"{name} [{node.provider}] {budget_text(graph, name)}; "
        f"worst case {format_duration(graph.worst_case(name))}"
    )


def _agent_lines(graph: TaskGraph, name: str, indent: str) -> list[str]:
    node = graph.agents[name]
    lines = [f"{indent}{agent_text(graph, name)}"]
    if node.imperatives:
        lines.append(f"{indent}  imperatives: {', '.join(node.imperatives)}")
    for judge in graph.judges_of(name):
        lines.append(f"{indent}  judged by {judge}")
    for fallback in node.fallback:
        lines.append(f"{indent}  fallback →")
        lines += _agent_lines(graph, fallback, indent + "    ")
    return lines


def imperative_text(graph: TaskGraph, name: str) -> str:
    """``cites_sources (contains_any)``, with ``, warning`` for a warning-only imperative."""
    imperative = graph.imperatives[name]
    kind = imperative.check
    if imperative.judge is not None:
        kind = f"judge {imperative.judge.agent}"
    warning = ", warning" if imperative.severity == "warning" else ""
    return f"{name} ({kind}{warning})"
