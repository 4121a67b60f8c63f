"""Answers read out of outputs, and the majority vote that picks one.

An answer is the last match of ``answer.regex`` (group 1 when it has groups), put
through the normalisers; no match is no answer, and that voter abstains. Abstaining
and failed voters still count in the denominator of ``majority``, ``unanimous`` and
share quorums.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentrun.coordination.spec import Select
    from agentrun.loading.spec import Paradigm

_NUMBER_JUNK = re.compile(r"[\s$,%]")


@dataclass(frozen=True, slots=True)
class Selection:
    """How a result is picked: the answer reader plus a vote or an aggregator agent."""

    regex: re.Pattern[str] | None
    normalize: tuple[str, ...]
    """``lower``, ``nospace``, ``number`` or ``python:pkg.mod:fn``, in order."""
    quorum: str | int | float | None
    """The vote's quorum; ``None``: no vote (answers only, or an aggregator)."""
    tie: str = "first"
    agent: str | None = None
    """The aggregator agent of ``select: {agent: NAME}``."""


@dataclass(frozen=True, slots=True)
class Ballot:
    """One voter: who, whether its output counts, and the answer it gave."""

    voter: str
    passed: bool
    answer: str | None
    output: str | None


@dataclass(frozen=True, slots=True)
class Verdict:
    """A counted vote, as the report's ``result`` shows it."""

    answer: str | None
    output: str | None
    winner: str | None
    votes: dict[str, int]
    voters: int
    abstained: int
    share: float
    quorum: str
    quorum_met: bool
    tie: bool

    def reason(self) -> str:
        """Why a missed quorum failed: the counts per answer and the abstentions."""
        counts = ", ".join(f"{a}×{n}" for a, n in self.votes.items()) or "no votes"
        return f"no answer reached {self.quorum}: {counts}, abstained {self.abstained}"

    def as_result(self) -> dict[str, Any]:
        """The report's ``result``."""
        return {
            "selected_by": "vote",
            "answer": self.answer,
            "output": self.output,
            "from": self.winner,
            "votes": self.votes,
            "voters": self.voters,
            "abstained": self.abstained,
            "share": round(self.share, 6),
            "quorum": self.quorum,
            "quorum_met": self.quorum_met,
            "tie": self.tie,
            "partial": False,
        }


def compile_selection(spec: Paradigm, select: Select | None = None) -> Selection | None:
    """The selection of a paradigm with ``answer`` or ``select`` (``None`` otherwise);
    ``select`` given: a pipeline stage's, read with the paradigm's ``answer``."""
    from agentrun.coordination.spec import NormalizePython, SelectAgent, vote_of

    select = spec.select if select is None else select
    if spec.answer is None and select is None:
        return None
    regex = re.compile(spec.answer.regex) if spec.answer and spec.answer.regex else None
    steps = tuple(
        f"python:{n.python}" if isinstance(n, NormalizePython) else n
        for n in (spec.answer.normalize if spec.answer else ())
    )
    vote = vote_of(select)
    agent = select.agent if isinstance(select, SelectAgent) else None
    return Selection(
        regex, steps, vote.quorum if vote else None, vote.tie if vote else "first", agent
    )


def extract_answer(
    selection: Selection | None, output: str | None, resolve: Callable[[str], Any] | None = None
) -> str | None:
    """The answer in ``output``, or ``None`` (no match, or a number that does not parse)."""
    if output is None:
        return None
    text: str | None = output.strip()
    if selection is not None and selection.regex is not None:
        matches = list(selection.regex.finditer(output))
        if not matches:
            return None
        last = matches[-1]
        text = last.group(1) if selection.regex.groups else last.group(0)
    for step in selection.normalize if selection is not None else ():
        if text is None:
            return None
        text = _normalized(step, text, resolve)
    return text


def _normalized(step: str, text: str, resolve: Callable[[str], Any] | None) -> str | None:
    if step == "lower":
        return text.lower()
    if step == "nospace":
        return "".join(text.split())
    if step == "number":
        return canonical_number(text)
    if resolve is None:
        return text
    value = resolve(step.removeprefix("python:"))(text)
    return None if value is None else str(value)


def canonical_number(text: str) -> str | None:
    """``1,000.00`` → ``1000``; ``$3.50`` → ``3.5``; text that is no number → ``None``."""
    cleaned = _NUMBER_JUNK.sub("", text)
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    if number == number.to_integral_value():
        return str(number.quantize(Decimal(1)))
    return format(number.normalize(), "f")


def count_votes(ballots: Sequence[Ballot], quorum: str | int | float, tie: str) -> Verdict:
    """Count the ballots (in ``run`` order) and decide the quorum and tie rules."""
    votes: Counter[str] = Counter(b.answer for b in ballots if b.passed and b.answer is not None)
    voters = len(ballots)
    cast = sum(votes.values())
    ranked = votes.most_common()
    top = ranked[0][1] if ranked else 0
    tied = [answer for answer, n in ranked if n == top]
    first = {b.answer: b for b in reversed(ballots) if b.passed and b.answer is not None}
    is_tie = len(tied) > 1
    # tie `first`: the tied answer given by the earliest voter in run order.
    answer = min(tied, key=lambda a: ballots.index(first[a])) if tied else None
    # tie `fail` turns any tie at the top into a missed quorum; `first` settles it.
    met = _quorum_met(quorum, top, voters) and top > 0 and not (is_tie and tie == "fail")
    chosen = first[answer] if answer is not None else None
    return Verdict(
        answer=answer if met else None,
        output=chosen.output if chosen is not None and met else None,
        winner=chosen.voter if chosen is not None and met else None,
        votes=dict(ranked),
        voters=voters,
        abstained=voters - cast,
        share=top / voters if voters else 0.0,
        quorum=str(quorum),
        quorum_met=met,
        tie=is_tie,
    )


def _quorum_met(quorum: str | int | float, top: int, voters: int) -> bool:
    if quorum == "plurality":
        return True  # "strictly the most votes" is settled with the tie rule
    if quorum == "majority":
        return top * 2 > voters
    if quorum == "unanimous":
        return top == voters
    if isinstance(quorum, int) and not isinstance(quorum, bool):
        return top >= quorum
    return voters > 0 and top / voters >= float(quorum)
