"""First contact with the command line: help, metavars and "did you mean" for flags."""

from __future__ import annotations

import pytest

from agentrun.cli import main
from agentrun.cli.hints import suggest_flag


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), captured.out, captured.err


def test_bare_agentrun_prints_the_help_on_stdout_without_an_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli([], capsys)
    assert code == 2  # no command was given: a script calling it wrong still fails
    assert out.startswith("Usage: agentrun [OPTIONS] COMMAND")
    assert "agentrun init" in out and "run" in out and "validate" in out
    assert err == ""


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_short_and_long_help_exit_0(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli([flag], capsys)
    assert (code, err) == (0, "")
    assert "Commands:" in out
    code, out, _ = run_cli(["run", flag], capsys)
    assert code == 0
    assert "Usage: agentrun run" in out


def test_commands_are_listed_first_steps_first(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_cli(["--help"], capsys)
    listed = [line.split()[0] for line in out.split("Commands:")[1].splitlines() if line.strip()]
    assert listed[:3] == ["init", "run", "validate"]


def test_help_metavars_read_like_words_not_python_types(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out, _ = run_cli(["run", "--help"], capsys)
    for shown in (
        "--var KEY=VALUE",
        "--input TEXT",
        "--input-file PATH",
        "--report PATH",
        "--junit FILE",
        "--max-concurrency N",
        "--deadline DURATION",
        "--seed N",
        "FILE ",
    ):
        assert shown in out, shown
    assert "<" not in out and "list[" not in out
    _, out, _ = run_cli(["validate", "--help"], capsys)
    assert "PATH " in out and "<" not in out


@pytest.mark.parametrize(
    ("flag", "hint"),
    [
        ("--quiet", "--display quiet"),
        ("-q", "--display quiet"),
        ("--plain", "--display plain"),
        ("--output", "--report PATH"),
        ("--timeout", "--deadline DURATION"),
        ("--concurency", "--max-concurrency"),
        ("--repot", "--report"),
        ("--set", "--var KEY=VALUE"),
    ],
)
def test_unknown_flags_suggest_what_was_meant(
    flag: str, hint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["run", "x.yaml", flag], capsys)
    assert (code, out) == (2, "")
    assert err == f"agentrun: error: No such option: {flag} (did you mean {hint}?)\n"


def test_a_suggestion_names_only_a_flag_the_command_has(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # `graph` has no --display: the table's answer is not offered there
    assert suggest_flag("--quiet", {"--mock", "--format"}) is None
    code, _, err = run_cli(["graph", "x.yaml", "--quiet"], capsys)
    assert code == 2
    assert err == "agentrun: error: No such option: --quiet\n"


def test_a_mistyped_command_gets_one_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["rn"], capsys)
    assert code == 2
    assert err == "agentrun: error: No such command 'rn'. Did you mean 'run'?\n"
