"""Imperative checks: compile an Imperative into an awaitable Check.

The registry maps a check name (``contains``, ``regex``, ...) to its compiler;
the built-ins register themselves below through the same
:func:`register_check` any extension would use.
"""

from __future__ import annotations

from typing import Protocol

from agentrun.checks import function, judge, structured, text, timing
from agentrun.checks.base import Check, CheckInput, JudgeRunner
from agentrun.graph.runtime import Imperative
from agentrun.loading.spec import CHECK_NAMES

__all__ = [
    "Check",
    "CheckCompiler",
    "CheckInput",
    "JudgeRunner",
    "compile_check",
    "register_check",
]


class CheckCompiler(Protocol):
    """Builds the check of one imperative; does all per-imperative work up front."""

    def __call__(self, name: str, spec: Imperative, *, run_judge: JudgeRunner | None) -> Check: ...


_COMPILERS: dict[str, CheckCompiler] = {}


def register_check(check_name: str, compiler: CheckCompiler, *, replace: bool = False) -> None:
    """Make ``compiler`` build the checks named ``check_name``.

    Args:
        check_name: A check an imperative can hold (one of ``spec.CHECK_NAMES``).
        compiler: Called as ``compiler(name, spec, run_judge=...)``.
        replace: Allow replacing an existing compiler (otherwise an error).

    Raises:
        ValueError: the name is not a check an imperative can hold, or it already
            has a compiler and ``replace`` is false.
    """
    if check_name not in CHECK_NAMES:
        raise ValueError(
            f"unknown check {check_name!r}; imperatives can hold: {', '.join(CHECK_NAMES)}"
        )
    if check_name in _COMPILERS and not replace:
        raise ValueError(f"check {check_name!r} already has a compiler")
    _COMPILERS[check_name] = compiler


def compile_check(name: str, spec: Imperative, *, run_judge: JudgeRunner | None = None) -> Check:
    """Compile the imperative ``name`` into a check, once, before any output is judged.

    Args:
        name: The imperative's name; results carry it.
        spec: The validated imperative.
        run_judge: Runs a judge agent; required by ``judge`` imperatives.

    Returns:
        A check whose ``await check(inp)`` gives a CheckResult and never raises.

    Raises:
        KeyError: no compiler is registered for the imperative's check.
        ValueError: a ``judge`` imperative was given no ``run_judge``.
    """
    check_name = spec.check
    compiler = _COMPILERS.get(check_name)
    if compiler is None:
        raise KeyError(f"no compiler registered for check {check_name!r} (imperative {name!r})")
    return compiler(name, spec, run_judge=run_judge)


register_check("contains", text.compile_contains)
register_check("contains_any", text.compile_contains_any)
register_check("not_contains", text.compile_not_contains)
register_check("regex", text.compile_regex)
register_check("not_regex", text.compile_not_regex)
register_check("equals", text.compile_equals)
register_check("min_length", text.compile_min_length)
register_check("max_length", text.compile_max_length)
register_check("json", structured.compile_json)
register_check("json_schema", structured.compile_json_schema)
register_check("max_latency", timing.compile_max_latency)
register_check("python", function.compile_python)
register_check("judge", judge.compile_judge)
