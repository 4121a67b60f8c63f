"""Which files ``validate`` and ``run`` take from a folder, and what they leave out."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentrun.cli import main
from agentrun.discovery import discover_paradigms

PARADIGM = "pattern: independent\nagents:\n  a: {provider: mock, output: hi}\n"


def make_tree(root: Path) -> None:
    files = {
        "good.yaml": PARADIGM,
        "sub/also.yml": PARADIGM,
        ".github/workflows/ci.yml": "on: push\njobs: {}\n",
        ".hidden/paradigm.yaml": PARADIGM,
        "node_modules/pkg/paradigm.yaml": PARADIGM,
        "env/pyvenv.cfg": "home = /usr/bin\n",
        "env/lib/paradigm.yaml": PARADIGM,
        "venv/paradigm.yaml": PARADIGM,
        "lib/site-packages/paradigm.yaml": PARADIGM,
        "docker-compose.yaml": "services: {web: {image: nginx}}\n",
        "quoted.yaml": '"agents": {a: {provider: mock}}\npattern: independent\n',
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_a_folder_walk_skips_what_is_never_a_paradigm(tmp_path: Path) -> None:
    make_tree(tmp_path)
    found = discover_paradigms([tmp_path])
    assert [p.relative_to(tmp_path).as_posix() for p in found.files] == [
        "good.yaml",
        "quoted.yaml",
        "sub/also.yml",
    ]
    # .github, .hidden, node_modules, env (pyvenv.cfg), venv, site-packages; docker-compose
    assert found.skipped == 7


def test_a_file_named_explicitly_is_always_validated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_tree(tmp_path)
    compose = tmp_path / "docker-compose.yaml"
    with pytest.raises(SystemExit) as done:
        main(["validate", str(compose)])
    assert done.value.code == 1
    captured = capsys.readouterr()
    assert captured.out.endswith("0 valid, 1 invalid\n")


def test_validate_says_how_many_it_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_tree(tmp_path)
    with pytest.raises(SystemExit) as done:
        main(["validate", str(tmp_path)])
    assert done.value.code == 0
    assert capsys.readouterr().out.endswith("3 valid, 0 invalid, 7 skipped\n")


def test_a_folder_with_only_other_yaml_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    with pytest.raises(SystemExit) as done:
        main(["validate", str(tmp_path)])
    assert done.value.code == 2
    assert capsys.readouterr().err == (
        f"agentrun: error: no paradigm (*.yaml or *.yml with agents:) under {tmp_path}\n"
    )
