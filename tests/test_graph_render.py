"""`agentrun graph --format tree|mermaid`: the compiled graph drawn, checked structurally."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from agentrun import api
from agentrun.cli import main
from agentrun.display.graph_tree import graph_tree
from agentrun.graph.compiled import TaskGraph
from agentrun.graph.mermaid import graph_mermaid

PIPELINE = """
name: research-team
pattern: pipeline
deadline: 2m
defaults: {provider: mock, timeout: 30s}
imperatives:
  cites: {contains_any: ["http", "doi:"]}
  fair: {judge: {agent: judge-bot, rubric: "is it fair?"}}
  tone: {not_contains: "stupid", severity: warning}
agents:
  academic: {imperatives: [cites], retries: 1}
  industry-news: {fallback: [backup-1, end]}
  backup-1: {output: "none", fallback: [last.resort]}
  last.resort: {output: "none"}
  end: {output: "none"}
  critic: {imperatives: [fair, tone]}
  judge-bot: {output: PASS}
  saviour: {output: "saved"}
stages:
  - {name: gather, agents: [academic, industry-news]}
  - {name: 'critique "<x>"', agents: [critic], timeout: 1m}
  - {name: again, agents: [academic]}
fallback: [saviour]
"""

RACE = """
name: race
pattern: competitive
agents:
  a-1: {provider: mock, output: "1"}
  a_1: {provider: mock, output: "2"}
"""

NODE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
EDGE = re.compile(r"^  (\S+) (-->|-\.->|==>)(\|[^|]*\|)? (\S+)$")
NODE = re.compile(r'^\s+(\S+?)(\["|\(\[")(.*)("\]|"\]\))$')


def compile_text(write_paradigm: Callable[..., Path], text: str) -> TaskGraph:
    return api.compile_paradigm(write_paradigm(text), api.RunOptions(), for_run=False)


def parse_mermaid(
    text: str,
) -> tuple[dict[str, str], list[tuple[str, str, str, str]], dict[str, str]]:
    """Nodes (id -> label), edges (source, arrow, label, target) and subgraphs (id -> label),
    checking the lines that are neither are known statements."""
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    nodes: dict[str, str] = {}
    edges: list[tuple[str, str, str, str]] = []
    subgraphs: dict[str, str] = {}
    depth = 0
    for line in lines[1:]:
        stripped = line.strip()
        if stripped.startswith("%%") or stripped.startswith("class"):
            continue
        if stripped.startswith("subgraph "):
            found = re.match(r'subgraph (\S+)\["(.*)"\]$', stripped)
            assert found, line
            subgraphs[found[1]] = found[2]
            depth += 1
            continue
        if stripped == "end":
            depth -= 1
            assert depth >= 0
            continue
        if (edge := EDGE.match(line)) is not None:
            edges.append((edge[1], edge[2], (edge[3] or "").strip("|"), edge[4]))
            continue
        node = NODE.match(line)
        assert node, f"unknown statement: {line!r}"
        assert node[1] not in nodes, f"node {node[1]} defined twice"
        nodes[node[1]] = node[3]
    assert depth == 0
    for name in [*nodes, *subgraphs]:
        assert NODE_ID.match(name), name
        assert name != "end"
    for label in [*nodes.values(), *subgraphs.values()]:
        assert '"' not in label and "<" not in label.replace("<br/>", "")
    known = set(nodes) | set(subgraphs)
    for source, _, _, target in edges:
        assert source in known and target in known, (source, target)
    return nodes, edges, subgraphs


def test_mermaid_pipeline(write_paradigm: Callable[..., Path]) -> None:
    nodes, edges, subgraphs = parse_mermaid(graph_mermaid(compile_text(write_paradigm, PIPELINE)))
    assert list(subgraphs.values()) == [
        "stage gather · require all",
        "stage critique #quot;#lt;x#gt;#quot; · require all, timeout 1m",
        "stage again · require all",
        "if the pattern fails, try in order",
    ]
    labels = {label.split("<br/>")[0]: node for node, label in nodes.items()}
    by_label: dict[str, list[str]] = {}
    for node, label in nodes.items():
        by_label.setdefault(label.split("<br/>")[0], []).append(node)
    assert len(by_label["academic"]) == 2  # one node per stage it runs in
    assert "◆ cites" in nodes[by_label["academic"][0]]
    assert "◆ fair, tone" in nodes[labels["critic"]]
    assert "[mock] timeout 30s, 1 retry" in nodes[by_label["academic"][0]]
    dashed = {
        (labels_of(nodes, s), label, labels_of(nodes, t)) for s, a, label, t in edges if a == "-.->"
    }
    assert ("industry-news", "fallback 1", "backup-1") in dashed
    assert ("industry-news", "fallback 2", "end") in dashed
    assert ("backup-1", "fallback 1", "last.resort") in dashed
    judged = [(labels_of(nodes, s), labels_of(nodes, t)) for s, a, _, t in edges if a == "==>"]
    assert judged == [("critic", "judge-bot")]
    stage_ids = list(subgraphs)
    flow = [(s, t) for s, a, _, t in edges if a == "-->"]
    assert flow == [
        ("input", stage_ids[0]),
        (stage_ids[0], stage_ids[1]),
        (stage_ids[1], stage_ids[2]),
        (stage_ids[2], "output"),
    ]
    assert (stage_ids[2], "-.->", "pattern failed", stage_ids[3]) in edges


def labels_of(nodes: dict[str, str], node: str) -> str:
    return nodes.get(node, node).split("<br/>")[0]


def test_mermaid_ids_stay_unique_after_sanitising(write_paradigm: Callable[..., Path]) -> None:
    nodes, _, subgraphs = parse_mermaid(graph_mermaid(compile_text(write_paradigm, RACE)))
    agents = {node: label.split("<br/>")[0] for node, label in nodes.items() if "<br/>" in label}
    assert sorted(agents.values()) == ["a-1", "a_1"]
    assert len(set(agents)) == 2
    assert list(subgraphs.values()) == ["racers (all at once) · first valid output wins"]


def test_tree(write_paradigm: Callable[..., Path]) -> None:
    console = Console(file=io.StringIO(), width=120, color_system=None, _environ={})
    with console.capture() as capture:
        console.print(graph_tree(compile_text(write_paradigm, PIPELINE)))
    lines = capture.get().splitlines()
    assert lines[0] == "research-team: pipeline, deadline 2m; worst case 2m30s"
    text = "\n".join(lines)
    assert '├── stage critique "<x>" (require all, timeout 1m)' in text
    assert "│   ├── academic [mock] timeout 30s, 1 retry; worst case 1m" in text
    assert "│   │   └── ◆ cites (contains_any)" in text
    assert "↳ fallback 1: backup-1 [mock]" in text
    assert "↳ fallback 1: last.resort [mock]" in text
    assert "↳ fallback 2: end [mock]" in text
    assert "◆ fair (judge judge-bot)" in text
    assert "◆ tone (not_contains, warning)" in text
    assert "⚖ judged by judge-bot" in text
    assert "└── if the pattern fails, try in order" in text


@pytest.mark.parametrize("fmt", ["tree", "mermaid", "text"])
def test_cli_formats(
    write_paradigm: Callable[..., Path], capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    path = write_paradigm(RACE)
    with pytest.raises(SystemExit) as exit_info:
        main(["graph", str(path), "--format", fmt])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out  # not a terminal: no colour
    first = {"tree": "race: competitive", "mermaid": "flowchart TD", "text": "race: competitive"}
    assert out.startswith(first[fmt])


def test_cli_rejects_an_unknown_format(
    write_paradigm: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["graph", str(write_paradigm(RACE)), "--format", "svg"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (
        "agentrun: error: --format must be one of text, tree, mermaid, got 'svg'\n"
    )
