"""``agentrun graph``: the compiled task graph as indented text with worst-case times.

The phrases built here (a pattern's rails, a stage's rules, an agent's budget)
are shared with the tree and Mermaid drawings in :mod:`agentrun.graph.mermaid` and
:mod:`agentrun.display.graph_tree`.
"""

from __future__ import annotations

import math

from agentrun.durations import format_duration
from agentrun.graph.compiled import StageNode, TaskGraph

GRAPH_FORMATS = ("text", "tree", "mermaid")
"""What ``agentrun graph --format`` accepts."""


def describe_graph(graph: TaskGraph) -> str:
    """Stages, agents, fallbacks, judges, imperatives and each agent's worst-case time."""
    lines = [title_text(graph)]
    if graph.pattern == "pipeline":
        for stage in graph.stages:
            lines.append(f"stage {stage.name} ({stage_text(stage)})")
            for name in stage.agents:
                lines += _agent_lines(graph, name, "  ")
    else:
        lines.append(f"{group_label(graph)} (all at once)")
        for name in graph.run:
            lines += _agent_lines(graph, name, "  ")
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
    if graph.pattern == "independent":
        rails.append(f"require {graph.require}")
    return (
        f"{graph.paradigm}: {', '.join(rails)}; "
        f"worst case {format_duration(graph.worst_case_total())}"
    )


def group_label(graph: TaskGraph) -> str:
    """What the agents of a non-pipeline pattern are called: racers or agents."""
    return "racers" if graph.pattern == "competitive" else "agents"


def stage_text(stage: StageNode) -> str:
    """``require all, for_each over the previous outputs, timeout 10s``."""
    extra = [f"require {stage.require}"]
    if stage.for_each:
        extra.append("for_each over the previous outputs")
    if stage.timeout is not None:
        extra.append(f"timeout {format_duration(stage.timeout)}")
    return ", ".join(extra)


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
    spec = graph.imperatives[name]
    kind = spec.check
    if spec.judge is not None:
        kind = f"judge {spec.judge.agent}"
    warning = ", warning" if spec.severity == "warning" else ""
    return f"{name} ({kind}{warning})"
