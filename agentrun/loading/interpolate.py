"""Environment interpolation: ``${VAR}``, ``${VAR:-default}`` and the ``$${`` escape.

Substitution follows the shell: ``${VAR:-default}`` uses the default when ``VAR``
is unset or empty. Values that land in credentials, or come from variables whose
names look like credentials, are collected as secrets so that every output can
redact them, and so are credentials written literally in the file.

A value is data, never template code: in a template field every ``{`` of a
substituted value is written as the Jinja literal ``{{ '{' }}``, so a branch name
such as ``{{ 7*7 }}`` renders as itself. A reference inside ``{{ }}`` or ``{% %}``
would splice text into template code, so it is refused (``vars:`` is the way).
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
_JINJA_SPAN = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
DEFAULT_TEMPLATE_FIELDS = frozenset(
    {"prompt", "system", "output", "outputs", "stdin", "command", "url", "body"}
)
"""Template keys of the built-in provider types (a registry knows every type's)."""
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
MIN_LITERAL_SECRET = 8
"""Shortest credential written in the file itself (or as a default) that is redacted.

Shorter ones are placeholders such as ``none`` that local servers accept; masking
them would blot that word out of every output.
"""


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
    defaults: tuple[tuple[str, str], ...] = ()
    """``(name, default)`` of each variable that was replaced by its default."""
    in_code: tuple[str, ...] = ()
    """Variables referenced inside ``{{ }}`` or ``{% %}`` of a template (refused)."""


def interpolate(text: str, env: Mapping[str, str], *, template: bool = False) -> Interpolated:
    """Replace the environment references in ``text``.

    Args:
        text: a string from the paradigm file.
        env: the environment to read variables from.
        template: ``text`` is a Jinja template: values are inserted as literal text.

    Returns:
        The new text and what was read, missing or malformed along the way.
    """
    if "${" not in text:
        return Interpolated(text)
    found: dict[str, list[Any]] = {"env": [], "missing": [], "invalid": [], "default": []}
    spans = [m.span() for m in _JINJA_SPAN.finditer(text)] if template else []
    in_code: list[str] = []

    def replace(match: re.Match[str]) -> str:
        whole, name, default = match.group(0), match.group(1), match.group(2)
        if whole == "$${":
            return "${"
        if name is None:
            found["invalid"].append(_snippet(text, match.start()))
            return whole
        value = env.get(name)
        if value:
            found["env"].append((name, value))
        elif default is not None:
            found["default"].append((name, default))
            value = default
        else:
            if value is None:
                found["missing"].append(name)
            value = ""
        if not template:
            return value
        span = next((s for s in spans if s[0] <= match.start() < s[1]), None)
        if span is None:
            return value.replace("{", "{{ '{' }}")
        if text.startswith("{#", span[0]):
            return ""  # inside a comment: renders as nothing either way
        in_code.append(name)
        return whole

    result = _REFERENCE.sub(replace, text)
    return Interpolated(
        result,
        tuple(found["env"]),
        tuple(found["missing"]),
        tuple(found["invalid"]),
        tuple(found["default"]),
        tuple(in_code),
    )


def is_template_field(loc: Loc, fields: Collection[str] = DEFAULT_TEMPLATE_FIELDS) -> bool:
    """Whether the string at ``loc`` is rendered as a Jinja template.

    Args:
        loc: where the string sits in the document.
        fields: keys of agents, provider entries and defaults whose strings are templates
            (the registry knows them for every provider type).
    """
    if loc[:1] == ("stages",):
        return loc[-1] == "input"
    if loc[:1] not in (("agents",), ("providers",), ("defaults",)):
        return False
    inner = loc[1:] if loc[0] == "defaults" else loc[2:]
    names = [key for key in inner if isinstance(key, str)]
    return any(name in fields for name in names[:1]) or (bool(names) and names[-1] in fields)


def _secret_field(loc: Loc, fields: Collection[str]) -> bool:
    """Whether ``loc`` holds a credential: a secret field, or an item of one (a header)."""
    return bool(loc) and (loc[-1] in fields or (len(loc) > 1 and loc[-2] in fields))


def _literal_secret_field(loc: Loc, fields: Collection[str]) -> bool:
    """Whether a value written in the file at ``loc`` is a credential.

    A scalar secret field (``api_key``) always is. Any item of a mapping field
    (a header) may carry one taken from the environment, but only these names hold
    credentials when written literally (``Accept: text/plain`` does not).
    """
    if not loc:
        return False
    if loc[-1] in fields:
        return True
    name = str(loc[-1])
    return (
        len(loc) > 1
        and loc[-2] in fields
        and (name.lower() in _SECRET_HEADERS or is_secret_name(name))
    )


def _in_code_message(name: str) -> str:
    return (
        f"${{{name}}} inside {{{{ }}}} or {{% %}} would turn its value into template code;"
        f" declare it under vars: (e.g. {name.lower()}: ${{{name}}}) and use vars.{name.lower()}"
    )


def _secrets_of(loc: Loc, written: str, done: Interpolated, fields: Collection[str]) -> set[str]:
    """The credentials among the values of one string: read, defaulted, or literal."""
    field = _secret_field(loc, fields)
    found = {value for name, value in done.from_env if field or is_secret_name(name)}
    found.update(
        value
        for name, value in done.defaults
        if (field or is_secret_name(name)) and len(value) >= MIN_LITERAL_SECRET
    )
    literal = "${" not in written and _literal_secret_field(loc, fields)
    if literal and len(written) >= MIN_LITERAL_SECRET:
        found.add(written)
        scheme, _, credential = written.partition(" ")  # "Bearer abc...": the token alone too
        if scheme and len(credential) >= MIN_LITERAL_SECRET:
            found.add(credential)
    return found


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
    data: Any,
    env: Mapping[str, str],
    secret_fields: Collection[str] = ("api_key", "headers"),
    template_fields: Collection[str] = DEFAULT_TEMPLATE_FIELDS,
) -> InterpolatedTree:
    """Interpolate every string value of a parsed document.

    Args:
        data: the document as parsed from YAML.
        env: the environment to read variables from.
        secret_fields: keys whose values (or items) are secrets whatever the variable's name.
        template_fields: keys whose strings are templates: a value read there is escaped,
            so it is data and never template source.

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
        done = interpolate(value, env, template=is_template_field(loc, template_fields))
        result.missing.extend((loc, name) for name in done.missing)
        result.invalid.extend(
            (loc, f"invalid environment reference {bad!r}: {_SYNTAX_HINT}") for bad in done.invalid
        )
        result.invalid.extend((loc, _in_code_message(name)) for name in done.in_code)
        secrets.update(_secrets_of(loc, value, done, secret_fields))
        return done.text

    data = walk(data, ())
    return result._replace(data=data, secrets=frozenset(secrets))
