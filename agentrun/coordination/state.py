"""The shared board of one run: declared keys, atomic commits, snapshots and waiters.

Atomicity comes from the event loop, not from locks: a commit renders, parses and
checks every write first (when the attempt passes), then applies them all with no
``await`` in between. Values are never mutated in place (a list grows into a new
tuple, an object merges into a new dict), so a snapshot handed to an attempt stays
as it was when the attempt started.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from agentrun.coordination.events import StateUpdated
from agentrun.coordination.reducers import (
    WriteError,
    frozen_initial,
    read_value,
    reduce,
    validator_for,
)
from agentrun.coordination.rules import BoardRules, WriteRule
from agentrun.coordination.waiting import Reader, WaitEnd, Waits
from agentrun.errors import TemplateError
from agentrun.events.records import AgentFinished, AgentStarted, Event
from agentrun.identity import InstanceId, Role, identity_of
from agentrun.results import AgentResult, AgentStatus, AttemptRecord, CheckResult, Usage
from agentrun.templates import TemplateEngine

if TYPE_CHECKING:
    from agentrun.engine.context import Limit, RunContext
    from agentrun.graph.compiled import TaskGraph

WRITING_ROLES = frozenset({Role.AGENT, Role.RESCUE})
"""Instances that write through their own ``writes`` (a fallback writes through its primary's)."""


class Board(Reader):
    """The board of one run; built by the session when the graph has ``state`` or waits."""

    def __init__(self, rules: BoardRules, graph: TaskGraph, templates: TemplateEngine) -> None:
        self.rules = rules
        self._templates = templates
        self.base = {"input": graph.input, "vars": dict(graph.vars)}
        self.values = {
            name: frozen_initial(rule.reducer, self._initial(rule.initial))
            for name, rule in rules.keys.items()
        }
        self._validators = {name: validator_for(rule) for name, rule in rules.keys.items()}
        self.version = 0
        self.final: dict[str, AgentStatus] = {}
        planned = {identity_of(i).agent for i in graph.strategy.planned(graph)}
        self.live_writers = dict.fromkeys(rules.keys, 0)
        self._writes_of_live: dict[str, tuple[str, ...]] = {}
        for agent, writes in rules.writes.items():
            if agent in planned:
                keys = tuple(dict.fromkeys(w.key for w in writes if w.key in self.live_writers))
                self._writes_of_live[agent] = keys
                for key in keys:
                    self.live_writers[key] += 1
        self._staged: dict[InstanceId, dict[str, Any]] = {}
        self._exclusive: frozenset[str] = frozenset()
        self._claimed: str | None = None
        self.waits = Waits(self, asyncio.get_running_loop())

    def _initial(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._templates.render(value, self.base)
        return value

    def snapshot(self) -> Mapping[str, Any]:
        """A read-only copy of every key as it is now (values are never changed in place)."""
        return MappingProxyType(dict(self.values))

    def exclusive(self, agents: tuple[str, ...]) -> None:
        """Of these agents only the first to commit writes (the winner of a race)."""
        self._exclusive = frozenset(agents)

    async def wait_to_start(
        self, ctx: RunContext, instance: InstanceId, outer: Limit | None
    ) -> WaitEnd | None:
        """Hold an agent back while its ``wait_for`` is false; ``None`` once it may start."""
        rule = self.rules.waits.get(instance.agent)
        if rule is None or instance.role is not Role.AGENT:
            return None
        return await self.waits.wait(ctx, instance, rule, outer)

    def stage(
        self,
        label: str,
        record: AttemptRecord,
        context: Mapping[str, Any],
    ) -> AttemptRecord:
        """Prepare a passing attempt's writes; a value that cannot be written turns the
        attempt into a violation named ``state.KEY`` (a repair retry follows)."""
        if record.status is not AgentStatus.PASSED:
            return record
        instance = identity_of(label)
        writes = self.rules.writes.get(instance.agent)
        if not writes or instance.role not in WRITING_ROLES:
            return record
        scope = {**context, "agent": instance.agent}
        values, broken = self._prepare(writes, scope, record.output or "", record.usage)
        if broken:
            error = "broke " + "; ".join(f"{c.name} ({c.message})" for c in broken)
            checks = record.checks + tuple(broken)
            return replace(record, status=AgentStatus.VIOLATED, error=error, checks=checks)
        self._staged[instance] = values
        return record

    def settle(
        self,
        ctx: RunContext,
        instance: InstanceId,
        result: AgentResult,
        context: Mapping[str, Any],
    ) -> AgentResult:
        """Commit the writes of an agent that reached its final status, if it passed
        (a fallback's output is written through the primary's ``writes``, once)."""
        values = self._staged.pop(instance, None)
        if not result.succeeded or instance.role not in WRITING_ROLES:
            return result
        writes = self.rules.writes.get(instance.agent)
        if result.replaced_by is not None and writes:
            own = {**context, "agent": instance.agent}
            values, broken = self._prepare(writes, own, result.output or "", None)
            if broken:
                note = "; ".join(f"{c.name}: {c.message}" for c in broken)
                return replace(result, error=f"the stand-in output was not written: {note}")
        if values is None:
            return result
        if instance.agent in self._exclusive:
            if self._claimed is not None:
                return result  # a race has one winner, and only it writes
            self._claimed = instance.agent
        self.commit(ctx, instance, values)
        return result

    def commit(
        self, ctx: RunContext, by: InstanceId, values: Mapping[str, Any], turn: int | None = None
    ) -> int:
        """Apply prepared values as one commit, then wake the waiters of those keys."""
        self.version += 1
        for key, value in values.items():
            reducer = self.rules.keys[key].reducer
            self.values[key] = reduce(reducer, self.values[key], value)
            ctx.emit(
                StateUpdated,
                key=key,
                by=by,
                version=self.version,
                reducer=reducer,
                value=value,
                turn=turn,
            )
        self.waits.changed(values.keys())
        return self.version

    def observe(self, event: Event) -> None:
        """Fold the events that move the board: starts and final statuses."""
        if isinstance(event, AgentStarted):
            self.waits.running += 1
        elif isinstance(event, AgentFinished):
            self.waits.running -= 1
            result = event.result
            if result.role is Role.AGENT:
                self._agent_final(result.name, result.status)
            self.waits.idle_check()

    def _agent_final(self, agent: str, status: AgentStatus) -> None:
        self.final[agent] = status
        idle = []
        for key in self._writes_of_live.pop(agent, ()):
            self.live_writers[key] -= 1
            if self.live_writers[key] == 0:
                idle.append(key)
        self.waits.agent_final(agent, idle)

    def _prepare(
        self,
        writes: tuple[WriteRule, ...],
        context: Mapping[str, Any],
        output: str,
        usage: Usage | None,
    ) -> tuple[dict[str, Any], list[CheckResult]]:
        values: dict[str, Any] = {}
        broken: list[CheckResult] = []
        scope = {**context, "state": self.snapshot(), "output": output, "json": _json(output)}
        scope["usage"] = _usage(usage)
        for write in writes:
            rule = self.rules.keys[write.key]
            try:
                text = output
                if write.template is not None:
                    text = self._templates.render(write.template, scope)
                values[write.key] = read_value(rule, text, self._validators[write.key])
            except (TemplateError, WriteError) as exc:
                broken.append(CheckResult(f"state.{write.key}", False, str(exc)))
        return values, broken

    def writes_of(self, agent: str) -> tuple[WriteRule, ...]:
        """The writes an agent declares."""
        return self.rules.writes.get(agent, ())


def _json(output: str) -> Any:
    try:
        return json.loads(output)
    except ValueError:
        return None


def _usage(usage: Usage | None) -> dict[str, int]:
    if usage is None:
        return {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }
