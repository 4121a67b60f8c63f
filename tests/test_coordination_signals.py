"""Ctrl-C on a real `agentrun run` while agents wait on the board or an exchange talks:
exit 130, a partial report with what finished so far, no process left."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from proc_utils import is_running

# Round 1 answers at once; later rounds start a child and hang (both pids recorded).
TALKER = (
    "import os, subprocess, sys, time\n"
    "if sys.argv[2] == '1':\n"
    "    print('answer 7'); sys.exit(0)\n"
    "child = subprocess.Popen(['sleep', '300'])\n"
    "open(sys.argv[1], 'a').write(f'{os.getpid()} {child.pid}\\n')\n"
    "time.sleep(300)\n"
)


def _interrupt(tmp_path: Path, body: str, sleepers: int) -> tuple[dict[str, Any], Path]:
    """Run ``body`` until ``sleepers`` processes recorded their pids, then Ctrl-C it."""
    pids = tmp_path / "pids"
    report = tmp_path / "report.json"
    paradigm = tmp_path / "paradigm.yaml"
    head = f"""
        vars: {{py: {json.dumps(sys.executable)}, pids: {json.dumps(str(pids))},
                program: {json.dumps(TALKER)}}}
    """
    paradigm.write_text(textwrap.dedent(head) + textwrap.dedent(body))
    process = subprocess.Popen(
        [sys.executable, "-m", "agentrun", "run", str(paradigm), "--report", str(report)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not (pids.exists() and len(pids.read_text().splitlines()) == sleepers):
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail(f"the sleepers never started: {process.communicate()[0]}")
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 130, output
    assert "Traceback" not in output
    for line in pids.read_text().splitlines():
        for pid in map(int, line.split()):
            assert not is_running(pid), f"process {pid} survived the interrupt"
    return json.loads(report.read_text()), pids


COMMAND = '["{{ vars.py }}", "-c", "{{ vars.program }}", "{{ vars.pids }}", "{{ round }}"]'


@pytest.mark.slow
def test_ctrl_c_mid_round_keeps_the_finished_rounds(tmp_path: Path) -> None:
    data, _ = _interrupt(
        tmp_path,
        f"""
        pattern: exchange
        rounds: 3
        defaults: {{provider: command, timeout: 5m}}
        state:
          said: {{reducer: append}}
        agents:
          a: {{command: {COMMAND}, writes: said}}
          b: {{command: {COMMAND}, writes: said}}
        """,
        sleepers=2,
    )
    assert data["status"] == "interrupted"
    assert data["exit_code"] == 130
    assert [r["round"] for r in data["rounds"]] == [1]
    assert data["rounds"][0]["answers"] == {"a": "answer 7", "b": "answer 7"}
    assert data["state"] == {"said": ["answer 7", "answer 7"]}
    statuses = {a["instance"]: a["status"] for a in data["agents"]}
    # The last turn was cut short; the first turn's attempt still counts.
    assert statuses == {"a": "cancelled", "b": "cancelled"}
    assert [a["attempts"] for a in data["agents"]] == [2, 2]


@pytest.mark.slow
def test_ctrl_c_while_an_agent_waits_keeps_the_state(tmp_path: Path) -> None:
    data, _ = _interrupt(
        tmp_path,
        f"""
        pattern: independent
        defaults: {{timeout: 5m}}
        state:
          findings: {{reducer: append}}
        agents:
          quick: {{provider: mock, output: first, writes: findings}}
          slow: {{provider: command, command: {COMMAND.replace("{{ round }}", "2")}, writes: findings}}
          critic:
            provider: mock
            output: judged
            wait_for: "state.findings | length >= 2"
        """,
        sleepers=1,
    )
    assert data["status"] == "interrupted"
    assert data["state"] == {"findings": ["first"]}
    assert [e["by"] for e in data["state_log"]] == ["quick"]
    statuses = {a["instance"]: a["status"] for a in data["agents"]}
    assert statuses == {"quick": "passed", "slow": "cancelled", "critic": "cancelled"}
