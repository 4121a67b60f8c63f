"""Hints for the YAML mistakes new users make most when writing text values.

Unquoted text is read by YAML's own rules: ``{{ input }}`` and ``${VAR}`` inside
``{ }`` open a mapping, ``Say: hello`` holds a second ``key: value``, and ``42`` or
``yes`` are a number and a boolean. The parser's words say what broke, not what to do;
these hints say it.
"""

from __future__ import annotations

import re

TEXT_KEYS = frozenset({"prompt", "system", "output", "input", "description", "reply", "rubric"})
"""Keys whose value is free text (often a template), the ones users forget to quote."""

_BRACES = "; quote the value (YAML reads '{' as the start of a mapping)"
_COLON = "; quote text that contains ': '"
_QUOTE = "; quote it"
_KEY_BEFORE = re.compile(r"([A-Za-z_][\w-]*)\s*:(?:\s|$)")
_COLON_ERRORS = ("mapping values are not allowed here", "expected ',' or '}', but got ':'")


def syntax_hint(message: str, line: str, column: int) -> str:
    """``message`` (a YAML syntax error at 1-based ``column`` of ``line``) with a hint.

    A ``{{ }}`` or ``${...}`` on the line asks for quotes around the value; a stray
    ``: `` in the value of a text key (``prompt: Say: hello``) asks for quotes around
    the text. Any other message is returned unchanged.
    """
    if message.startswith(_COLON_ERRORS):
        keys = _KEY_BEFORE.findall(line[: max(column - 1, 0)])
        if keys and keys[-1] in TEXT_KEYS:
            return message + _COLON  # `prompt: Sum up: {{ input }}` breaks at the colon
    if "{{" in line or "${" in line:
        return message + _BRACES
    return message


def text_type_hint(key: object, value: object) -> str:
    """``; quote it`` for a boolean where a string is wanted (``run: [yes, no]``), or a
    number given to a text key (``output: 42``)."""
    if isinstance(value, bool):
        return _QUOTE + " (YAML reads unquoted yes, no, on and off as booleans)"
    if key in TEXT_KEYS and isinstance(value, int | float):
        return _QUOTE
    return ""
