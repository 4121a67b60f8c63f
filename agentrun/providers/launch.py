"""Start a command agent's program so that it dies with the runner.

On Linux the program is started through a tiny launcher: a Python process that
asks the kernel to SIGKILL it when its parent dies (``PR_SET_PDEATHSIG``), then
replaces itself with the program (same pid, same session, the setting kept
across ``exec``). So even a runner killed with SIGKILL, which runs no cleanup,
leaves no program behind. The launcher costs about 13 ms per start; the
alternative, ``preexec_fn``, runs Python code between fork and exec, which is
unsafe in a process with threads (python agents run in threads).

The program is looked up on ``PATH`` here, before the launcher starts, so a
missing or non-executable program is the same clear, non-retryable error as
without the launcher. Elsewhere than Linux the program is started directly.

Limit: only the program itself gets the signal. A descendant that left its
process group (``setsid``) outlives a runner killed with SIGKILL.
"""

from __future__ import annotations

import asyncio
import errno
import os
import sys
from collections.abc import Mapping
from pathlib import Path

LAUNCH_FAILED = "agentrun: cannot run command: "
"""How the launcher's stderr begins when the final ``exec`` fails (exit status 127)."""

_LAUNCHER = f"""\
import ctypes, os, sys
ctypes.CDLL(None).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
if os.getppid() != int(sys.argv[1]):
    os._exit(137)  # the runner died before the request took effect
try:
    os.execve(sys.argv[2], sys.argv[3:], os.environ)
except OSError as exc:
    sys.stderr.write({LAUNCH_FAILED!r} + (exc.strerror or str(exc)) + "\\n")
    os._exit(127)
"""

_USE_LAUNCHER = sys.platform.startswith("linux")


async def spawn(
    args: list[str], cwd: Path, env: Mapping[str, str] | None
) -> asyncio.subprocess.Process:
    """Start ``args`` in ``cwd`` in a session of its own, with three pipes.

    Raises:
        OSError: the program is missing or not executable, or ``cwd`` is not usable.
    """
    argv = args
    if _USE_LAUNCHER:
        program = resolve(args[0], cwd, env)
        argv = [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(os.getpid()), program, *args]
    return await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=cwd,
        env=env,
        start_new_session=True,
    )


def resolve(program: str, cwd: Path, env: Mapping[str, str] | None) -> str:
    """The file ``exec`` would run for ``program``: a path (from ``cwd``) or a
    ``PATH`` search, as :mod:`subprocess` does it.

    Raises:
        FileNotFoundError: no such program.
        PermissionError: found, but not executable by this user.
    """
    if os.sep in program:
        candidates = [Path(cwd, program)]
    else:
        candidates = [Path(cwd, folder, program) for folder in os.get_exec_path(env)]
    denied = False
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
        denied = denied or candidate.exists()
    if denied:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), program)
    if not cwd.is_dir():  # what exec in a missing folder would have said first
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(cwd))
    raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), program)
