"""The pre-commit hook, through the real ``pre-commit try-repo`` on a scratch git repository.

pre-commit builds the hook's environment itself (a virtualenv with this project
pip-installed into it), so these tests need pre-commit and a reachable package index.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),  # the first use builds the hook's environment
    pytest.mark.skipif(not PRE_COMMIT.exists(), reason="pre-commit is not installed (dev extra)"),
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
]

BROKEN = "pattern: independent\nagents:\n  a: {output: hi, retries: lots}\n"
VALID = "pattern: independent\nagents:\n  a: {output: hi}\n"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pre-commit cache for the module: the hook's environment is built once."""
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Path]:
    """A scratch git repository holding a file that is not a paradigm."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "compose.yaml").write_text("services: {web: {image: nginx}}\n")
    yield tmp_path


def try_hook(repo: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """Stage everything and run the hook on the staged files, as a commit would."""
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "NO_COLOR": "1",
    }
    ran = subprocess.run(
        [str(PRE_COMMIT), "try-repo", str(ROOT), "agentrun-validate", "--color", "never"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=800,
    )
    if "An unexpected error has occurred" in ran.stdout + ran.stderr:
        log = home / "pre-commit.log"
        detail = log.read_text()[-2000:] if log.exists() else ran.stdout + ran.stderr
        if "pip" in detail and ("Could not find" in detail or "No matching" in detail):
            pytest.skip(f"pre-commit could not build the hook's environment offline: {detail}")
        raise AssertionError(detail)
    return ran


def test_a_broken_paradigm_blocks_the_commit_with_its_location(repo: Path, home: Path) -> None:
    (repo / "team.yaml").write_text(BROKEN)
    ran = try_hook(repo, home)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "agentrun validate" in ran.stdout and "Failed" in ran.stdout
    assert "team.yaml:3:28: retries: expected an integer, got 'lots'" in ran.stdout
    assert "compose.yaml" not in ran.stdout  # not a paradigm: left out, not refused


def test_a_valid_paradigm_passes(repo: Path, home: Path) -> None:
    (repo / "team.yaml").write_text(VALID)
    ran = try_hook(repo, home)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "agentrun validate" in ran.stdout and "Passed" in ran.stdout
