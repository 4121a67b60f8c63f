"""The registry of provider types, check types and patterns that a run may use.

A :class:`Registry` is filled (built-ins first, then plugins), then frozen. Code that
needs to know the types (loading, graph compile, engine) takes a registry, so a test
can build its own with extra types and never touch shared state::

    registry = Registry.builtin()
    registry.add_provider(ProviderDescriptor("echo", EchoFields, open_echo_session))
    loaded = load_paradigm(path, registry=registry.freeze())

:func:`default_registry` is the one the command line uses: the built-ins plus every
entry-point plugin, built once on first use.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from agentrun import __version__
from agentrun.checks.base import CheckDescriptor
from agentrun.loading.model_base import StrictModel
from agentrun.loading.spec import AGENT_KEYS, ENTRY_KEYS, IMPERATIVE_KEYS, SHARED_SETTINGS
from agentrun.providers.base import ProviderDescriptor

if TYPE_CHECKING:
    from agentrun.patterns.base import Pattern

__all__ = [
    "BUILTIN",
    "Origin",
    "Registration",
    "Registry",
    "RegistryFrozenError",
    "StrictModel",
    "default_registry",
]


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a registered type comes from."""

    distribution: str
    """The installed distribution that provides it (``agentrun`` for built-ins)."""
    version: str
    entry_point: str | None = None
    """``group:name`` of the plugin's entry point; ``None`` for what was registered in code."""


BUILTIN = Origin("agentrun", __version__)
"""The origin of the types agentrun ships."""


@dataclass(frozen=True, slots=True)
class Registration:
    """One registered type, as ``agentrun plugins`` lists it."""

    kind: str
    """``provider``, ``check`` or ``pattern``."""
    name: str
    origin: Origin


class RegistryFrozenError(RuntimeError):
    """Raised when something is registered in a registry that is already in use."""


class Registry:
    """Provider types, check types and patterns by name, in registration order."""

    def __init__(self) -> None:
        self._providers: dict[str, ProviderDescriptor] = {}
        self._checks: dict[str, CheckDescriptor] = {}
        self._patterns: dict[str, Pattern] = {}
        self._origins: dict[tuple[str, str], Origin] = {}
        self._derived: dict[str, Any] = {}
        self._frozen = False
        self.providers: Mapping[str, ProviderDescriptor] = MappingProxyType(self._providers)
        """Provider types by name (read-only)."""
        self.checks: Mapping[str, CheckDescriptor] = MappingProxyType(self._checks)
        """Check types by their YAML key (read-only)."""
        self.patterns: Mapping[str, Pattern] = MappingProxyType(self._patterns)
        """Pattern runners by name: the built-ins and ``agentrun.patterns`` plugins."""

    @classmethod
    def builtin(cls) -> Registry:
        """A new, unfrozen registry holding the types agentrun ships."""
        from agentrun.checks import BUILTIN_CHECKS
        from agentrun.patterns import PATTERNS
        from agentrun.providers import BUILTIN_PROVIDERS

        registry = cls()
        for provider in BUILTIN_PROVIDERS:
            registry.add_provider(provider)
        for check in BUILTIN_CHECKS:
            registry.add_check(check)
        for name, runner in PATTERNS.items():
            registry.add_pattern(name, runner)
        return registry

    @property
    def frozen(self) -> bool:
        """Whether registration is over."""
        return self._frozen

    def freeze(self) -> Registry:
        """End registration; the registry is returned for chaining."""
        self._frozen = True
        return self

    def add_provider(self, descriptor: ProviderDescriptor, origin: Origin = BUILTIN) -> None:
        """Register a provider type.

        Raises:
            RegistryFrozenError: the registry is frozen.
            ValueError: the name is taken, or the descriptor contradicts itself or
                another type (a field declared differently, a key agentrun owns).
        """
        self._open("provider", descriptor.name, self._providers)
        _check_provider(descriptor, self._providers.values())
        self._providers[descriptor.name] = descriptor
        self._registered("provider", descriptor.name, origin)

    def add_check(self, descriptor: CheckDescriptor, origin: Origin = BUILTIN) -> None:
        """Register a check type.

        Raises:
            RegistryFrozenError: the registry is frozen.
            ValueError: the name is taken or is a key every imperative has.
        """
        self._open("check", descriptor.name, self._checks)
        if descriptor.name in IMPERATIVE_KEYS:
            raise ValueError(f"check {descriptor.name!r} is a key every imperative has")
        self._checks[descriptor.name] = descriptor
        self._registered("check", descriptor.name, origin)

    def add_pattern(self, name: str, runner: Pattern, origin: Origin = BUILTIN) -> None:
        """Register a pattern runner under ``name``; the engine looks patterns up here.

        Raises:
            RegistryFrozenError: the registry is frozen.
            ValueError: the name is taken.
        """
        self._open("pattern", name, self._patterns)
        self._patterns[name] = runner
        self._registered("pattern", name, origin)

    def registrations(self) -> Iterator[Registration]:
        """Every registered type with its origin: providers, then checks, then patterns."""
        for (kind, name), origin in self._origins.items():
            yield Registration(kind, name, origin)

    def origin(self, kind: str, name: str) -> Origin | None:
        """Where the ``kind`` named ``name`` comes from, if registered."""
        return self._origins.get((kind, name))

    @property
    def network_types(self) -> frozenset[str]:
        """Provider types that call a remote service (``--mock`` replaces them)."""
        return frozenset(name for name, d in self._providers.items() if d.network)

    @property
    def secret_fields(self) -> frozenset[str]:
        """Fields whose interpolated values are secrets, whatever the variable's name."""
        return frozenset(f for d in self._providers.values() for f in d.secrets)

    @property
    def template_fields(self) -> frozenset[str]:
        """Keys whose strings are templates, for any provider type (prompt and system too)."""
        return frozenset({"prompt", "system"}).union(
            *(d.templates for d in self._providers.values())
        )

    def field_models(self) -> Mapping[str, type[BaseModel]]:
        """Each type-specific key, with the fields model that validates it."""
        cached = self._derived.get("fields")
        if cached is None:
            cached = {}
            for descriptor in self._providers.values():
                for key in descriptor.fields.model_fields:
                    cached.setdefault(key, descriptor.fields)
            self._derived["fields"] = cached
        return MappingProxyType(cached)

    def checks_model(self) -> type[BaseModel]:
        """One model with a field per check (aliased by its key): validation and schema."""
        cached = self._derived.get("checks")
        if cached is None:
            fields: dict[str, Any] = {
                f"check_{index}": (
                    check.argument,
                    Field(default=None, alias=check.name, description=check.description or None),
                )
                for index, check in enumerate(self._checks.values())
            }
            config = ConfigDict(extra="forbid", frozen=True, validate_by_name=False)
            cached = create_model("ImperativeChecks", __config__=config, **fields)
            self._derived["checks"] = cached
        model: type[BaseModel] = cached
        return model

    def _open(self, kind: str, name: str, table: Mapping[str, object]) -> None:
        if self._frozen:
            raise RegistryFrozenError(f"cannot register {kind} {name!r}: the registry is frozen")
        if not name or not isinstance(name, str):
            raise ValueError(f"a {kind} needs a non-empty name, got {name!r}")
        if name in table:
            what = "provider type" if kind == "provider" else kind
            raise ValueError(f"{what} {name!r} is already registered")

    def _registered(self, kind: str, name: str, origin: Origin) -> None:
        self._origins[(kind, name)] = origin
        self._derived.clear()


