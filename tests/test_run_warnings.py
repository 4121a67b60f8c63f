"""`agentrun run` shows the paradigm's warnings (as validate does) and still runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_a_misspelt_var_is_a_warning_on_stderr_and_the_run_goes_on(tmp_path: Path) -> None:
    paradigm = tmp_path / "p.yaml"
    paradigm.write_text(
        "pattern: independent\nvars: {tone: calm}\nagents:\n  a: {output: '{{ vars.tone }}'}\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "agentrun", "run", str(paradigm), "--var", "tonee=x",
         "--display", "quiet"],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"{paradigm}:2:1: warning: --var tonee:" in done.stderr
    assert "(did you mean 'tone'?)" in done.stderr
    assert "PASSED" in done.stdout


def test_case_variables_are_not_reported_as_flags(tmp_path: Path) -> None:
    paradigm = tmp_path / "p.yaml"
    paradigm.write_text("pattern: independent\nagents:\n  a: {output: ok}\n")
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"input": "x", "vars": {"spare": 1}}\n')
    done = subprocess.run(
        [sys.executable, "-m", "agentrun", "run", str(paradigm), "--cases", str(cases),
         "--display", "quiet"],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "--var spare" not in done.stderr
    assert "case var 'spare' is used by no template" in done.stderr


def test_rounds_reach_a_paradigm_read_from_stdin() -> None:
    debate = Path(__file__).parent.parent / "paradigms" / "debate_math.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "agentrun", "run", "-", "--mock", "--rounds", "1",
         "--display", "quiet", "--report", "-"],
        input=debate.read_text(),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "EXAMPLE_PACE": "0", "EXAMPLE_LLM_LATENCY": "0"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["rounds"]) == 1
