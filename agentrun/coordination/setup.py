"""What a session does for coordination: build the board and the fold, fill the report."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from agentrun.coordination.fold import CoordinationFold
from agentrun.coordination.state import Board
from agentrun.results import RunResult, RunStatus

if TYPE_CHECKING:
    from agentrun.graph.compiled import TaskGraph
    from agentrun.patterns.base import PatternOutcome
    from agentrun.templates import TemplateEngine


def coordination_of(graph: TaskGraph, templates: TemplateEngine) -> CoordinationFold | None:
    """A fold for a run whose paradigm uses a board, rounds or a vote (else ``None``:
    runs without them pay nothing per event)."""
    staged = any(stage.selection is not None for stage in graph.stages)
    if graph.board is None and graph.settings is None and graph.selection is None and not staged:
        return None
    return CoordinationFold(None)


def board_of(graph: TaskGraph, templates: TemplateEngine) -> Board | None:
    """The run's board, when the graph has ``state`` or waits."""
    return Board(graph.board, graph, templates) if graph.board is not None else None


def with_coordination(
    result: RunResult, fold: CoordinationFold, outcome: PatternOutcome | None
) -> RunResult:
    """``result`` with the coordination report fields and any pattern-level violation."""
    data = fold.report()
    if fold.agents:
        data["agents"] = fold.agents
    violation = None
    if outcome is not None and result.status is RunStatus.FAILED:
        violation = outcome.violation
    return replace(result, coordination=data, violation=violation)
