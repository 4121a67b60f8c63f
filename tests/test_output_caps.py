"""Output is bounded per attempt: head and tail kept, marked truncated, endless producers stopped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import Ran
from fake_llm_server import FakeLLMServer
from helpers_providers import make_options, make_request, run_once

from agentrun.errors import ProviderError
from agentrun.providers.command import CommandClient
from agentrun.sizes import parse_size

PY = sys.executable


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(latency=0.0) as srv:
        yield srv


@pytest.mark.parametrize(
    ("text", "size"),
    [("64KiB", 65536), ("2MB", 2_000_000), ("1.5 MiB", 1572864), (4096, 4096), ("100", 100)],
)
def test_sizes(text: str | int, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "0", "-1", "2 parsecs", ".inf", True])
def test_bad_sizes(text: object) -> None:
    with pytest.raises(ValueError, match="expected a size such as 64KiB"):
        parse_size(text)


def test_command_output_keeps_head_and_tail() -> None:
    code = "import sys; sys.stdout.write('A' * 2000 + 'M' * 2000 + 'Z' * 2000)"
    client = CommandClient(make_options({"command": [PY, "-c", code]}, max_output=1000))
    reply = run_once(client, make_request())
    head, note, tail = reply.text.split("\n")
    assert (head, tail) == ("A" * 500, "Z" * 500)
    assert (
        note
        == "[… output truncated: 6000 bytes in all, 5000 left out to keep 1000 bytes (max_output) …]"
    )
    assert reply.truncated_from == 6000


def test_an_endless_program_is_stopped_past_eight_times_the_cap() -> None:
    client = CommandClient(make_options({"command": ["yes"]}, max_output=64 * 1024))
    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        run_once(client, make_request())
    assert time.monotonic() - started < 30  # a hang guard: `yes` never ends by itself
    assert str(caught.value).startswith("command output passed 512 KiB")
    assert str(caught.value).endswith("(8 times max_output) and the program was stopped")
    assert caught.value.retryable is False


def test_the_cli_stays_small_with_an_endless_program(tmp_path: Path) -> None:
    path = tmp_path / "yes.yaml"
    path.write_text("pattern: independent\nagents:\n  y: {command: ['yes'], timeout: 8s}\n")
    report = tmp_path / "report.json"
    # Linux counts a child's peak from the memory of the process it was forked from, so
    # a small go-between starts agentrun: the peak is agentrun's, not the test run's.
    measure = (
        "import resource, subprocess, sys; "
        "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
        "stderr=subprocess.DEVNULL).returncode; "
        "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    ran = subprocess.run(
        [PY, "-c", measure, PY, "-m", "agentrun", "run", str(path), "--report", str(report)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    code, peak_kib = map(int, ran.stdout.split())
    assert code == 3
    assert peak_kib < 300 * 1024
    [agent] = json.loads(report.read_text())["agents"]
    # Stopped by the cap, not by its 8 s timeout.
    assert agent["error"] == (
        "command output passed 8 MiB (8 times max_output) and the program was stopped"
    )


def test_a_long_output_is_marked_truncated_in_the_report(
    run_paradigm: Callable[..., Ran], tmp_path: Path
) -> None:
    code = "import sys; sys.stdout.write('x' * 3_000_000)"
    ran = run_paradigm(
        f'pattern: independent\nagents:\n  big: {{command: [{json.dumps(PY)}, -c, "{code}"]}}\n'
        "  small: {command: [" + json.dumps(PY) + ", -c, \"print('y' * 5000)\"], max_output: 2KB}\n"
    )
    assert ran.agent("big").status.value == "passed"
    agents = {a["name"]: a for a in ran.report["agents"]}
    assert agents["big"]["output_truncated"] == 3_000_000
    assert agents["big"]["attempt_log"][0]["output_truncated"] == 3_000_000
    assert len(agents["big"]["output"]) < 1_100_000
    assert "output truncated: 3000000 bytes in all" in agents["big"]["output"]
    assert agents["small"]["output_truncated"] == 5001
    assert len(agents["small"]["output"]) < 2200
    # Each copy of the output (the run's outputs, the agent's, its attempt's) is capped.
    assert os.path.getsize(tmp_path / "report.json") < 3_500_000


def test_python_returns_are_capped(run_paradigm: Callable[..., Ran], tmp_path: Path) -> None:
    (tmp_path / "huge.py").write_text("def reply(prompt):\n    return 'q' * 5_000_000\n")
    ran = run_paradigm(
        "pattern: independent\nagents:\n  p: {callable: 'huge:reply', max_output: 64KiB}\n"
    )
    agent = ran.report["agents"][0]
    assert agent["status"] == "passed"
    assert agent["output_truncated"] == 5_000_000
    assert len(agent["output"]) < 66_000


@pytest.mark.parametrize("stream", ["false", "true"])
def test_network_replies_beyond_the_cap_fail_without_reading_on(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer, stream: str
) -> None:
    ran = run_paradigm(
        "pattern: independent\nproviders:\n"
        f"  llm: {{type: openai, base_url: '{server.openai_url}', api_key: k, stream: {stream}}}\n"
        "agents:\n"
        "  a: {provider: llm, model: 'm;words=50000', max_output: 64KiB, retries: 2}\n"
        f"  h: {{provider: http, url: '{server.hook_url}/m;words=5000', max_output: 1KB}}\n"
        "  ok: {provider: llm, model: 'm;words=5', max_output: 64KiB}\n"
    )
    assert ran.agent("a").error == "provider 'llm': reply larger than max_output (64 KiB)"
    assert len(ran.agent("a").attempts) == 1
    assert ran.agent("h").error == "provider 'http': reply larger than max_output (1000 bytes)"
    assert ran.agent("ok").output == "word1 word2 word3 word4 word5"


def test_max_output_is_validated(run_paradigm: Callable[..., Ran], tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("pattern: independent\nagents:\n  a: {output: x, max_output: 2 parsecs}\n")
    ran = subprocess.run(
        [PY, "-m", "agentrun", "validate", str(path)], capture_output=True, text=True, check=False
    )
    assert ran.returncode == 1
    assert f"{path}:3:30: max_output: expected a size such as 64KiB" in ran.stderr
