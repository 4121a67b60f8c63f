"""exchange: participants talk in rounds over a message bus, then the result is picked.

Each round every remaining participant takes a turn (all at once, or in ``run``
order); a passing turn's output is a message delivered to those who hear its author
under ``topology``. After each round answers are read, agreement is measured and the
``until`` conditions are checked; a participant whose turn does not pass drops out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from agentrun.coordination.events import (
    ExchangeStopped,
    MessageSent,
    RoundFinished,
    RoundStarted,
)
from agentrun.coordination.flow import dataflow_lines
from agentrun.coordination.rounds import (
    DEFAULT_REPLY,
    ExchangeKeys,
    ExchangeSettings,
    Message,
    conditions,
    hearing,
)
from agentrun.durations import format_duration
from agentrun.engine.context import Limit, RunContext
from agentrun.graph.compiled import AgentNode, TaskGraph
from agentrun.identity import InstanceId
from agentrun.loading.semantics import Findings, default_run_agents
from agentrun.loading.spec import Paradigm
from agentrun.patterns.base import (
    Layout,
    LayoutGroup,
    PatternOutcome,
    PatternShape,
    ReportSuite,
    TemplateScope,
)
from agentrun.patterns.common import base_context, describe_require, one_suite, require_met
from agentrun.patterns.exchange_rules import check_exchange, helpers_of
from agentrun.patterns.exchange_stop import answers_of, stop_checks
from agentrun.patterns.exchange_turns import Conversation, play_round
from agentrun.patterns.selection import select_result
from agentrun.results import AgentResult, AgentStatus, RunResult

_TIMEOUT = AgentStatus.TIMEOUT

EXCHANGE_NAMES = frozenset({"round", "rounds", "inbox", "mine", "transcript", "rubric"})


class Exchange:
    """Rounds of turns over a message bus, stopped early by ``until``, then a selection."""

    name = "exchange"
    keys_model = ExchangeKeys
    """The top-level keys this pattern owns."""

    def check(self, paradigm: Paradigm, findings: Findings) -> None:
        """Run list, topology, judges and selector, and no ``wait_for`` on participants."""
        check_exchange(self.name, paradigm, self.run_agents(paradigm), findings)

    def run_agents(self, paradigm: Paradigm) -> list[str]:
        """The participants: ``run``, else every agent not only a fallback, judge or selector."""
        if paradigm.run is not None:
            return default_run_agents(paradigm)
        helpers = helpers_of(paradigm)
        return [a for a in default_run_agents(paradigm) if a not in helpers]

    def template_scope(self, paradigm: Paradigm) -> TemplateScope:
        """Templates may read ``round``, ``rounds``, ``inbox``, ``mine`` and ``transcript``."""
        return TemplateScope(stages=None, names=EXCHANGE_NAMES)

    def compile(self, paradigm: Paradigm, agents: Mapping[str, AgentNode]) -> PatternShape:
        """Participants whose prompt renders round 1 and whose ``reply`` renders the rest."""
        keys: ExchangeKeys = paradigm.pattern_keys
        run = tuple(self.run_agents(paradigm))
        nodes = dict(agents)
        for name in run:
            reply = paradigm.agents[name].reply or DEFAULT_REPLY
            prompt = nodes[name].prompt
            # One template, so the runner renders each turn (and its repairs) as usual.
            both = f"{{% if round == 1 %}}{prompt}{{% else %}}{reply}{{% endif %}}"
            nodes[name] = replace(nodes[name], prompt=both)
        settings = ExchangeSettings(
            participants=run,
            rounds=keys.rounds,
            turns=keys.turns,
            hears=hearing(run, keys.topology),
            history=keys.history,
            round_timeout=keys.round_timeout,
            until=conditions(keys.until),
        )
        return PatternShape(agents=nodes, run=run, settings=settings)

    def with_rounds(self, graph: TaskGraph, rounds: int) -> TaskGraph:
        """``graph`` with ``rounds`` replaced (``--rounds``)."""
        return replace(graph, settings=replace(graph.settings, rounds=rounds))

    def planned(self, graph: TaskGraph) -> tuple[InstanceId, ...]:
        """One row per participant (its turns share it)."""
        return tuple(InstanceId.of(name) for name in graph.run)

    def worst_case(self, graph: TaskGraph) -> float:
        """``rounds`` times the longest turn budget (summed in sequential turns, capped by
        ``round_timeout``), plus the judge per round and the selector once."""
        s: ExchangeSettings = graph.settings
        budgets = [graph.worst_case(name) for name in s.participants]
        turn = sum(budgets) if s.turns == "sequential" else max(budgets)
        if s.round_timeout is not None:
            turn = min(turn, s.round_timeout)
        judge = sum(graph.worst_case(c.agent) for c in s.until if c.agent)
        selector = graph.selection.agent if graph.selection else None
        return s.rounds * (turn + judge) + (graph.worst_case(selector) if selector else 0.0)

    def layout(self, graph: TaskGraph) -> Layout:
        """Title rails (rounds, turns, until, select) and one group of participants."""
        s: ExchangeSettings = graph.settings
        rails = [f"rounds {s.rounds}", f"turns {s.turns}", f"require {graph.require}"]
        if s.round_timeout is not None:
            rails.append(f"round_timeout {s.round_timeout:g}s")
        rails += [f"until {c.name}" + (f" ({c.agent})" if c.agent else "") for c in s.until]
        if graph.selection is not None:
            how = graph.selection.agent or f"vote {graph.selection.quorum}"
            rails.append(f"select {how}")
        title = f"participants ({s.rounds} rounds × {s.turns} turns)"
        group = LayoutGroup("round", "participants", title, None, rails[0], s.participants)
        notes = (*self._budgets(graph), *dataflow_lines(graph.board))
        return Layout(rails=tuple(rails), groups=(group,), notes=notes)

    def _budgets(self, graph: TaskGraph) -> tuple[str, ...]:
        """The budget line: a round's worst case times the rounds, the judge per round,
        the selector, and the whole (``agentrun graph``'s worst case before the deadline)."""
        s: ExchangeSettings = graph.settings
        budgets = [graph.worst_case(name) for name in s.participants]
        turn = sum(budgets) if s.turns == "sequential" else max(budgets)
        capped = s.round_timeout is not None and s.round_timeout < turn
        round_ = min(turn, s.round_timeout) if s.round_timeout is not None else turn
        parts = [f"round ≤ {format_duration(round_)} × {s.rounds} rounds"]
        if capped:
            parts[0] += " (round_timeout)"
        judge = sum(graph.worst_case(c.agent) for c in s.until if c.agent)
        if judge:
            parts.append(f"judge ≤ {format_duration(judge)} per round")
        selector = graph.selection.agent if graph.selection else None
        if selector:
            parts.append(f"selector ≤ {format_duration(graph.worst_case(selector))}")
        parts.append(f"in all ≤ {format_duration(self.worst_case(graph))}")
        return ("budget: " + ", ".join(parts),)

    def report_suites(self, result: RunResult) -> list[ReportSuite]:
        """One suite for the participants, one for the pattern-level fallbacks."""
        return one_suite(result)

    async def run(self, ctx: RunContext, outer: Limit | None) -> PatternOutcome:
        """Play rounds until a stop condition, the cap, the deadline or no participants."""
        graph = ctx.graph
        s: ExchangeSettings = graph.settings
        base = base_context(graph)
        talk = Conversation()
        active = list(s.participants)
        last: dict[str, AgentResult | None] = {}
        reason = "max_rounds"
        full: dict[str, AgentResult | None] = {}  # the last round the deadline did not cut
        for number in range(1, s.rounds + 1):
            ctx.emit(RoundStarted, round=number, agents=tuple(active), rounds=s.rounds)
            results = await play_round(ctx, s, talk, base, active, number, outer)
            last.update(results)
            stopped = await self._after_round(ctx, s, talk, base, results, number, len(active))
            active = [n for n in active if (r := results.get(n)) is not None and r.succeeded]
            cut = outer is not None and ctx.now() >= outer.at
            if not cut or all(r is not None and r.status is not _TIMEOUT for r in results.values()):
                full = dict(results)
            if cut:
                stopped = "deadline"
            elif not active:
                stopped = "no_participants"
            if stopped is not None:
                reason = stopped
                break
        ctx.emit(ExchangeStopped, round=number, reason=reason)
        voters = full if reason == "deadline" else results
        return await self._outcome(ctx, base, talk, last, voters, reason, outer)

    async def _after_round(
        self,
        ctx: RunContext,
        s: ExchangeSettings,
        talk: Conversation,
        base: dict[str, Any],
        results: Mapping[str, AgentResult | None],
        number: int,
        count: int,
    ) -> str | None:
        """Deliver the round's messages, measure it, and name the condition that stops it."""
        answers = answers_of(ctx, results)
        messages: list[Message] = []
        for name, result in results.items():
            if result is None or not result.succeeded:
                continue
            message = Message(name, number, result.output or "", answers.get(name))
            messages.append(message)
            talk.latest[name] = message
            hearers = tuple(p for p in s.participants if name in s.hears.get(p, ()))
            ctx.emit(
                MessageSent,
                round=number,
                sender=name,
                to=hearers,
                chars=len(message.content),
                output=message.content,
                answer=message.answer,
            )
        talk.transcript.extend(messages)
        checks, share, held = await stop_checks(ctx, s, base, talk, messages, answers, count)
        done = [r for r in results.values() if r is not None]
        ctx.emit(
            RoundFinished,
            round=number,
            answers=answers,
            agreement=share,
            calls=sum(len(r.attempts) for r in done),
            tokens=sum(r.usage.total_tokens for r in done if r.usage is not None),
            stop_checks=tuple(checks),
        )
        return held

    async def _outcome(
        self,
        ctx: RunContext,
        base: dict[str, Any],
        talk: Conversation,
        last: Mapping[str, AgentResult | None],
        voters: Mapping[str, AgentResult | None],
        reason: str,
        outer: Limit | None,
    ) -> PatternOutcome:
        graph = ctx.graph
        finals = [last.get(name) for name in graph.run]
        passed = sum(1 for r in finals if r is not None and r.succeeded)
        outputs = tuple(m.content for m in talk.transcript if m.round == _last_round(talk))
        base["previous"] = list(outputs)
        base["transcript"] = [m.as_context() for m in talk.transcript]
        picked = await select_result(
            ctx, base, list(voters.items()), outer, partial=reason == "deadline"
        )
        if picked is not None and picked.output is not None:
            outputs = (picked.output,)
        failures = []
        if reason in ("deadline", "no_participants"):
            failures.append(f"the exchange stopped: {reason}")
        if not require_met(graph.require, passed, len(graph.run)):
            failures.append(describe_require(graph.require, passed, len(graph.run)))
        if picked is not None and picked.failure:
            failures.append(picked.failure)
        violation = picked.violation if picked is not None else None
        return PatternOutcome(
            passed=not failures,
            outputs=outputs,
            reason="; ".join(failures) or None,
            context=base,
            violation=violation,
        )


def _last_round(talk: Conversation) -> int:
    return talk.transcript[-1].round if talk.transcript else 0
