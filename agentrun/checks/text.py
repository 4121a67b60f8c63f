"""Checks on the output's text: substrings, patterns, equality and length.

Each compiler does its work once (casefolded needles, compiled regexes) and
returns a :class:`PredicateCheck` whose verdict function runs per output.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, Field

from agentrun.checks.base import Check, CheckDescriptor, CheckInput, JudgeRunner
from agentrun.graph.runtime import Imperative
from agentrun.redact import clip
from agentrun.results import CheckResult

Verdict = Callable[[CheckInput], str | None]
"""Decides one output: ``None`` passes, a string is the reason it failed."""

_LIMIT = 60


def shorten(text: str, limit: int = _LIMIT) -> str:
    """``text`` cut to at most ``limit`` characters, marked with an ellipsis when cut
    (redacted first: a cut through a secret would hide it from redaction)."""
    return clip(text, limit)


def quote(text: str, limit: int = _LIMIT) -> str:
    """``text`` shortened and quoted for a message, with control characters escaped."""
    return repr(shorten(text, limit))


class PredicateCheck:
    """A check decided at once, without awaiting anything, by a verdict function."""

    __slots__ = ("name", "severity", "verdict")

    def __init__(self, name: str, severity: str, verdict: Verdict) -> None:
        self.name = name
        self.severity = severity
        self.verdict = verdict

    def __repr__(self) -> str:
        return f"PredicateCheck(name={self.name!r}, severity={self.severity!r})"

    async def __call__(self, inp: CheckInput) -> CheckResult:
        """Judge one output; an error inside the verdict is a failed result, never raised."""
        try:
            reason = self.verdict(inp)
        except Exception as exc:  # a check never raises: a crash is reported as a failure
            reason = f"check error: {type(exc).__name__}: {shorten(str(exc), 200)}"
        if reason is None:
            return CheckResult(self.name, True, "", self.severity)
        return CheckResult(self.name, False, reason, self.severity)


def _needles(value: str | list[str] | None, case_sensitive: bool) -> tuple[tuple[str, str], ...]:
    """(as written, as compared) pairs: messages show what the user wrote."""
    items = [value] if isinstance(value, str) else list(value or ())
    return tuple((item, item if case_sensitive else item.casefold()) for item in items)


def _listed(needles: list[str]) -> str:
    return ", ".join(quote(needle) for needle in needles)


def _folder(case_sensitive: bool) -> Callable[[str], str]:
    return (lambda text: text) if case_sensitive else str.casefold


def compile_contains(name: str, spec: Imperative, *, run_judge: JudgeRunner | None = None) -> Check:
    """``contains``: every needle must appear in the output."""
    needles = _needles(spec.argument, spec.case_sensitive)
    fold = _folder(spec.case_sensitive)

    def verdict(inp: CheckInput) -> str | None:
        text = fold(inp.output)
        missing = [shown for shown, needle in needles if needle not in text]
        return f"missing {_listed(missing)}" if missing else None

    return PredicateCheck(name, spec.severity, verdict)


def compile_contains_any(
    name: str, spec: Imperative, *, run_judge: JudgeRunner | None = None
) -> Check:
    """``contains_any``: at least one needle must appear in the output."""
    needles = _needles(spec.argument, spec.case_sensitive)
    fold = _folder(spec.case_sensitive)
    message = f"contains none of {_listed([shown for shown, _ in needles])}"

    def verdict(inp: CheckInput) -> str | None:
        text = fold(inp.output)
        return None if any(needle in text for _, needle in needles) else message

    return PredicateCheck(name, spec.severity, verdict)


def compile_not_contains(
    name: str, spec: Imperative, *, run_judge: JudgeRunner | None = None
) -> Check:
    """``not_contains``: no needle may appear in the output."""
    needles = _needles(spec.argument, spec.case_sensitive)
    fold = _folder(spec.case_sensitive)

    def verdict(inp: CheckInput) -> str | None:
        text = fold(inp.output)
        found = [shown for shown, needle in needles if needle in text]
        return f"contains forbidden {_listed(found)}" if found else None

    return PredicateCheck(name, spec.severity, verdict)


def _compile_pattern(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    return re.compile(pattern, 0 if case_sensitive else re.IGNORECASE)


def compile_regex(name: str, spec: Imperative, *, run_judge: JudgeRunner | None = None) -> Check:
    """``regex``: the pattern must be found somewhere in the output."""
    pattern: str = spec.argument
    search = _compile_pattern(pattern, spec.case_sensitive).search
    # The pattern is shown as written in the paradigm file, not as a Python literal.
    message = f"does not match '{shorten(pattern)}'"

    def verdict(inp: CheckInput) -> str | None:
        return None if search(inp.output) else message

    return PredicateCheck(name, spec.severity, verdict)


def compile_not_regex(
    name: str, spec: Imperative, *, run_judge: JudgeRunner | None = None
) -> Check:
    """``not_regex``: the pattern must not be found anywhere in the output."""
    pattern: str = spec.argument
    search = _compile_pattern(pattern, spec.case_sensitive).search
    # Never show the matched text: forbidden patterns usually describe secrets.
    message = f"matches forbidden pattern '{shorten(pattern)}'"

    def verdict(inp: CheckInput) -> str | None:
        return message if search(inp.output) else None

    return PredicateCheck(name, spec.severity, verdict)


def compile_equals(name: str, spec: Imperative, *, run_judge: JudgeRunner | None = None) -> Check:
    """``equals``: the output, stripped of surrounding whitespace, must equal the value."""
    equals: str = spec.argument
    fold = _folder(spec.case_sensitive)
    expected = fold(equals)
    shown = quote(equals)

    def verdict(inp: CheckInput) -> str | None:
        found = inp.output.strip()
        return None if fold(found) == expected else f"expected {shown}, got {quote(found)}"

    return PredicateCheck(name, spec.severity, verdict)


def _characters(count: int) -> str:
    return f"{count} character" if count == 1 else f"{count} characters"


def compile_min_length(
    name: str, spec: Imperative, *, run_judge: JudgeRunner | None = None
) -> Check:
    """``min_length``: the output has at least this many characters."""
    least: int = spec.argument

    def verdict(inp: CheckInput) -> str | None:
        size = len(inp.output)
        return None if size >= least else f"{_characters(size)}, at least {least} required"

    return PredicateCheck(name, spec.severity, verdict)


def compile_max_length(
    name: str, spec: Imperative, *, run_judge: JudgeRunner | None = None
) -> Check:
    """``max_length``: the output has at most this many characters."""
    most: int = spec.argument

    def verdict(inp: CheckInput) -> str | None:
        size = len(inp.output)
        return None if size <= most else f"{_characters(size)}, at most {most} allowed"

    return PredicateCheck(name, spec.severity, verdict)


def _compiles(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"invalid regular expression: {exc}") from None
    return value


_Needles = str | list[str]
_Regex = Annotated[str, AfterValidator(_compiles)]
_Length = Annotated[int, Field(ge=0)]

CONTAINS = CheckDescriptor(
    "contains", _Needles, compile_contains, description="Every one of these must appear."
)
CONTAINS_ANY = CheckDescriptor(
    "contains_any",
    Annotated[list[str], Field(min_length=1)],
    compile_contains_any,
    description="At least one of these must appear.",
)
NOT_CONTAINS = CheckDescriptor(
    "not_contains", _Needles, compile_not_contains, description="None of these may appear."
)
REGEX = CheckDescriptor(
    "regex",
    _Regex,
    compile_regex,
    description="The output must match this regular expression (search, not full match).",
)
NOT_REGEX = CheckDescriptor(
    "not_regex",
    _Regex,
    compile_not_regex,
    description="The output must not match this regular expression.",
)
EQUALS = CheckDescriptor(
    "equals",
    str,
    compile_equals,
    description="The output, stripped of surrounding whitespace, must equal this.",
)
MIN_LENGTH = CheckDescriptor(
    "min_length", _Length, compile_min_length, description="At least this many characters."
)
MAX_LENGTH = CheckDescriptor(
    "max_length", _Length, compile_max_length, description="At most this many characters."
)
