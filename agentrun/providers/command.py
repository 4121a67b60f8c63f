"""The ``command`` provider: run a program, never through a shell.

Each rendered argument is one argv entry, so no text in a prompt or an input
can become shell syntax. The program runs in its own session: when an attempt
is cancelled (a timeout, a competitor that won, Ctrl-C) its whole process
group is terminated, then killed, and reaped before the attempt ends.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

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
        try:
            process = await asyncio.create_subprocess_exec(
                *args,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=self._cwd,
                env=self._env,
                start_new_session=True,
            )
        except OSError as exc:
            raise self._start_error(args[0], exc) from None
        process_groups.register(process)  # killed from the watchdog if the loop is stuck
        try:
            # communicate() drains both pipes while feeding stdin: no deadlock on big outputs.
            stdout, stderr = await process.communicate(text.encode("utf-8"))
        except BaseException:
            await _stop_group(process)
            raise
        if process.returncode:
            raise CommandFailed(process.returncode, _stderr_tail(stderr))
        return Reply(_strip_newline(stdout.decode("utf-8", errors="replace")))

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


def open_command_session(entry: ProviderEntry | None) -> ProviderSession:
    """Open a ``command`` session; each agent's client holds its own settings."""
    return StatelessSession(CommandClient)


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
    text = raw[-8 * _TAIL_CHARS :].decode("utf-8", errors="replace")
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    tail = "\n".join(lines[-_TAIL_LINES:])
    return tail[-_TAIL_CHARS:]


COMMAND = ProviderDescriptor(
    name="command",
    fields=CommandFields,
    open_session=open_command_session,
    templates=("command", "stdin"),
    required=("command",),
    infers=("command",),
    description="a program run without a shell; the prompt on its stdin",
)
