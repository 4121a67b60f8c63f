"""The report and the event log say what each attempt sent, what came back, what user
code printed and where it raised; a check that breaks is an error, not a violation."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Ran

from agentrun import api
from agentrun.callables import located, user_frames
from agentrun.errors import SpecError

REJECTED = """
pattern: independent
input: refund please
require: any
imperatives:
  polite: {not_contains: idiot}
agents:
  rude:
    provider: mock
    system: "You serve {{ input }}."
    prompt: "Attempt {{ attempt }}: {{ input }}"
    outputs: ["no, idiot", "still an idiot"]
    retries: 1
    backoff: {initial: 1ms, max: 1ms}
    imperatives: [polite]
  kind: {provider: mock, output: "of course"}
"""


def _finished(ran: Ran, instance: str) -> dict[str, Any]:
    return next(
        e for e in ran.events if e["event"] == "agent_finished" and e["instance"] == instance
    )


def test_each_attempt_shows_its_rendered_prompt_and_the_rejected_reply(
    run_paradigm: Callable[..., Ran],
) -> None:
    ran = run_paradigm(REJECTED)
    for agent in (
        next(a for a in ran.report["agents"] if a["name"] == "rude"),
        _finished(ran, "rude"),
    ):
        assert agent["status"] == "violated"
        assert agent["output"] is None
        assert agent["raw_output"] == "still an idiot"
        sent = [a["sent"] for a in agent["attempt_log"]]
        assert sent == [
            {"prompt": "Attempt 1: refund please", "system": "You serve refund please."},
            {"prompt": "Attempt 2: refund please", "system": "You serve refund please."},
        ]
        assert [a["output"] for a in agent["attempt_log"]] == ["no, idiot", "still an idiot"]
    assert ran.report["outputs"] == ["of course"]
    assert ran.report["output_sources"] == ["kind"]


def test_a_command_agent_shows_its_arguments_and_stdin(
    run_paradigm: Callable[..., Ran],
) -> None:
    script = "import sys; print(sys.stdin.read().upper())"
    ran = run_paradigm(
        f"""
        pattern: independent
        input: hello
        agents:
          shout:
            command: [{json.dumps(sys.executable)}, "-c", {json.dumps(script)}, "{{{{ input }}}}"]
            stdin: "say {{{{ input }}}}"
        """
    )
    attempt = ran.report["agents"][0]["attempt_log"][0]
    assert attempt["sent"] == {
        "command": [sys.executable, "-c", script, "hello"],
        "stdin": "say hello",
    }
    assert attempt["output"] == "SAY HELLO"


def test_large_diagnostic_fields_are_cut_with_their_full_length(
    run_paradigm: Callable[..., Ran],
) -> None:
    ran = run_paradigm(
        """
        pattern: independent
        imperatives:
          short: {max_length: 10}
        agents:
          long: {provider: mock, prompt: "{{ 'p' * 70000 }}", output: "{{ 'x' * 70000 }}", imperatives: [short]}
        """
    )
    agent = ran.report["agents"][0]
    cut = "x" * 65_536 + "… [truncated: 70000 characters in all]"
    assert agent["raw_output"] == cut
    assert agent["attempt_log"][0]["output"] == cut
    assert agent["attempt_log"][0]["sent"]["prompt"].endswith(
        "[truncated: 70000 characters in all]"
    )


AGENTS_MODULE = """
def broken(prompt):
    return helper(prompt)


def helper(prompt):
    raise ValueError("bad " + prompt)


def fine(prompt):
    return "ok"


def check_raises(output):
    raise KeyError(output)
