"""The one fold of the event stream: a run's state, kept up to date event by event.

The engine folds its own events into a :class:`RunFold` so that an interrupted run
still has a report (:meth:`RunFold.agent_results`); the live view folds the events
of its bus into a subclass that adds only what it draws. Both therefore agree on
statuses, counts, stages, tokens and which planned agents never started.

Folding one event costs O(1) whatever the number of agents: counts by status,
the running set and the totals move as events arrive, and handlers are found by
the event's type rather than by trying each kind in turn.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from agentrun.coordination.events import AgentWaiting
from agentrun.events.records import (
    AgentFinished,
    AgentStarted,
    AttemptFailed,
    AttemptStarted,
    Event,
    FallbackStarted,
    Retrying,
    RunFinished,
    RunStarted,
    StageFinished,
    StageStarted,
    WinnerChosen,
)
from agentrun.identity import Role, identity_of
from agentrun.results import AgentResult, AgentStatus, RunResult, Usage, merge_turns

TOP_LEVEL_ROLES = frozenset(role for role in Role if role.top_level)

_PENDING = AgentStatus.PENDING
_RUNNING = AgentStatus.RUNNING


@dataclass(slots=True, eq=False)
class AgentState:
    """What the run knows about one top-level agent instance (an agent or a rescue)."""

    instance: str
    stage: str | None
    """The pipeline stage it runs in; ``None`` outside pipelines and while only planned."""
    role: Role = Role.AGENT
    status: AgentStatus = _PENDING
    attempt: int = 0
    started_at: float | None = None
    """Run time (seconds) at which the agent started."""
    duration: float | None = None
    """Set once the agent has finished."""
    fallback: str | None = None
    """The fallback now running in this agent's place, or the last one tried."""
    fallback_attempt: int = 0
    replaced_by: str | None = None
    error: str | None = None
    """The latest error: of the attempt that failed last, then the final one."""
    tokens: int | None = None
    winner: bool = False
    result: AgentResult | None = None
    """The final result, once the agent has finished."""
    reached: bool = False
    """The run reached it: it started, or finished without starting (skipped)."""
    earlier: AgentResult | None = None
    """Its earlier turns, merged, while a later turn of an exchange runs."""

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


E = TypeVar("E", bound=AgentState)


