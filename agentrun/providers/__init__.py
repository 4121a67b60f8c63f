"""Provider types: the built-in descriptors and opening a session of a registered type.

Each built-in module defines its own :class:`~agentrun.providers.base.ProviderDescriptor`;
a new type is one module with a descriptor, registered in a
:class:`~agentrun.registry.Registry` (in code, or by an ``agentrun.providers`` entry point).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentrun.errors import UsageError
from agentrun.loading.spec import ProviderEntry
from agentrun.providers.anthropic import ANTHROPIC
from agentrun.providers.base import ProviderDescriptor, ProviderSession
from agentrun.providers.command import COMMAND
from agentrun.providers.function import PYTHON
from agentrun.providers.mock import MOCK
from agentrun.providers.openai import OPENAI
from agentrun.providers.webhook import HTTP

if TYPE_CHECKING:
    from agentrun.registry import Registry

__all__ = ["BUILTIN_PROVIDERS", "ProviderDescriptor", "open_session"]

BUILTIN_PROVIDERS: tuple[ProviderDescriptor, ...] = (MOCK, COMMAND, PYTHON, HTTP, OPENAI, ANTHROPIC)
"""The types agentrun ships, in the order messages list them."""


def open_session(
    type_name: str, entry: ProviderEntry | None, registry: Registry | None = None
) -> ProviderSession:
    """Open a session of the provider type ``type_name`` for one run.

    Args:
        type_name: a registered provider type.
        entry: the ``providers:`` entry, or ``None`` when an agent names the type directly.
        registry: where to look the type up (default: the default registry).

    Raises:
        UsageError: no provider type of that name is registered.
    """
    if registry is None:
        from agentrun.registry import default_registry

        registry = default_registry()
    descriptor = registry.providers.get(type_name)
    if descriptor is None:
        known = ", ".join(sorted(registry.providers)) or "none"
        raise UsageError(f"unknown provider type {type_name!r} (known: {known})")
    return descriptor.open_session(entry)
