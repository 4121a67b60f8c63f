"""Template mistakes: located at load time, or named as template errors at run time."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from test_cli import run_cli

from agentrun.errors import SpecError
from agentrun.loading.loader import load_paradigm

UNKNOWN_FILTER = """
pattern: independent
input: hi
agents:
  a: {provider: mock, output: "{{ input | nosuch }}"}
"""


@pytest.mark.parametrize(("command", "code"), [("validate", 1), ("run", 2), ("graph", 2)])
def test_an_unknown_filter_is_one_located_line(
    command: str, code: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(UNKNOWN_FILTER, encoding="utf-8")
    status, out, err = run_cli([command, str(path)], capsys)
    assert status == code
    assert f"{path}:5:31: unknown filter 'nosuch'" in err
    assert "Traceback" not in out + err


def test_an_error_inside_a_mock_output_is_a_template_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        textwrap.dedent("""
            pattern: independent
            input: hi
            agents:
              a: {provider: mock, output: "{{ 1 // 0 }}"}
              b: {provider: mock, outputs: ["{{ input }}\\n{{ input + 1 }}"]}
        """),
        encoding="utf-8",
    )
    report = tmp_path / "report.json"
    status, _, _ = run_cli(
        ["run", str(path), "--display", "quiet", "--report", str(report)], capsys
    )
    assert status == 3
    agents = json.loads(report.read_text(encoding="utf-8"))["agents"]
    errors = {agent["name"]: agent["error"] for agent in agents}
    assert errors["a"] == (
        "template error: line 1: ZeroDivisionError: integer division or modulo by zero (in output)"
    )
    assert errors["b"].startswith("template error: line 2: TypeError: ")
    assert errors["b"].endswith(" (in outputs[0])")


def test_a_bare_variable_name_suggests_its_vars_path(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "pattern: independent\nvars: {tone: dry}\nagents:\n  a: {output: '{{ tone }}'}\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError) as info:
        load_paradigm(path)
    assert [p.message for p in info.value.problems] == [
        "template uses undefined name 'tone' (did you mean 'vars.tone'?)"
    ]


def test_a_var_flag_nothing_reads_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "pattern: independent\nvars: {tone: dry}\n"
        "agents:\n  a: {output: '{{ vars.tone }} {{ vars.audience }}'}\n",
        encoding="utf-8",
    )
    loaded = load_paradigm(path, extra_vars=("tnoe", "audience", "tone"))
    assert [str(w).removeprefix(f"{path}:") for w in loaded.warnings] == [
        "2:1: warning: --var tnoe: no variable 'tnoe' is declared under vars: or used by a"
        " template (did you mean 'tone'?)"
    ]
