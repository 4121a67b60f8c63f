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

from pydantic import BaseModel, Field, field_validator

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
    AgentClient,
    ClientOptions,
    ProviderDescriptor,
    ProviderSession,
    Reply,
    Request,
)
from agentrun.providers.capture import clip_text
from agentrun.providers.pool import BuildFailed, InstancePool, PoolSettings


class PoolFields(StrictModel):
    """The ``pool:`` of a python provider whose callable is a class."""

    size: int = Field(default=1, ge=1)
    """At most this many instances, built on first demand."""
    warm: bool = False
    """Build all ``size`` instances at the first call instead of one at a time."""
    max_uses: int | None = Field(default=None, ge=1)
    """Close and replace an instance after this many calls (default: never)."""


class PythonFields(StrictModel):
    """Fields of the ``python`` provider."""

    callable: str | None = None
    """``package.module:function`` (sync or async, called with the rendered prompt),
    or ``package.module:Class``, whose pooled instances are called like functions."""
    init: dict[str, Any] | None = None
    """Keyword arguments of the class's constructor (a class callable only)."""
    pool: PoolFields | None = None
    """How many instances of the class, and how long each lives (a class callable only)."""

    _callable_format = field_validator("callable")(check_callable)


__all__ = ["PythonClient", "PythonSession", "open_python_session"]


class PythonClient:
    """One agent's Python function (or pooled class), imported on first use.

    The function receives the rendered prompt and, when it accepts a second
    positional parameter, a fresh context dict with ``input``, ``vars``,
    ``previous``, ``agent``, ``attempt`` and ``settings``. A string return
    value is the output; any other value except ``None`` becomes its JSON text.
    When the callable is a class, each call borrows an instance from the
    session's pool for it and calls that instance the same way.

    Raises:
        UsageError: the ``callable`` field is missing.
    """

    def __init__(self, options: ClientOptions, pools: PythonSession | None = None) -> None:
        reference = options.fields.get("callable")
        if not reference:
            raise UsageError(
                f"agent {options.agent!r}: the python provider needs "
                "`callable: package.module:function`"
            )
        self._reference = str(reference)
        self._options = options
        self._pools = pools if pools is not None else PythonSession()
        # Imported on the first call, not here: the runner puts the paradigm's
        # folder on sys.path only when it runs, and import errors must become
        # the agent's failure rather than abort building the run.
        self._function: Callable[..., Any] | None = None
        self._pool: InstancePool | None = None
        self._max_output = options.max_output

    async def complete(self, request: Request) -> Reply:
        """Call the function (or a borrowed instance) once.

        Raises:
            ProviderError: the callable cannot be imported (not retryable) or returned None.
            CallableFailed: the function or the class's constructor raised (retryable).
        """
        function = self._resolve()
        context = _call_context(request, self._options)
        if self._pool is None:
            value = await _invoke(function, request.prompt, context)
        else:
            try:
                async with self._pool.borrow() as instance:
                    value = await _invoke(instance.value, request.prompt, context)
            except BuildFailed as exc:
                cause = exc.__cause__
                raise CallableFailed(
                    f"could not build {self._reference}: {type(cause).__name__}: {cause}"
                ) from cause
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
        fields = self._options.fields
        if inspect.isclass(function):
            self._pool = self._pools.pool_for(
                self._options.provider, self._reference, function, fields
            )
        elif fields.get("init") is not None or fields.get("pool") is not None:
            raise ProviderError(
                f"`init` and `pool` need a class, but {self._reference!r} is a function",
                retryable=False,
            )
        self._function = function
        return function


async def _invoke(function: Callable[..., Any], prompt: str, context: dict[str, Any]) -> Any:
    """Call user code with the prompt (and the context if it takes two arguments).

    Raises:
        CallableFailed: the code raised.
    """
    args: tuple[Any, ...] = (prompt,)
    if positional_arity(function) >= 2:
        args = (prompt, context)
    try:
        call = function if inspect.isfunction(function) else type(function).__call__
        if inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(call):
            return await function(*args)
        value = await call_in_daemon_thread(function, *args)
        if inspect.isawaitable(value):  # e.g. a function that returns a coroutine
            value = await value
        return value
    except AgentError:
        raise  # the function chose an agentrun error (say, a non-retryable one): keep it
    except (Exception, SystemExit, KeyboardInterrupt) as exc:
        # User code cannot end the run: sys.exit() or a KeyboardInterrupt it raises
        # itself fails its attempt like any other exception.
        raise CallableFailed(f"{type(exc).__name__}: {exc}") from exc


class PythonSession:
    """The python provider's state for one run: the pools of class callables."""

    def __init__(self) -> None:
        self._pools: dict[tuple[str, str, str], InstancePool] = {}

    def client(self, options: ClientOptions) -> AgentClient:
        """The agent's client; class callables share this session's pools."""
        return PythonClient(options, self)

    @property
    def pools(self) -> Mapping[str, InstancePool]:
        """Every pool built so far, by name."""
        return {pool.name: pool for pool in self._pools.values()}

    def pool_for(
        self, provider: str, reference: str, cls: type, fields: Mapping[str, Any]
    ) -> InstancePool:
        """The pool of ``cls`` built with ``init``: agents with the same settings share it."""
        init = dict(_plain(fields.get("init")) or {})
        settings = PoolSettings(**(_plain(fields.get("pool")) or {}))
        key = (reference, json.dumps(init, sort_keys=True, default=str), repr(settings))
        pool = self._pools.get(key)
        if pool is None:
            names = {existing.name for existing in self._pools.values()}
            name = provider if provider not in names else f"{provider}.{len(self._pools) + 1}"

            def build() -> Any:
                return cls(**init)

            pool = self._pools[key] = InstancePool(name, build, settings)
        return pool

    async def aclose(self) -> None:
        """Close every instance of every pool, each close bounded."""
        for pool in self._pools.values():
            await pool.aclose()


def _plain(value: Any) -> Any:
    """A validated sub-model as a plain dict (fields may arrive either way)."""
    if isinstance(value, BaseModel):
        return value.model_dump()
    return value


def open_python_session(entry: ProviderEntry | None) -> ProviderSession:
    """Open a ``python`` session: functions are imported per agent, classes pooled per run."""
    return PythonSession()


def _call_context(request: Request, options: ClientOptions) -> dict[str, Any]:
    """The context handed to a two-parameter function: copies, so it cannot alter the run."""
    context = request.context
    call = {
        "input": context.get("input"),
        "vars": dict(context.get("vars") or {}),
        "previous": list(context.get("previous") or ()),
        "agent": request.agent,
        "attempt": request.attempt,
    }
    settings = {
        "model": options.model,
        "temperature": options.temperature,
        "max_tokens": options.max_tokens,
    }
    if any(value is not None for value in settings.values()):
        call["settings"] = settings  # so that a local model can honour the agent's settings
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
    description="a Python function, sync or async, or a pooled class, called with the prompt",
)
