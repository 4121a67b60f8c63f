"""The command provider: real processes, no shell, whole-tree cancellation."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers_providers import make_options, make_request, run_once

from agentrun.errors import CommandFailed, ProviderError, TemplateError, UsageError
from agentrun.providers.capture import DEFAULT_MAX_OUTPUT
from agentrun.providers.command import CommandClient

PY = sys.executable


def program(
    code: str,
    *args: str,
    base_dir: Path | None = None,
    max_output: int = DEFAULT_MAX_OUTPUT,
    **fields: Any,
) -> CommandClient:
    """A client running ``python -c code args...``."""
    options = make_options(
        {"command": [PY, "-c", code, *args], **fields}, base_dir=base_dir, max_output=max_output
    )
    return CommandClient(options)


def start_error(client: CommandClient) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        run_once(client, make_request())
    return caught.value


# --- output and input ------------------------------------------------------


def test_stdout_is_the_output_without_its_trailing_newline() -> None:
    assert run_once(program("print('hello')"), make_request()).text == "hello"


@pytest.mark.parametrize(
    ("written", "output"),
    [(b"a\n\n", "a\n"), (b"crlf\r\n", "crlf"), (b"none", "none"), (b"", ""), (b"\xff!", "\ufffd!")],
)
def test_only_one_trailing_newline_is_removed(written: bytes, output: str) -> None:
    client = program(
        "import sys; sys.stdout.buffer.write(sys.argv[1].encode('latin-1'))",
        written.decode("latin-1"),
    )
    assert run_once(client, make_request()).text == output


def test_the_prompt_is_written_to_stdin() -> None:
    client = program("import sys; print(sys.stdin.read().upper())")
    assert run_once(client, make_request("whisper ü")).text == "WHISPER Ü"


def test_a_stdin_template_replaces_the_prompt() -> None:
    client = program("import sys; print(sys.stdin.read())", stdin="in={{ input }}/{{ vars.v }}")
    request = make_request("topic", context={"vars": {"v": 1}})
    assert run_once(client, request).text == "in=topic/1"


def test_arguments_are_templates_but_never_shell(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    hostile = f"x; touch {marker} && echo $(touch {marker}) `touch {marker}` | cat > {marker}"
    client = program(
        "import json, sys; print(json.dumps(sys.argv[1:]))",
        "{{ input }}",
        "--agent={{ agent }}",
        "$HOME *",
    )
    argv = json.loads(run_once(client, make_request(hostile)).text)
    assert argv == [hostile, "--agent=tester", "$HOME *"]
    assert not marker.exists()


def test_a_large_output_and_input_do_not_deadlock() -> None:
    big = "x" * 5_000_000
    client = program(
        "import sys; data = sys.stdin.read(); sys.stdout.write(data + '\\n')", max_output=8 << 20
    )
    assert run_once(client, make_request(big)).text == big


def test_a_program_that_ignores_stdin_still_works() -> None:
    client = program("print('done')")
    assert run_once(client, make_request("y" * 1_000_000)).text == "done"


# --- failures --------------------------------------------------------------


def test_a_non_zero_exit_is_a_retryable_failure_with_the_stderr_tail() -> None:
    code = (
        "import sys\n"
        "for n in range(10): print(f'line {n}', file=sys.stderr); print(file=sys.stderr)\n"
        "sys.exit(3)"
    )
    with pytest.raises(CommandFailed) as caught:
        run_once(program(code), make_request())
    error = caught.value
    assert error.returncode == 3
    assert error.stderr_tail == "\n".join(f"line {n}" for n in range(5, 10))
    assert error.retryable
    assert str(error).startswith("command exited with status 3: line 5")


def test_the_stderr_tail_is_bounded() -> None:
    code = "import sys; sys.stderr.write('e' * 100_000); sys.exit(1)"
    with pytest.raises(CommandFailed) as caught:
        run_once(program(code), make_request())
    assert caught.value.stderr_tail == "e" * 500


def test_a_missing_program_is_not_retryable() -> None:
    client = CommandClient(make_options({"command": ["agentrun-no-such-program", "x"]}))
    error = start_error(client)
    assert str(error) == "command not found: 'agentrun-no-such-program'"
    assert error.retryable is False


def test_a_file_that_is_not_executable_is_not_retryable(tmp_path: Path) -> None:
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    if os.access(script, os.X_OK):  # running as root may still allow it
        pytest.skip("this user can execute any file")
    error = start_error(CommandClient(make_options({"command": [str(script)]})))
    assert "not executable" in str(error)
    assert error.retryable is False


def test_a_missing_working_directory_is_not_retryable(tmp_path: Path) -> None:
    error = start_error(program("print(1)", base_dir=tmp_path, cwd="absent"))
    assert "working directory" in str(error)
    assert "absent" in str(error)
    assert error.retryable is False


def test_an_undefined_name_in_an_argument_fails_without_retry() -> None:
    with pytest.raises(TemplateError) as caught:
        run_once(program("print(1)", "{{ nowhere }}"), make_request())
    assert caught.value.retryable is False


@pytest.mark.parametrize("command", [None, [], "echo hi"])
def test_command_must_be_a_list(command: Any) -> None:
    with pytest.raises(UsageError, match="needs `command`"):
        CommandClient(make_options({"command": command}))


def test_a_template_syntax_error_shows_when_the_client_is_built() -> None:
    with pytest.raises(TemplateError, match="invalid template"):
        program("print(1)", "{% if %}")


# --- environment and folder ------------------------------------------------


def test_env_is_added_to_the_parent_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTRUN_TEST_PARENT", "inherited")
    code = "import os; print(os.environ['AGENTRUN_TEST_PARENT'], os.environ['AGENTRUN_TEST_EXTRA'])"
    client = program(code, env={"AGENTRUN_TEST_EXTRA": "{{ not rendered }}"})
    assert run_once(client, make_request()).text == "inherited {{ not rendered }}"


def test_cwd_is_relative_to_the_base_dir(tmp_path: Path) -> None:
    (tmp_path / "work").mkdir()
    client = program("import os; print(os.getcwd())", base_dir=tmp_path, cwd="work")
    assert Path(run_once(client, make_request()).text).resolve() == (tmp_path / "work").resolve()


def test_cwd_defaults_to_the_base_dir(tmp_path: Path) -> None:
    client = program("import os; print(os.getcwd())", base_dir=tmp_path)
    assert Path(run_once(client, make_request()).text).resolve() == tmp_path.resolve()


def test_a_relative_program_is_found_from_the_working_directory(tmp_path: Path) -> None:
    script = tmp_path / "tool.sh"
    script.write_text("#!/bin/sh\necho tool ran\n")
    script.chmod(0o755)
    client = CommandClient(make_options({"command": ["./tool.sh"]}, base_dir=tmp_path))
    assert run_once(client, make_request()).text == "tool ran"


# --- cancellation ----------------------------------------------------------

TREE = """
import os, signal, subprocess, sys, time
if sys.argv[2] == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", sys.argv[3], sys.argv[2]])
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(f"{os.getpid()} {child.pid}")
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(1000)
"""
GRANDCHILD = """
import signal, sys, time
if sys.argv[1] == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
time.sleep(1000)
"""


def is_alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie awaiting its reaper is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def wait_dead(pid: int, limit: float = 10.0) -> bool:
    """Poll until ``pid`` is gone; signals are delivered asynchronously."""
    end = time.monotonic() + limit
    while is_alive(pid):
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


def read_pids(path: Path) -> tuple[int, int] | None:
    if not path.exists():
        return None
    leader, child = path.read_text().split()
    return int(leader), int(child)


async def cancel_when_started(client: CommandClient, pid_file: Path) -> None:
    """Run the tree; fire the timeout once both processes exist (or after a hang guard)."""
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(30) as scope:

        def poll() -> None:
            if read_pids(pid_file) is not None:
                scope.reschedule(loop.time())
            else:
                loop.call_later(0.01, poll)

        loop.call_soon(poll)
        await client.complete(make_request())


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["obedient", "stubborn"])
def test_cancellation_kills_the_whole_process_tree(tmp_path: Path, mode: str) -> None:
    pid_file = tmp_path / "pids"
    client = program(TREE, str(pid_file), mode, GRANDCHILD)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        asyncio.run(cancel_when_started(client, pid_file))
    assert time.monotonic() - started < 25  # the timeout fired well before the 30 s guard
    pids = read_pids(pid_file)
    assert pids is not None
    leader, grandchild = pids
    with pytest.raises(ProcessLookupError):
        os.kill(leader, 0)  # reaped before complete() returned
    assert wait_dead(grandchild)


@pytest.mark.slow
def test_a_second_cancellation_still_waits_for_the_process(tmp_path: Path) -> None:
    pid_file = tmp_path / "pids"
    client = program(TREE, str(pid_file), "stubborn", GRANDCHILD)

    async def scenario() -> None:
        task = asyncio.ensure_future(client.complete(make_request()))
        for _ in range(3000):
            if read_pids(pid_file) is not None:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.sleep(0.1)  # now inside the grace period: SIGTERM is ignored
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    pids = read_pids(pid_file)
    assert pids is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)
    assert wait_dead(pids[1])


def test_a_finished_program_leaves_no_process(tmp_path: Path) -> None:
    client = program("import os; print(os.getpid())")
    pid = int(run_once(client, make_request()).text)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_sigterm_is_what_a_cancelled_program_sees_first(tmp_path: Path) -> None:
    flag = tmp_path / "got-sigterm"
    code = (
        "import pathlib, signal, sys, time\n"
        "def on_term(*_): pathlib.Path(sys.argv[1]).write_text('yes'); sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, on_term)\n"
        "pathlib.Path(sys.argv[1] + '.ready').write_text('')\n"
        "time.sleep(1000)\n"
    )
    client = program(code, str(flag))

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(30) as scope:

            def poll() -> None:
                if Path(str(flag) + ".ready").exists():
                    scope.reschedule(loop.time())
                else:
                    loop.call_later(0.01, poll)

            loop.call_soon(poll)
            await client.complete(make_request())

    with pytest.raises(TimeoutError):
        asyncio.run(scenario())
    assert flag.read_text() == "yes"  # it exited through its handler, not a kill
