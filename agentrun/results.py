"""What a run produced: statuses, attempts, agent results. Frozen values only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from agentrun.identity import InstanceId, Role


class AgentStatus(StrEnum):
    """The contract's agent statuses; values are the words in reports and events."""

    PENDING = "pending"
    WAITING = "waiting"
    """Not final: held back by ``wait_for`` (only in events and the live view)."""
    RUNNING = "running"
    RETRYING = "retrying"
    PASSED = "passed"
    FAILED = "failed"
    VIOLATED = "violated"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"

    @property
    def is_final(self) -> bool:
        """Whether an agent in this status has finished."""
        return self not in _ACTIVE


_ACTIVE = frozenset(
    {AgentStatus.PENDING, AgentStatus.WAITING, AgentStatus.RUNNING, AgentStatus.RETRYING}
)


class RunStatus(StrEnum):
    """Outcome of a whole run."""

    PASSED = "passed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens a provider reported for one or more replies."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None

    def __add__(self, other: Usage) -> Usage:
        cost = None
        if self.cost_usd is not None or other.cost_usd is not None:
            cost = (self.cost_usd or 0.0) + (other.cost_usd or 0.0)
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            cost,
        )

    @property
    def total_tokens(self) -> int:
        """Prompt and completion tokens together."""
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The verdict of one imperative on one output."""

    name: str
    passed: bool
    message: str = ""
    severity: str = "error"
    error: bool = False
    """The check itself broke (could not load, raised): no verdict on the output."""
    traceback: tuple[str, ...] = ()
    """The user's frames (``file:line in function``) when a check function raised."""

    @property
    def is_violation(self) -> bool:
        """A failed check of severity ``error`` (warnings never fail an agent); a check
        that broke is not a verdict, so never a violation."""
        return not self.passed and self.severity == "error" and not self.error


@dataclass(frozen=True, slots=True)
class Sent:
    """What one attempt handed its provider: the rendered prompt and system, or a
    command's arguments and stdin."""

    prompt: str | None = None
    system: str | None = None
    command: tuple[str, ...] | None = None
    stdin: str | None = None


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One attempt of one agent."""

    number: int
    status: AgentStatus
    """passed, failed, violated, timeout or cancelled."""
    duration_s: float
    output: str | None = None
    error: str | None = None
    checks: tuple[CheckResult, ...] = ()
    usage: Usage | None = None
    output_truncated: int | None = None
    """The output's full length in bytes when only its head and tail were kept."""
    sent: Sent | None = None
    """What the attempt sent (absent when it ended before its request was rendered)."""
    log: str | None = None
    """What user code printed during the attempt (python agents and checks)."""
    traceback: tuple[str, ...] = ()
    """The user's frames (``file:line in function``) when user code raised."""


@dataclass(frozen=True, slots=True, repr=False)
class AgentResult:
    """The outcome of one agent instance, including the fallback that replaced it."""

    name: str
    """The agent's name in the paradigm."""
    instance: InstanceId
    """Who ran: its label, e.g. ``theorist[1]`` in a for_each stage, is unique in the run."""
    stage: str | None
    status: AgentStatus
    duration_s: float = 0.0
    attempts: tuple[AttemptRecord, ...] = ()
    output: str | None = None
    """This agent's own output, or its fallback's output when one replaced it."""
    error: str | None = None
    replaced_by: str | None = None
    """The fallback whose output stands in for this agent."""
    fallbacks: tuple[AgentResult, ...] = ()
    """Every fallback that was tried, in order."""
    role: Role = Role.AGENT
    """agent, fallback, judge or rescue (a pattern-level fallback)."""
    usage: Usage | None = None

    def __repr__(self) -> str:
        return f"AgentResult({self.instance!r}, {self.status.value}, attempts={len(self.attempts)})"

    @property
    def succeeded(self) -> bool:
        """Passed on its own or through a fallback."""
        return self.status is AgentStatus.PASSED or self.replaced_by is not None

    @property
    def raw_output(self) -> str | None:
        """The last attempt's reply, whatever its verdict (a rejected one included)."""
        return self.attempts[-1].output if self.attempts else None

    @property
    def checks(self) -> tuple[CheckResult, ...]:
        """The imperative verdicts of the last attempt."""
        return self.attempts[-1].checks if self.attempts else ()

    @property
    def violations(self) -> int:
        """How many attempts broke an imperative."""
        return sum(1 for a in self.attempts if a.status is AgentStatus.VIOLATED)

    @property
    def errors(self) -> int:
        """How many attempts failed or timed out."""
        return sum(
            1 for a in self.attempts if a.status in (AgentStatus.FAILED, AgentStatus.TIMEOUT)
        )


