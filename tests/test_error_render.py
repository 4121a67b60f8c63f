"""Paradigm errors with the offending YAML line and a caret under the column."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from agentrun.cli import main
from agentrun.display.problems import MAX_SOURCE, SourceCache, render_problems
from agentrun.errors import Problem, Severity

BAD = Path(__file__).parent / "data" / "bad"


def plain(problems: list[Problem]) -> list[str]:
    out = io.StringIO()
    render_problems(problems, out)
    return out.getvalue().splitlines()


def caret_column(lines: list[str]) -> int:
    """The 1-based cell of the caret under the source line (gutters stripped)."""
    source, caret = lines[1], lines[2]
    assert source.index("| ") == caret.index("| ")
    return caret.index("^") - caret.index("| ") - 2 + 1


def test_location_line_then_source_then_caret(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("pattern: independent\nagents:\n  a: {provider: mock, promt: hi}\n")
    lines = plain([Problem(str(path), 3, 23, "unknown key 'promt'")])
    assert lines == [
        f"{path}:3:23: unknown key 'promt'",
        "    3 |   a: {provider: mock, promt: hi}",
        "      |                       ^",
    ]


def test_tabs_are_expanded_under_the_caret(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("a:\n\tkey:\tvalue\n")
    lines = plain([Problem(str(path), 2, 6, "here")])
    assert lines[1] == "    2 |         key:    value"
    assert lines[2] == "      |             ^"  # under the tab that follows "key:"


def test_wide_characters_count_as_two_cells(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("name: 日本語 x\n")
    lines = plain([Problem(str(path), 1, 11, "the x")])
    assert lines[1] == "    1 | name: 日本語 x"
    assert caret_column(lines) == 14


@pytest.mark.parametrize("line", [0, 3, 99])
def test_lines_out_of_range_show_the_location_only(tmp_path: Path, line: int) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("one\ntwo\n")
    assert plain([Problem(str(path), line, 1, "somewhere")]) == [f"{path}:{line}:1: somewhere"]


def test_columns_past_the_end_put_the_caret_after_the_line(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("key: [1, 2\n")
    lines = plain([Problem(str(path), 1, 40, "unclosed")])
    assert caret_column(lines) == len("key: [1, 2") + 1


def test_unreadable_files_show_the_location_only(tmp_path: Path) -> None:
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    problems = [
        Problem(str(binary), 1, 1, "not utf-8"),
        Problem(str(tmp_path / "gone.yaml"), 1, 1, "missing"),
    ]
    assert plain(problems) == [f"{binary}:1:1: not utf-8", f"{tmp_path / 'gone.yaml'}:1:1: missing"]


def test_long_lines_are_cut_around_the_column(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("k: " + "a" * 300 + "X" + "b" * 300 + "\n")
    lines = plain([Problem(str(path), 1, 304, "the X")])
    source = lines[1].split("| ", 1)[1]
    assert source.startswith("…") and source.endswith("…")
    assert len(source) <= MAX_SOURCE + 2
    assert source[caret_column(lines) - 1] == "X"


def test_control_characters_in_the_source_are_escaped(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("a: \x1b[31m x\n")
    lines = plain([Problem(str(path), 1, 10, "x")])
    assert "\x1b" not in "".join(lines)
    assert lines[1].split("| ", 1)[1][caret_column(lines) - 1] == "x"


def test_each_file_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("a: 1\nb: 2\n")
    reads: list[Path] = []
    original = Path.read_text

    def counting(self: Path, *args: object, **kwargs: object) -> str:
        reads.append(self)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", counting)
    cache = SourceCache()
    render_problems(
        [Problem(str(path), 1, 1, "x"), Problem(str(path), 2, 1, "y")], io.StringIO(), cache
    )
    render_problems([Problem(str(path), 2, 4, "z")], io.StringIO(), cache)
    assert reads == [path]


def test_colour_keeps_the_same_text(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("pattern: sideways\n")
    problem = Problem(str(path), 1, 10, "bad pattern", Severity.WARNING)
    out = io.StringIO()
    console = Console(
        file=out, force_terminal=True, color_system="truecolor", width=200, _environ={}
    )
    render_problems([problem], console)
    coloured = out.getvalue()
    assert "\x1b[" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured).splitlines() == plain([problem])
    assert plain([problem])[0] == f"{path}:1:10: warning: bad pattern"


@pytest.mark.parametrize("fixture", sorted(BAD.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_bad_fixture_renders(fixture: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", str(fixture)])
    assert exit_info.value.code in (0, 1)  # 0: only warnings (a missing variable)
    captured = capsys.readouterr()
    lines = captured.err.splitlines() + captured.out.splitlines()
    location = re.compile(rf"^{re.escape(str(fixture))}:(\d+):(\d+): \S")
    assert location.match(lines[0])
    for index, line in enumerate(lines):
        found = location.match(line)
        if (
            found
            and index + 2 < len(lines)
            and lines[index + 1].lstrip().startswith(found[1] + " |")
        ):
            assert lines[index + 2].rstrip().endswith("^")


def test_cli_run_shows_the_source_line(
    write_paradigm: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_paradigm("pattern: independent\nagents:\n  a: {provider: mock, timeout: soon}\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["run", str(path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"{path}:3:")
    assert err[1] == "    3 |   a: {provider: mock, timeout: soon}"
    assert err[2].endswith("^") and "\x1b" not in "".join(err)
