"""The pattern protocol: a pattern registered by a test alone goes through load,
validation, run, the graph drawings and the JUnit report without editing agentrun."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from agentrun.display.graph_tree import graph_tree
from agentrun.engine.context import Limit, RunContext
from agentrun.engine.retry import BackoffPolicy
from agentrun.engine.runner import run_agent
from agentrun.engine.session import execute
from agentrun.errors import SpecError
from agentrun.events.records import EventBus
from agentrun.graph.compiled import AgentNode, TaskGraph, compile_graph
from agentrun.graph.describe import describe_graph
from agentrun.graph.mermaid import graph_mermaid
from agentrun.graph.runtime import Imperative
from agentrun.identity import InstanceId
from agentrun.loading.loader import LoadedParadigm, load_text
from agentrun.loading.semantics import Findings, default_run_agents
from agentrun.loading.spec import Paradigm
from agentrun.outputs.junit import render_junit
from agentrun.patterns import (
    PATTERNS,
    Layout,
    LayoutGroup,
    PatternOutcome,
    PatternShape,
    ReportSuite,
    TemplateScope,
    register_pattern,
)
from agentrun.patterns.common import base_context, check_no_stages, check_no_winner, one_suite
from agentrun.redact import Redactor
from agentrun.results import RunResult, RunStatus


class Sequential:
    """Agents one after another, each fed the previous one's output as its input."""

    def check(self, paradigm: Paradigm, findings: Findings) -> None:
        check_no_stages("sequential", paradigm, findings)
        check_no_winner("sequential", paradigm, findings)
        if "require" in paradigm.model_fields_set:
            message = "require: every step of a sequence must pass; remove require"
            findings.error(("require",), message, at_key=True)

    def run_agents(self, paradigm: Paradigm) -> list[str]:
        return default_run_agents(paradigm)

    def template_scope(self, paradigm: Paradigm) -> TemplateScope:
        return TemplateScope(stages=None, names=frozenset({"step"}))

    def compile(self, paradigm: Paradigm, agents: Mapping[str, AgentNode]) -> PatternShape:
        return PatternShape(agents=agents, run=tuple(self.run_agents(paradigm)))

    def planned(self, graph: TaskGraph) -> tuple[InstanceId, ...]:
        return tuple(InstanceId.of(name) for name in graph.run)

    def worst_case(self, graph: TaskGraph) -> float:
        return sum(graph.worst_case(name) for name in graph.run)

    def layout(self, graph: TaskGraph) -> Layout:
        rule = "each fed the previous output"
        group = LayoutGroup("group", "steps", "steps (one after another)", None, rule, graph.run)
        return Layout(rails=(rule,), groups=(group,))

    def report_suites(self, result: RunResult) -> list[ReportSuite]:
        return one_suite(result)

    async def run(self, ctx: RunContext, outer: Limit | None) -> PatternOutcome:
        context = base_context(ctx.graph)
        for step, name in enumerate(ctx.graph.run, start=1):
            context = {**context, "step": step}
            result = await run_agent(ctx, InstanceId.of(name), context, outer)
            if not result.succeeded:
                reason = f"step {step} ({name}) did not pass"
                return PatternOutcome(passed=False, outputs=(), reason=reason, context=context)
            context = {**context, "input": result.output or "", "previous": [result.output]}
        return PatternOutcome(passed=True, outputs=(context["input"],), context=context)


PATTERNS_PLUS = register_pattern("sequential", Sequential())

SEQUENCE = """\
pattern: sequential
input: hello
agents:
  upper: {provider: mock, output: "UP({{ input }}) step {{ step }}", timeout: 2s}
  wrap: {provider: mock, output: "[{{ input }}]", timeout: 3s}
"""


def load(text: str, patterns: Mapping[str, Any] | None = PATTERNS_PLUS) -> LoadedParadigm:
    return load_text(text, Path("seq.yaml"), env={}, patterns=patterns)


def errors_of(text: str, patterns: Mapping[str, Any] | None = PATTERNS_PLUS) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load(text, patterns)
    return [f"{p.line}:{p.column}: {p.message}" for p in caught.value.problems]


