"""The fake LLM server: wire formats, scenarios chosen by model name, statistics, processes."""

from __future__ import annotations

import asyncio
import email.utils
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fake_llm_server import DEFAULT_REPLY, FakeLLMServer, scenario, start_server
from proc_utils import is_running

SCRIPT = Path(__file__).with_name("fake_llm_server.py")
ANTHROPIC_HEADERS = {"x-api-key": "test-key", "anthropic-version": "2023-06-01"}
CHAT = "/v1/chat/completions"
MESSAGES = "/v1/messages"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    """One server process for the module."""
    with FakeLLMServer() as running:
        yield running


@pytest.fixture
def fake(server: FakeLLMServer) -> FakeLLMServer:
    """The module's server, reset to its start-up state."""
    server.reset()
    return server


@pytest.fixture
def client(fake: FakeLLMServer) -> Iterator[httpx.Client]:
    """A client bound to the server."""
    with httpx.Client(base_url=fake.base_url, timeout=5.0, trust_env=False) as http:
        yield http


def chat(model: str, content: str = "say hello please", **extra: Any) -> dict[str, Any]:
    """A chat request body (OpenAI and Anthropic alike, once ``max_tokens`` is added)."""
    return {"model": model, "messages": [{"role": "user", "content": content}], **extra}


def parse_sse(text: str) -> list[tuple[str | None, str]]:
    """Split a server-sent event stream into ``(event name, data)`` pairs."""
    events: list[tuple[str | None, str]] = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        name: str | None = None
        data: list[str] = []
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data.append(line.removeprefix("data: "))
        events.append((name, "\n".join(data)))
    return events


# ---- wire formats -------------------------------------------------------------------------


def test_openai_plain_reply(client: httpx.Client, fake: FakeLLMServer) -> None:
    body = {
        "model": "gpt-test",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "say hello please"},
        ],
    }
    response = client.post(CHAT, json=body)
    assert response.status_code == 200
    data = response.json()
    assert data["object"] == "chat.completion"
    assert data["id"]
    assert isinstance(data["created"], int)
    assert data["model"] == "gpt-test"
    assert data["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": DEFAULT_REPLY},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    assert data["usage"] == {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}


