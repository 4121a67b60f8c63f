"""Command agents die with the runner, even when it is killed with SIGKILL (Linux)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers_providers import make_options, make_request, run_once
from proc_utils import is_running

from agentrun.errors import ProviderError
from agentrun.providers.command import CommandClient

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG")


def children_of(pid: int, name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if comm == name and int(stat[1]) == pid:
            found.append(int(entry.name))
    return found


def test_sigkill_of_the_runner_takes_its_commands_along(tmp_path: Path) -> None:
    path = tmp_path / "sleepers.yaml"
    path.write_text(
        "pattern: independent\nagents:\n"
        + "".join(f"  s{i}: {{command: [sleep, '300'], timeout: 10m}}\n" for i in range(3))
    )
    runner = subprocess.Popen(
        [sys.executable, "-m", "agentrun", "run", str(path), "--display", "plain"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while len(sleepers := children_of(runner.pid, "sleep")) < 3:
            assert time.monotonic() < deadline, "the sleeps never started"
            time.sleep(0.05)
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait(5)
        gone_by = time.monotonic() + 2
        while any(is_running(pid) for pid in sleepers) and time.monotonic() < gone_by:
            time.sleep(0.02)
        assert [pid for pid in sleepers if is_running(pid)] == []
    finally:
        runner.kill()
        runner.wait()


def test_a_file_that_cannot_be_executed_is_not_retryable(tmp_path: Path) -> None:
    script = tmp_path / "garbage"
    script.write_bytes(b"\x00\x01 not a program\n")
    script.chmod(0o755)
    client = CommandClient(make_options({"command": [str(script)]}))
    with pytest.raises(ProviderError) as caught:
        run_once(client, make_request())
    assert str(caught.value) == f"cannot run command {str(script)!r}: Exec format error"
    assert caught.value.retryable is False
