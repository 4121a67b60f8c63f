"""What every provider implements: a per-run session that hands out per-agent clients."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

from agentrun.providers.capture import DEFAULT_MAX_OUTPUT
from agentrun.results import Sent, Usage
from agentrun.templates import TemplateEngine

if TYPE_CHECKING:
    from agentrun.loading.spec import ProviderEntry


@dataclass(frozen=True, slots=True)
class Request:
    """One attempt's call to a provider, already rendered."""

    agent: str
    """The agent's name in the paradigm."""
    instance: str
    """Unique label of this run of the agent."""
    attempt: int
    """1 for the first attempt."""
    prompt: str
    system: str | None
    context: Mapping[str, Any]
    """The template context (input, vars, previous, ...) for the provider's own templates."""
    rejected: str | None = None
    """The previous attempt's output when it broke an imperative (for a repair)."""
    violations: tuple[str, ...] = ()
    """What that output broke."""
    on_delta: Callable[[str], None] | None = None
    """Called with each piece of a streamed reply as it arrives."""
    on_sent: Callable[[Sent], None] | None = None
    """A provider that sends something other than the prompt (a command's arguments
    and stdin) tells it here, for the report."""


@dataclass(frozen=True, slots=True)
class Reply:
    """A provider's answer to one request."""

    text: str
    usage: Usage | None = None
    truncated_from: int | None = None
    """The output's full length in bytes when ``text`` keeps only its head and tail."""


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """Everything a provider needs to build the client of one agent."""

    agent: str
    provider: str
    """The provider entry's name, or the built-in type the agent named directly."""
    fields: Mapping[str, Any]
    """Type-specific fields: the entry's, overridden by the agent's (unset ones absent)."""
    templates: TemplateEngine
    base_dir: Path
    """Folder of the paradigm file: relative paths start here."""
    model: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    max_output: int = DEFAULT_MAX_OUTPUT
    """Bytes of output an attempt keeps (see :mod:`agentrun.providers.capture`)."""
    extra: Mapping[str, Any] = field(default_factory=dict)


class AgentClient(Protocol):
    """Produces one agent's outputs. Must abort its work when cancelled."""

    async def complete(self, request: Request) -> Reply:
        """Make one attempt.

        Raises:
            agentrun.errors.AgentError: the attempt failed (``retryable`` says if worth retrying).
        """
        ...


class ProviderSession(Protocol):
    """The shared state of one provider entry during one run (pools, limits)."""

    def client(self, options: ClientOptions) -> AgentClient:
        """Build the client of one agent; templates are compiled here, not per call."""
        ...

    async def aclose(self) -> None:
        """Release what the session holds; called once, also after failures."""
        ...


class ProviderFactory(Protocol):
    """Opens a session for a provider entry (``None`` when an agent names the type directly)."""

    def __call__(self, entry: ProviderEntry | None) -> ProviderSession: ...


class StatelessSession:
    """A session for providers that share nothing between agents."""

    def __init__(self, make_client: Callable[[ClientOptions], AgentClient]) -> None:
        self._make_client = make_client

    def client(self, options: ClientOptions) -> AgentClient:
        """Build the agent's client from its options."""
        return self._make_client(options)

    async def aclose(self) -> None:
        """Nothing to release."""


@dataclass(frozen=True, slots=True)
class ProviderDescriptor:
    """Everything agentrun asks about one provider type, in one place.

    Registering a descriptor is all a new type needs: the paradigm schema, the
    validation, ``--mock``, the limiter and template checks all read it.
    """

    name: str
    """The ``type:`` of a provider entry, or the ``provider:`` an agent names directly."""
    fields: type[BaseModel]
    """Pydantic model of the type-specific keys; every field optional (see ``required``)."""
    open_session: ProviderFactory
    """Opens the per-run session that builds each agent's client."""
    network: bool = False
    """Calls a remote service: ``--mock`` replaces it and the provider limiter applies."""
    templates: tuple[str, ...] = ()
    """Fields whose strings are templates, also inside lists and mappings (http ``body``)."""
    required: tuple[str, ...] = ()
    """Fields an agent of this type must set (on itself or on its provider entry)."""
    infers: tuple[str, ...] = ()
    """Fields whose presence on an agent that names no provider selects this type."""
    secrets: tuple[str, ...] = ()
    """Fields whose ``${VAR}`` values are secrets whatever the variable's name."""
    description: str = ""
    """One line for ``agentrun plugins``."""

    @property
    def field_names(self) -> frozenset[str]:
        """The type-specific keys this type accepts."""
        return frozenset(self.fields.model_fields)
