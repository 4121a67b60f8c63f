"""The pieces of an exchange that are pure: its settings, who hears whom, inboxes,
agreement and the ``until`` conditions.

The ``exchange`` pattern (:mod:`agentrun.patterns.exchange`) runs the rounds; this
module decides what each turn sees and when to stop.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from agentrun.loading.model_base import Duration, StrictModel
from agentrun.loading.spec import Judge

DEFAULT_REPLY = (
    "These are the latest answers from the other agents:\n"
    "{% for m in inbox %}\n[{{ m.from }}] {{ m.content }}\n{% endfor %}\n"
    "Using these answers as additional information, give your updated answer to the "
    "original task: {{ input }}"
)
"""Rounds 2 onward, when an agent has no ``reply`` (in the style of Du et al. 2023)."""


class ConsensusUntil(StrictModel):
    """``{consensus: 0.75}``: stop once this share holds the modal answer."""

    consensus: float = Field(default=1.0, gt=0, le=1)
    """The share of this round's participants that must agree."""


class JudgeUntil(StrictModel):
    """``{judge: {agent, rubric}}``: stop when the judge's reply begins with PASS."""

    judge: Judge
    """The judging agent (not a participant) and what it checks."""


class ContainsUntil(StrictModel):
    """``{contains: TEXT}``: stop when a message of the round contains TEXT."""

    contains: str
    """The text (a task-done token)."""
    sender: str | None = Field(default=None, alias="from")
    """Only messages of this participant count."""


class StateUntil(StrictModel):
    """``{state: EXPR}``: stop when an expression over ``state`` is true."""

    state: str
    """A sandboxed Jinja expression (``state.done``)."""


Until = Literal["consensus"] | ConsensusUntil | JudgeUntil | ContainsUntil | StateUntil


class ExchangeKeys(StrictModel):
    """The top-level keys of ``pattern: exchange``."""

    rounds: int = Field(ge=1)
    """The most rounds, the first included (1: no exchange, e.g. self-consistency)."""
    turns: Literal["simultaneous", "sequential"] = "simultaneous"
    """simultaneous: everyone at once, hearing the last round; sequential: in run order."""
    topology: Literal["full", "ring"] | dict[str, list[str]] = "full"
    """full (everyone hears everyone), ring (the two neighbours) or {agent: [agents it hears]}."""
    history: bool = True
    """LLM providers resend the agent's own earlier turns as one conversation."""
    round_timeout: Duration | None = None
    """Time limit of one round; turns still running are cancelled and the round goes on."""
    until: list[Until] = Field(default_factory=list)
    """Stop early when any of these holds after a round."""


@dataclass(frozen=True, slots=True)
class Condition:
    """One compiled ``until`` condition."""

    name: str
    """consensus, judge, contains or state: the ``stop_reason`` when it holds."""
    threshold: float = 1.0
    text: str | None = None
    sender: str | None = None
    agent: str | None = None
    rubric: str | None = None


@dataclass(frozen=True, slots=True)
class ExchangeSettings:
    """An exchange as the engine runs it."""

    participants: tuple[str, ...]
    rounds: int
    turns: str
    hears: Mapping[str, tuple[str, ...]]
    """Who each participant hears (their messages reach it), in run order."""
    history: bool
    round_timeout: float | None
    until: tuple[Condition, ...]


def conditions(until: Sequence[Until]) -> tuple[Condition, ...]:
    """The compiled ``until`` list."""
    out: list[Condition] = []
    for item in until:
        if item == "consensus":
            out.append(Condition("consensus"))
        elif isinstance(item, ConsensusUntil):
            out.append(Condition("consensus", threshold=item.consensus))
        elif isinstance(item, JudgeUntil):
            out.append(Condition("judge", agent=item.judge.agent, rubric=item.judge.rubric))
        elif isinstance(item, ContainsUntil):
            out.append(Condition("contains", text=item.contains, sender=item.sender))
        elif isinstance(item, StateUntil):
            out.append(Condition("state", text=item.state))
    return tuple(out)


def hearing(
    participants: Sequence[str], topology: str | Mapping[str, Sequence[str]]
) -> dict[str, tuple[str, ...]]:
    """Who hears whom: ``full``, ``ring`` (the two neighbours in run order) or a map."""
    if topology == "full":
        return {p: tuple(q for q in participants if q != p) for p in participants}
    if topology == "ring":
        n = len(participants)
        hears: dict[str, tuple[str, ...]] = {}
        for i, p in enumerate(participants):
            near = dict.fromkeys([participants[(i - 1) % n], participants[(i + 1) % n]])
            hears[p] = tuple(q for q in near if q != p)
        return hears
    assert not isinstance(topology, str)
    return {p: tuple(q for q in topology.get(p, ()) if q != p) for p in participants}


@dataclass(frozen=True, slots=True)
class Message:
    """A passing turn's output, as inboxes and transcripts show it."""

    sender: str
    round: int
    content: str
    answer: str | None

    def as_context(self) -> dict[str, Any]:
        """The ``{from, round, content, answer}`` mapping templates read."""
        return {
            "from": self.sender,
            "round": self.round,
            "content": self.content,
            "answer": self.answer,
        }


def agreement(answers: Mapping[str, str | None], count: int) -> tuple[float, str | None]:
    """The share of ``count`` participants holding the modal answer, and that answer;
    those without an answer (failed, or no match) count as disagreeing."""
    votes = Counter(a for a in answers.values() if a is not None)
    if not votes or count == 0:
        return 0.0, None
    answer, top = votes.most_common(1)[0]
    return top / count, answer


def contains_holds(condition: Condition, messages: Sequence[Message]) -> bool:
    """Whether a message of the round (from ``sender``, if set) contains the text."""
    text = condition.text or ""
    return any(text in m.content for m in messages if condition.sender in (None, m.sender))
