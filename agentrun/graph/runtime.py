"""Frozen runtime values the task graph holds instead of the file's pydantic models.

Each is built once, by :func:`agentrun.graph.compiled.compile_graph`, from a
validated spec model; the engine, the checks and the graph renderers read these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentrun.loading.spec import ImperativeSpec, ProviderEntry, parse_rate


@dataclass(frozen=True, slots=True)
class JudgeCall:
    """The agent a ``judge`` imperative asks, and what it asks it to check."""

    agent: str
    rubric: str


@dataclass(frozen=True, slots=True)
class Imperative:
    """One named check, as the checks registry compiles it."""

    name: str
    check: str
    """Which check: ``contains``, ``regex``, ``judge``, ..."""
    argument: Any
    """The value the check was given (a string, a list, a schema, a bound)."""
    severity: str = "error"
    """``warning`` results are reported but never fail an agent."""
    case_sensitive: bool = True
    timeout: float = 10.0
    """Time limit of the check itself (python and judge checks)."""
    judge: JudgeCall | None = None
    description: str | None = None

    @classmethod
    def from_spec(cls, name: str, spec: ImperativeSpec) -> Imperative:
        """The runtime form of the imperative ``name`` of a validated file."""
        judge = JudgeCall(spec.judge.agent, spec.judge.rubric) if spec.judge else None
        return cls(
            name=name,
            check=spec.check,
            argument=spec.argument,
            severity=spec.severity,
            case_sensitive=spec.case_sensitive,
            timeout=spec.timeout,
            judge=judge,
            description=spec.description,
        )


@dataclass(frozen=True, slots=True)
class TokenPrice:
    """USD per million tokens."""

    input: float
    output: float


@dataclass(frozen=True, slots=True)
class ProviderNode:
    """A named provider entry: its type and the limits its agents share."""

    name: str
    type: str
    max_concurrency: int | None
    """At most this many requests in flight; ``None``: no limit."""
    rate_per_second: float | None
    """At most this many requests started per second; ``None``: no limit."""
    price: TokenPrice | None
    entry: ProviderEntry
    """The connection settings, handed as they are to the provider's session factory."""

    @classmethod
    def from_entry(cls, name: str, entry: ProviderEntry) -> ProviderNode:
        """The runtime form of the entry ``name`` under ``providers:``."""
        price = TokenPrice(entry.price.input, entry.price.output) if entry.price else None
        return cls(
            name=name,
            type=entry.type,
            max_concurrency=entry.max_concurrency,
            rate_per_second=parse_rate(entry.rate_limit) if entry.rate_limit else None,
            price=price,
            entry=entry,
        )
