"""--env-file and a .env beside the paradigm feed ${VAR}; the process environment wins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentrun.cli import main
from agentrun.errors import UsageError
from agentrun.loading.envfile import layered_environment, read_env_file


def test_parse(tmp_path: Path) -> None:
    path = tmp_path / "vars.env"
    path.write_text(
        "# comment\n\nexport A=1\nB = two words # trailing comment\nC='lit #eral $x'\n"
        'D="line\\nnext \\"q\\""\nE=\n'
    )
    assert read_env_file(path) == {
        "A": "1",
        "B": "two words",
        "C": "lit #eral $x",
        "D": 'line\nnext "q"',
        "E": "",
    }


def test_bad_line_names_the_line_not_the_value(tmp_path: Path) -> None:
    path = tmp_path / "vars.env"
    path.write_text("GOOD=1\nsk-secret-value\n")
    with pytest.raises(UsageError) as info:
        read_env_file(path)
    assert str(info.value) == f"{path}:2: expected KEY=VALUE"


def test_precedence(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("X=dotenv\nY=dotenv\nZ=dotenv\n")
    explicit = tmp_path / "explicit.env"
    explicit.write_text("Y=file\nZ=file\n")
    layered = layered_environment({"Z": "process"}, tmp_path / "p.yaml", explicit)
    assert (layered["X"], layered["Y"], layered["Z"]) == ("dotenv", "file", "process")


def test_run_uses_env_file_and_masks_its_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MY_TOKEN", raising=False)
    paradigm = tmp_path / "p.yaml"
    paradigm.write_text(
        "pattern: independent\nagents:\n  a: {provider: mock, output: 'token is ${MY_TOKEN}'}\n"
    )
    (tmp_path / "secrets.env").write_text("MY_TOKEN=tok-0123456789abcdef\n")
    with pytest.raises(SystemExit) as info:
        main(["run", str(paradigm), "--env-file", str(tmp_path / "secrets.env"), "--report", "-"])
    out, err = capsys.readouterr()
    assert info.value.code == 0
    assert json.loads(out)["agents"][0]["output"] == "token is ***"
    assert "tok-0123456789abcdef" not in out + err


def test_missing_env_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paradigm = tmp_path / "p.yaml"
    paradigm.write_text("pattern: independent\nagents:\n  a: {provider: mock}\n")
    with pytest.raises(SystemExit) as info:
        main(["run", str(paradigm), "--env-file", str(tmp_path / "nope.env")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"agentrun: error: cannot read env file {tmp_path / 'nope.env'}")
    assert err.count("\n") == 1
