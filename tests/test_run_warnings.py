"""`agentrun run` shows the paradigm's warnings (as validate does) and still runs."""

from __future__ import annotations

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
