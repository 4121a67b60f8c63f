"""Ctrl-C and SIGTERM on a real `agentrun run`: exit 130, a partial report, no process left."""

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

SLEEPER = (
    "import os, subprocess, sys, time\n"
    "child = subprocess.Popen(['sleep', '300'])\n"
    "open(sys.argv[1], 'a').write(f'{os.getpid()} {child.pid}\\n')\n"
    "time.sleep(300)\n"
)


def _start(tmp_path: Path) -> tuple[subprocess.Popen[str], Path, Path]:
    pids = tmp_path / "pids"
    report = tmp_path / "report.json"
    paradigm = tmp_path / "sleepers.yaml"
    paradigm.write_text(
        textwrap.dedent(
            f"""
            pattern: pipeline
            vars: {{py: {json.dumps(sys.executable)}, pids: {json.dumps(str(pids))},
                    program: {json.dumps(SLEEPER)}}}
            defaults: {{provider: command, timeout: 5m}}
            agents:
              one: {{command: ["{{{{ vars.py }}}}", "-c", "{{{{ vars.program }}}}", "{{{{ vars.pids }}}}"]}}
              two: {{command: ["{{{{ vars.py }}}}", "-c", "{{{{ vars.program }}}}", "{{{{ vars.pids }}}}"]}}
              quick: {{provider: mock, output: done}}
              later: {{provider: mock, output: never}}
            stages:
              - {{name: work, agents: [one, two, quick]}}
              - {{name: after, agents: [later]}}
            """
        )
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "agentrun", "run", str(paradigm), "--report", str(report)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if pids.exists() and len(pids.read_text().splitlines()) == 2:
            break
        time.sleep(0.02)
    else:
        process.kill()
        pytest.fail(f"the agents never started: {process.communicate()[0]}")
    return process, pids, report


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_writes_partial_report_and_kills_processes(tmp_path: Path, signum: int) -> None:
    process, pids, report = _start(tmp_path)
    process.send_signal(signum)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 130, output
    assert "Traceback" not in output
    data = json.loads(report.read_text())
    assert data["status"] == "interrupted"
    assert data["exit_code"] == 130
    statuses = {a["instance"]: a["status"] for a in data["agents"]}
    assert statuses == {
        "one": "cancelled",
        "two": "cancelled",
        "quick": "passed",
        "later": "skipped",
    }
    for line in pids.read_text().splitlines():
        for pid in map(int, line.split()):
            assert not is_running(pid), f"process {pid} survived the interrupt"
