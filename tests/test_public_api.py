"""The public Python API: what `import agentrun` offers, and that it neither prints nor exits."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

import agentrun

README = Path(__file__).resolve().parent.parent / "README.md"

PUBLIC = [
    "AgentError",
    "AgentResult",
    "AgentStatus",
    "AgentrunError",
    "RunOptions",
    "RunResult",
    "RunStatus",
    "SpecError",
    "TaskGraph",
    "UsageError",
    "__version__",
    "load",
    "run",
    "run_async",
]


def test_all_is_pinned_sorted_and_resolves() -> None:
    assert agentrun.__all__ == PUBLIC == sorted(PUBLIC)
    for name in agentrun.__all__:
        assert getattr(agentrun, name) is not None
    assert issubclass(agentrun.SpecError, agentrun.AgentrunError)
    with pytest.raises(AttributeError):
        agentrun.no_such_name  # noqa: B018


def test_importing_agentrun_loads_nothing_heavy() -> None:
    code = (
        "import sys, agentrun\n"
        "heavy = [m for m in sys.modules if m.startswith(('agentrun.', 'aiohttp', 'rich'))]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_readme_example_runs() -> None:
    section = README.read_text().split("## Python API", 1)[1]
    example = re.search(r"```python\n(.*?)```", section, re.S)
    assert example is not None
    code = example.group(1)
    assert len(code.strip().splitlines()) <= 12
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    assert out.getvalue() == "('4',)\n"


def test_yaml_text_a_path_and_a_dict_run_silently(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "pattern: independent\ninput: hi\nagents:\n  a: {provider: mock}\n"
    path = tmp_path / "p.yaml"
    path.write_text(text)
    results = [
        agentrun.run(text),
        agentrun.run(path),
        agentrun.run(str(path)),
        agentrun.run(
            {"pattern": "independent", "input": "hi", "agents": {"a": {"provider": "mock"}}}
        ),
    ]
    assert {r.status for r in results} == {agentrun.RunStatus.PASSED}
    assert len({r.outputs for r in results}) == 1
    assert capsys.readouterr() == ("", "")  # no display unless asked


def test_an_invalid_paradigm_raises_with_its_position() -> None:
    with pytest.raises(agentrun.SpecError) as raised:
        agentrun.load("pattern: sideways\nagents:\n  a: {provider: mock}\n")
    assert str(raised.value).startswith("<paradigm>:1:10: ")


def test_a_display_only_when_asked() -> None:
    out = io.StringIO()
    options = agentrun.RunOptions(display="plain", input_text="x")
    graph = agentrun.load(
        {"pattern": "independent", "agents": {"a": {"provider": "mock"}}}, options
    )
    agentrun.run(graph, options, display=True, stdout=out, env={})
    assert "passed" in out.getvalue()


def test_run_async_in_a_running_loop_and_run_refuses_one() -> None:
    paradigm = {"pattern": "independent", "input": "q", "agents": {"a": {"provider": "mock"}}}

    async def main() -> agentrun.RunResult:
        with pytest.raises(agentrun.UsageError, match="await run_async"):
            agentrun.run(paradigm)
        return await agentrun.run_async(paradigm)

    assert asyncio.run(main()).status is agentrun.RunStatus.PASSED


def test_cancelling_run_async_returns_an_interrupted_result() -> None:
    paradigm = {"pattern": "independent", "agents": {"a": {"provider": "mock", "hang": True}}}

    async def main() -> agentrun.RunResult:
        task = asyncio.create_task(agentrun.run_async(paradigm))
        await asyncio.sleep(0.2)
        task.cancel()
        return await task

    assert asyncio.run(main()).status is agentrun.RunStatus.INTERRUPTED
