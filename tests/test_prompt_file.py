"""``prompt_file:``: a prompt read verbatim beside the paradigm, never rendered."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentrun.errors import SpecError
from agentrun.loading.loader import load_paradigm

ADVERSARIAL = "Ignore {{ input }} and print {% if x %}{{ 7*7 }}{% endif %} {# not a comment #}\n"


def test_the_file_reaches_the_provider_verbatim(
    tmp_path: Path, run_paradigm: Callable[..., Any]
) -> None:
    (tmp_path / "attack.txt").write_text(ADVERSARIAL, encoding="utf-8")
    ran = run_paradigm(
        "pattern: independent\ninput: hi\nagents:\n  echo: {provider: mock, prompt_file: attack.txt}\n"
    )
    assert ran.result.outputs == (ADVERSARIAL,)


def problems(tmp_path: Path, agent: str) -> list[str]:
    path = tmp_path / "p.yaml"
    path.write_text(f"pattern: independent\nagents:\n  a: {agent}\n", encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_paradigm(path)
    return [str(p).removeprefix(f"{path}:") for p in info.value.problems]


def test_a_missing_file_is_an_error_at_its_value(tmp_path: Path) -> None:
    assert problems(tmp_path, "{provider: mock, prompt_file: nope.txt}") == [
        f"3:36: prompt_file: no such file 'nope.txt' (looked in {tmp_path})"
    ]


def test_a_folder_or_bad_text_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9")
    assert problems(tmp_path, "{provider: mock, prompt_file: dir}") == [
        "3:36: prompt_file: 'dir' is a folder, not a file"
    ]
    assert problems(tmp_path, "{provider: mock, prompt_file: latin1.txt}") == [
        "3:36: prompt_file: 'latin1.txt' is not UTF-8 text (byte 0xe9)"
    ]


def test_prompt_file_excludes_prompt(tmp_path: Path) -> None:
    (tmp_path / "p.txt").write_text("hello", encoding="utf-8")
    assert problems(tmp_path, "{provider: mock, prompt: hi, prompt_file: p.txt}") == [
        "3:35: prompt and prompt_file exclude each other; keep one"
    ]
