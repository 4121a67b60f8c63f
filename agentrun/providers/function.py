"""The ``python`` provider: call ``package.module:function`` with the rendered prompt.

The function may be sync or async. An async one runs on the event loop; a
sync one runs in a daemon thread, so that a function that blocks never
blocks the loop and a timeout still ends the attempt (the thread is then
abandoned: Python cannot stop it). The module is named ``function`` rather
than ``python`` so that nothing can mistake it for the interpreter.
"""

from __future__ import annotations

import copy
import inspect
import json
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import field_validator

from agentrun.callables import (
    CallableImportError,
    call_in_daemon_thread,
    import_callable,
    positional_arity,
)
from agentrun.errors import AgentError, CallableFailed, ProviderError, UsageError
from agentrun.loading.model_base import StrictModel, check_callable
from agentrun.loading.spec import ProviderEntry
from agentrun.providers.base import (
    ClientOptions,
    ProviderDescriptor,
    ProviderSession,
    Reply,
    Request,
    StatelessSession,
)
from agentrun.providers.capture import clip_text


class PythonFields(StrictModel):
    """Fields of the ``python`` provider."""

    callable: str | None = None
    """``package.module:function``, sync or async, called with the rendered prompt."""

    _callable_format = field_validator("callable")(check_callable)


__all__ = ["PythonClient", "open_python_session"]


class PythonClient:
    """One agent's Python function, imported on first use.

    The function receives the rendered prompt and, when it accepts a second
    positional parameter, a fresh context dict with ``input``, ``vars``,
    ``previous``, ``agent`` and ``attempt``. A string return value is the
    output; any other value except ``None`` becomes its JSON text.

    Raises:
        UsageError: the ``callable`` field is missing.
    """

    def __init__(self, options: ClientOptions) -> None:
        reference = options.fields.get("callable")
        if not reference:
            raise UsageError(
                f"agent {options.agent!r}: the python provider needs "
                "`callable: package.module:function`"
            )
        self._reference = str(reference)
        # Imported on the first call, not here: the runner puts the paradigm's
        # folder on sys.path only when it runs, and import errors must become
        # the agent's failure rather than abort building the run.
        self._function: Callable[..., Any] | None = None
        self._is_async = False
        self._wants_context = False
        self._max_output = options.max_output

    async def complete(self, request: Request) -> Reply:
        """Call the function once.

        Raises:
            ProviderError: the callable cannot be imported (not retryable) or returned None.
            CallableFailed: the function raised (retryable).
        """
        function = self._resolve()
        args: tuple[Any, ...] = (request.prompt,)
        if self._wants_context:
            args = (request.prompt, _call_context(request))
        try:
            if self._is_async:
                value = await function(*args)
            else:
                value = await call_in_daemon_thread(function, *args)
                if inspect.isawaitable(value):  # e.g. an object whose __call__ is async
                    value = await value
        except AgentError:
            raise  # the function chose an agentrun error (say, a non-retryable one): keep it
        except (Exception, SystemExit, KeyboardInterrupt) as exc:
            # User code cannot end the run: sys.exit() or a KeyboardInterrupt it raises
            # itself fails its attempt like any other exception.
            raise CallableFailed(f"{type(exc).__name__}: {exc}") from exc
        if value is None:
            raise ProviderError(f"callable {self._reference!r} returned None")
        if inspect.isgenerator(value) or inspect.isasyncgen(value):
            # Joining would hide a forgotten `return`; iterating could run forever.
            raise ProviderError(
                f"callable {self._reference!r} returned a generator; return a string"
                " (for instance ''.join(...) of its items)"
            )
        if not isinstance(value, str):
            value = json.dumps(value, ensure_ascii=False, default=str)
        text, full = clip_text(value, self._max_output)
        return Reply(text, truncated_from=full)

    def _resolve(self) -> Callable[..., Any]:
        """Import the function once; later calls reuse it.

        No lock is needed: this runs on the event loop thread without awaiting,
        so concurrent attempts cannot interleave inside it.
        """
        if self._function is not None:
            return self._function
        try:
            function = import_callable(self._reference)
        except CallableImportError as exc:
            module = self._reference.partition(":")[0]
            detail = str(exc).removeprefix(f"cannot import {module!r}: ")
            error = ProviderError(f"cannot import {self._reference!r}: {detail}")
            error.retryable = False  # the same import fails the same way
            raise error from None
        self._is_async = inspect.iscoroutinefunction(function)
        self._wants_context = positional_arity(function) >= 2
        self._function = function
        return function


def open_python_session(entry: ProviderEntry | None) -> ProviderSession:
    """Open a ``python`` session; each agent's client imports its own function."""
    return StatelessSession(PythonClient)


def _call_context(request: Request) -> dict[str, Any]:
    """The context handed to a two-parameter function: copies, so it cannot alter the run."""
    context = request.context
    call = {
        "input": context.get("input"),
        "vars": dict(context.get("vars") or {}),
        "previous": list(context.get("previous") or ()),
        "agent": request.agent,
        "attempt": request.attempt,
    }
    # Coordination: the board's snapshot, and an exchange turn's round and messages.
    for name in _COORDINATION_NAMES:
        if name in context:
            call[name] = _copied(context[name])
    return call


def _copied(value: Any) -> Any:
    """A deep copy in plain types (the board's read-only mappings become dicts)."""
    if isinstance(value, Mapping):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_copied(item) for item in value]
    return copy.deepcopy(value)


_COORDINATION_NAMES = ("state", "round", "rounds", "inbox", "mine", "transcript")


PYTHON = ProviderDescriptor(
    name="python",
    fields=PythonFields,
    open_session=open_python_session,
    required=("callable",),
    infers=("callable",),
    description="a Python function, sync or async, called with the prompt",
)