def test_the_registry_is_read_only_and_registering_makes_a_new_one() -> None:
    assert list(PATTERNS) == ["independent", "pipeline", "competitive", "exchange"]
    assert list(PATTERNS_PLUS) == [*PATTERNS, "sequential"]
    with pytest.raises(TypeError):
        PATTERNS["sequential"] = Sequential()  # type: ignore[index]
    with pytest.raises(ValueError, match="pattern 'pipeline' is already registered"):
        register_pattern("pipeline", Sequential())


def test_an_unregistered_pattern_is_an_unknown_value() -> None:
    assert errors_of(SEQUENCE, patterns=None) == [
        "1:10: pattern: expected one of independent, pipeline, competitive, exchange, got 'sequential'"
    ]
    assert errors_of(SEQUENCE.replace("sequential", "sequental")) == [
        "1:10: pattern: expected one of independent, pipeline, competitive, exchange, sequential, "
        "got 'sequental'"
    ]


def test_the_pattern_owns_its_rules_and_template_names() -> None:
    assert errors_of(SEQUENCE + "require: any\nstages: [{agents: [upper]}]\n") == [
        "6:1: require: every step of a sequence must pass; remove require",
        "7:1: stages: only a pipeline has stages; pattern is 'sequential'",
    ]
    # `step` is a name only this pattern provides.
    independent = SEQUENCE.replace("sequential", "independent")
    assert errors_of(independent) == [
        "4:35: template uses undefined name 'step' (did you mean 'stages'?)"
    ]


def test_a_registered_pattern_runs_draws_and_reports() -> None:
    graph = compile_graph(load(SEQUENCE))
    result = asyncio.run(execute(graph, EventBus()))
    assert result.status is RunStatus.PASSED
    assert result.outputs == ("[UP(hello) step 1]",)
    assert [a.instance for a in result.agents] == ["upper", "wrap"]

    text = describe_graph(graph)
    assert text.splitlines()[:2] == [
        "seq: sequential, each fed the previous output; worst case 5s",
        "steps (one after another)",
    ]
    assert 'subgraph group_steps["steps (one after another) · each fed' in graph_mermaid(graph)
    console = Console(width=100, color_system=None, record=True)
    console.print(graph_tree(graph))
    assert "steps (one after another)" in console.export_text()

    root = ET.fromstring(render_junit(result, Redactor(), PATTERNS_PLUS))
    [suite] = root.findall("testsuite")
    assert suite.get("name") == "seq"
    assert [case.get("name") for case in suite.findall("testcase")] == ["upper", "wrap"]


def test_a_failed_step_stops_the_sequence() -> None:
    failing = SEQUENCE.replace('output: "UP', 'error: down, output: "UP')
    result = asyncio.run(execute(compile_graph(load(failing)), EventBus()))
    assert result.status is RunStatus.FAILED
    assert result.reason == "step 1 (upper) did not pass"
    # The engine marks an agent the pattern never started as skipped.
    assert [(a.instance, a.status.value) for a in result.agents] == [
        ("upper", "failed"),
        ("wrap", "skipped"),
    ]


def test_the_graph_holds_runtime_values_not_file_models() -> None:
    loaded = load(
        """\
pattern: independent
providers:
  llm: {type: openai, model: m, max_concurrency: 2, rate_limit: 30/m, price: {input: 1, output: 2}}
imperatives:
  short: {max_length: 5, severity: warning}
agents:
  a: {provider: llm, imperatives: [short], backoff: {initial: 1s, jitter: false}}
""",
    )
    graph = compile_graph(loaded)
    provider = graph.providers["llm"]
    assert (provider.max_concurrency, provider.rate_per_second) == (2, 0.5)
    assert provider.price is not None and (provider.price.input, provider.price.output) == (1, 2)
    assert graph.imperatives["short"] == Imperative("short", "max_length", 5, severity="warning")
    assert graph.agents["a"].backoff == BackoffPolicy(initial=1.0, jitter=False)
    assert graph.worst_case("a") == 60.0
