"""The composite GitHub Action: its shell steps, taken from action.yml and run here with
the inputs as a runner would set them (bash -eo pipefail, the env the step declares)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),  # the install step pip-installs the project into a fresh venv
    pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed"),
]

PASSING = "pattern: independent\nagents:\n  a: {output: hello}\n"
VIOLATING = (
    "pattern: independent\nimperatives:\n  polite: {contains: please}\n"
    "agents:\n  a: {output: hello, imperatives: [polite]}\n"
)


def action() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text())
    return loaded


def steps_that_run() -> dict[str, dict[str, Any]]:
    return {step["name"]: step for step in action()["runs"]["steps"] if "run" in step}


def expand(text: str, values: dict[str, str]) -> str:
    """Replace ``${{ name }}`` expressions as the runner would."""
    return re.sub(r"\$\{\{\s*([\w.-]+)\s*\}\}", lambda m: values[m.group(1)], text)


def run_step(
    step: dict[str, Any], values: dict[str, str], cwd: Path, path: list[str], files: dict[str, Path]
) -> subprocess.CompletedProcess[str]:
    assert step["shell"] == "bash"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "AGENTRUN"))}
    env.update({name: expand(str(value), values) for name, value in step.get("env", {}).items()})
    env["PATH"] = os.pathsep.join([*path, env.get("PATH", "")])
    env.update({name: str(file) for name, file in files.items()})
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh environment where the install step has put agentrun."""
    where = tmp_path_factory.mktemp("action-venv")
    venv.create(where, with_pip=True)
    bin_dir = where / ("Scripts" if sys.platform == "win32" else "bin")
    step = steps_that_run()["Install agentrun"]
    ran = run_step(step, {"github.action_path": str(ROOT)}, where, [str(bin_dir)], {})
    if ran.returncode != 0 and "No matching distribution" in ran.stderr:
        pytest.skip(f"pip could not install the project's dependencies: {ran.stderr[-500:]}")
    assert ran.returncode == 0, ran.stderr
    assert (bin_dir / "agentrun").exists()
    return bin_dir


def run_paradigm(
    installed: Path, workspace: Path, paradigm: str, args: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, str], str]:
    (workspace / "team.yaml").write_text(paradigm)
    output, summary = workspace / "github_output", workspace / "step_summary"
    output.touch()
    summary.touch()
    values = {"inputs.paradigm": "team.yaml", "inputs.args": args}
    values["inputs.output-dir"] = "agentrun-results"
    ran = run_step(
        steps_that_run()["Run the paradigm"],
        values,
        workspace,
        [str(installed)],
        {"GITHUB_OUTPUT": output, "GITHUB_STEP_SUMMARY": summary},
    )
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return ran, outputs, summary.read_text()


def test_a_passing_paradigm(installed: Path, tmp_path: Path) -> None:
    ran, outputs, summary = run_paradigm(installed, tmp_path, PASSING, "--seed 1  --display plain")
    assert ran.returncode == 0, ran.stderr
    assert outputs["exit-code"] == "0"
    junit = (tmp_path / "agentrun-results" / "junit.xml").read_text()
    assert 'failures="0"' in junit and 'name="a"' in junit
    assert (tmp_path / "agentrun-results" / "report.json").exists()
    assert "team" in summary and "passed" in summary.lower()


def test_a_violated_paradigm_fails_the_step_with_its_reports_written(
    installed: Path, tmp_path: Path
) -> None:
    ran, outputs, summary = run_paradigm(installed, tmp_path, VIOLATING, "")
    assert ran.returncode == 1
    assert outputs["exit-code"] == "1"
    junit = (tmp_path / "agentrun-results" / "junit.xml").read_text()
    assert "<failure" in junit and "polite" in junit
    assert "polite" in summary


def test_the_html_step_is_conditional_on_an_agentrun_that_writes_html(
    installed: Path, tmp_path: Path
) -> None:
    ran, outputs, _ = run_paradigm(installed, tmp_path, PASSING, "")
    assert ran.returncode == 0, ran.stderr
    usage = subprocess.run(
        [str(installed / "agentrun"), "run", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert ("html" in outputs) == ("--html" in usage)
    [html_upload] = [
        s for s in action()["runs"]["steps"] if s.get("name") == "Upload the HTML report"
    ]
    assert "steps.run.outputs.html != ''" in html_upload["if"]


def test_uploads_use_the_inputs_and_survive_a_failed_run() -> None:
    uploads = [s for s in action()["runs"]["steps"] if "upload-artifact" in s.get("uses", "")]
    assert len(uploads) == 2
    for step in uploads:
        assert "!cancelled()" in step["if"]  # a failed run still uploads what explains it
    assert "${{ inputs.output-dir }}/junit.xml" in uploads[0]["with"]["path"]
    # Inputs reach scripts only through env: a quote in an input cannot inject shell.
    for step in steps_that_run().values():
        assert "${{" not in step["run"]
