"""Load-time checks of python functions and command programs: found, callable, runnable."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from agentrun import api
from agentrun.cli import main
from agentrun.errors import SpecError
from agentrun.loading.loader import load_paradigm
from agentrun.loading.resolve import ResolveMode


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(path: Path, resolve: ResolveMode = "import", **kwargs: object) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_paradigm(path, resolve=resolve, **kwargs)  # type: ignore[arg-type]
    return [str(p).removeprefix(f"{path}:") for p in info.value.problems]


def python_agent(folder: Path, reference: str) -> Path:
    text = f'pattern: independent\nagents:\n  bot: {{callable: "{reference}"}}\n'
    return write(folder, "p.yaml", text)


def test_a_file_name_instead_of_a_module_name(tmp_path: Path) -> None:
    write(tmp_path, "rs_filebot.py", "def reply(prompt):\n    return prompt\n")
    path = python_agent(tmp_path, "rs_filebot.py:reply")
    assert problems(path) == [
        "3:19: 'rs_filebot.py:reply' names a file; use the module name 'rs_filebot:reply'"
    ]


def test_a_typo_in_the_function_suggests_the_module_functions(tmp_path: Path) -> None:
    write(tmp_path, "rs_typo.py", "def reply(prompt):\n    return prompt\nLIMIT = 3\n")
    path = python_agent(tmp_path, "rs_typo:replly")
    assert problems(path) == [
        "3:19: module 'rs_typo' has no function 'replly' (did you mean 'reply'?)"
    ]


def test_a_missing_module_suggests_one_beside_the_paradigm(tmp_path: Path) -> None:
    write(tmp_path, "rs_support.py", "def reply(prompt):\n    return prompt\n")
    path = python_agent(tmp_path, "rs_suport:reply")
    assert problems(path) == [
        "3:19: no module named 'rs_suport' beside the paradigm or on sys.path"
        " (did you mean 'rs_support'?)"
    ]


@pytest.mark.parametrize(
    ("source", "reference", "message"),
    [
        ("LIMIT = 3\n", "rs_const:LIMIT", "'rs_const:LIMIT' is not callable (it is a int)"),
        (
            "def items(prompt):\n    yield prompt\n",
            "rs_gen:items",
            "'rs_gen:items' is a generator function; it must return a string",
        ),
        (
            "raise RuntimeError('needs a GPU')\n",
            "rs_broken:fn",
            "cannot import 'rs_broken': RuntimeError: needs a GPU",
        ),
        (
            "import rs_absent_dependency\n",
            "rs_dep:fn",
            "cannot import 'rs_dep': ModuleNotFoundError: No module named 'rs_absent_dependency'",
        ),
    ],
)
def test_what_cannot_serve_as_an_agent_function(
    tmp_path: Path, source: str, reference: str, message: str
) -> None:
    write(tmp_path, reference.partition(":")[0] + ".py", source)
    assert problems(python_agent(tmp_path, reference)) == [f"3:19: {message}"]


def test_python_checks_are_resolved_too(tmp_path: Path) -> None:
    write(tmp_path, "rs_checks.py", "def short(output):\n    yield True\n")
    path = write(
        tmp_path,
        "p.yaml",
        """\
        pattern: independent
        imperatives:
          brief: {python: "rs_checks:short"}
          other: {python: "rs_checks:shrt"}
        agents:
          a: {output: hi, imperatives: [brief, other]}
        """,
    )
    assert problems(path) == [
        "3:19: 'rs_checks:short' is a generator function; it must return a bool or (bool, reason)",
        "4:19: module 'rs_checks' has no function 'shrt' (did you mean 'short'?)",
    ]


def test_a_good_function_loads_and_sys_path_is_restored(tmp_path: Path) -> None:
    write(tmp_path, "rs_good.py", "def reply(prompt):\n    return prompt\n")
    before = list(sys.path)
    loaded = load_paradigm(python_agent(tmp_path, "rs_good:reply"))
    assert loaded.warnings == ()
    assert sys.path == before


def test_each_folder_gets_its_own_module_of_a_shared_name(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    write(first, "rs_shared.py", "def answer(prompt):\n    return prompt\n")
    write(second, "rs_shared.py", "def answers(prompt):\n    return prompt\n")
    load_paradigm(python_agent(first, "rs_shared:answer"))
    load_paradigm(python_agent(second, "rs_shared:answers"))
    assert problems(python_agent(second, "rs_shared:answer")) == [
        "3:19: module 'rs_shared' has no function 'answer' (did you mean 'answers'?)"
    ]


def test_find_mode_runs_no_user_code(tmp_path: Path) -> None:
    marker = tmp_path / "imported"
    effect = f"open({str(marker)!r}, 'w').close()\n"
    write(tmp_path, "rs_quiet.py", effect + "def reply(prompt):\n    return prompt\n")
    write(tmp_path, "rs_pkg/__init__.py", effect)
    write(tmp_path, "rs_pkg/sub.py", effect + "def reply(prompt):\n    return prompt\n")
    for reference in ("rs_quiet:reply", "rs_pkg.sub:reply", "rs_quiet:not_checked"):
        load_paradigm(python_agent(tmp_path, reference), resolve="find")
    assert not marker.exists()
    assert "rs_pkg" not in sys.modules
    assert problems(python_agent(tmp_path, "rs_pkg.subb:reply"), "find") == [
        "3:19: no module named 'rs_pkg.subb' beside the paradigm or on sys.path"
    ]
    assert problems(python_agent(tmp_path, "rs_quiet.sub:reply"), "find") == [
        "3:19: module 'rs_quiet' is not a package, so 'rs_quiet.sub' does not exist"
    ]
    assert problems(python_agent(tmp_path, "rs_quite:reply"), "find") == [
        "3:19: no module named 'rs_quite' beside the paradigm or on sys.path"
        " (did you mean 'rs_quiet'?)"
    ]
    assert not marker.exists()


def command_agent(folder: Path, program: str, extra: str = "") -> Path:
    text = f'pattern: independent\nagents:\n  tool: {{command: ["{program}", x]{extra}}}\n'
    return write(folder, "p.yaml", text)


def test_a_program_not_on_path(tmp_path: Path) -> None:
    path = command_agent(tmp_path, "agentrun-no-such-program")
    assert problems(path) == ["3:20: command not found: 'agentrun-no-such-program' is not on PATH"]


def test_a_program_beside_the_paradigm_needs_a_path(tmp_path: Path) -> None:
    script = write(tmp_path, "rs_tool.sh", "#!/bin/sh\necho hi\n")
    script.chmod(0o755)
    assert problems(command_agent(tmp_path, "rs_tool.sh")) == [
        "3:20: command not found: 'rs_tool.sh' is not on PATH"
        " (a program in this folder needs a path: './rs_tool.sh')"
    ]
    assert load_paradigm(command_agent(tmp_path, "./rs_tool.sh")).warnings == ()


def test_a_relative_program_is_found_from_the_agents_cwd(tmp_path: Path) -> None:
    script = write(tmp_path, "bin/rs_tool.sh", "#!/bin/sh\necho hi\n")
    script.chmod(0o755)
    assert load_paradigm(command_agent(tmp_path, "./rs_tool.sh", ", cwd: bin")).warnings == ()
    assert problems(command_agent(tmp_path, "./rs_missing.sh", ", cwd: bin")) == [
        f"3:20: command not found: './rs_missing.sh' (no such file in {tmp_path / 'bin'})"
    ]
    script.chmod(0o644)
    message = "3:20: command not executable: './rs_tool.sh' (make it executable: chmod +x)"
    assert problems(command_agent(tmp_path, "./rs_tool.sh", ", cwd: bin")) == [message]


def test_the_agents_own_path_is_searched(tmp_path: Path) -> None:
    script = write(tmp_path, "bin/rs_only_here", "#!/bin/sh\necho hi\n")
    script.chmod(0o755)
    extra = f", env: {{PATH: {tmp_path / 'bin'}}}"
    assert load_paradigm(command_agent(tmp_path, "rs_only_here", extra)).warnings == ()


def test_templates_and_unset_variables_are_left_to_the_run(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        """\
        pattern: independent
        vars: {tool: echo}
        agents:
          a: {command: ["{{ vars.tool }}", x]}
          b: {command: ["${RS_TOOL_UNSET}", x]}
        """,
    )
    loaded = load_paradigm(path, env={}, for_run=False)
    assert [p.message for p in loaded.warnings] == ["environment variable RS_TOOL_UNSET is not set"]


def test_run_stops_before_anything_starts(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = write(
        tmp_path,
        "p.yaml",
        f"""\
        pattern: independent
        agents:
          first: {{command: [touch, "{marker}"]}}
          second: {{command: [agentrun-no-such-program]}}
        """,
    )
    with pytest.raises(SpecError, match="command not found: 'agentrun-no-such-program'"):
        api.run(path, api.RunOptions(display="quiet"))
    assert not marker.exists()


def test_validate_offline_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "imported"
    source = f"open({str(marker)!r}, 'w').close()\ndef reply(prompt):\n    return prompt\n"
    write(tmp_path, "rs_cli_bot.py", source)
    path = python_agent(tmp_path, "rs_cli_bot:reply")
    with pytest.raises(SystemExit) as offline:
        main(["validate", "--offline", str(path)])
    assert offline.value.code == 0
    assert not marker.exists()
    with pytest.raises(SystemExit) as default:
        main(["validate", str(path)])
    assert default.value.code == 0
    assert marker.exists()  # the default imports: it checks the function itself
    capsys.readouterr()
