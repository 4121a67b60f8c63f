"""The pattern protocol: everything one pattern owns, from validation to its run.

A pattern is an object registered under a name (see :mod:`agentrun.patterns`).
Loading asks it for its rules and which agents it starts; compilation asks it
for its part of the task graph; the engine asks it for the planned instances and
runs it; the graph renderers draw its :class:`Layout`; the JUnit writer asks it
how to group testcases. Nothing outside ``agentrun/patterns/`` looks at a
pattern's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from agentrun.graph.compiled import AgentNode, StageNode, TaskGraph
from agentrun.identity import InstanceId
from agentrun.results import AgentResult, RunResult, StageResult

if TYPE_CHECKING:
    from agentrun.engine.context import Limit, RunContext
    from agentrun.loading.semantics import Findings
    from agentrun.loading.spec import Paradigm


@dataclass(frozen=True, slots=True)
class PatternOutcome:
    """How a pattern ended, before pattern-level fallbacks."""

    passed: bool
    outputs: tuple[str, ...]
    reason: str | None = None
    output_sources: tuple[InstanceId | None, ...] = ()
    """The instance each output came from, in order."""
    winner: str | None = None
    stages: tuple[StageResult, ...] = ()
    context: Mapping[str, Any] = field(default_factory=dict)
    """The template context as the pattern left it (for pattern-level fallbacks)."""
    violation: str | None = None
    """A pattern-level violation (a missed vote quorum): the pattern failed, exit 1."""


@dataclass(frozen=True, slots=True)
class PatternShape:
    """A pattern's part of the task graph, built once by :meth:`Pattern.compile`."""

    agents: Mapping[str, AgentNode]
    """Every agent node, as the pattern needs them (it may add checks to some)."""
    run: tuple[str, ...] = ()
    """Agents started together (side by side, racing, or taking turns)."""
    stages: tuple[StageNode, ...] = ()
    settings: Any = None
    """The pattern's own compiled settings (e.g. rounds and topology); opaque to the rest."""


@dataclass(frozen=True, slots=True)
class LayoutGroup:
    """One group of agents as every graph drawing shows it: a stage, the racers, a round."""

    kind: str
    """What the group is (``stage``, ``group``, ``round``); prefixes its Mermaid id."""
    key: str
    """Unique among the groups of its kind."""
    title: str
    """``stage draft`` or ``racers (all at once)``."""
    detail: str | None
    """Rules shown in parentheses after the title in text and tree form."""
    rule: str
    """Rules shown after the title in a Mermaid subgraph label."""
    agents: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Layout:
    """How to draw a pattern: title rails, then groups in the order they run."""

    rails: tuple[str, ...]
    """Phrases after the pattern's name and deadline in the title (``require all``)."""
    groups: tuple[LayoutGroup, ...]
    notes: tuple[str, ...] = ()
    """Lines drawn after the groups: the state dataflow, budgets (``round ≤ 1m30s``)."""


@dataclass(frozen=True, slots=True)
class TemplateScope:
    """What a pattern adds to or takes from the names templates may read."""

    stages: tuple[str, ...] | None
    """Names under ``stages``; ``None`` when the pattern has no stages at all."""
    item_agents: frozenset[str] = frozenset()
    """Agents whose templates may read ``item``."""
    names: frozenset[str] = frozenset()
    """Top-level names the pattern adds to the context (``round``, ``inbox``, ...)."""


class ReportSuite(NamedTuple):
    """One JUnit testsuite: its name, its agents, its time in seconds."""

    name: str
    agents: list[AgentResult]
    seconds: float


class Pattern(Protocol):
    """A pattern: its rules, its graph, its budget, its drawing, its report and its run."""

    def check(self, paradigm: Paradigm, findings: Findings) -> None:
        """Add the problems of ``paradigm`` that break this pattern's rules."""
        ...

    def run_agents(self, paradigm: Paradigm) -> list[str]:
        """The agents the pattern starts, in order, each once."""
        ...

    def template_scope(self, paradigm: Paradigm) -> TemplateScope:
        """The pattern-specific names the paradigm's templates may read."""
        ...

    def compile(self, paradigm: Paradigm, agents: Mapping[str, AgentNode]) -> PatternShape:
        """The pattern's part of the task graph of a validated paradigm."""
        ...

    def planned(self, graph: TaskGraph) -> tuple[InstanceId, ...]:
        """The agent instances the pattern plans to run, for the display."""
        ...

    def worst_case(self, graph: TaskGraph) -> float:
        """Longest the pattern can take, before the deadline and pattern-level fallbacks."""
        ...

    def layout(self, graph: TaskGraph) -> Layout:
        """What the text, tree and Mermaid drawings of the graph show."""
        ...

    def report_suites(self, result: RunResult) -> list[ReportSuite]:
        """How the JUnit report groups the agents of a run."""
        ...

    async def run(self, ctx: RunContext, outer: Limit | None) -> PatternOutcome:
        """Run the pattern to completion; cancellation propagates."""
        ...


PATTERN_METHODS = (
    "check",
    "run_agents",
    "template_scope",
    "compile",
    "planned",
    "worst_case",
    "layout",
    "report_suites",
    "run",
)
"""What an object must offer to be registered as a pattern."""


def missing_pattern_methods(obj: object) -> list[str]:
    """The methods of :class:`Pattern` that ``obj`` lacks (empty when it is a pattern)."""
    return [name for name in PATTERN_METHODS if not callable(getattr(obj, name, None))]
