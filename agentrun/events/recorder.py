"""Fold the event stream into the state a report needs, so an interrupted run still has one."""

from __future__ import annotations

from agentrun.events.records import (
    AgentFinished,
    AgentStarted,
    AttemptStarted,
    Event,
    Retrying,
    RunStarted,
)
from agentrun.identity import InstanceId, Role, identity_of
from agentrun.results import AgentResult, AgentStatus, Usage

TOP_LEVEL_ROLES = frozenset(role for role in Role if role.top_level)


class RunRecorder:
    """An event sink that remembers each top-level agent's latest state and final result."""

    def __init__(self) -> None:
        self.planned: tuple[InstanceId, ...] = ()
        self.status: dict[InstanceId, AgentStatus] = {}
        self.results: dict[InstanceId, AgentResult] = {}
        self._ids: dict[InstanceId, InstanceId] = {}
        self._judge_usage: Usage | None = None

    def handle(self, event: Event) -> None:
        """Fold one event into the recorded state."""
        match event:
            case AgentStarted(role=role) if role in TOP_LEVEL_ROLES:
                self._ids[event.instance] = identity_of(event.instance)
                self.status[event.instance] = AgentStatus.RUNNING
            case AttemptStarted() if event.instance in self.status:
                self.status[event.instance] = AgentStatus.RUNNING
            case Retrying() if event.instance in self.status:
                self.status[event.instance] = AgentStatus.RETRYING
            case AgentFinished(result=result):
                if result.role in TOP_LEVEL_ROLES:
                    self._ids.setdefault(result.instance, identity_of(result.instance))
                    self.results[result.instance] = result
                    self.status[result.instance] = result.status
                elif result.role == Role.JUDGE and result.usage is not None:
                    usage = self._judge_usage
                    self._judge_usage = result.usage if usage is None else usage + result.usage
            case RunStarted():
                self.planned = event.agents
            case _:
                pass

    def agent_results(self) -> list[AgentResult]:
        """Every top-level agent in start order; one still running is reported cancelled,
        one planned but never started is reported skipped."""
        results: list[AgentResult] = []
        for instance, status in self.status.items():
            result = self.results.get(instance)
            if result is None:
                who = self._ids[instance]
                final = AgentStatus.CANCELLED if not status.is_final else status
                result = AgentResult(
                    who.agent, who, who.stage, final, error="cancelled", role=who.role
                )
            results.append(result)
        started = {who.planned for who in self._ids.values()}
        for planned in self.planned:
            if planned not in started:
                who = identity_of(planned)
                results.append(
                    AgentResult(who.agent, who, None, AgentStatus.SKIPPED, error="never started")
                )
        return results

    def total_usage(self, results: list[AgentResult]) -> Usage | None:
        """Tokens of every agent, fallback and judge."""
        usages = [r.usage for r in results if r.usage is not None]
        if self._judge_usage is not None:
            usages.append(self._judge_usage)
        return sum(usages[1:], usages[0]) if usages else None
