"""Entry-point plugins: provider types, check types and patterns from installed packages.

A distribution adds types by declaring entry points in its ``pyproject.toml``::

    [project.entry-points."agentrun.providers"]
    echo = "agentrun_echo:ECHO"          # a ProviderDescriptor whose name is "echo"

    [project.entry-points."agentrun.checks"]
    word_count = "agentrun_echo:WORDS"   # a CheckDescriptor whose name is "word_count"

    [project.entry-points."agentrun.patterns"]
    fan_out = "agentrun_echo:fan_out"    # an object with the Pattern methods

They are loaded once, when the default registry is first needed. A plugin that cannot
be loaded stops agentrun with one line naming its distribution and entry point.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, cast

from agentrun.checks.base import CheckDescriptor
from agentrun.errors import PluginError
from agentrun.providers.base import ProviderDescriptor
from agentrun.registry import Origin, Registry

if TYPE_CHECKING:
    from agentrun.patterns.base import Pattern

__all__ = ["GROUPS", "format_registrations", "load_plugins"]

GROUPS = {
    "agentrun.providers": "provider",
    "agentrun.checks": "check",
    "agentrun.patterns": "pattern",
}
"""Entry-point group -> the kind of object its entry points name."""

_EXPECTED: dict[str, type] = {"provider": ProviderDescriptor, "check": CheckDescriptor}


def load_plugins(registry: Registry, found: Iterable[EntryPoint] | None = None) -> None:
    """Register every plugin's types in ``registry``.

    Args:
        registry: an unfrozen registry, normally holding the built-ins already.
        found: the entry points to load (default: every installed one in :data:`GROUPS`).

    Raises:
        PluginError: an entry point cannot be imported, names the wrong kind of
            object, or a name that is already taken.
    """
    if found is None:
        found = [ep for group in GROUPS for ep in entry_points(group=group)]
    for ep in sorted(found, key=lambda ep: (list(GROUPS).index(ep.group), ep.name)):
        _load(registry, ep)


def _load(registry: Registry, ep: EntryPoint) -> None:
    kind = GROUPS[ep.group]
    origin = Origin(
        ep.dist.name if ep.dist else "unknown distribution",
        ep.dist.version if ep.dist else "?",
        f"{ep.group}:{ep.name}",
    )
    where = f"plugin {origin.distribution} {origin.version} (entry point {origin.entry_point})"
    try:
        obj = ep.load()
    except Exception as exc:  # any import-time failure of foreign code is the plugin's fault
        reason = " ".join(str(exc).split()) or "no message"
        raise PluginError(
            f"{where}: cannot load {ep.value}: {type(exc).__name__}: {reason}"
        ) from None
    from agentrun.patterns.base import missing_pattern_methods

    if kind == "pattern" and (missing := missing_pattern_methods(obj)):
        raise PluginError(f"{where}: not a pattern: it has no {', '.join(missing)}")
    expected = _EXPECTED.get(kind)
    if expected is not None and not isinstance(obj, expected):
        raise PluginError(f"{where}: expected a {expected.__name__}, got {type(obj).__name__}")
    if expected is not None and isinstance(obj, ProviderDescriptor | CheckDescriptor):
        if obj.name != ep.name:
            raise PluginError(
                f"{where}: the entry point is named {ep.name!r} but its {kind} is {obj.name!r}"
            )
    taken = registry.origin(kind, ep.name)
    if taken is not None:
        raise PluginError(
            f"{where}: {kind} {ep.name!r} is already provided by {taken.distribution}"
        )
    try:
        if kind == "provider" and isinstance(obj, ProviderDescriptor):
            registry.add_provider(obj, origin)
        elif kind == "check" and isinstance(obj, CheckDescriptor):
            registry.add_check(obj, origin)
        else:
            registry.add_pattern(ep.name, cast("Pattern", obj), origin)
    except ValueError as exc:
        raise PluginError(f"{where}: {exc}") from None


def format_registrations(registry: Registry) -> str:
    """A table of every registered type: kind, name, distribution and version."""
    rows = [("KIND", "NAME", "DISTRIBUTION", "VERSION")]
    rows += [
        (r.kind, r.name, r.origin.distribution, r.origin.version) for r in registry.registrations()
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = (
        "  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[3]])
        for row in rows
    )
    return "\n".join(lines)
