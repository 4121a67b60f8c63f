"""Entry-point plugins, end to end: a real package installed by pip, the real CLI.

The example plugin under tests/plugins declares a ``parrot`` provider type (a
network type, so ``--mock`` must replace it) and a ``max_words`` check type.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PLUGINS = Path(__file__).parent / "plugins"

pytestmark = pytest.mark.slow

PARADIGM = """\
pattern: independent
input: hello there
vars: {sound: Squawk}
imperatives:
  short: {max_words: 5}
agents:
  bird:
    provider: parrot
    squawk: "{{ vars.sound }}!"
    parrot_key: ${PARROT_KEY}
    mock: {output: an offline answer}
    imperatives: [short]
"""


def _install(name: str, into: Path, work: Path) -> Path:
    """pip-install the plugin ``name`` (from a copy: builds leave files behind) into ``into``."""
    source = work / name
    shutil.copytree(PLUGINS / name, source)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(into),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return into


@pytest.fixture(scope="session")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("plugin-build")
    return _install("agentrun_example_plugin", work / "site", work)


@pytest.fixture(scope="session")
def broken_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("broken-build")
    return _install("agentrun_broken_plugin", work / "site", work)


def agentrun(
    site: Path, *args: str, cwd: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """The real command line, with the plugin's install folder on the path."""
    environment = {**os.environ, "PYTHONPATH": str(site), **env}
    return subprocess.run(
        [sys.executable, "-m", "agentrun", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=60,
    )


def test_plugins_lists_the_plugin_with_its_distribution(plugin_path: Path) -> None:
    done = agentrun(plugin_path, "plugins")
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()]
    assert ["provider", "parrot", "agentrun-example-plugin", "0.3.1"] in rows
    assert ["check", "max_words", "agentrun-example-plugin", "0.3.1"] in rows
    assert ["provider", "openai", "agentrun"] == rows[[r[1] for r in rows].index("openai")][:3]


def test_a_paradigm_uses_the_plugin_types(plugin_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "birds.yaml"
    path.write_text(PARADIGM)
    done = agentrun(plugin_path, "validate", str(path), PARROT_KEY="pk-secret-1")
    assert done.returncode == 0, done.stderr
    assert f"{path}: ok" in done.stdout

    report = tmp_path / "real.json"
    args = ["run", str(path), "--display", "plain", "--report", str(report)]
    done = agentrun(plugin_path, *args, PARROT_KEY="pk-secret-1")
    assert done.returncode == 0, done.stderr
    assert json.loads(report.read_text())["outputs"] == ["Squawk! hello there"]
    assert "pk-secret-1" not in done.stdout + done.stderr + report.read_text()

    # parrot is a network type: --mock swaps it for its stand-in, and needs no key.
    offline = tmp_path / "mock.json"
    args = ["run", str(path), "--mock", "--display", "plain", "--report", str(offline)]
    done = agentrun(plugin_path, *args)
    assert done.returncode == 0, done.stderr
    assert json.loads(offline.read_text())["outputs"] == ["an offline answer"]


def test_plugin_keys_are_validated_like_built_in_ones(plugin_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(PARADIGM.replace("max_words: 5", "max_words: 0").replace("squawk:", "squak:"))
    done = agentrun(plugin_path, "validate", str(path), PARROT_KEY="pk-secret-2")
    assert done.returncode == 1
    assert f"{path}:5:22: max_words: expected a value >= 1, got 0" in done.stderr
    assert f"{path}:9:5: unknown key 'squak' in agent 'bird' (did you mean 'squawk'?)" in (
        done.stderr
    )


def test_the_schema_holds_the_plugin_fields(plugin_path: Path) -> None:
    done = agentrun(plugin_path, "schema")
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    defs = schema["$defs"]
    assert "squawk" in defs["AgentSpec"]["properties"]
    assert "parrot" in defs["ProviderEntry"]["properties"]["type"]["enum"]
    assert defs["ImperativeSpec"]["properties"]["max_words"]["minimum"] == 1


def test_a_broken_plugin_is_one_line_naming_its_distribution(broken_path: Path) -> None:
    done = agentrun(broken_path, "plugins")
    assert done.returncode == 2
    assert done.stderr == (
        "agentrun: error: plugin agentrun-broken-plugin 0.0.1 (entry point "
        "agentrun.providers:broken): cannot load agentrun_broken_plugin:BROKEN: "
        "ModuleNotFoundError: No module named 'agentrun_no_such_dependency'\n"
    )
    assert done.stdout == ""