def test_openai_stream(client: httpx.Client) -> None:
    body = chat("gpt-test", stream=True, stream_options={"include_usage": True})
    response = client.post(CHAT, json=body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    assert events[-1] == (None, "[DONE]")
    chunks = [json.loads(data) for _, data in events[:-1]]
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    *pieces, final, usage = chunks
    texts = [chunk["choices"][0]["delta"]["content"] for chunk in pieces]
    assert texts == ["Hello ", "from ", "the ", "fake ", "server."]
    assert "".join(texts) == DEFAULT_REPLY
    assert pieces[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all(chunk["choices"][0]["finish_reason"] is None for chunk in pieces)
    assert final["choices"][0]["finish_reason"] == "stop"
    assert usage["choices"] == []
    assert usage["usage"] == {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}


def test_openai_stream_without_usage(client: httpx.Client) -> None:
    events = parse_sse(client.post(CHAT, json=chat("gpt-test", stream=True)).text)
    chunks = [json.loads(data) for _, data in events[:-1]]
    assert all("usage" not in chunk for chunk in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_anthropic_plain_reply(client: httpx.Client) -> None:
    body = chat("claude-test", max_tokens=100, system="be brief")
    response = client.post(MESSAGES, json=body, headers=ANTHROPIC_HEADERS)
    assert response.status_code == 200
    data = response.json()
    assert data["id"].startswith("msg_")
    assert data["type"] == "message"
    assert data["role"] == "assistant"
    assert data["model"] == "claude-test"
    assert data["content"] == [{"type": "text", "text": DEFAULT_REPLY}]
    assert data["stop_reason"] == "end_turn"
    assert data["usage"] == {"input_tokens": 5, "output_tokens": 5}


def test_anthropic_stream(client: httpx.Client) -> None:
    body = chat("claude-test", max_tokens=100, stream=True)
    response = client.post(MESSAGES, json=body, headers=ANTHROPIC_HEADERS)
    assert response.status_code == 200
    events = parse_sse(response.text)
    names = [name for name, _ in events]
    assert names == [
        "message_start",
        "content_block_start",
        *["content_block_delta"] * 5,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    data = [json.loads(raw) for _, raw in events]
    assert [item["type"] for item in data] == names
    assert data[0]["message"]["usage"]["input_tokens"] == 3
    deltas = [item["delta"] for item in data if item["type"] == "content_block_delta"]
    assert all(delta["type"] == "text_delta" for delta in deltas)
    assert "".join(delta["text"] for delta in deltas) == DEFAULT_REPLY
    closing = data[-2]
    assert closing["delta"]["stop_reason"] == "end_turn"
    assert closing["usage"]["output_tokens"] == 5


def test_anthropic_needs_its_headers(client: httpx.Client) -> None:
    body = chat("claude-test", max_tokens=10)
    for missing in ANTHROPIC_HEADERS:
        headers = {k: v for k, v in ANTHROPIC_HEADERS.items() if k != missing}
        response = client.post(MESSAGES, json=body, headers=headers)
        assert response.status_code == 401
        data = response.json()
        assert data["type"] == "error"
        assert data["error"]["type"] == "authentication_error"
        assert missing in data["error"]["message"]


def test_bad_requests_get_provider_shaped_400(client: httpx.Client) -> None:
    response = client.post(MESSAGES, json=chat("claude-test"), headers=ANTHROPIC_HEADERS)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    response = client.post(CHAT, content=b"{not json", headers={"content-type": "text/plain"})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    response = client.post(CHAT, json=chat("m;no_such_directive=1"))
    assert response.status_code == 400
    assert "no_such_directive" in response.json()["error"]["message"]


def test_hook(client: httpx.Client, fake: FakeLLMServer) -> None:
    sent = {"message": "where is my parcel?", "user": {"id": 7}}
    for path in ("/hook", "/hook/support/bot"):
        response = client.post(path, json=sent)
        assert response.status_code == 200
        assert response.json() == {"data": {"reply": DEFAULT_REPLY}, "echo": sent}
    fake.configure(reply="echo")
    assert client.post("/hook", json=sent).json()["data"]["reply"] == "where is my parcel?"
    # The tail of the path picks the scenario when the body names no model.
    assert client.post("/hook/bot;status=503x1", json=sent).status_code == 503
    assert client.post("/hook/bot;status=503x1", json=sent).status_code == 200


# ---- reply text ---------------------------------------------------------------------------


def test_reply_words_echo_and_max_tokens(client: httpx.Client, fake: FakeLLMServer) -> None:
    def text_of(model: str, **extra: Any) -> str:
        data = client.post(CHAT, json=chat(model, **extra)).json()
        return str(data["choices"][0]["message"]["content"])

    assert text_of(scenario("m", reply="one; two")) == "one; two"
    assert text_of("m;words=4") == "word1 word2 word3 word4"
    cut = client.post(CHAT, json=chat("m;words=10", max_tokens=3)).json()
    assert cut["choices"][0]["message"]["content"] == "word1 word2 word3"
    assert cut["choices"][0]["finish_reason"] == "length"
    assert cut["usage"]["completion_tokens"] == 3
    fake.configure(reply="echo")
    assert text_of("m", content="repeat after me") == "repeat after me"
    body = chat("claude;words=6", max_tokens=2)
    data = client.post(MESSAGES, json=body, headers=ANTHROPIC_HEADERS).json()
    assert data["content"][0]["text"] == "word1 word2"
    assert data["stop_reason"] == "max_tokens"


def test_stream_delay_spaces_the_pieces(client: httpx.Client) -> None:
    started = time.monotonic()
    response = client.post(CHAT, json=chat("m;words=4;stream_delay=0.05", stream=True))
    assert time.monotonic() - started >= 0.15
    assert len(parse_sse(response.text)) == 4 + 2


# ---- scenarios ----------------------------------------------------------------------------


def test_status_then_success_with_retry_after(client: httpx.Client, fake: FakeLLMServer) -> None:
    model = scenario("gpt-test", status="429x2", retry_after=1)
    for _ in range(2):
        response = client.post(CHAT, json=chat(model))
        assert response.status_code == 429
        assert response.headers["retry-after"] == "1"
        error = response.json()["error"]
        assert error["message"] == "simulated 429"
        assert error["code"] == "rate_limit_exceeded"
    response = client.post(CHAT, json=chat(model))
    assert response.status_code == 200
    assert "retry-after" not in response.headers
    outcomes = [r["outcome"] for r in fake.requests()]
    assert outcomes == ["error:429", "error:429", "ok"]


def test_retry_after_as_http_date_and_anthropic_errors(client: httpx.Client) -> None:
    body = chat("claude;status=529;retry_after=date:+2", max_tokens=10)
    response = client.post(MESSAGES, json=body, headers=ANTHROPIC_HEADERS)
    assert response.status_code == 529
    when = email.utils.parsedate_to_datetime(response.headers["retry-after"])
    assert when.timestamp() >= time.time()
    assert response.json() == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "simulated 529"},
    }
    # Without a count the status is permanent.
    assert client.post(MESSAGES, json=body, headers=ANTHROPIC_HEADERS).status_code == 529


def test_drop_gives_a_connection_error(client: httpx.Client, fake: FakeLLMServer) -> None:
    with pytest.raises(httpx.TransportError):
        client.post(CHAT, json=chat("m;drop=1"))
    assert client.post(CHAT, json=chat("m;drop=1")).status_code == 200
    assert [r["outcome"] for r in fake.requests()] == ["dropped", "ok"]


def test_phases_run_in_the_order_written(client: httpx.Client) -> None:
    model = "m;drop=1;status=503x1"
    with pytest.raises(httpx.TransportError):
        client.post(CHAT, json=chat(model))
    assert client.post(CHAT, json=chat(model)).status_code == 503
    assert client.post(CHAT, json=chat(model)).status_code == 200


def test_malformed(client: httpx.Client, fake: FakeLLMServer) -> None:
    response = client.post(CHAT, json=chat("m;malformed=1"))
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert response.text == "<html>oops"
    assert client.post(CHAT, json=chat("m;malformed=1")).json()["choices"]
    assert fake.requests()[0]["outcome"] == "malformed"


def test_nochoices(client: httpx.Client) -> None:
    response = client.post(CHAT, json=chat("m;nochoices=1"))
    assert response.status_code == 200
    assert response.json()["choices"] == []
    assert client.post(CHAT, json=chat("m;nochoices=1")).json()["choices"]
    body = chat("claude;nochoices", max_tokens=10)
    data = client.post(MESSAGES, json=body, headers=ANTHROPIC_HEADERS).json()
    assert data["content"] == []


def test_fail_after_chunks_cuts_the_stream(client: httpx.Client, fake: FakeLLMServer) -> None:
    received: list[str] = []
    with pytest.raises(httpx.TransportError):
        with client.stream("POST", CHAT, json=chat("m;fail_after_chunks=2", stream=True)) as r:
            for line in r.iter_lines():
                if line.startswith("data: "):
                    received.append(line)
    assert len(received) == 2
    assert fake.requests()[0]["outcome"] == "dropped"


def test_require_key_never_echoes_the_key(client: httpx.Client, fake: FakeLLMServer) -> None:
    secret = "sk-secret-1234567890"
    settings = fake.configure(require_key=secret)
    assert secret not in json.dumps(settings)
    for headers in ({}, {"Authorization": "Bearer sk-wrong-key"}):
        response = client.post(CHAT, json=chat("m"), headers=headers)
        assert response.status_code == 401
        assert response.json() == {
            "error": {
                "message": "Incorrect API key provided",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            }
        }
        assert secret not in response.text
        assert "sk-wrong-key" not in response.text
    ok = client.post(CHAT, json=chat("m"), headers={"Authorization": f"Bearer {secret}"})
    assert ok.status_code == 200
    wrong = {**ANTHROPIC_HEADERS, "x-api-key": "nope"}
    body = chat("claude", max_tokens=10)
    assert client.post(MESSAGES, json=body, headers=wrong).status_code == 401
    right = {**ANTHROPIC_HEADERS, "x-api-key": secret}
    assert client.post(MESSAGES, json=body, headers=right).status_code == 200


# ---- timing, concurrency, aborts ------------------------------------------------------------


def test_latency_is_honoured(client: httpx.Client, fake: FakeLLMServer) -> None:
    started = time.monotonic()
    assert client.post(CHAT, json=chat("m;latency=0.2")).status_code == 200
    assert time.monotonic() - started >= 0.2
    fake.configure(latency=0.15)
    started = time.monotonic()
    assert client.post(CHAT, json=chat("m", stream=True)).status_code == 200
    assert time.monotonic() - started >= 0.15
    record = fake.requests()[-1]
    assert record["t_end"] - record["t_start"] >= 0.15


def test_peak_in_flight_counts_concurrent_requests(fake: FakeLLMServer) -> None:
    async def burst() -> list[int]:
        async with httpx.AsyncClient(base_url=fake.base_url, timeout=5, trust_env=False) as http:
            replies = await asyncio.gather(
                *(http.post(CHAT, json=chat("slow;latency=0.4")) for _ in range(5))
            )
        return [reply.status_code for reply in replies]

    assert asyncio.run(burst()) == [200] * 5
    stats = fake.stats()
    assert stats["peak_in_flight"] == 5
    assert stats["in_flight"] == 0
    assert stats["completed"] == 5
    assert stats["per_model"] == {"slow;latency=0.4": 5}


def test_client_timeout_on_hang_counts_as_aborted(fake: FakeLLMServer) -> None:
    with httpx.Client(base_url=fake.base_url, timeout=0.3, trust_env=False) as http:
        with pytest.raises(httpx.ReadTimeout):
            http.post(CHAT, json=chat("m;hang"))
    stats = fake.wait_for_stats(lambda s: s["aborted"] == 1, timeout=5.0)
    assert stats["in_flight"] == 0
    assert [r["outcome"] for r in stats["requests"]] == ["aborted"]


# ---- statistics, reset ----------------------------------------------------------------------


def test_stats_record_requests(client: httpx.Client, fake: FakeLLMServer) -> None:
    client.post(CHAT, json=chat("a"), headers={"X-Trace-Id": "t-1"})
    client.post(MESSAGES, json=chat("b", max_tokens=5), headers=ANTHROPIC_HEADERS)
    stats = fake.stats()
    first, second = stats["requests"]
    assert first["path"] == CHAT
    assert first["model"] == "a"
    assert first["headers"]["x-trace-id"] == "t-1"
    assert first["body"] == chat("a")
    assert first["t_start"] <= first["t_end"]
    assert second["headers"]["anthropic-version"] == "2023-06-01"
    assert stats["per_model"] == {"a": 1, "b": 1}
    assert (stats["completed"], stats["aborted"], stats["in_flight"]) == (2, 0, 0)
    fake.configure(record_bodies=False)
    client.post(CHAT, json=chat("a"))
    assert fake.requests()[-1]["body"] is None


def test_configure_rejects_bad_settings(fake: FakeLLMServer) -> None:
    with pytest.raises(ValueError, match="unknown setting"):
        fake.configure(colour="blue")
    with pytest.raises(ValueError, match="latency"):
        fake.configure(latency=-1)


def test_reset_restores_the_start(client: httpx.Client, fake: FakeLLMServer) -> None:
    model = "m;status=500x1"
    assert client.post(CHAT, json=chat(model)).status_code == 500
    assert client.post(CHAT, json=chat(model)).status_code == 200
    fake.configure(reply="changed", latency=0.01, record_bodies=False)
    fake.reset()
    stats = fake.stats()
    assert stats["requests"] == []
    assert stats["per_model"] == {}
    assert (stats["completed"], stats["aborted"], stats["peak_in_flight"]) == (0, 0, 0)
    assert stats["settings"]["reply"] == DEFAULT_REPLY
    assert stats["settings"]["latency"] == 0.0
    assert stats["settings"]["record_bodies"] is True
    assert client.post(CHAT, json=chat(model)).status_code == 500  # the counter restarted


def test_scenario_builder() -> None:
    assert scenario("m", status="429x2", retry_after=1, hang=True) == (
        "m;status=429x2;retry_after=1;hang"
    )
    assert scenario("m", reply="a;b") == "m;reply=a%3Bb"


# ---- processes ------------------------------------------------------------------------------


def test_start_options_and_process_is_gone_after_exit() -> None:
    with start_server(reply="custom", require_key="k-1") as running:
        pid = running.pid
        assert pid is not None and is_running(pid)
        assert running.openai_url == f"{running.base_url}/v1"
        headers = {"Authorization": "Bearer k-1"}
        response = httpx.post(
            f"{running.openai_url}/chat/completions",
            json=chat("m"),
            headers=headers,
            trust_env=False,
        )
        assert response.json()["choices"][0]["message"]["content"] == "custom"
    assert not is_running(pid)
    assert running.process is None


def test_script_prints_port_and_stops_on_sigterm() -> None:
    with subprocess.Popen(
        [sys.executable, str(SCRIPT), "--port", "0", "--reply", "from the script"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("PORT ")
        port = int(line.split()[1])
        reply = httpx.post(f"http://127.0.0.1:{port}/hook", json={}, trust_env=False)
        assert reply.json()["data"]["reply"] == "from the script"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
        assert process.stdout.read() == ""  # exactly one line


@pytest.mark.parametrize("how", ["stdin-eof", "max-seconds"])
def test_script_stops_by_itself(how: str) -> None:
    command = [
        sys.executable,
        str(SCRIPT),
        "--max-seconds",
        "0.3" if how == "max-seconds" else "60",
    ]
    if how == "stdin-eof":
        command.append("--exit-on-stdin-eof")
    with subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    ) as process:
        assert process.stdout is not None and process.stdin is not None
        assert process.stdout.readline().startswith(b"PORT ")
        if how == "stdin-eof":
            process.stdin.close()
        assert process.wait(timeout=5) == 0