class RunFold(Generic[E]):
    """An event sink folding a run's events into its state; ``entry`` makes each agent's record.

    Planned agents of a pipeline wait as *placeholders* until their stage starts (only
    then is their stage known); the items of a ``for_each`` stage replace their agent's
    one placeholder. Planned agents of other patterns are entries from the start.
    """

    def __init__(self, entry: Callable[[str, str | None, Role], E]) -> None:
        self._entry = entry
        self.paradigm = ""
        self.pattern = ""
        self.planned: tuple[str, ...] = ()
        self.stages: tuple[str, ...] = ()
        self.stage_status: dict[str, AgentStatus] = {}
        self.stage_duration: dict[str, float] = {}
        self.stage_started: dict[str, float] = {}
        self.stage_done: Counter[str] = Counter()
        self.stage_total: Counter[str] = Counter()
        self.agents: dict[str, E] = {}
        """Top-level instances in the order they appeared."""
        self.placeholders: dict[str, E] = {}
        """Planned agents of pipeline stages that have not started, by planned label."""
        self.counts: dict[AgentStatus, int] = dict.fromkeys(AgentStatus, 0)
        """Entries and placeholders by status."""
        self.running: dict[str, E] = {}
        """Agents in progress, oldest first."""
        self.done = 0
        self.tokens = 0
        """Tokens of every finished agent and judge."""
        self.cost: float | None = None
        self.winner: str | None = None
        self.last_t = 0.0
        self.result: RunResult | None = None
        self._reached: list[E] = []
        self._owners: dict[str, E] = {}
        self._judge_usage: Usage | None = None
        self._handlers: dict[type[Event], Callable[[Any], object]] = {
            RunStarted: self._run_started,
            StageStarted: self._stage_started,
            StageFinished: self._stage_finished,
            AgentStarted: self._agent_started,
            AttemptStarted: self._attempt_started,
            AttemptFailed: self._attempt_failed,
            Retrying: self._retrying,
            FallbackStarted: self._fallback_started,
            AgentFinished: self._agent_finished,
            WinnerChosen: self._winner_chosen,
            AgentWaiting: self._agent_waiting,
            RunFinished: self._run_finished,
        }

    def handle(self, event: Event) -> None:
        """Fold one event into the state."""
        self.last_t = event.t
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    # ------------------------------------------------------------------ queries

    @property
    def total(self) -> int:
        """Agents planned or seen so far."""
        return len(self.agents) + len(self.placeholders)

    def target(self, instance: str) -> E | None:
        """The entry an instance's events belong to: its own, or its owner's for a fallback."""
        return self.agents.get(instance) or self._owners.get(instance)

    def result_of(self, instance: str) -> AgentResult | None:
        """The final result of a top-level instance, if it finished."""
        entry = self.agents.get(instance)
        return None if entry is None else entry.result

    def agent_results(self) -> list[AgentResult]:
        """Every top-level agent in start order; one still running is reported cancelled,
        one planned but never started is reported skipped."""
        results: list[AgentResult] = []
        for entry in self._reached:
            result = entry.result
            if result is None:
                who = identity_of(entry.instance)
                final = AgentStatus.CANCELLED if not entry.status.is_final else entry.status
                result = AgentResult(
                    who.agent, who, who.stage, final, error="cancelled", role=who.role
                )
                if entry.earlier is not None:
                    result = merge_turns(entry.earlier, result)
            results.append(result)
        started = {identity_of(entry.instance).planned for entry in self._reached}
        for planned in self.planned:
            if planned not in started:
                who = identity_of(planned)
                results.append(
                    AgentResult(who.agent, who, None, AgentStatus.SKIPPED, error="never started")
                )
        return results

    def total_usage(self) -> Usage | None:
        """Tokens of every agent, fallback and judge."""
        usages: list[Usage] = []
        for entry in self._reached:
            if entry.result is not None and entry.result.usage is not None:
                usages.append(entry.result.usage)
        if self._judge_usage is not None:
            usages.append(self._judge_usage)
        return sum(usages[1:], usages[0]) if usages else None

    # ------------------------------------------------------------------ handlers

    def _run_started(self, event: RunStarted) -> None:
        self.paradigm = event.paradigm
        self.pattern = event.pattern
        self.planned = event.agents
        self.stages = event.stages
        for stage in event.stages:
            self.stage_status[stage] = _PENDING
        if event.stages:
            # Which stage a planned agent belongs to is known when its stage starts.
            for instance in event.agents:
                self.placeholders[instance] = self._entry(instance, None, Role.AGENT)
            self.counts[_PENDING] += len(event.agents)
        else:
            # Entries at once, without _add's checks: nothing is placed or staged yet.
            agents, entry = self.agents, self._entry
            before = len(agents)
            for instance in event.agents:
                if instance not in agents:
                    agents[instance] = entry(instance, None, Role.AGENT)
            self.counts[_PENDING] += len(agents) - before

    def _stage_started(self, event: StageStarted) -> None:
        self.stage_status[event.stage] = _RUNNING
        self.stage_started[event.stage] = event.t
        for instance in event.agents:
            self._add(instance, event.stage, Role.AGENT)

    def _stage_finished(self, event: StageFinished) -> None:
        self.stage_status[event.stage] = event.status
        self.stage_duration[event.stage] = event.duration_s

    def _agent_started(self, event: AgentStarted) -> None:
        if event.role in TOP_LEVEL_ROLES:
            entry = self.agents.get(event.instance) or self._add(
                event.instance, event.stage, event.role
            )
            entry.instance = event.instance  # the engine's identity, over a planned label
            if entry.result is not None:
                self._next_turn(entry)
            entry.started_at = event.t
            if not entry.reached:
                entry.reached = True
                self._reached.append(entry)
            self.running[event.instance] = entry
            counts = self.counts
            counts[entry.status] -= 1
            counts[_RUNNING] += 1
            entry.status = _RUNNING
        elif event.role == Role.FALLBACK and event.parent is not None:
            owner = self.target(event.parent)
            if owner is not None:
                self._owners[event.instance] = owner
                owner.fallback = event.agent
                owner.fallback_attempt = 0

    def _agent_waiting(self, event: AgentWaiting) -> E | None:
        """Held back by ``wait_for``: ``waiting``, not running, until its first attempt."""
        entry = self.agents.get(event.instance)
        if entry is not None and not entry.status.is_final:
            self._set_status(entry, AgentStatus.WAITING)
            self.running.pop(entry.instance, None)
        return entry

    def _attempt_started(self, event: AttemptStarted) -> E | None:
        entry = self.agents.get(event.instance)
        if entry is not None:
            entry.attempt = event.attempt
        else:
            entry = self._owners.get(event.instance)
            if entry is None:
                return None  # a judge's attempt: it has no entry of its own
            entry.fallback_attempt = event.attempt
        if entry.status is AgentStatus.WAITING:
            self.running[entry.instance] = entry
        if entry.status is not _RUNNING:
            self._set_status(entry, _RUNNING)
        return entry

    def _attempt_failed(self, event: AttemptFailed) -> None:
        entry = self.target(event.instance)
        if entry is not None:
            entry.error = event.error

    def _retrying(self, event: Retrying) -> None:
        entry = self.target(event.instance)
        if entry is not None:
            self._set_status(entry, AgentStatus.RETRYING)

    def _fallback_started(self, event: FallbackStarted) -> None:
        entry = self.target(event.instance)
        if entry is not None:
            entry.fallback = event.fallback
            entry.fallback_attempt = 0
            self._set_status(entry, _RUNNING)

    def _agent_finished(self, event: AgentFinished) -> None:
        result = event.result
        if result.role not in TOP_LEVEL_ROLES:
            if result.role == Role.JUDGE and result.usage is not None:
                usage = self._judge_usage
                self._judge_usage = result.usage if usage is None else usage + result.usage
                self._add_usage(result.usage)
            return
        entry = self.agents.get(result.instance) or self._add(
            result.instance, result.stage, result.role
        )
        if not entry.reached:
            entry.reached = True
            self._reached.append(entry)
        if entry.result is None:
            self._finish(entry, result)

    def _winner_chosen(self, event: WinnerChosen) -> None:
        self.winner = event.instance
        entry = self.agents.get(event.instance)
        if entry is not None:
            entry.winner = True

    def _run_finished(self, event: RunFinished) -> None:
        """Reconcile with the recorded result: agents cut short become cancelled or skipped."""
        result = self.result = event.result
        for agent in result.agents:
            entry = self._add(agent.instance, agent.stage, agent.role)
            if entry.result is None:
                self._finish(entry, agent)
        for placeholder in self.placeholders.values():
            self.counts[placeholder.status] -= 1
        self.placeholders.clear()
        for finished in result.stages:
            self.stage_status[finished.name] = finished.status
            self.stage_duration[finished.name] = finished.duration_s
        for stage, status in self.stage_status.items():
            if status is _RUNNING:
                self.stage_status[stage] = AgentStatus.CANCELLED
                self.stage_duration.setdefault(stage, result.duration_s - self.stage_started[stage])
            elif status is _PENDING:
                self.stage_status[stage] = AgentStatus.SKIPPED

    # ------------------------------------------------------------------ helpers

    def _add(self, instance: str, stage: str | None, role: Role) -> E:
        """The entry of a top-level instance, created (replacing its placeholder) if new."""
        entry = self.agents.get(instance)
        if entry is not None:
            return entry
        # A placeholder hands its pending count to the entry; the items of a for_each
        # stage share one placeholder, so only the first takes it.
        placeholder = None
        if self.placeholders:
            placeholder = self.placeholders.pop(instance, None) or self.placeholders.pop(
                identity_of(instance).planned, None
            )
        if placeholder is None:
            self.counts[_PENDING] += 1
        entry = self.agents[instance] = self._entry(instance, stage, role)
        if stage is not None:
            self.stage_total[stage] += 1
        return entry

    def _next_turn(self, entry: E) -> None:
        """An exchange participant starts another turn: it runs again until that ends."""
        entry.earlier, entry.result, entry.duration = entry.result, None, None
        self.done -= 1
        if entry.stage is not None:
            self.stage_done[entry.stage] -= 1

    def _set_status(self, entry: E, status: AgentStatus) -> None:
        counts = self.counts
        counts[entry.status] -= 1
        counts[status] += 1
        entry.status = status

    def _finish(self, entry: E, result: AgentResult) -> None:
        """Record an agent's final result (a subclass may note more)."""
        usage = result.usage
        if entry.earlier is not None:
            result, entry.earlier = merge_turns(entry.earlier, result), None
        entry.result = result
        counts = self.counts
        counts[entry.status] -= 1
        counts[result.status] += 1
        entry.status = result.status
        entry.duration = result.duration_s
        entry.replaced_by = result.replaced_by
        entry.error = result.error
        if result.attempts:
            entry.attempt = len(result.attempts)
        if result.usage is not None:
            entry.tokens = result.usage.total_tokens
        if usage is not None:
            self._add_usage(usage)  # only this turn's: earlier turns were counted
        self.running.pop(entry.instance, None)
        self.done += 1
        if entry.stage is not None:
            self.stage_done[entry.stage] += 1

    def _add_usage(self, usage: Usage) -> None:
        self.tokens += usage.total_tokens
        if usage.cost_usd is not None:
            self.cost = (self.cost or 0.0) + usage.cost_usd
