"""Provider registry: built-in type name -> factory of per-run sessions.

The built-in types register themselves below through :func:`register_provider`,
the same path a new provider type takes: one module plus one registration line.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from agentrun.errors import UsageError
from agentrun.loading.spec import ProviderEntry
from agentrun.providers.anthropic import open_anthropic_session
from agentrun.providers.base import ProviderFactory, ProviderSession
from agentrun.providers.command import open_command_session
from agentrun.providers.function import open_python_session
from agentrun.providers.mock import open_mock_session
from agentrun.providers.openai import open_openai_session
from agentrun.providers.webhook import open_http_session

__all__ = ["PROVIDERS", "open_session", "register_provider"]

_registry: dict[str, ProviderFactory] = {}

PROVIDERS: Mapping[str, ProviderFactory] = MappingProxyType(_registry)
"""Read-only view of the registered provider types."""


def register_provider(type_name: str, factory: ProviderFactory) -> None:
    """Make a provider type available under ``type_name``.

    Registering the same factory twice is harmless; a different factory under a
    taken name is refused, so that one type can never silently replace another.

    Args:
        type_name: the ``type:`` a provider entry or an agent's ``provider:`` names.
        factory: opens a :class:`~agentrun.providers.base.ProviderSession` per run.

    Raises:
        ValueError: another factory is already registered under ``type_name``.
    """
    current = _registry.get(type_name)
    if current is not None and current is not factory:
        raise ValueError(f"provider type {type_name!r} is already registered")
    _registry[type_name] = factory


def open_session(type_name: str, entry: ProviderEntry | None) -> ProviderSession:
    """Open a session of the provider type ``type_name`` for one run.

    Args:
        type_name: a registered provider type.
        entry: the ``providers:`` entry, or ``None`` when an agent names the type directly.

    Raises:
        UsageError: no provider type of that name is registered.
    """
    factory = _registry.get(type_name)
    if factory is None:
        known = ", ".join(sorted(_registry)) or "none"
        raise UsageError(f"unknown provider type {type_name!r} (known: {known})")
    return factory(entry)


register_provider("mock", open_mock_session)
register_provider("command", open_command_session)
register_provider("python", open_python_session)
register_provider("openai", open_openai_session)
register_provider("anthropic", open_anthropic_session)
register_provider("http", open_http_session)
