"""Environment interpolation: ``${VAR}``, ``${VAR:-default}`` and the ``$${`` escape.

Substitution follows the shell: ``${VAR:-default}`` uses the default when ``VAR``
is unset or empty. Values that land in credentials, or come from variables whose
names look like credentials, are collected as secrets so that every output can
redact them.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from agentrun.loading.positions import Loc

_REFERENCE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{")
_SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL")
_SYNTAX_HINT = "write ${NAME} or ${NAME:-default}, or $${ for a literal ${"


def is_secret_name(name: str) -> bool:
    """Whether a variable's name says it holds a credential, as ``OPENAI_API_KEY`` does."""
    upper = name.upper()
    return any(word in upper for word in _SECRET_WORDS)


@dataclass(frozen=True, slots=True)
class Interpolated:
    """One string after interpolation."""

    text: str
    """The string with every reference replaced (missing variables by nothing)."""
    from_env: tuple[tuple[str, str], ...] = ()
    """``(name, value)`` of each variable taken from the environment."""
    missing: tuple[str, ...] = ()
    """Variables used without a default and absent from the environment."""
    invalid: tuple[str, ...] = ()
    """Malformed references, as written."""


def interpolate(text: str, env: Mapping[str, str]) -> Interpolated:
    """Replace the environment references in ``text``.

    Args:
        text: a string from the paradigm file.
        env: the environment to read variables from.

    Returns:
        The new text and what was read, missing or malformed along the way.
    """
    if "${" not in text:
        return Interpolated(text)
    from_env: list[tuple[str, str]] = []
    missing: list[str] = []
    invalid: list[str] = []

    def replace(match: re.Match[str]) -> str:
        whole, name, default = match.group(0), match.group(1), match.group(2)
        if whole == "$${":
            return "${"
        if name is None:
            invalid.append(_snippet(text, match.start()))
            return whole
        value = env.get(name)
        if value:
            from_env.append((name, value))
            return value
        if default is not None:
            return default
        if value is None:
            missing.append(name)
        return ""

    result = _REFERENCE.sub(replace, text)
    return Interpolated(result, tuple(from_env), tuple(missing), tuple(invalid))


def _snippet(text: str, start: int) -> str:
    end = text.find("}", start)
    return text[start : end + 1] if 0 < end - start < 40 else text[start : start + 20] + "..."


class InterpolatedTree(NamedTuple):
    """The outcome of :func:`interpolate_tree`."""

    data: Any
    """A copy of the document with every string value interpolated (keys untouched)."""
    secrets: frozenset[str]
    """Non-empty secret values taken from the environment."""
    missing: list[tuple[Loc, str]]
    """``(loc, variable)`` for each variable used but not set."""
    invalid: list[tuple[Loc, str]]
    """``(loc, message)`` for each malformed reference."""


def interpolate_tree(
    data: Any, env: Mapping[str, str], secret_fields: Collection[str] = ("api_key", "headers")
) -> InterpolatedTree:
    """Interpolate every string value of a parsed document.

    Args:
        data: the document as parsed from YAML.
        env: the environment to read variables from.
        secret_fields: keys whose values (or items) are secrets whatever the variable's name.

    Returns:
        The new document, the secrets read and the problems found, by ``loc``.
    """
    result = InterpolatedTree(None, frozenset(), [], [])
    secrets: set[str] = set()

    def walk(value: Any, loc: Loc) -> Any:
        if isinstance(value, dict):
            return {key: walk(item, (*loc, key)) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item, (*loc, index)) for index, item in enumerate(value)]
        if not isinstance(value, str):
            return value
        done = interpolate(value, env)
        result.missing.extend((loc, name) for name in done.missing)
        result.invalid.extend(
            (loc, f"invalid environment reference {bad!r}: {_SYNTAX_HINT}") for bad in done.invalid
        )
        secret_field = bool(loc) and (
            loc[-1] in secret_fields or (len(loc) > 1 and loc[-2] in secret_fields)
        )
        secrets.update(
            found for name, found in done.from_env if secret_field or is_secret_name(name)
        )
        return done.text

    data = walk(data, ())
    return result._replace(data=data, secrets=frozenset(secrets))
