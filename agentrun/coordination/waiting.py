"""Agents that wait on the board: woken only by what they read, ended when hopeless.

A waiter is indexed by the state keys and the agents its ``wait_for`` reads, so a
commit re-evaluates only the waiters of the keys it changed (never every waiter).
A waiter whose expression is false while everything it reads is frozen (no live
writer of its keys, every agent it names final) ends at once as ``skipped``; when
no agent runs and some wait, they all end as a deadlock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from agentrun.coordination.events import AgentWaiting
from agentrun.coordination.rules import WaitRule, expression_env
from agentrun.durations import format_duration
from agentrun.identity import InstanceId
from agentrun.results import AgentStatus

if TYPE_CHECKING:
    from agentrun.engine.context import Limit, RunContext


class WaitEnd(NamedTuple):
    """How a wait ended when the agent must not start: its final status and why."""

    status: AgentStatus
    error: str


class Waiter:
    """One waiting agent instance."""

    __slots__ = ("future", "instance", "notify", "rule")

    def __init__(
        self,
        instance: InstanceId,
        rule: WaitRule,
        future: asyncio.Future[Any],
        notify: Callable[[str], None],
    ) -> None:
        self.instance = instance
        self.rule = rule
        self.future = future
        self.notify = notify
        """Tell the run what the agent now waits on (the values it reads changed)."""


class Reader:
    """What the waits need to know of the board: values, live writers and final agents."""

    values: dict[str, Any]
    live_writers: dict[str, int]
    final: dict[str, AgentStatus]
    base: Mapping[str, Any]


class Waits:
    """The waiters of one run's board, indexed by the keys and agents they read."""

    def __init__(self, board: Reader, loop: asyncio.AbstractEventLoop) -> None:
        self._board = board
        self._loop = loop
        self._by_key: dict[str, set[Waiter]] = {}
        self._by_agent: dict[str, set[Waiter]] = {}
        self._any_key: set[Waiter] = set()
        self._compiled: dict[str, Callable[..., Any]] = {}
        self.count = 0
        self.running = 0
        """Agent instances started and not final, minus those waiting."""
        self._check_scheduled = False

    async def wait(
        self, ctx: RunContext, instance: InstanceId, rule: WaitRule, outer: Limit | None
    ) -> WaitEnd | None:
        """Wait until ``rule`` holds (``None``), or say how the agent ends instead."""
        if self._holds(rule):
            return None
        if self._frozen(rule):
            return WaitEnd(AgentStatus.SKIPPED, self._hopeless(rule))
        ctx.emit(AgentWaiting, instance=instance, on="wait_for", detail=self.describe(rule))

        def notify(detail: str) -> None:
            ctx.emit(AgentWaiting, instance=instance, on="wait_for", detail=detail)

        waiter = Waiter(instance, rule, self._loop.create_future(), notify)
        self._index(waiter)
        limit_at = ctx.now() + rule.timeout if rule.timeout is not None else None
        at = limit_at
        if outer is not None and (at is None or outer.at < at):
            at = outer.at
        try:
            async with asyncio.timeout_at(at):
                return await asyncio.shield(waiter.future)
        except TimeoutError:
            detail = self.describe(rule)
            if at == limit_at and rule.timeout is not None:
                within = format_duration(rule.timeout)
                return WaitEnd(
                    AgentStatus.TIMEOUT, f"wait_for not satisfied within {within}: {detail}"
                )
            label = outer.label if outer is not None else "deadline"
            return WaitEnd(AgentStatus.TIMEOUT, f"{label} exceeded while waiting: {detail}")
        finally:
            self._end(waiter, None)

    def changed(self, keys: Iterable[str]) -> None:
        """Re-evaluate the waiters of the keys a commit changed."""
        waiters = set(self._any_key)
        for key in keys:
            waiters |= self._by_key.get(key, set())
        self._recheck(waiters)

    def agent_final(self, agent: str, idle_keys: Iterable[str]) -> None:
        """An agent became final: re-check those naming it, and the readers of keys it
        was the last live writer of (they may have become hopeless)."""
        waiters = set(self._by_agent.get(agent, ()))
        idle = list(idle_keys)
        if idle:
            waiters |= self._any_key
        for key in idle:
            waiters |= self._by_key.get(key, set())
        self._recheck(waiters)
        self.idle_check()

    def idle_check(self) -> None:
        """Schedule a deadlock check when nothing runs and some wait.

        Deferred to the next loop turn: agents started in the same turn (one task
        group's tasks) have not run their first step yet.
        """
        if self.running <= 0 and self.count and not self._check_scheduled:
            self._check_scheduled = True
            self._loop.call_soon(self._deadlock_check)

    def _deadlock_check(self) -> None:
        self._check_scheduled = False
        if self.running > 0 or not self.count:
            return
        waiters = self._all()
        names = ", ".join(f"{w.instance} ({w.rule.source})" for w in waiters)
        message = f"deadlock: no agent is running and every other agent waits: {names}"
        for waiter in waiters:
            self._end(waiter, WaitEnd(AgentStatus.SKIPPED, message))

    def _all(self) -> list[Waiter]:
        seen: dict[int, Waiter] = {}
        for group in (*self._by_key.values(), *self._by_agent.values(), self._any_key):
            for waiter in group:
                seen[id(waiter)] = waiter
        return sorted(seen.values(), key=lambda w: str(w.instance))

    def _recheck(self, waiters: Iterable[Waiter]) -> None:
        for waiter in waiters:
            if waiter.future.done():
                continue
            if self._holds(waiter.rule):
                self._end(waiter, None)
            elif self._frozen(waiter.rule):
                self._end(waiter, WaitEnd(AgentStatus.SKIPPED, self._hopeless(waiter.rule)))
            else:
                waiter.notify(self.describe(waiter.rule))  # the live view shows the values now

    def _index(self, waiter: Waiter) -> None:
        reads = waiter.rule.reads
        if reads.keys is None:
            self._any_key.add(waiter)
        for key in reads.keys or ():
            self._by_key.setdefault(key, set()).add(waiter)
        for agent in reads.agents:
            self._by_agent.setdefault(agent, set()).add(waiter)
        self.count += 1
        self.running -= 1
        self.idle_check()

    def _end(self, waiter: Waiter, outcome: WaitEnd | None) -> None:
        """Take ``waiter`` out of the indexes once; it counts as running again at once,
        so a deadlock check in between cannot see it as idle."""
        if waiter.future.done():
            return
        waiter.future.set_result(outcome)
        reads = waiter.rule.reads
        self._any_key.discard(waiter)
        for key in reads.keys or ():
            self._by_key[key].discard(waiter)
        for agent in reads.agents:
            self._by_agent[agent].discard(waiter)
        self.count -= 1
        self.running += 1

    def _holds(self, rule: WaitRule) -> bool:
        try:
            return bool(self._evaluate(rule))
        except Exception:
            # A value that does not fit the expression yet (``none | length``) means
            # "not yet"; the wait ends by timeout, deadline or when hopeless.
            return False

    def _evaluate(self, rule: WaitRule) -> Any:
        compiled = self._compiled.get(rule.source)
        if compiled is None:
            compiled = self._compiled[rule.source] = expression_env().compile_expression(
                rule.source
            )
        board = self._board
        agents = {
            name: {"status": _status(board.final.get(name)), "done": name in board.final}
            for name in rule.reads.agents
        }
        return compiled(**board.base, state=MappingProxyType(board.values), agents=agents)

    def _frozen(self, rule: WaitRule) -> bool:
        board = self._board
        keys = rule.reads.keys if rule.reads.keys is not None else board.live_writers.keys()
        return all(not board.live_writers.get(k) for k in keys) and all(
            a in board.final for a in rule.reads.agents
        )

    def _hopeless(self, rule: WaitRule) -> str:
        return f"wait_for can no longer become true: {self.describe(rule)}"

    def describe(self, rule: WaitRule) -> str:
        """The expression with the current values it reads: ``... (findings has 1 item)``."""
        board = self._board
        parts = [
            _describe_value(key, board.values.get(key)) for key in sorted(rule.reads.keys or ())
        ]
        parts += [
            f"{agent} is {_status(board.final.get(agent)) or 'not done'}"
            for agent in sorted(rule.reads.agents)
        ]
        return f"{rule.source} ({'; '.join(parts)})" if parts else rule.source


def _status(status: AgentStatus | None) -> str | None:
    return status.value if status is not None else None


def _describe_value(key: str, value: Any) -> str:
    if isinstance(value, tuple | list):
        return f"{key} has {len(value)} item{'' if len(value) == 1 else 's'}"
    if isinstance(value, dict):
        return f"{key} has {len(value)} field{'' if len(value) == 1 else 's'}"
    shown = repr(value)
    return f"{key} is {shown if len(shown) <= 40 else shown[:37] + '...'}"
