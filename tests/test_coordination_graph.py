"""`agentrun graph` shows the state dataflow and exchange budgets; `agentrun schema`
covers the exchange's own keys."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jsonschema
import yaml

from agentrun import api
from agentrun.display.graph_tree import graph_tree
from agentrun.graph.describe import describe_graph
from agentrun.graph.mermaid import graph_mermaid
from agentrun.loading.schema import paradigm_schema

BOARD = """
pattern: independent
state:
  findings: {reducer: append}
  verdict: {}
agents:
  academic: {provider: mock, output: a, writes: findings}
  web: {provider: mock, output: b, writes: findings}
  critic: {provider: mock, output: c, wait_for: "state.findings | length >= 2", writes: verdict}
  late: {provider: mock, output: d, wait_for: "agents.critic.done"}
"""

DEBATE = """
pattern: exchange
rounds: 3
round_timeout: 20s
agents:
  a: {provider: mock, output: "1", timeout: 30s}
  b: {provider: mock, output: "1", timeout: 30s}
  merge: {provider: mock, output: "1", timeout: 5s}
run: [a, b]
select: {agent: merge}
"""


def test_graph_shows_who_writes_and_who_waits(write_paradigm: Callable[[str], Path]) -> None:
    graph = api.compile_paradigm(write_paradigm(BOARD), api.RunOptions())
    flow = "academic, web → findings (append) → critic (wait_for state.findings | length >= 2)"
    text = describe_graph(graph)
    assert f"  {flow}" in text.splitlines()
    assert "  critic → verdict (replace)" in text.splitlines()
    assert "  critic → late (wait_for agents.critic.done)" in text.splitlines()
    assert "findings (append) → critic" in graph_mermaid(graph)
    tree = graph_tree(graph)
    notes = [str(child.label) for child in tree.children[-1].children]
    assert flow in notes


def test_graph_shows_the_exchange_budget(write_paradigm: Callable[[str], Path]) -> None:
    graph = api.compile_paradigm(write_paradigm(DEBATE), api.RunOptions())
    budget = "budget: round ≤ 20s × 3 rounds (round_timeout), selector ≤ 5s, in all ≤ 1m05s"
    assert f"  {budget}" in describe_graph(graph).splitlines()


def test_schema_covers_the_exchange_keys() -> None:
    schema = paradigm_schema()
    validator = jsonschema.Draft202012Validator(schema)
    debate = yaml.safe_load(DEBATE) | {"until": ["consensus", {"contains": "DONE", "from": "a"}]}
    assert list(validator.iter_errors(debate)) == []
    assert list(validator.iter_errors(debate | {"rounds": 0})), "rounds is at least 1"
    assert list(validator.iter_errors({k: v for k, v in debate.items() if k != "rounds"}))
    independent = yaml.safe_load(BOARD)
    assert list(validator.iter_errors(independent)) == []
    assert list(validator.iter_errors(independent | {"rounds": 2})), "rounds needs exchange"
    stage = {"agents": ["a"], "select": "vote"}
    piped = {"pattern": "pipeline", "agents": {"a": {"provider": "mock"}}, "stages": [stage]}
    assert list(validator.iter_errors(piped)) == []