def _check_provider(new: ProviderDescriptor, others: Any) -> None:
    """Refuse a descriptor that contradicts itself or a type already registered."""
    name, model = new.name, new.fields
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise ValueError(f"provider type {name!r}: fields must be a pydantic model class")
    keys = model.model_fields
    for group in ("templates", "required", "infers", "secrets"):
        unknown = [key for key in getattr(new, group) if key not in keys]
        if unknown:
            raise ValueError(f"provider type {name!r}: {group} names unknown fields {unknown}")
    for key, info in keys.items():
        if info.is_required():
            raise ValueError(
                f"provider type {name!r}: field {key!r} needs a default "
                "(list it in required= to make agents set it)"
            )
        if info.alias not in (None, key):
            raise ValueError(f"provider type {name!r}: field {key!r} has an alias; rename it")
        if key in ENTRY_KEYS or (key in AGENT_KEYS and key not in SHARED_SETTINGS):
            raise ValueError(f"provider type {name!r}: field {key!r} is a key agentrun owns")
    for other in others:
        for key in keys.keys() & other.fields.model_fields.keys():
            if not _same_field(keys[key], other.fields.model_fields[key]):
                raise ValueError(
                    f"provider type {name!r}: field {key!r} is declared differently "
                    f"by provider type {other.name!r}"
                )
        taken = set(new.infers) & set(other.infers)
        if taken:
            raise ValueError(
                f"provider type {name!r}: {sorted(taken)} already infer type {other.name!r}"
            )


def _same_field(a: FieldInfo, b: FieldInfo) -> bool:
    """Two types may share a key only if it means the same thing to both."""
    return (a.annotation, a.default, a.metadata, a.alias) == (
        b.annotation,
        b.default,
        b.metadata,
        b.alias,
    )


@functools.cache
def default_registry() -> Registry:
    """The built-ins plus every installed plugin, built once and frozen.

    Raises:
        PluginError: a plugin cannot be loaded (one line naming its distribution).
    """
    from agentrun.plugins import load_plugins

    registry = Registry.builtin()
    load_plugins(registry)
    return registry.freeze()
