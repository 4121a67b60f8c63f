"""The command line: exit codes, one-line errors, where output goes."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
import yaml

from agentrun import __version__
from agentrun.cli import main

GOOD = """
pattern: independent
input: ping
agents:
  echo: {provider: mock, output: "pong to {{ input }}"}
"""


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), captured.out, captured.err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["--version"], capsys) == (0, f"agentrun {__version__}\n", "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "x.yaml", "--bogus"], "agentrun: error: No such option: --bogus"),
        (
            ["run", "x.yaml", "--max-concurrency", "0"],
            "agentrun: error: Invalid value for '--max-concurrency'",
        ),
        (["frobnicate"], "agentrun: error: No such command 'frobnicate'."),
    ],
)
def test_bad_flags_give_one_line_and_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(args, capsys)
    assert code == 2
    assert out == ""
    assert err.startswith(message)
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--var", "novalue"], "agentrun: error: --var expects KEY=VALUE, got 'novalue'\n"),
        (
            ["--deadline", "soon"],
            "agentrun: error: --deadline: expected a duration such as 250ms, 30s or 2m, got 'soon'\n",
        ),
        (
            ["--display", "fancy"],
            "agentrun: error: --display must be one of auto, live, plain, quiet, got 'fancy'\n",
        ),
        (
            ["--input", "a", "--input-file", "b"],
            "agentrun: error: use either --input or --input-file, not both\n",
        ),
    ],
)
def test_bad_values_exit_2(
    extra: list[str],
    message: str,
    write_paradigm: Callable[[str], Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_paradigm(GOOD)
    code, _, err = run_cli(["run", str(path), *extra], capsys)
    assert (code, err) == (2, message)


def test_run_passes_and_report_to_stdout_is_pure_json(
    write_paradigm: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_paradigm(GOOD)
    code, out, err = run_cli(["run", str(path), "--report", "-", "--input", "hello"], capsys)
    assert code == 0
    report = json.loads(out)
    assert report["agents"][0]["output"] == "pong to hello"
    assert "echo" in err and "PASSED" in err  # the display went to stderr


def test_input_file(
    write_paradigm: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_paradigm(GOOD)
    source = tmp_path / "input.txt"
    source.write_text("from a file")
    code, out, _ = run_cli(["run", str(path), "--report", "-", "--input-file", str(source)], capsys)
    assert code == 0
    assert json.loads(out)["outputs"] == ["pong to from a file"]


def test_invalid_paradigm_exits_2_with_location(
    write_paradigm: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_paradigm("pattern: independent\nagents:\n  a: {provider: mock, promt: hi}\n")
    code, out, err = run_cli(["run", str(path)], capsys)
    assert code == 2
    assert out == ""
    # The location line first (exactly), then the offending line with a caret under column 23.
    assert err.splitlines() == [
        f"{path}:3:23: unknown key 'promt' in agent 'a' (did you mean 'prompt'?)",
        "    3 |   a: {provider: mock, promt: hi}",
        "      |                       ^",
    ]
    assert "Traceback" not in err


def test_validate_files_and_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "ok" / "good.yaml"
    good.parent.mkdir()
    good.write_text(textwrap.dedent(GOOD))
    bad = tmp_path / "bad.yml"
    bad.write_text("pattern: sideways\nagents: {a: {provider: mock}}\n")
    code, out, err = run_cli(["validate", str(good)], capsys)
    assert code == 0
    assert out.endswith("1 valid, 0 invalid\n")
    code, out, err = run_cli(["validate", str(tmp_path)], capsys)
    assert code == 1
    assert err.startswith(f"{bad}:1:10: ")
    assert out.endswith("1 valid, 1 invalid\n")
    code, out, err = run_cli(["validate", str(tmp_path / "missing.yaml")], capsys)
    assert code == 2
    assert err == f"agentrun: error: no such file or folder: {tmp_path / 'missing.yaml'}\n"


def test_schema_is_valid_and_accepts_a_paradigm(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["schema"], capsys)
    assert code == 0
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    validator.validate(yaml.safe_load(GOOD))
    errors = list(
        validator.iter_errors({"pattern": "independent", "agents": {"a": {"promt": "x"}}})
    )
    assert errors, "the schema must reject unknown keys too"
    assert "Time limit of one attempt" in json.dumps(schema)  # field docstrings are descriptions


def test_graph_shows_worst_case(
    write_paradigm: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_paradigm(
        """
        pattern: pipeline
        deadline: 1m
        agents:
          a: {provider: mock, timeout: 10s, retries: 1, backoff: {initial: 1s, jitter: false}, fallback: [b]}
          b: {provider: mock, timeout: 2s}
          c: {provider: mock, timeout: 5s}
        stages:
          - {name: first, agents: [a]}
          - {name: second, agents: [c]}
        """
    )
    code, out, _ = run_cli(["graph", str(path)], capsys)
    assert code == 0
    assert out.splitlines() == [
        "paradigm: pipeline, deadline 1m; worst case 28s",
        "stage first (require all)",
        "  a [mock] timeout 10s, 1 retry; worst case 23s",
        "    fallback →",
        "      b [mock] timeout 2s; worst case 2s",
        "stage second (require all)",
        "  c [mock] timeout 5s; worst case 5s",
    ]


def test_unwritable_output_fails_before_the_run(
    write_paradigm: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_paradigm(GOOD)
    code, out, err = run_cli(
        ["run", str(path), "--display", "plain", "--junit", str(tmp_path)], capsys
    )
    assert code == 2
    assert out == ""  # nothing ran
    assert err == f"agentrun: error: cannot write {tmp_path}: Is a directory\n"