"""


def test_user_code_that_raises_is_located_and_keeps_its_frames(
    run_paradigm: Callable[..., Ran], tmp_path: Path
) -> None:
    (tmp_path / "seen_raises.py").write_text(AGENTS_MODULE)
    ran = run_paradigm(
        """
        pattern: independent
        input: x
        imperatives:
          odd: {python: "seen_raises:check_raises"}
        agents:
          a: {callable: "seen_raises:broken"}
          b: {callable: "seen_raises:fine", imperatives: [odd]}
        """
    )
    module = str(tmp_path / "seen_raises.py")
    a, b = ran.report["agents"]
    assert a["error"] == f"{module}:7: ValueError: bad x"
    assert a["attempt_log"][0]["traceback"] == [
        f"{module}:3 in broken",
        f"{module}:7 in helper",
    ]
    check = b["attempt_log"][0]["imperatives"][0]
    assert check["error"] is True
    assert check["traceback"] == [f"{module}:15 in check_raises"]
    assert b["error"] == f"odd could not run: {module}:15: KeyError: 'ok'"
    assert f"{module}:7: ValueError: bad x" in ran.out  # the plain display's one line


def test_a_check_that_cannot_load_is_caught_before_the_run(
    write_paradigm: Callable[..., Path],
) -> None:
    path = write_paradigm(
        """
        pattern: independent
        imperatives:
          missing: {python: "checks_nowhere:nope"}
        agents:
          a: {provider: mock, output: fine, retries: 2, imperatives: [missing]}
        """
    )
    with pytest.raises(SpecError) as info:
        api.run(path, api.RunOptions(display="quiet"), env={})
    problem = info.value.problems[0]
    assert (problem.line, problem.column) == (4, 21)
    assert "no module named 'checks_nowhere'" in problem.message
    assert info.value.exit_code == 2


PRINTING = """
import asyncio, sys


def loud(prompt):
    print("sync agent says", prompt)
    print("sync agent warns", file=sys.stderr)
    return "done"


async def async_loud(prompt):
    await asyncio.sleep(0)
    print("async agent says", prompt)
    return "done"


def chatty_check(output):
    print("check looked at", output)
    return True
"""


def test_what_user_code_prints_goes_to_its_attempt_log_not_stdout(tmp_path: Path) -> None:
    (tmp_path / "seen_loud.py").write_text(PRINTING)
    paradigm = tmp_path / "loud.yaml"
    paradigm.write_text(
        textwrap.dedent(
            """
            pattern: independent
            input: hi
            imperatives:
              looked: {python: "seen_loud:chatty_check"}
            agents:
              s: {callable: "seen_loud:loud", imperatives: [looked]}
              t: {callable: "seen_loud:async_loud"}
            """
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "agentrun", "run", str(paradigm), "--report", "-"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # nothing the agents printed corrupts it
    logs = {a["instance"]: a["attempt_log"][0]["log"] for a in report["agents"]}
    assert logs == {
        "s": "sync agent says hi\nsync agent warns\ncheck looked at done\n",
        "t": "async agent says hi\n",
    }
    assert "agent says" not in done.stderr


def test_the_streams_are_given_back_after_a_run(
    run_paradigm: Callable[..., Ran], tmp_path: Path
) -> None:
    before = sys.stdout, sys.stderr
    (tmp_path / "seen_after.py").write_text(PRINTING)
    ran = run_paradigm(
        """
        pattern: independent
        input: hi
        agents:
          s: {callable: "seen_after:loud"}
        """
    )
    assert (sys.stdout, sys.stderr) == before
    assert ran.report["agents"][0]["attempt_log"][0]["log"].startswith("sync agent says hi")


def test_output_sources_name_the_last_stage_and_the_winner(
    run_paradigm: Callable[..., Ran],
) -> None:
    ran = run_paradigm(
        """
        pattern: pipeline
        agents:
          a: {provider: mock, output: one}
          b: {provider: mock, output: two}
          c: {provider: mock, error: down}
          d: {provider: mock, output: "{{ previous | join(',') }}"}
        stages:
          - {name: first, agents: [a, b, c], require: any}
          - {name: last, agents: [d]}
        """
    )
    assert [s["output_sources"] for s in ran.report["stages"]] == [["a", "b"], ["d"]]
    assert ran.report["outputs"] == ["one,two"]
    assert ran.report["output_sources"] == ["d"]
    race = run_paradigm(
        """
        pattern: competitive
        agents:
          slow: {provider: mock, output: late, latency: 1s}
          quick: {provider: mock, output: first}
        """
    )
    assert race.report["output_sources"] == ["quick"]


def test_user_frames_leave_out_the_standard_library() -> None:
    def user_code() -> None:
        json.loads("{")  # raises deep inside the json module

    try:
        user_code()
    except ValueError as exc:
        frames = user_frames(exc)
    assert [frame.rsplit(" in ", 1)[1] for frame in frames] == [
        "test_user_frames_leave_out_the_standard_library",
        "user_code",
    ]
    assert all(frame.startswith("tests/test_seeing.py:") for frame in frames)
    assert (
        located(frames, "JSONDecodeError: x")
        == f"{frames[-1].split(' in ')[0]}: JSONDecodeError: x"
    )
