"""competitive: the first output that passes wins; every other racer is cancelled at once."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from conftest import Ran
from proc_utils import is_running

LOSER = (
    "import os, subprocess, sys, time\n"
    "child = subprocess.Popen(['sleep', '300'])\n"
    "open(sys.argv[1], 'w').write(f'{os.getpid()} {child.pid}')\n"
    "time.sleep(300)\n"
)


def test_first_valid_output_wins_and_losers_are_cancelled(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        """
        pattern: competitive
        imperatives:
          is_42: {equals: "42"}
        agents:
          wrong_fast: {provider: mock, output: "41", imperatives: [is_42]}
          right: {provider: mock, output: "42", latency: 30ms, imperatives: [is_42]}
          slow: {provider: mock, output: "42", latency: 10s, imperatives: [is_42]}
          stuck: {provider: mock, hang: true}
        """
    )
    assert ran.report["winner"] == "right"
    assert ran.statuses() == {
        "wrong_fast": "violated",
        "right": "passed",
        "slow": "cancelled",
        "stuck": "cancelled",
    }
    assert ran.result.outputs == ("42",)
    for loser in ("slow", "stuck"):
        [attempt] = ran.agent(loser).attempts  # the attempt in flight is recorded, cancelled
        assert (attempt.status.value, attempt.error) == ("cancelled", "cancelled")
    assert ran.result.exit_code == 0
    assert ran.result.duration_s < 5  # the 10 s racer did not hold the run


def test_winner_imperatives_apply_to_every_racer(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        """
        pattern: competitive
        imperatives:
          numeric: {regex: '^\\d+$'}
        winner: {imperatives: [numeric]}
        agents:
          words: {provider: mock, output: "forty-two"}
          digits: {provider: mock, output: "42", latency: 20ms}
        """
    )
    assert ran.report["winner"] == "digits"
    assert ran.agent("words").status.value == "violated"


def test_no_valid_output_fails(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        """
        pattern: competitive
        agents:
          a: {provider: mock, error: down}
          b: {provider: mock, hang: true, timeout: 30ms}
        """
    )
    assert ran.report["status"] == "failed"
    assert ran.report["winner"] is None
    assert ran.result.reason == "no agent produced a valid output"
    assert ran.result.exit_code == 3


def test_losing_process_tree_is_killed(run_paradigm: Callable[..., Ran], tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    ran = run_paradigm(
        f"""
        pattern: competitive
        vars: {{py: "{sys.executable}", pidfile: "{pidfile}", program: {json.dumps(LOSER)}}}
        defaults: {{timeout: 30s}}  # a broken race fails the test instead of hanging it
        agents:
          loser:
            provider: command
            command: ["{{{{ vars.py }}}}", "-c", "{{{{ vars.program }}}}", "{{{{ vars.pidfile }}}}"]
          winner:
            provider: python
            callable: "proc_wait:wait_for_file"
        """
    )
    assert ran.report["winner"] == "winner"
    assert ran.agent("loser").status.value == "cancelled"
    pids = [int(p) for p in pidfile.read_text().split()]
    assert len(pids) == 2
    for pid in pids:
        assert not is_running(pid), f"process {pid} survived the race"
