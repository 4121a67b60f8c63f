"""``agentrun graph``: the compiled task graph as indented text with worst-case times."""

from __future__ import annotations

from agentrun.durations import format_duration
from agentrun.graph import TaskGraph


def describe_graph(graph: TaskGraph) -> str:
    """Stages, agents, fallbacks, judges, imperatives and each agent's worst-case time."""
    rails = [graph.pattern]
    if graph.deadline is not None:
        rails.append(f"deadline {format_duration(graph.deadline)}")
    if graph.pattern == "independent":
        rails.append(f"require {graph.require}")
    lines = [
        f"{graph.paradigm}: {', '.join(rails)}; "
        f"worst case {format_duration(graph.worst_case_total())}"
    ]
    if graph.pattern == "pipeline":
        for stage in graph.stages:
            extra = [f"require {stage.require}"]
            if stage.for_each:
                extra.append("for_each over the previous outputs")
            if stage.timeout is not None:
                extra.append(f"timeout {format_duration(stage.timeout)}")
            lines.append(f"stage {stage.name} ({', '.join(extra)})")
            for name in stage.agents:
                lines += _agent_lines(graph, name, "  ")
    else:
        label = "racers" if graph.pattern == "competitive" else "agents"
        lines.append(f"{label} (all at once)")
        for name in graph.run:
            lines += _agent_lines(graph, name, "  ")
    if graph.fallback:
        lines.append("if the pattern fails, try in order:")
        for name in graph.fallback:
            lines += _agent_lines(graph, name, "  ")
    return "\n".join(lines)


def _agent_lines(graph: TaskGraph, name: str, indent: str) -> list[str]:
    node = graph.agents[name]
    budget = [f"timeout {format_duration(node.timeout)}"]
    if node.retries:
        budget.append(f"{node.retries} retr{'y' if node.retries == 1 else 'ies'}")
    if node.total_timeout != float("inf"):
        budget.append(f"total {format_duration(node.total_timeout)}")
    lines = [
        f"{indent}{name} [{node.provider}] {', '.join(budget)}; "
        f"worst case {format_duration(graph.worst_case(name))}"
    ]
    if node.imperatives:
        lines.append(f"{indent}  imperatives: {', '.join(node.imperatives)}")
    for judge in graph.judges_of(name):
        lines.append(f"{indent}  judged by {judge}")
    for fallback in node.fallback:
        lines.append(f"{indent}  fallback →")
        lines += _agent_lines(graph, fallback, indent + "    ")
    return lines
