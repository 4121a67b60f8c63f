"""The live view's model: the event stream folded into rows, counts and short lists.

Folding one event costs O(1) whatever the number of agents: counts by status,
the running set and the problem list are kept up to date as events arrive, and
the slowest agents sit in a small heap. Nothing here draws; the view module
reads this state only when the screen is redrawn.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from agentrun.events.recorder import TOP_LEVEL_ROLES
from agentrun.events.records import (
    AgentFinished,
    AgentStarted,
    AttemptFailed,
    AttemptStarted,
    CheckDecided,
    Event,
    FallbackStarted,
    Queued,
    Retrying,
    RunFinished,
    RunStarted,
    SlotTaken,
    StageFinished,
    StageStarted,
    Streamed,
    WinnerChosen,
)
from agentrun.identity import Role, identity_of
from agentrun.outputs.text_summary import PROBLEM_STATUSES
from agentrun.results import AgentResult, AgentStatus, CheckResult, RunResult

RESCUE_GROUP = "rescue"
"""The group of pattern-level fallbacks (``rescue:NAME`` instances)."""
LATER_GROUP = "later stages"
"""The group of a pipeline's agents that never started (the run was interrupted)."""

KEEP_SLOWEST = 5
MAX_CHECKS = 24
"""Verdicts kept per row: more than a row can show, bounded against huge imperative lists."""


@dataclass(slots=True, eq=False)
class AgentRow:
    """What the view knows about one top-level agent instance."""

    instance: str
    group: str | None
    """The stage, ``rescue``, or ``None`` outside pipelines."""
    status: AgentStatus = AgentStatus.PENDING
    attempt: int = 0
    started_at: float | None = None
    """Run time (seconds) at which the agent started."""
    duration: float | None = None
    """Set once the agent has finished."""
    checks: list[CheckResult] = field(default_factory=list)
    """Verdicts of the attempt in progress (or the last one)."""
    fallback: str | None = None
    """The fallback now running in this agent's place, or the last one tried."""
    fallback_attempt: int = 0
    replaced_by: str | None = None
    error: str | None = None
    tokens: int | None = None
    streamed: int | None = None
    """Characters streamed so far by the attempt in progress."""
    winner: bool = False
    queued: Queued | None = None
    """Why the attempt in progress waits before its call, while it does."""
    running_since: float | None = None
    """Run time at which the current attempt's call started (after any queueing)."""
    retry_at: float | None = None
    """Run time at which the next attempt starts, while backing off."""

    def elapsed(self, now: float) -> float | None:
        """Seconds the agent has taken so far (its duration once finished)."""
        if self.duration is not None:
            return self.duration
        if self.started_at is None:
            return None
        return max(0.0, now - self.started_at)

    @property
    def succeeded(self) -> bool:
        """Passed on its own or through a fallback."""
        return self.status is AgentStatus.PASSED or self.replaced_by is not None


