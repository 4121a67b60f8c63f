"""The compiled task graph as a Rich tree (``agentrun graph --format tree``).

It shows the same things as :func:`agentrun.graph.describe.describe_graph`:
each group of the pattern (stages, racers), each agent with its provider and time budget, its
imperatives, the judges those imperatives call, its fallback chain, and the
pattern-level fallbacks.
"""

from __future__ import annotations

from rich.text import Text
from rich.tree import Tree

from agentrun.durations import format_duration
from agentrun.graph.compiled import TaskGraph
from agentrun.graph.describe import budget_text, imperative_text, title_text


def graph_tree(graph: TaskGraph) -> Tree:
    """The graph as a Rich tree: the pattern's groups, then agents with their rails."""
    tree = Tree(Text(title_text(graph), style="bold"), guide_style="grey50")
    layout = graph.strategy.layout(graph)
    for group in layout.groups:
        detail = f" ({group.detail})" if group.detail else ""
        branch = tree.add(Text.assemble((group.title, "bold"), detail))
        for name in group.agents:
            _agent_branch(branch, graph, name, set())
    if layout.notes:
        notes = tree.add(Text("dataflow and budgets", style="bold"))
        for note in layout.notes:
            notes.add(Text(note))
    if graph.fallback:
        rescue = tree.add(Text("if the pattern fails, try in order", style="bold"))
        for name in graph.fallback:
            _agent_branch(rescue, graph, name, set())
    return tree


def _agent_branch(
    parent: Tree, graph: TaskGraph, name: str, seen: set[str], prefix: str = ""
) -> None:
    node = graph.agents[name]
    branch = parent.add(
        Text.assemble(
            (prefix, "#E69F00"),
            (name, "bold #56B4E9"),
            f" [{node.provider}] {budget_text(graph, name)}; ",
            (f"worst case {format_duration(graph.worst_case(name))}", "dim"),
        )
    )
    for imperative in node.imperatives:
        branch.add(Text.assemble(("◆ ", "#CC79A7"), imperative_text(graph, imperative)))
    for judge in graph.judges_of(name):
        branch.add(Text.assemble(("⚖ judged by ", "#E69F00"), (judge, "bold")))
    if name in seen:
        return  # validation forbids fallback cycles; this only guards the drawing
    for index, fallback in enumerate(node.fallback, start=1):
        _agent_branch(branch, graph, fallback, seen | {name}, f"↳ fallback {index}: ")
