"""Fold coordination events into the report's fields, so an interrupted run still has them.

``state_log``, ``rounds``, ``stop_reason``, ``result`` and the per-agent ``writes``,
``waited_s``, ``answer`` and ``turns`` are all built from the event stream; ``state``
is the board's final snapshot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentrun.coordination.events import (
    AgentWaiting,
    ExchangeStopped,
    MessageSent,
    RoundFinished,
    RoundStarted,
    StateUpdated,
    VoteDecided,
)
from agentrun.events.records import AgentFinished, AttemptStarted, Event
from agentrun.identity import Role
from agentrun.results import AgentResult

if TYPE_CHECKING:
    from agentrun.coordination.state import Board


class CoordinationFold:
    """An event sink that remembers commits, waits, rounds and the vote of one run."""

    def __init__(self, board: Board | None) -> None:
        self.board = board
        self.state_log: list[dict[str, Any]] = []
        self.rounds: list[dict[str, Any]] = []
        self.stop_reason: str | None = None
        self.result: dict[str, Any] | None = None
        self.agents: dict[str, dict[str, Any]] = {}
        self._waiting_since: dict[str, float] = {}
        self._messages: list[dict[str, Any]] = []
        self._round: int | None = None
        """The exchange round in progress (its participants' finishes are turns)."""

    def handle(self, event: Event) -> None:
        """Fold one event (the board first: it keeps count of running agents)."""
        if self.board is not None:
            self.board.observe(event)
        match event:
            case AgentWaiting():
                self._waiting_since.setdefault(event.instance, event.t)
            case AttemptStarted() if self._waiting_since:
                self._waited(event.instance, event.t)
            case AgentFinished():
                if self._waiting_since:
                    self._waited(event.result.instance, event.t)
                if self._round is not None and event.result.role is Role.AGENT:
                    self._turn(event.result)
            case StateUpdated():
                self._state_updated(event)
            case RoundStarted():
                self._messages = []
                self._round = event.round
            case MessageSent():
                self._answered(event.sender, event.round, event.answer)
                self._messages.append(
                    {
                        "from": event.sender,
                        "to": list(event.to),
                        "output": event.output,
                        "answer": event.answer,
                    }
                )
            case RoundFinished():
                self._round_finished(event)
            case ExchangeStopped():
                self.stop_reason = event.reason
                self._round = None
            case VoteDecided():
                self.result = dict(event.result)
                for voter, answer in event.answers.items():
                    self._agent(voter)["answer"] = answer
            case _:
                pass

    def _waited(self, instance: str, now: float) -> None:
        since = self._waiting_since.pop(instance, None)
        if since is not None:
            self._agent(instance)["waited_s"] = round(now - since, 6)

    def _turn(self, result: AgentResult) -> None:
        """One exchange turn, as the report's per-agent ``turns`` shows it."""
        usage = result.usage
        self._agent(result.instance).setdefault("turns", []).append(
            {
                "round": self._round,
                "status": result.status.value,
                "attempts": len(result.attempts),
                "duration_s": round(result.duration_s, 6),
                "output": result.output,
                "answer": None,
                "error": result.error,
                "replaced_by": result.replaced_by,
                "usage": None if usage is None else usage.total_tokens,
            }
        )

    def _answered(self, sender: str, number: int, answer: str | None) -> None:
        """A passing turn's answer: on that turn and as the agent's latest answer."""
        agent = self._agent(sender)
        agent["answer"] = answer
        for turn in agent.get("turns", ()):
            if turn["round"] == number:
                turn["answer"] = answer

    def _agent(self, instance: str) -> dict[str, Any]:
        return self.agents.setdefault(instance, {})

    def _state_updated(self, event: StateUpdated) -> None:
        self.state_log.append(
            {
                "version": event.version,
                "key": event.key,
                "by": event.by,
                "turn": event.turn,
                "reducer": event.reducer,
                "value": event.value,
                "t_s": round(event.t, 6),
            }
        )
        writes = self._agent(event.by).setdefault("writes", [])
        writes.append({"key": event.key, "version": event.version})

    def _round_finished(self, event: RoundFinished) -> None:
        self.rounds.append(
            {
                "round": event.round,
                "messages": self._messages,
                "answers": dict(event.answers),
                "agreement": round(event.agreement, 6),
                "calls": event.calls,
                "tokens": event.tokens,
                "stop_checks": [dict(c) for c in event.stop_checks],
            }
        )
        self._messages = []

    def report(self) -> dict[str, Any]:
        """The report's coordination fields; those of unused features are left out."""
        data: dict[str, Any] = {}
        if self.board is not None:
            data["state"] = _plain(dict(self.board.values))
            data["state_log"] = _plain(self.state_log)
        if self.rounds or self.stop_reason is not None:
            data["rounds"] = _plain(self.rounds)
            data["stop_reason"] = self.stop_reason
        if self.result is not None:
            data["result"] = _plain(self.result)
        return data


def _plain(value: Any) -> Any:
    """JSON-ready data: the board's tuples become lists."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value
