"""The ``command`` provider: run a program, never through a shell.

Each rendered argument is one argv entry, so no text in a prompt or an input
can become shell syntax. The program runs in its own session: when an attempt
is cancelled (a timeout, a competitor that won, Ctrl-C) its whole process
group is terminated, then killed, and reaped before the attempt ends. On Linux
it is also killed if the runner dies (see :mod:`agentrun.providers.launch`).
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from pydantic import Field

from agentrun.errors import CommandFailed, ProviderError, UsageError
from agentrun.loading.model_base import StrictModel
from agentrun.loading.spec import ProviderEntry
from agentrun.providers import process_groups
from agentrun.providers.base import (
    ClientOptions,
    ProviderDescriptor,
    ProviderSession,
    Reply,
    Request,
    StatelessSession,
)
from agentrun.providers.capture import READ_LIMIT_FACTOR, HeadTail, capture_for
from agentrun.providers.launch import LAUNCH_FAILED, spawn
from agentrun.redact import active_redactor
from agentrun.results import Sent
from agentrun.sizes import format_size


class CommandFields(StrictModel):
    """Fields of the ``command`` provider (a program run without a shell)."""

    command: list[str] | None = Field(default=None, min_length=1)
    """Program and arguments, each a template; never passed through a shell."""
    stdin: str | None = None
    """Template written to the program's standard input (default: the rendered prompt)."""
    env: dict[str, str] | None = None
    """Extra environment variables for the program."""
    cwd: str | None = None
    """Working directory (relative paths are relative to the paradigm file)."""


__all__ = ["CommandClient", "open_command_session"]

TERMINATE_GRACE = 0.5
"""Seconds a cancelled program's group has between SIGTERM and SIGKILL."""
_REAP_LIMIT = 2.0
"""Bound on the wait for the killed process: a descendant that left the group may hold its pipes."""
_TAIL_LINES = 5
_TAIL_CHARS = 500
_STDERR_KEPT = 64 * 1024
"""Bytes of stderr kept (its end) for the error message."""
_READ_SIZE = 64 * 1024


class CommandClient:
    """One agent's program: argv templates, stdin template, environment and folder.

    Fields: ``command`` (list of templates, required), ``stdin`` (template;
    default the rendered prompt), ``env`` (extra variables, plain strings) and
    ``cwd`` (relative to the paradigm's folder, which is also the default).

    Raises:
        UsageError: ``command`` is missing or not a list.
        TemplateError: a template has a syntax error.
    """

    def __init__(self, options: ClientOptions) -> None:
        fields = options.fields
        argv = fields.get("command")
        if not argv or isinstance(argv, str):
            raise UsageError(
                f"agent {options.agent!r}: the command provider needs `command`, "
                "a list of the program and its arguments"
            )
        self._argv = tuple(str(arg) for arg in argv)
        stdin = fields.get("stdin")
        self._stdin: str | None = None if stdin is None else str(stdin)
        for source in (*self._argv, self._stdin or ""):
            options.templates.precompile(source, f"agent {options.agent!r}")
        self._render = options.templates.render

        env = fields.get("env")
        # Built once: the parent's environment is settled before clients are built.
        self._env = {**os.environ, **{str(k): str(v) for k, v in env.items()}} if env else None
        cwd = fields.get("cwd")
        self._cwd = Path(options.base_dir, str(cwd)) if cwd else Path(options.base_dir)
        self._max_output = options.max_output

    async def complete(self, request: Request) -> Reply:
        """Run the program once; its stdout, minus one trailing newline, is the output.

        Raises:
            CommandFailed: the program exited with a non-zero status (retryable).
            ProviderError: the program cannot be started (not retryable).
            TemplateError: an argument or the stdin template failed to render.
        """
        context = request.context
        args = [self._render(arg, context) for arg in self._argv]
        text = request.prompt if self._stdin is None else self._render(self._stdin, context)
        if request.on_sent is not None:
            request.on_sent(Sent(command=tuple(args), stdin=text))
        try:
            process = await _started(spawn(args, self._cwd, self._env))
        except OSError as exc:
            raise self._start_error(args[0], exc) from None
        process_groups.register(process)  # killed from the watchdog if the loop is stuck
        stdout = capture_for(self._max_output)
        stderr = HeadTail(0, _STDERR_KEPT)
        limit = READ_LIMIT_FACTOR * self._max_output
        try:
            # Both pipes are drained while stdin is fed: no deadlock on big outputs.
            overflowed = await _exchange(process, text.encode("utf-8"), stdout, stderr, limit)
        except BaseException:
            await _stop_group(process)
            raise
        if overflowed:
            await _stop_group(process)
            await _discard(process)
            error = ProviderError(
                f"command output passed {format_size(limit)} "
                f"({READ_LIMIT_FACTOR} times max_output) and the program was stopped"
            )
            error.retryable = False
            raise error
        if process.returncode:
            tail = _stderr_tail(stderr.tail_bytes())
            if process.returncode == 127 and tail.startswith(LAUNCH_FAILED):
                error = ProviderError(
                    f"cannot run command {args[0]!r}: {tail[len(LAUNCH_FAILED) :]}"
                )
                error.retryable = False  # the same file fails the same way
                raise error
            raise CommandFailed(process.returncode, tail)
        return Reply(
            _strip_newline(stdout.text()), truncated_from=stdout.total if stdout.truncated else None
        )

    def _start_error(self, program: str, exc: OSError) -> ProviderError:
        """A non-retryable error saying why the program could not start."""
        if exc.filename is not None and Path(exc.filename) == self._cwd:
            message = f"working directory not usable: '{self._cwd}': {exc.strerror}"
        elif isinstance(exc, FileNotFoundError):
            message = f"command not found: {program!r}"
        elif isinstance(exc, PermissionError):
            message = f"command not executable: {program!r}"
        else:
            message = f"cannot run command {program!r}: {exc.strerror or exc}"
        error = ProviderError(message)
        error.retryable = False  # the same argv will fail the same way
        return error


