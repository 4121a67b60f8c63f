"""Shell completion: the scripts, and completion requests answered by a real agentrun process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

AGENTRUN = [sys.executable, "-m", "agentrun"]

pytestmark = pytest.mark.slow  # a real process per request


def agentrun(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("_AGENTRUN")}
    return subprocess.run(
        [*AGENTRUN, *args], cwd=cwd, env={**full, **env}, capture_output=True, text=True, timeout=60
    )


def complete(words: str, cwd: Path) -> list[str]:
    """Ask agentrun for completions the way the bash script does."""
    parts = words.split(" ")
    ran = agentrun(
        cwd=cwd,
        _AGENTRUN_COMPLETE="complete_bash",
        COMP_WORDS=words,
        COMP_CWORD=str(len(parts) - 1),
    )
    assert ran.returncode == 0, ran.stderr
    return ran.stdout.split()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "team.yaml").write_text("pattern: independent\nagents:\n  a: {output: hi}\n")
    (tmp_path / "other.yml").write_text("x: 1\n")
    (tmp_path / "notes.txt").write_text("not a paradigm\n")
    (tmp_path / "paradigms").mkdir()
    (tmp_path / "paradigms" / "deep.yaml").write_text("x: 1\n")
    (tmp_path / ".hidden.yaml").write_text("x: 1\n")
    return tmp_path


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o default -F _agentrun_completion agentrun"),
        ("zsh", "#compdef agentrun"),
        ("fish", "complete --command agentrun"),
    ],
)
def test_show_completion_prints_the_shells_script(shell: str, marker: str) -> None:
    ran = agentrun("--show-completion", shell)
    assert ran.returncode == 0, ran.stderr
    assert marker in ran.stdout
    assert "_AGENTRUN_COMPLETE=complete_" + shell in ran.stdout


def test_show_completion_alone_takes_the_shell_from_SHELL() -> None:
    ran = agentrun("--show-completion", SHELL="/usr/bin/zsh")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("#compdef agentrun")


def test_an_unknown_shell_is_one_line() -> None:
    ran = agentrun("--show-completion", "tcsh")
    assert ran.returncode == 2
    assert ran.stderr.strip().splitlines() == [
        "agentrun: error: Invalid value for '--show-completion': "
        "Value error, 'tcsh' is not one of 'bash', 'zsh', 'fish'."
    ]


def test_install_completion_writes_the_script_where_bash_reads_it(tmp_path: Path) -> None:
    ran = agentrun("--install-completion", "bash", HOME=str(tmp_path))
    assert ran.returncode == 0, ran.stderr
    script = tmp_path / ".bash_completions" / "agentrun.sh"
    assert f"bash completion installed in {script}" in ran.stdout
    assert "_AGENTRUN_COMPLETE=complete_bash" in script.read_text()
    assert str(script) in (tmp_path / ".bashrc").read_text()


def test_commands_complete(project: Path) -> None:
    assert complete("agentrun va", project) == ["validate"]
    assert {"init", "run", "validate", "graph"} <= set(complete("agentrun ", project))


def test_flags_complete(project: Path) -> None:
    assert complete("agentrun run --max-con", project) == ["--max-concurrency"]


@pytest.mark.parametrize("command", ["run", "validate", "graph"])
def test_file_arguments_offer_paradigm_files_and_folders(project: Path, command: str) -> None:
    assert complete(f"agentrun {command} ", project) == ["other.yml", "paradigms/", "team.yaml"]
    assert complete(f"agentrun {command} paradigms/", project) == ["paradigms/deep.yaml"]
    assert complete(f"agentrun {command} .hid", project) == [".hidden.yaml"]
