"""The compiled task graph as a Mermaid flowchart (``agentrun graph --format mermaid``).

A subgraph per group of the pattern (stages, racers), agents with their budget and imperatives,
fallback edges (dashed), judge edges (thick) and the pattern-level fallbacks.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from agentrun.durations import format_duration
from agentrun.graph.compiled import TaskGraph
from agentrun.graph.describe import budget_text, title_text

_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_]")


@dataclass(slots=True)
class _Mermaid:
    """Builds the flowchart text; hands out unique, sanitised node ids."""

    graph: TaskGraph
    lines: list[str] = field(default_factory=list)
    ids: dict[tuple[str, str], str] = field(default_factory=dict)
    taken: set[str] = field(default_factory=set)
    helpers: list[str] = field(default_factory=list)
    """Fallback and judge agents, drawn once each, outside every subgraph."""

    def node_id(self, kind: str, key: str) -> str:
        """A Mermaid-safe id for ``(kind, key)``, the same one each time it is asked for."""
        found = self.ids.get((kind, key))
        if found is not None:
            return found
        base = f"{kind}_{_UNSAFE_ID.sub('_', key)}"
        candidate, suffix = base, 1
        while candidate in self.taken:
            suffix += 1
            candidate = f"{base}_{suffix}"
        self.taken.add(candidate)
        self.ids[(kind, key)] = candidate
        return candidate

    def agent_node(self, node_id: str, name: str, indent: str) -> None:
        graph = self.graph
        node = graph.agents[name]
        parts = [
            _label(name),
            _label(f"[{node.provider}] {budget_text(graph, name)}"),
            _label(f"worst case {format_duration(graph.worst_case(name))}"),
        ]
        if node.imperatives:
            parts.append(_label("◆ " + ", ".join(node.imperatives)))
        self.lines.append(f'{indent}{node_id}["{"<br/>".join(parts)}"]')

    def rails(self, source: str, name: str) -> None:
        """Fallback and judge edges from one agent node (helpers queued for drawing)."""
        node = self.graph.agents[name]
        for judge in self.graph.judges_of(name):
            target = self.helper(judge)
            self.lines.append(f"  {source} ==>|judged by| {target}")
        for index, fallback in enumerate(node.fallback, start=1):
            target = self.helper(fallback)
            self.lines.append(f"  {source} -.->|fallback {index}| {target}")

    def helper(self, name: str) -> str:
        if ("helper", name) not in self.ids:
            self.helpers.append(name)
        return self.node_id("helper", name)


def graph_mermaid(graph: TaskGraph) -> str:
    """The graph as a Mermaid ``flowchart``: stage subgraphs, agents, fallback edges
    (dashed), judge edges (thick), imperatives in the agents' labels."""
    chart = _Mermaid(graph)
    chart.lines += ["flowchart TD", f"  %% {_comment(title_text(graph))}"]
    chart.lines.append('  input(["input"])')
    layout = graph.strategy.layout(graph)
    groups = [
        (chart.node_id(group.kind, group.key), f"{group.title} · {group.rule}", group.agents)
        for group in layout.groups
    ]
    members: list[tuple[str, str]] = []
    for group_id, label, agents in groups:
        chart.lines.append(f'  subgraph {group_id}["{_label(label)}"]')
        for name in agents:
            node_id = chart.node_id("agent", f"{group_id}.{name}")
            chart.agent_node(node_id, name, "    ")
            members.append((node_id, name))
        chart.lines.append("  end")
    chart.lines.append('  output(["output"])')
    chart.lines.append(f"  input --> {groups[0][0]}")
    for (before, _, _), (after, _, _) in itertools.pairwise(groups):
        chart.lines.append(f"  {before} --> {after}")
    chart.lines.append(f"  {groups[-1][0]} --> output")
    for node_id, name in members:
        chart.rails(node_id, name)
    if graph.fallback:
        rescue_id = chart.node_id("group", "rescue")
        chart.lines.append(f'  subgraph {rescue_id}["if the pattern fails, try in order"]')
        rescuers = []
        for name in graph.fallback:
            node_id = chart.node_id("rescue", name)
            chart.agent_node(node_id, name, "    ")
            rescuers.append((node_id, name))
        chart.lines.append("  end")
        chart.lines.append(f"  {groups[-1][0]} -.->|pattern failed| {rescue_id}")
        chart.lines.append(f"  {rescue_id} -.-> output")
        for node_id, name in rescuers:
            chart.rails(node_id, name)
    drawn: set[str] = set()
    while chart.helpers:
        name = chart.helpers.pop(0)
        if name in drawn:
            continue
        drawn.add(name)
        node_id = chart.node_id("helper", name)
        chart.agent_node(node_id, name, "  ")
        chart.rails(node_id, name)
    _notes(chart, layout.notes)
    chart.lines += [
        "  classDef helper stroke-dasharray: 4 3",
        *(f"  class {chart.node_id('helper', name)} helper" for name in sorted(drawn)),
    ]
    return "\n".join(chart.lines)


def _notes(chart: _Mermaid, notes: tuple[str, ...]) -> None:
    """The dataflow and budget lines as one note beside the chart."""
    if notes:
        text = "<br/>".join(_label(note) for note in ("dataflow and budgets", *notes))
        chart.lines.append(f'  notes["{text}"]')


def _label(text: str) -> str:
    """Text safe inside a quoted Mermaid label (entity codes for the characters it parses)."""
    for raw, safe in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(raw, safe)
    return text


def _comment(text: str) -> str:
    return " ".join(text.split())
