"""Event records of coordination: waits, state commits, rounds, messages and votes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from agentrun.events.records import Event
from agentrun.identity import InstanceId


@dataclass(frozen=True, slots=True)
class AgentWaiting(Event):
    """An agent is ``waiting`` (not final): ``on`` says for what, ``detail`` the values read."""

    kind: ClassVar[str] = "agent_waiting"
    instance: InstanceId
    on: str
    detail: str


@dataclass(frozen=True, slots=True)
class StateUpdated(Event):
    """One key of a commit applied; every key of one commit shares its ``version``."""

    kind: ClassVar[str] = "state_updated"
    key: str
    by: InstanceId
    version: int
    reducer: str
    value: Any
    turn: int | None = None


@dataclass(frozen=True, slots=True)
class RoundStarted(Event):
    """A round of an exchange started with these participants."""

    kind: ClassVar[str] = "round_started"
    round: int
    agents: tuple[str, ...] = ()
    rounds: int = 0
    """The most rounds the exchange may play."""


@dataclass(frozen=True, slots=True)
class MessageSent(Event):
    """A passing turn's output was delivered to the agents that hear its author."""

    kind: ClassVar[str] = "message_sent"
    round: int
    sender: str
    to: tuple[str, ...]
    chars: int
    output: str = ""
    answer: str | None = None


@dataclass(frozen=True, slots=True)
class RoundFinished(Event):
    """A round ended: each participant's answer, the agreement and what it cost."""

    kind: ClassVar[str] = "round_finished"
    round: int
    answers: Mapping[str, str | None]
    agreement: float
    calls: int
    tokens: int
    stop_checks: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class ExchangeStopped(Event):
    """The exchange ended after ``round`` for ``reason``."""

    kind: ClassVar[str] = "exchange_stopped"
    round: int
    reason: str


@dataclass(frozen=True, slots=True)
class VoteDecided(Event):
    """A vote was counted: the answer (if any), the counts and whether the quorum held."""

    kind: ClassVar[str] = "vote_decided"
    answer: str | None
    votes: Mapping[str, int]
    quorum: str
    quorum_met: bool
    tie: bool
    result: Mapping[str, Any] = field(default_factory=dict)
    answers: Mapping[str, str | None] = field(default_factory=dict)
    """Each voter's answer (``None``: it abstained)."""
