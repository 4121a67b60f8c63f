"""``agentrun run`` with several paradigms, a folder, or one on standard input."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from agentrun.batch import combined_exit
from agentrun.cli import main

PASSES = (
    "name: passes\npattern: independent\ninput: hi\nagents:\n  a: {provider: mock, output: ok}\n"
)
VIOLATES = (
    "name: violates\npattern: independent\nimperatives: {says_yes: {contains: 'yes'}}\n"
    "agents:\n  b: {provider: mock, output: nope, retries: 0, imperatives: [says_yes]}\n"
)
ERRS = "name: errs\npattern: independent\nagents:\n  c: {provider: mock, error: down, retries: 0}\n"
INVALID = "pattern: independent\nagents:\n  d: {provider: mock, promt: hi}\n"


def write(folder: Path, **files: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in files.items():
        path = folder / f"{name}.yaml"
        path.write_text(text)
        paths.append(path)
    return paths


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(args)
    captured = capsys.readouterr()
    assert isinstance(done.value.code, int)
    return done.value.code, captured.out, captured.err


@pytest.mark.parametrize(
    ("codes", "combined"),
    [
        ([0, 0], 0),
        ([0, 3], 3),
        ([3, 1, 0], 1),
        ([1, 2, 3], 2),
        ([2, 130, 1], 130),
        ([], 0),
    ],
)
def test_the_combined_exit_code_is_the_most_serious(codes: list[int], combined: int) -> None:
    assert combined_exit(codes) == combined


@pytest.mark.parametrize(
    ("names", "code"),
    [
        (["passes"], 0),
        (["passes", "errs"], 3),
        (["errs", "violates", "passes"], 1),
        (["violates", "invalid", "errs"], 2),
    ],
)
def test_several_files_give_one_exit_code(
    names: list[str], code: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    texts = {"passes": PASSES, "violates": VIOLATES, "errs": ERRS, "invalid": INVALID}
    paths = write(tmp_path, **{n: texts[n] for n in names})
    args = ["run", *map(str, paths), str(paths[0]), "--display", "quiet"]
    got, out, err = run_cli(args, capsys)
    assert got == code
    assert out.splitlines()[-1] == f"{len(names) + 1} paradigms run; exit {code}"
    if "invalid" in names:  # reported with its position, and the others still ran
        assert f"{tmp_path / 'invalid.yaml'}:3:23: unknown key 'promt'" in err


def test_a_folder_runs_every_paradigm_with_one_report_each_and_one_junit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "suite", passes=PASSES, violates=VIOLATES)
    write(tmp_path / "suite" / "more", passes=PASSES, invalid=INVALID)
    reports, junit = tmp_path / "reports", tmp_path / "junit.xml"
    outputs = ["--report", str(reports), "--junit", str(junit), "--events", str(tmp_path / "ev")]
    code, out, _ = run_cli(["run", str(tmp_path / "suite"), "--display", "quiet", *outputs], capsys)
    assert code == 2
    assert sorted(p.name for p in reports.iterdir()) == [
        "passes-2.json",
        "passes.json",
        "violates.json",
    ]
    assert json.loads((reports / "violates.json").read_text())["status"] == "failed"
    assert sorted(p.name for p in (tmp_path / "ev").iterdir())[0] == "passes-2.jsonl"
    root = ET.fromstring(junit.read_text())
    suites = [(s.get("name"), s.get("tests"), s.get("errors")) for s in root.iter("testsuite")]
    assert suites == [  # in path order: more/invalid, more/passes, passes, violates
        (str(tmp_path / "suite" / "more" / "invalid.yaml"), "1", "1"),
        ("passes", "1", "0"),
        ("passes", "1", "0"),
        ("violates", "1", "0"),
    ]
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "1", "1")
    assert "== " in out


def test_report_to_stdout_needs_a_single_paradigm(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = write(tmp_path, a=PASSES, b=PASSES)
    code, _, err = run_cli(["run", *map(str, paths), "--report", "-"], capsys)
    assert code == 2
    assert (
        err == "agentrun: error: with several paradigms, --report names a folder (one file each)\n"
    )


def agentrun(*args: str, cwd: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentrun", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_paradigm_on_stdin_resolves_python_from_the_current_folder(tmp_path: Path) -> None:
    (tmp_path / "local_agents.py").write_text("def shout(prompt):\n    return prompt.upper()\n")
    paradigm = (
        "pattern: independent\ninput: hello\n"
        "agents:\n  a: {provider: python, callable: 'local_agents:shout'}\n"
    )
    done = agentrun("run", "-", "--report", "-", "--display", "quiet", cwd=tmp_path, stdin=paradigm)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["outputs"] == ["HELLO"]


def test_an_invalid_paradigm_on_stdin_is_located_as_stdin(tmp_path: Path) -> None:
    done = agentrun("run", "-", cwd=tmp_path, stdin=INVALID)
    assert done.returncode == 2
    assert done.stderr.startswith("<stdin>:3:23: unknown key 'promt'")


def test_input_file_from_stdin_loses_one_trailing_newline(tmp_path: Path) -> None:
    paths = write(tmp_path, echo="pattern: independent\nagents:\n  e: {provider: mock}\n")
    common = ("run", str(paths[0]), "--input-file", "-", "--report", "-", "--display", "quiet")
    done = agentrun(*common, cwd=tmp_path, stdin="hello\n")
    assert json.loads(done.stdout)["outputs"] == ["hello"]
    done = agentrun(*common, cwd=tmp_path, stdin="two lines\n\n")
    assert json.loads(done.stdout)["outputs"] == ["two lines\n"]


def test_stdin_cannot_be_both_paradigm_and_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(["run", "-", "--input-file", "-"], capsys)
    assert code == 2
    assert err == (
        "agentrun: error: standard input cannot hold both the paradigm and --input-file -\n"
    )
