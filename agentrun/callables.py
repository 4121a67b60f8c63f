"""User Python code: import ``package.module:function`` and call it without blocking the loop."""

from __future__ import annotations

import asyncio
import contextvars
import importlib
import inspect
import os
import sysconfig
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class CallableImportError(Exception):
    """Raised when ``package.module:function`` cannot be imported or is not callable."""


def import_callable(reference: str) -> Callable[..., Any]:
    """Import the function named by ``package.module:function``.

    Raises:
        CallableImportError: the module or attribute is missing, or is not callable.
    """
    module_name, _, attribute = reference.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # any import-time failure of user code is reported, not raised
        raise CallableImportError(f"cannot import {module_name!r}: {exc}") from None
    function = getattr(module, attribute, None)
    if function is None:
        raise CallableImportError(f"module {module_name!r} has no attribute {attribute!r}")
    if not callable(function):
        raise CallableImportError(f"{reference!r} is not callable")
    return function  # type: ignore[no-any-return]


def positional_arity(function: Callable[..., Any]) -> int:
    """How many positional arguments ``function`` accepts (a large number for ``*args``)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return 1
    count = 0
    for parameter in parameters:
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            return 1_000
        if parameter.kind in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ):
            count += 1
    return count


async def call_in_daemon_thread(function: Callable[..., T], *args: Any) -> T:
    """Run a blocking ``function(*args)`` in a daemon thread and await its result.

    Unlike ``asyncio.to_thread``, the thread is a daemon: when a timeout or a
    cancellation stops the wait, a function that never returns cannot keep the
    process alive at exit. Python cannot kill a thread, so such a function is
    abandoned, not stopped; the await itself always ends when cancelled.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    # The caller's context goes along: what the function prints reaches its attempt's log.
    context = contextvars.copy_context()

    def deliver(ok: bool, value: Any) -> None:
        if future.done():
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def target() -> None:
        try:
            value = context.run(function, *args)
        except BaseException as exc:  # handed to the awaiting task, which re-raises it
            result: tuple[bool, Any] = (False, exc)
        else:
            result = (True, value)
        try:
            loop.call_soon_threadsafe(deliver, *result)
        except RuntimeError:
            pass  # the loop closed while the function ran: nobody is waiting any more

    threading.Thread(
        target=target, name=f"agentrun:{getattr(function, '__name__', '?')}", daemon=True
    ).start()
    return await future


def _folder(path: str) -> str:
    return os.path.join(path, "")  # a trailing separator: agentrun_x/ is not in agentrun/


_AGENTRUN = _folder(str(Path(__file__).resolve().parent))
_STDLIB = _folder(sysconfig.get_paths()["stdlib"])


def _is_ours(path: str) -> bool:
    """agentrun's own code, or the standard library's (asyncio, threading, ...)."""
    if path.startswith(_AGENTRUN):
        return True
    # site-packages may lie inside the standard library's folder: libraries stay.
    if not path.startswith(_STDLIB):
        return False
    return not {"site-packages", "dist-packages"} & set(Path(path).parts)


def user_frames(exc: BaseException) -> tuple[str, ...]:
    """Where user code raised ``exc``: ``file:line in function`` for each frame of its
    traceback outside agentrun and the standard library (the frames that call user
    code in), outermost first."""
    frames = []
    for frame in traceback.extract_tb(exc.__traceback__):
        path = os.path.abspath(frame.filename)
        if _is_ours(path) or frame.filename.startswith("<frozen"):
            continue
        frames.append(f"{_short(frame.filename)}:{frame.lineno} in {frame.name}")
    return tuple(frames)


def _short(filename: str) -> str:
    """A path relative to the working folder when it lies below it."""
    try:
        relative = os.path.relpath(filename)
    except ValueError:  # another drive on Windows
        return filename
    return filename if relative.startswith("..") else relative


def located(frames: tuple[str, ...], message: str) -> str:
    """``file:line: message`` at the innermost user frame, or ``message`` alone."""
    if not frames:
        return message
    return f"{frames[-1].rsplit(' in ', 1)[0]}: {message}"