async def _exchange(
    process: asyncio.subprocess.Process,
    data: bytes,
    stdout: HeadTail,
    stderr: HeadTail,
    limit: int,
) -> bool:
    """Feed stdin and read both pipes to their end, or stdout only up to ``limit`` bytes;
    whether it went past ``limit`` (the program is left running then)."""
    assert process.stdin and process.stdout and process.stderr
    feeder = asyncio.ensure_future(_feed(process.stdin, data))
    errors = asyncio.ensure_future(_drain(process.stderr, stderr, None))
    try:
        if await _drain(process.stdout, stdout, limit):
            return True
        await errors
        await feeder
        await process.wait()
        return False
    finally:
        feeder.cancel()
        errors.cancel()


async def _discard(process: asyncio.subprocess.Process) -> None:
    """Read what is left in the stopped program's stdout, so its pipe is closed."""
    assert process.stdout is not None
    try:
        async with asyncio.timeout(_REAP_LIMIT):  # a stray descendant may hold it open
            while await process.stdout.read(_READ_SIZE):
                pass
    except TimeoutError:
        pass


async def _feed(pipe: asyncio.StreamWriter, data: bytes) -> None:
    """Write the input and close it; a program that does not read it is no error."""
    try:
        pipe.write(data)
        await pipe.drain()
        pipe.close()
    except (BrokenPipeError, ConnectionResetError):
        pass


async def _drain(pipe: asyncio.StreamReader, into: HeadTail, limit: int | None) -> bool:
    """Read a pipe to its end into ``into``; True once more than ``limit`` bytes came."""
    while chunk := await pipe.read(_READ_SIZE):
        into.add(chunk)
        if limit is not None and into.total > limit:
            return True
    return False


def open_command_session(entry: ProviderEntry | None) -> ProviderSession:
    """Open a ``command`` session; each agent's client holds its own settings."""
    return StatelessSession(CommandClient)


async def _started(
    starting: Coroutine[Any, Any, asyncio.subprocess.Process],
) -> asyncio.subprocess.Process:
    """The started process; a cancellation while it starts still waits for the start and
    stops the program, which may already be running, before it is passed on."""
    start = asyncio.ensure_future(starting)
    try:
        return await asyncio.shield(start)
    except asyncio.CancelledError:
        while not start.done():
            try:
                await asyncio.shield(start)
            except asyncio.CancelledError:
                pass  # a repeated cancellation: the start must still be seen through
            except OSError:
                break  # it never started: nothing to stop
        if not start.cancelled() and start.exception() is None:
            await _stop_group(start.result())
        raise


async def _stop_group(process: asyncio.subprocess.Process) -> None:
    """Terminate and reap the process group; the caller re-raises what interrupted it.

    The cleanup runs in its own task behind a shield so that a second
    cancellation cannot leave the program running: it is still awaited to the
    end, and only then is the cancellation passed on.
    """
    cleanup = asyncio.ensure_future(_terminate_group(process))
    cancelled = False
    while not cleanup.done():
        try:
            await asyncio.shield(cleanup)
        except asyncio.CancelledError:
            cancelled = True
    cleanup.result()
    if cancelled:
        raise asyncio.CancelledError


async def _terminate_group(process: asyncio.subprocess.Process) -> None:
    """SIGTERM the group, give it a grace period, SIGKILL what is left, and reap."""
    _signal_group(process.pid, signal.SIGTERM)
    if process.returncode is None:
        try:
            async with asyncio.timeout(TERMINATE_GRACE):
                await process.wait()
        except TimeoutError:
            pass
    # Even when the leader obeyed, a descendant that ignores SIGTERM must not outlive it.
    _signal_group(process.pid, signal.SIGKILL)
    try:
        async with asyncio.timeout(_REAP_LIMIT):
            await process.wait()
            # Signals are delivered asynchronously: wait until the group's last live
            # member is really gone, so "cancelled" means no process is left running.
            while _group_alive(process.pid):  # noqa: ASYNC110 (no event tells us; poll /proc)
                await asyncio.sleep(0.005)
    except TimeoutError:
        pass  # the leader is dead and reaped; a stray descendant still holds the pipes


def _group_alive(pgid: int) -> bool:
    """Whether any process of the group still runs (zombies awaiting a reaper do not)."""
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    proc = Path("/proc")
    if not proc.is_dir():
        return True  # no way to tell a zombie from a live process here: assume alive
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # exited while we looked
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    """Send ``signum`` to a process group that may already be gone."""
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass  # everyone in the group has exited (and the pid may be reaped already)


def _strip_newline(text: str) -> str:
    """Drop one trailing ``\\n`` or ``\\r\\n``, as a shell's ``$(...)`` would (but only one)."""
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith("\n"):
        return text[:-1]
    return text


def _stderr_tail(raw: bytes) -> str:
    """The last few non-empty lines of stderr, at most ``_TAIL_CHARS`` characters."""
    # Only the end matters; a cut multi-byte character becomes one replacement sign.
    # The window reaches back a whole secret further, so one it cuts is cut again below.
    window = 8 * _TAIL_CHARS + 4 * active_redactor().longest
    text = active_redactor()(raw[-window:].decode("utf-8", errors="replace"))
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    return "\n".join(lines[-_TAIL_LINES:])[-_TAIL_CHARS:]


COMMAND = ProviderDescriptor(
    name="command",
    fields=CommandFields,
    open_session=open_command_session,
    templates=("command", "stdin"),
    required=("command",),
    infers=("command",),
    description="a program run without a shell; the prompt on its stdin",
)
