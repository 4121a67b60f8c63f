"""The live view's model: the run's fold plus what only the view needs.

:class:`RunState` is a :class:`~agentrun.events.fold.RunFold` (statuses, counts,
the running set, stages, tokens, placeholders), so the view and the report read
one fold. On top it keeps only what is drawn and nowhere else: the checks and
streamed characters of each row, the problem list and a small heap of the
slowest agents. Folding one event costs O(1) whatever the number of agents.
Nothing here draws; the view module reads this state only when the screen is
redrawn.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

from agentrun.coordination.events import AgentWaiting, RoundFinished, RoundStarted
from agentrun.events.fold import AgentState, RunFold
from agentrun.events.records import (
    AttemptStarted,
    CheckDecided,
    Queued,
    Retrying,
    RunFinished,
    SlotTaken,
    Streamed,
)
from agentrun.identity import Role
from agentrun.outputs.text_summary import PROBLEM_STATUSES
from agentrun.results import AgentResult, CheckResult

RESCUE_GROUP = "rescue"
"""The group of pattern-level fallbacks (``rescue:NAME`` instances)."""
LATER_GROUP = "later stages"
"""The group of a pipeline's agents that never started (the run was interrupted)."""

KEEP_SLOWEST = 5
MAX_CHECKS = 24
"""Verdicts kept per row: more than a row can show, bounded against huge imperative lists."""


@dataclass(slots=True, eq=False)
class AgentRow(AgentState):
    """A top-level agent's state, with what its row of the view shows besides."""

    group: str | None = None
    """The stage, ``rescue``, ``later stages``, or ``None`` outside pipelines."""
    checks: list[CheckResult] = field(default_factory=list)
    """Verdicts of the attempt in progress (or the last one)."""
    streamed: int | None = None
    """Characters streamed so far by the attempt in progress."""
    queued: Queued | None = None
    """Why the attempt in progress waits before its call, while it does."""
    running_since: float | None = None
    """Run time at which the current attempt's call started (after any queueing)."""
    retry_at: float | None = None
    """Run time at which the next attempt starts, while backing off."""
    waiting: str | None = None
    """What its ``wait_for`` reads now, while it waits to start."""


class RunState(RunFold[AgentRow]):
    """An event sink that keeps everything the live view draws."""

    def __init__(self) -> None:
        super().__init__(self._new_row)
        self.problems: list[AgentRow] = []
        """Finished agents that failed, broke an imperative or timed out, unreplaced."""
        self._slowest: list[tuple[float, int, AgentRow]] = []
        self._serial = itertools.count()
        self.cut_short = 0
        """Agents the end of the run finished for them (interrupted, never started)."""
        self._handlers[CheckDecided] = self._check_decided
        self._handlers[Streamed] = self._streamed
        self._handlers[Queued] = self._queue
        self._handlers[SlotTaken] = self._queue
        self._handlers[AgentWaiting] = self._agent_waiting
        self._handlers[RoundStarted] = self._round_started
        self._handlers[RoundFinished] = self._round_finished
        self.exchange: str | None = None
        """``round 2/3, agreement 2/3`` once an exchange has started."""
        self._round = (0, 0)
        self._agreement = ""

    # ------------------------------------------------------------------ queries

    @property
    def rows(self) -> dict[str, AgentRow]:
        """Top-level instances in the order they appeared."""
        return self.agents

    @property
    def upcoming(self) -> dict[str, AgentRow]:
        """Planned agents of stages that have not started yet (pipelines)."""
        return self.placeholders

    def groups(self) -> Iterator[tuple[str | None, list[AgentRow]]]:
        """Rows by group, in stage order for pipelines; rescue agents last."""
        by_group: dict[str | None, list[AgentRow]] = {}
        for row in self.rows.values():
            by_group.setdefault(row.group, []).append(row)
        order: list[str | None] = [*self.stages, None, RESCUE_GROUP]
        order += [g for g in by_group if g not in order]
        for group in order:
            if group in by_group:
                yield group, by_group[group]

    def slowest(self) -> list[AgentRow]:
        """The finished agents that took longest, longest first."""
        return [row for _, _, row in sorted(self._slowest, reverse=True)]

    # ------------------------------------------------------------------ folding

    def _new_row(self, instance: str, stage: str | None, role: Role) -> AgentRow:
        row = AgentRow(instance, stage, role)
        if role == Role.RESCUE:
            row.group = RESCUE_GROUP
        elif stage is None and self.stages and self.result is not None:
            row.group = LATER_GROUP  # reported by the finished run, never started
        else:
            row.group = stage
        return row

    def _agent_waiting(self, event: AgentWaiting) -> AgentRow | None:
        row = super()._agent_waiting(event)
        if row is not None and not row.status.is_final:
            row.waiting = event.detail
        return row

    def _round_started(self, event: RoundStarted) -> None:
        self._round = (event.round, event.rounds)
        self._show_round()

    def _round_finished(self, event: RoundFinished) -> None:
        # agreement is the share of the round's participants holding the modal answer
        count = len(event.answers)
        self._agreement = f", agreement {round(event.agreement * count)}/{count}"
        self._show_round()

    def _show_round(self) -> None:
        number, rounds = self._round
        self.exchange = f"round {number}/{rounds}{self._agreement}"

    def _attempt_started(self, event: AttemptStarted) -> AgentRow | None:
        row = super()._attempt_started(event)
        if row is not None:
            row.waiting = None
            row.checks.clear()
            row.streamed = None
            row.running_since, row.retry_at, row.queued = event.t, None, None
        return row

    def _retrying(self, event: Retrying) -> None:
        super()._retrying(event)
        row = self.target(event.instance)
        if row is not None:
            row.retry_at = event.t + event.wait_s

    def _queue(self, event: Queued | SlotTaken) -> None:
        """An attempt starts waiting for its slots, or stops: its call starts now."""
        row = self.target(event.instance)
        if row is not None:
            row.queued = event if isinstance(event, Queued) else None
            row.running_since = event.t

    def _run_finished(self, event: RunFinished) -> None:
        self.cut_short = sum(
            1
            for agent in event.result.agents
            if (row := self.agents.get(agent.instance)) is None or row.result is None
        )
        super()._run_finished(event)

    def _check_decided(self, event: CheckDecided) -> None:
        row = self.target(event.instance)
        if row is not None and len(row.checks) < MAX_CHECKS:
            row.checks.append(event.check)

    def _streamed(self, event: Streamed) -> None:
        row = self.target(event.instance)
        if row is not None:
            row.streamed = event.chars

    def _finish(self, entry: AgentRow, result: AgentResult) -> None:
        super()._finish(entry, result)
        entry.queued = entry.retry_at = entry.waiting = None
        if result.status in PROBLEM_STATUSES and not entry.succeeded:
            self.problems.append(entry)
        if result.attempts:
            item = (result.duration_s, next(self._serial), entry)
            if len(self._slowest) < KEEP_SLOWEST:
                heapq.heappush(self._slowest, item)
            else:
                heapq.heappushpop(self._slowest, item)
