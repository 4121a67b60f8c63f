"""``agentrun init``: each starter validates and runs offline at once, as a new user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agentrun.scaffold import STARTER_PATTERNS


def agentrun(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env_free = {"PATH": "/usr/bin:/bin", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "agentrun", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env=env_free,
    )


@pytest.mark.parametrize("pattern", STARTER_PATTERNS)
def test_a_starter_validates_and_runs_with_mock(pattern: str, tmp_path: Path) -> None:
    made = agentrun("init", pattern, "--output", "my-first.yaml", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "my-first.yaml").read_text().startswith("# A starter paradigm")
    assert (tmp_path / "my_first_agents.py").exists()
    checked = agentrun("validate", "my-first.yaml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.endswith("1 valid, 0 invalid\n")
    ran = agentrun("run", "my-first.yaml", "--mock", "--display", "plain", cwd=tmp_path)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "PASSED" in ran.stdout
    # without --mock, the missing key is named: the starter is ready for a real model
    live = agentrun("run", "my-first.yaml", cwd=tmp_path)
    assert live.returncode == 2
    assert "OPENAI_API_KEY" in live.stderr


def test_init_defaults_to_independent_in_paradigm_yaml(tmp_path: Path) -> None:
    made = agentrun("init", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "pattern: independent" in (tmp_path / "paradigm.yaml").read_text()
    assert "next: agentrun run paradigm.yaml --mock" in made.stdout


@pytest.mark.parametrize("existing", ["paradigm.yaml", "paradigm_agents.py"])
def test_init_refuses_to_overwrite(existing: str, tmp_path: Path) -> None:
    (tmp_path / existing).write_text("mine\n")
    made = agentrun("init", cwd=tmp_path)
    assert made.returncode == 2
    assert made.stderr == (
        f"agentrun: error: {existing} exists already; choose another name with --output FILE\n"
    )
    assert (tmp_path / existing).read_text() == "mine\n"


def test_init_rejects_an_unknown_pattern(tmp_path: Path) -> None:
    made = agentrun("init", "sideways", cwd=tmp_path)
    assert made.returncode == 2
    assert made.stderr == (
        "agentrun: error: unknown pattern 'sideways'; choose one of independent, pipeline,"
        " competitive\n"
    )
    assert list(tmp_path.iterdir()) == []
