"""The exceptions agentrun raises, each with the exit code the CLI maps it to.

    AgentrunError                 exit 3 unless a subclass says otherwise
    ├── SpecError                 exit 2: a paradigm file is invalid (carries every Problem found)
    ├── UsageError                exit 2: a bad flag or argument
    ├── PluginError               exit 2: an installed plugin cannot be loaded
    └── AgentError                one attempt of one agent went wrong (caught by the runner)
        ├── ProviderError         the provider could not produce an output
        │   ├── CommandFailed     a command agent exited non-zero
        │   └── CallableFailed    a python agent raised
        └── TemplateError         a template could not be rendered at run time

Expected errors print as one line; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How bad a validation problem is."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One validation finding, located at a YAML node."""

    path: str
    line: int
    column: int
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        prefix = "warning: " if self.severity is Severity.WARNING else ""
        return f"{self.path}:{self.line}:{self.column}: {prefix}{self.message}"


class AgentrunError(Exception):
    """Base of every error agentrun raises on purpose."""

    exit_code: int = 3


class SpecError(AgentrunError):
    """Raised when a paradigm file is invalid; holds every problem found in one pass."""

    exit_code = 2

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class UsageError(AgentrunError):
    """Raised for a bad command-line flag or argument."""

    exit_code = 2


class PluginError(AgentrunError):
    """Raised when an entry-point plugin cannot be loaded; names its distribution."""

    exit_code = 2


class AgentError(AgentrunError):
    """One attempt of an agent failed.

    ``retryable`` tells the runner whether to try again, ``retry_after`` (seconds) is a
    server's ``Retry-After`` that overrides a shorter backoff, and ``throttled`` marks a
    429 so the provider's adaptive limit can shrink.
    """

    retryable: bool = True
    retry_after: float | None = None
    throttled: bool = False


class ProviderError(AgentError):
    """The provider could not produce an output."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool | None = None,
        retry_after: float | None = None,
        throttled: bool = False,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable
        self.retry_after = retry_after
        self.throttled = throttled
        self.status = status


class CommandFailed(ProviderError):
    """A command agent's process exited with a non-zero status."""

    def __init__(self, returncode: int, stderr_tail: str) -> None:
        self.returncode = returncode
        self.stderr_tail = stderr_tail
        detail = f": {stderr_tail}" if stderr_tail else ""
        super().__init__(f"command exited with status {returncode}{detail}")


class CallableFailed(ProviderError):
    """A python agent's callable raised an exception."""


class TemplateError(AgentError):
    """A template failed to render at run time (for instance an undefined name)."""

    retryable = False
