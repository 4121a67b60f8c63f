"""A run whose event loop is blocked still ends on a second signal: 130, a report, no child."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from proc_utils import is_running

SPINNER = """
import asyncio
import pathlib


async def spin(prompt: str) -> str:
    await asyncio.sleep(0.3)  # let the other agents start first
    pathlib.Path(prompt).write_text("spinning")
    while True:  # never awaits again: the event loop is blocked for good
        pass
"""

SLEEPER = "import os, sys, time\nopen(sys.argv[1], 'w').write(str(os.getpid()))\ntime.sleep(300)\n"


def _wait_for(path: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while not (path.exists() and path.read_text()):
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail(f"{path.name} never appeared: {process.communicate()[0]}")
        time.sleep(0.02)


@pytest.mark.slow
def test_a_second_signal_ends_a_blocked_run_with_its_report(tmp_path: Path) -> None:
    (tmp_path / "spinner.py").write_text(SPINNER)
    marker, pid_file = tmp_path / "spinning", tmp_path / "sleeper.pid"
    report = tmp_path / "report.json"
    paradigm = tmp_path / "blocked.yaml"
    paradigm.write_text(
        textwrap.dedent(f"""
            pattern: independent
            vars: {{py: {json.dumps(sys.executable)}, program: {json.dumps(SLEEPER)},
                    pid: {json.dumps(str(pid_file))}}}
            agents:
              done: {{provider: mock, output: finished}}
              sleeper:
                provider: command
                command: ["{{{{ vars.py }}}}", "-c", "{{{{ vars.program }}}}", "{{{{ vars.pid }}}}"]
              spinner:
                provider: python
                callable: spinner:spin
                prompt: {json.dumps(str(marker))}
        """),
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "agentrun", "run", str(paradigm), "--report", str(report)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _wait_for(pid_file, process)
    _wait_for(marker, process)
    sleeper = int(pid_file.read_text())
    process.send_signal(signal.SIGINT)
    time.sleep(0.5)  # the first signal cannot act: the loop never gets control back
    assert process.poll() is None
    process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 130, output
    assert time.monotonic() - started < 20  # at once, not after the agents' own limits
    assert "stopping now" in output
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["status"] == "interrupted"
    statuses = {agent["name"]: agent["status"] for agent in data["agents"]}
    assert statuses == {"done": "passed", "sleeper": "cancelled", "spinner": "cancelled"}
    deadline = time.monotonic() + 5
    while is_running(sleeper) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not is_running(sleeper), "the command agent's program outlived agentrun"
