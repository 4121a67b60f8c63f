"""Hostile or unusual YAML: a located message and exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli import run_cli

from agentrun.errors import SpecError
from agentrun.loading.loader import load_paradigm, load_text
from agentrun.loading.positions import MAX_DEPTH, MAX_FILE_BYTES, parse_yaml

HEAD = "pattern: independent\ninput: hi\nagents:\n"


def cli_error(text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    code, out, err = run_cli(["run", str(path), "--display", "quiet"], capsys)
    assert code == 2
    assert "Traceback" not in out + err
    first = err.splitlines()[0]
    return first.removeprefix(f"{path}:")


@pytest.mark.parametrize(("char", "name"), [("\0", "0000"), ("\x01", "0001"), ("\ufffe", "FFFE")])
def test_characters_yaml_forbids(
    char: str, name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = HEAD + f"  a: {{provider: mock, output: 'x{char}'}}\n"
    assert cli_error(text, tmp_path, capsys) == (
        f"4:33: character U+{name} is not allowed in YAML; remove it, or write it as an"
        ' escape such as "\\x01" in a double-quoted string'
    )


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 500, 5000])
def test_deep_nesting_is_refused(
    depth: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    block = "".join("  " * i + "k:\n" for i in range(depth)) + "  " * depth + "v\n"
    message = cli_error(
        "vars:\n" + "".join("  " + line for line in block.splitlines(True)), tmp_path, capsys
    )
    assert message.endswith(f"nested more than {MAX_DEPTH} levels deep")


def test_deep_flow_nesting_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    message = cli_error(HEAD + "  a: " + "[" * 1200 + "]" * 1200 + "\n", tmp_path, capsys)
    assert "nest" in message


def test_a_huge_integer_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = HEAD + "  a: {provider: mock, retries: " + "1" * 5000 + "}\n"
    assert cli_error(text, tmp_path, capsys) == (
        "4:32: a number of 5000 digits is too long (at most 1000); quote it if it is text"
    )


def test_a_file_above_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as file:
        file.truncate(MAX_FILE_BYTES + 1)  # sparse: no need to write it all
    with pytest.raises(SpecError) as info:
        load_paradigm(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:1:1: the file is larger than {MAX_FILE_BYTES // 2**20} MiB"
    ]


@pytest.mark.slow
def test_aliases_may_grow_with_the_document() -> None:
    # 20,000 agents merging a shared mapping: 160,000 values once aliases are expanded.
    lines = ["x-agent: &agent {provider: mock, output: '{{ input }}', timeout: 5s}", "agents:"]
    lines += [f"  a{i:05d}: {{<<: *agent, retries: 1}}" for i in range(20_000)]
    parsed = parse_yaml("\n".join(lines) + "\n")
    assert parsed.problems == []
    assert parsed.data["agents"]["a19999"] == {
        "provider": "mock",
        "output": "{{ input }}",
        "timeout": "5s",
        "retries": 1,
    }


def test_x_keys_are_a_home_for_anchors() -> None:
    text = (
        "x-defaults: &base {provider: mock, output: ok}\n"
        "x-notes: [anything, goes, '${UNSET_IN_A_NOTE}']\n"
        + HEAD
        + "  a: *base\n  b: {<<: *base, retries: 2}\n"
    )
    loaded = load_text(text, Path("p.yaml"), env={})
    assert sorted(loaded.spec.agents) == ["a", "b"]
    assert loaded.warnings == ()


def test_keys_that_are_not_text_are_located(tmp_path: Path) -> None:
    text = "pattern: independent\nvars:\n  on: 1\n  1: 2\nagents:\n  a: {provider: mock}\n  null: {provider: mock}\n"
    with pytest.raises(SpecError) as info:
        load_text(text, Path("p.yaml"), env={})
    assert [str(p) for p in info.value.problems] == [
        "p.yaml:3:3: key true must be a string; quote it"
        " (YAML reads unquoted yes, no, on and off as booleans)",
        "p.yaml:4:3: key 1 must be a string; quote it",
        "p.yaml:7:3: key null must be a string; quote it",
    ]
