"""The ``python`` check: a user function decides, bounded by the imperative's timeout."""

from __future__ import annotations

import asyncio
import inspect
import math
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator

from agentrun.callables import (
    CallableImportError,
    call_in_daemon_thread,
    import_callable,
    positional_arity,
    user_frames,
)
from agentrun.checks.base import Check, CheckDescriptor, CheckInput, JudgeRunner
from agentrun.checks.text import shorten
from agentrun.durations import format_duration
from agentrun.graph.runtime import Imperative
from agentrun.loading.model_base import check_callable
from agentrun.results import CheckResult

_REASON_LIMIT = 200


def _context(inp: CheckInput) -> dict[str, Any]:
    """The mapping given to a two-argument check function."""
    return {
        "agent": inp.agent,
        "input": inp.context.get("input", ""),
        "prompt": inp.context.get("prompt", ""),
        "vars": inp.context.get("vars", {}),
        "previous": inp.context.get("previous", []),
        "duration_s": inp.duration_s,
    }


def _is_async(function: Callable[..., Any]) -> bool:
    call = getattr(function, "__call__", None)  # noqa: B004 - reads the method, no callability test
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(call)


def _interpret(value: object) -> str | None:
    """Turn a check function's return value into a verdict: ``None`` passes."""
    reason: object = None
    if isinstance(value, tuple | list) and len(value) == 2 and isinstance(value[0], bool):
        value, reason = value
    if isinstance(value, bool):
        if value:
            return None
        return shorten(str(reason), _REASON_LIMIT) if reason else "returned False"
    kind = "None" if value is None else type(value).__name__
    return f"returned {kind}, expected a bool or (bool, reason)"


class FunctionCheck:
    """Calls ``package.module:function`` on each output; imported on first use."""

    __slots__ = (
        "_arity",
        "_function",
        "_import_error",
        "_is_async",
        "name",
        "reference",
        "severity",
        "timeout",
    )

    def __init__(self, name: str, severity: str, reference: str, timeout: float) -> None:
        self.name = name
        self.severity = severity
        self.reference = reference
        self.timeout = timeout
        self._function: Callable[..., Any] | None = None
        self._import_error: str | None = None
        self._arity = 1
        self._is_async = False

    def __repr__(self) -> str:
        return f"FunctionCheck(name={self.name!r}, reference={self.reference!r})"

    def _resolve(self) -> Callable[..., Any] | None:
        """Import the function once; a failure is remembered, not retried on every output."""
        if self._function is None and self._import_error is None:
            try:
                function = import_callable(self.reference)
            except CallableImportError as exc:
                self._import_error = str(exc)
                return None
            self._arity = positional_arity(function)
            self._is_async = _is_async(function)
            self._function = function
        return self._function

    def _fail(self, message: str) -> CheckResult:
        return CheckResult(self.name, False, message, self.severity)

    def _broke(self, message: str, frames: tuple[str, ...] = ()) -> CheckResult:
        """The check itself broke: an error of the check, not a verdict on the output."""
        return CheckResult(self.name, False, message, self.severity, error=True, traceback=frames)

    async def _invoke(self, function: Callable[..., Any], inp: CheckInput) -> object:
        args: tuple[Any, ...] = (inp.output,)
        if self._arity >= 2:
            args = (inp.output, _context(inp))
        if self._is_async:
            return await function(*args)
        # A blocking function must not stall the event loop, nor keep the process
        # alive if it never returns: it runs in a daemon thread.
        value = await call_in_daemon_thread(function, *args)
        if inspect.isawaitable(value):  # e.g. a partial of an async function
            value = await value
        return value

    async def __call__(self, inp: CheckInput) -> CheckResult:
        """Run the function on one output; never raises. A function that cannot be
        loaded or that raises gives a result marked ``error`` (the check broke)."""
        function = self._resolve()
        if function is None:
            return self._broke(f"cannot load {self.reference}: {self._import_error}")
        limit = None if math.isinf(self.timeout) else self.timeout
        try:
            async with asyncio.timeout(limit):
                try:
                    value = await self._invoke(function, inp)
                # User code cannot end the run, not even with sys.exit().
                except (Exception, SystemExit, KeyboardInterrupt) as exc:
                    return self._broke(
                        f"raised {type(exc).__name__}: {shorten(str(exc), _REASON_LIMIT)}",
                        user_frames(exc),
                    )
        except TimeoutError:
            # Only our scope's expiry reaches here: the function's own errors,
            # TimeoutError included, were caught inside it.
            return self._fail(f"check timed out after {format_duration(self.timeout)}")
        reason = _interpret(value)
        if reason is None:
            return CheckResult(self.name, True, "", self.severity)
        return self._fail(reason)


def compile_python(name: str, spec: Imperative, *, run_judge: JudgeRunner | None = None) -> Check:
    """``python``: ``package.module:function`` returning a bool or ``(bool, reason)``.

    The function is called as ``fn(output)``, or ``fn(output, context)`` when it
    takes two positional arguments; ``context`` holds agent, input, prompt,
    vars, previous and duration_s. Sync functions run in a daemon thread, async ones on
    the loop; both are bounded by the imperative's ``timeout``.
    """
    return FunctionCheck(name, spec.severity, spec.argument, spec.timeout)


PYTHON = CheckDescriptor(
    "python",
    Annotated[str, AfterValidator(check_callable)],
    compile_python,
    slow=True,
    description="``package.module:function`` returning a bool or ``(bool, reason)``.",
)
