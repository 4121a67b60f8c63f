"""Pydantic models of the coordination keys: ``state:``, ``writes:``, ``answer:``, ``select:``.

They are ordinary optional fields of the paradigm, its agents and stages; the
``exchange`` pattern's own keys (``rounds``, ``turns``, ...) live with the pattern.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from agentrun.loading.model_base import StrictModel, check_callable

Reducer = Literal["replace", "append", "merge", "add"]
"""How a commit combines with a key's value."""

INITIAL_VALUES: dict[str, Any] = {"replace": None, "append": [], "merge": {}, "add": 0}
"""A key's value before any commit, when ``initial`` is not given."""


class StateKey(StrictModel):
    """One key of the shared board: how writes combine, what it starts as, what it holds."""

    reducer: Reducer = "replace"
    """replace (default), append (a list), merge (a JSON object, per field) or add (numbers)."""
    initial: Any = None
    """Value before the first commit (default: null, [], {} or 0 by reducer); a string is a
    template rendered at run start."""
    parse: Literal["text", "json"] | None = None
    """How a written value is read: text (default) or json; merge implies json."""
    json_schema: dict[str, Any] | None = Field(default=None, alias="schema")
    """JSON Schema every written value must satisfy."""

    @property
    def parses_json(self) -> bool:
        """Whether written text is parsed as JSON (``add`` parses a number the same way)."""
        return self.parse == "json" or self.reducer in ("merge", "add")

    def start_value(self) -> Any:
        """The value before any commit (a string initial is still a template here)."""
        if "initial" in self.model_fields_set:
            return self.initial
        return INITIAL_VALUES[self.reducer]


Writes = str | list[str] | dict[str, str]
"""``writes:``: a key (the whole output), a list of keys, or key → template."""


class NormalizePython(StrictModel):
    """A normaliser written in python: ``package.module:function`` taking and giving text."""

    python: str
    """The function, ``package.module:function``."""

    @field_validator("python")
    @classmethod
    def _importable_form(cls, value: str) -> str:
        check_callable(value)
        return value


Normalizer = Literal["lower", "nospace", "number"] | NormalizePython


class AnswerSpec(StrictModel):
    """How an answer is read out of an output (for votes and consensus)."""

    regex: str | None = None
    """Python regular expression; the last match counts, group 1 if it has groups."""
    normalize: list[Normalizer] = Field(default_factory=list)
    """Applied in order: lower, nospace, number, or {python: pkg.mod:fn}."""

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return value


Quorum = (
    Literal["plurality", "majority", "unanimous"]
    | Annotated[int, Field(ge=1, strict=True)]
    | Annotated[float, Field(gt=0, le=1)]
)
"""How many votes the winning answer needs."""


class VoteSpec(StrictModel):
    """A majority vote over the voters' answers."""

    quorum: Quorum = "plurality"
    """plurality (default), majority, unanimous, a number of votes, or a share (0..1]."""
    tie: Literal["first", "fail"] = "first"
    """first: the earliest voter's answer among the tied; fail: a tie misses the quorum."""


class SelectVote(StrictModel):
    """``select: {vote: {...}}``."""

    vote: VoteSpec = Field(default_factory=VoteSpec)
    """The vote's quorum and tie rule."""


class SelectAgent(StrictModel):
    """``select: {agent: NAME}``: an aggregator runs once at the end."""

    agent: str
    """The agent that picks or writes the result (not a voter)."""


Select = Literal["vote"] | SelectVote | SelectAgent
"""How the result is picked: ``vote``, ``{vote: {...}}`` or ``{agent: NAME}``."""


def vote_of(select: Select | None) -> VoteSpec | None:
    """The vote settings of ``select``, if it is a vote."""
    if select == "vote":
        return VoteSpec()
    return select.vote if isinstance(select, SelectVote) else None
