"""User code cannot end a run: sys.exit() and KeyboardInterrupt fail their attempt only."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

MODULE = """
import asyncio, sys

def exits(prompt):
    sys.exit(5)

async def async_exits(prompt):
    await asyncio.sleep(0)
    sys.exit(7)

def interrupts(prompt):
    raise KeyboardInterrupt

async def async_interrupts(prompt):
    raise KeyboardInterrupt

def fine(prompt):
    return "ok"

def check_exits(output):
    sys.exit(1)
"""


@pytest.mark.slow
def test_exits_and_interrupts_from_user_code_fail_only_their_agent(tmp_path: Path) -> None:
    (tmp_path / "rude.py").write_text(MODULE)
    paradigm = tmp_path / "rude.yaml"
    paradigm.write_text(
        textwrap.dedent(
            """
            pattern: independent
            require: any
            imperatives:
              leaves: {python: "rude:check_exits"}
            agents:
              a: {callable: "rude:exits"}
              b: {callable: "rude:async_exits"}
              c: {callable: "rude:interrupts"}
              d: {callable: "rude:async_interrupts"}
              e: {callable: "rude:fine"}
              f: {callable: "rude:fine", imperatives: [leaves]}
            """
        )
    )
    report = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "agentrun", "run", str(paradigm), "--report", str(report)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    agents = {a["instance"]: a for a in json.loads(report.read_text())["agents"]}
    assert {name: a["status"] for name, a in agents.items()} == {
        "a": "failed",
        "b": "failed",
        "c": "failed",
        "d": "failed",
        "e": "passed",
        "f": "failed",
    }
    assert "SystemExit: 5" in agents["a"]["error"]
    assert "SystemExit: 7" in agents["b"]["error"]
    assert "KeyboardInterrupt" in agents["c"]["error"]
    assert "KeyboardInterrupt" in agents["d"]["error"]
    assert "SystemExit" in agents["f"]["imperatives"][0]["message"]