@dataclass(frozen=True, slots=True)
class StageResult:
    """One pipeline stage."""

    name: str
    status: AgentStatus
    """passed, failed, timeout or skipped."""
    agents: tuple[InstanceId, ...] = ()
    outputs: tuple[str, ...] = ()
    duration_s: float = 0.0
    output_sources: tuple[InstanceId | None, ...] = ()
    """The instance each of ``outputs`` came from."""


@dataclass(frozen=True, slots=True, repr=False)
class RunResult:
    """Everything a run produced."""

    paradigm: str
    pattern: str
    status: RunStatus
    duration_s: float
    agents: tuple[AgentResult, ...]
    stages: tuple[StageResult, ...] = ()
    winner: str | None = None
    rescued_by: str | None = None
    """The pattern-level fallback that saved a failed pattern."""
    outputs: tuple[str, ...] = ()
    """The pattern's final outputs (the last stage's, the winner's, or every agent's)."""
    output_sources: tuple[InstanceId | None, ...] = ()
    """The instance each of ``outputs`` came from, in the same order (empty when a
    pattern does not say)."""
    reason: str | None = None
    """Why the pattern failed, when it did."""
    usage: Usage | None = None
    """Tokens and cost of every agent, fallback and judge."""
    output_errors: tuple[str, ...] = ()
    """Outputs (report, JUnit, event log) that could not be written, and why."""
    violation: str | None = None
    """A pattern-level violation (a vote that missed its quorum): the run exits 1."""
    coordination: Mapping[str, Any] | None = None
    """Report fields of the board, rounds and votes (``state``, ``rounds``, ``result``, and
    per-agent extras under ``agents``), when the paradigm uses them."""

    def __repr__(self) -> str:
        # Short on purpose: asyncio formats the result of the main task into messages,
        # and a full repr of ten thousand agents costs tens of milliseconds each time.
        return (
            f"RunResult({self.paradigm!r}, {self.pattern}, {self.status.value}, "
            f"agents={len(self.agents)}, duration_s={self.duration_s:.3f})"
        )

    @property
    def violated(self) -> bool:
        """Whether an agent that did not pass broke an imperative on some attempt."""
        return self.violation is not None or any(
            a.violations or any(f.violations for f in a.fallbacks)
            for a in self.agents
            if not a.succeeded
        )

    @property
    def exit_code(self) -> int:
        """The contract's exit code: 0 passed, 1 failed with a violation, 3 failed
        through errors and timeouts alone (or an output could not be written), 130
        interrupted."""
        code = self._outcome_code()
        return 3 if self.output_errors and code in (0, 1) else code

    def _outcome_code(self) -> int:
        if self.status is RunStatus.PASSED:
            return 0
        if self.status is RunStatus.INTERRUPTED:
            return 130
        return 1 if self.violated else 3


def merge_turns(earlier: AgentResult, last: AgentResult) -> AgentResult:
    """One participant over its turns: the last turn's status and output, the attempts,
    time and usage of all of them."""
    usage = earlier.usage
    if last.usage is not None:
        usage = last.usage if usage is None else usage + last.usage
    return replace(
        last,
        attempts=earlier.attempts + last.attempts,
        duration_s=earlier.duration_s + last.duration_s,
        usage=usage,
    )