class RunState:
    """An event sink that keeps everything the live view draws."""

    def __init__(self) -> None:
        self.paradigm = ""
        self.pattern = ""
        self.stages: tuple[str, ...] = ()
        self.stage_status: dict[str, AgentStatus] = {}
        self.stage_duration: dict[str, float] = {}
        self.stage_started: dict[str, float] = {}
        self.stage_done: Counter[str] = Counter()
        self.stage_total: Counter[str] = Counter()
        self.rows: dict[str, AgentRow] = {}
        """Top-level instances in the order they appeared."""
        self.upcoming: dict[str, AgentRow] = {}
        """Planned agents of stages that have not started yet (pipelines)."""
        self.counts: Counter[AgentStatus] = Counter()
        self.running: dict[str, AgentRow] = {}
        """Agents in progress, oldest first."""
        self.problems: list[AgentRow] = []
        """Finished agents that failed, broke an imperative or timed out, unreplaced."""
        self.done = 0
        self.cut_short = 0
        """Agents the end of the run finished for them (interrupted, never started)."""
        self.tokens = 0
        self.cost: float | None = None
        self.winner: str | None = None
        self.last_t = 0.0
        self.result: RunResult | None = None
        self._owners: dict[str, AgentRow] = {}
        self._slowest: list[tuple[float, int, AgentRow]] = []
        self._serial = itertools.count()

    # ------------------------------------------------------------------ queries

    @property
    def total(self) -> int:
        """Agents planned or seen so far."""
        return len(self.rows) + len(self.upcoming)

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

    def handle(self, event: Event) -> None:
        """Fold one event into the state."""
        self.last_t = event.t
        match event:
            case AttemptStarted():
                self._attempt_started(event)
            case CheckDecided():
                target = self._target(event.instance)
                if target is not None and len(target.checks) < MAX_CHECKS:
                    target.checks.append(event.check)
            case AttemptFailed():
                target = self._target(event.instance)
                if target is not None:
                    target.error = event.error
            case Retrying():
                target = self._target(event.instance)
                if target is not None:
                    target.retry_at = event.t + event.wait_s
                    self._set_status(target, AgentStatus.RETRYING)
            case Queued() | SlotTaken():
                self._queue(event)
            case AgentStarted():
                self._agent_started(event)
            case AgentFinished(result=result):
                self._agent_finished(result)
            case FallbackStarted():
                target = self._target(event.instance)
                if target is not None:
                    target.fallback = event.fallback
                    target.fallback_attempt = 0
                    self._set_status(target, AgentStatus.RUNNING)
            case Streamed():
                target = self._target(event.instance)
                if target is not None:
                    target.streamed = event.chars
            case WinnerChosen():
                self.winner = event.instance
                if (row := self.rows.get(event.instance)) is not None:
                    row.winner = True
            case StageStarted():
                self.stage_status[event.stage] = AgentStatus.RUNNING
                self.stage_started[event.stage] = event.t
                for instance in event.agents:
                    self._row(instance, event.stage)
            case StageFinished():
                self.stage_status[event.stage] = event.status
                self.stage_duration[event.stage] = event.duration_s
            case RunStarted():
                self._run_started(event)
            case RunFinished(result=result):
                self._run_finished(result)
            case _:
                pass

    def _run_started(self, event: RunStarted) -> None:
        self.paradigm = event.paradigm
        self.pattern = event.pattern
        self.stages = event.stages
        for stage in event.stages:
            self.stage_status[stage] = AgentStatus.PENDING
        for instance in event.agents:
            if event.stages:
                # Which stage a planned agent belongs to is known when its stage starts.
                row = AgentRow(instance, None)
                self.upcoming[instance] = row
                self.counts[AgentStatus.PENDING] += 1
            else:
                self._row(instance, None)

    def _agent_started(self, event: AgentStarted) -> None:
        if event.role in TOP_LEVEL_ROLES:
            group = RESCUE_GROUP if event.role == Role.RESCUE else event.stage
            row = self._row(event.instance, group)
            row.started_at = event.t
            self.running[event.instance] = row
            self._set_status(row, AgentStatus.RUNNING)
        elif event.role == Role.FALLBACK and event.parent is not None:
            owner = self._target(event.parent)
            if owner is not None:
                self._owners[event.instance] = owner
                owner.fallback = event.agent
                owner.fallback_attempt = 0

    def _attempt_started(self, event: AttemptStarted) -> None:
        row = self.rows.get(event.instance)
        if row is not None:
            row.attempt = event.attempt
        else:
            row = self._owners.get(event.instance)
            if row is None:
                return  # a judge's attempt: shown through its verdict only
            row.fallback_attempt = event.attempt
        row.checks.clear()
        row.streamed = None
        row.running_since, row.retry_at, row.queued = event.t, None, None
        self._set_status(row, AgentStatus.RUNNING)

    def _queue(self, event: Queued | SlotTaken) -> None:
        """An attempt starts waiting for its slots, or stops: its call starts now."""
        target = self._target(event.instance)
        if target is not None:
            target.queued = event if isinstance(event, Queued) else None
            target.running_since = event.t

    def _agent_finished(self, result: AgentResult) -> None:
        if result.role not in TOP_LEVEL_ROLES:
            if result.role == Role.JUDGE and result.usage is not None:
                self._add_usage(result)
            return
        group = RESCUE_GROUP if result.role == Role.RESCUE else result.stage
        row = self._row(result.instance, group)
        if row.status.is_final:
            return
        self._finish(row, result)

    def _run_finished(self, result: RunResult) -> None:
        """Reconcile with the recorded result: agents cut short become cancelled or skipped."""
        self.result = result
        for agent in result.agents:
            group = RESCUE_GROUP if agent.role == Role.RESCUE else agent.stage
            if group is None and self.stages:
                group = LATER_GROUP
            row = self._row(agent.instance, group)
            if not row.status.is_final:
                self._finish(row, agent)
                self.cut_short += 1
        for row in self.upcoming.values():
            self.counts[row.status] -= 1
        self.upcoming.clear()
        for finished in result.stages:
            self.stage_status[finished.name] = finished.status
            self.stage_duration[finished.name] = finished.duration_s
        for stage, status in self.stage_status.items():
            if status is AgentStatus.RUNNING:
                self.stage_status[stage] = AgentStatus.CANCELLED
                self.stage_duration.setdefault(stage, result.duration_s - self.stage_started[stage])
            elif status is AgentStatus.PENDING:
                self.stage_status[stage] = AgentStatus.SKIPPED

    # ------------------------------------------------------------------ helpers

    def _row(self, instance: str, group: str | None) -> AgentRow:
        """The row of a top-level instance, created (replacing its planned placeholder) if new."""
        row = self.rows.get(instance)
        if row is not None:
            return row
        # A planned placeholder hands its pending count to the row; the items of a
        # for_each stage share one placeholder, so only the first takes it.
        placeholder = self.upcoming.pop(instance, None) or self.upcoming.pop(
            identity_of(instance).planned, None
        )
        if placeholder is None:
            self.counts[AgentStatus.PENDING] += 1
        row = self.rows[instance] = AgentRow(instance, group)
        if group is not None:
            self.stage_total[group] += 1
        return row

    def _target(self, instance: str) -> AgentRow | None:
        """The row an instance's events belong to: its own, or its owner's for a fallback."""
        return self.rows.get(instance) or self._owners.get(instance)

    def _set_status(self, row: AgentRow, status: AgentStatus) -> None:
        if row.status is status:
            return
        self.counts[row.status] -= 1
        self.counts[status] += 1
        row.status = status

    def _finish(self, row: AgentRow, result: AgentResult) -> None:
        self._set_status(row, result.status)
        row.duration = result.duration_s
        row.queued = row.retry_at = None
        row.replaced_by = result.replaced_by
        row.error = result.error
        if result.attempts:
            row.attempt = len(result.attempts)
        if result.usage is not None:
            row.tokens = result.usage.total_tokens
            self._add_usage(result)
        self.running.pop(row.instance, None)
        self.done += 1
        if row.group is not None:
            self.stage_done[row.group] += 1
        if result.status in PROBLEM_STATUSES and not row.succeeded:
            self.problems.append(row)
        if result.attempts:
            entry = (result.duration_s, next(self._serial), row)
            if len(self._slowest) < KEEP_SLOWEST:
                heapq.heappush(self._slowest, entry)
            else:
                heapq.heappushpop(self._slowest, entry)

    def _add_usage(self, result: AgentResult) -> None:
        usage = result.usage
        if usage is None:
            return
        self.tokens += usage.total_tokens
        if usage.cost_usd is not None:
            self.cost = (self.cost or 0.0) + usage.cost_usd
