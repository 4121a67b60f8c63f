"""openai, anthropic and http providers against a real server on 127.0.0.1 (no patched httpx)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import Ran
from fake_llm_server import FakeLLMServer


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(latency=0.0, reply="Hello from the fake server.") as srv:
        yield srv


@pytest.fixture(autouse=True)
def fresh(server: FakeLLMServer) -> None:
    server.reset()


def llm(server: FakeLLMServer, extra: str = "") -> str:
    return f'  llm: {{type: openai, base_url: "{server.openai_url}", api_key: "sk-test"{extra}}}\n'


def by_model(server: FakeLLMServer, model: str) -> list[dict[str, object]]:
    return [r for r in server.requests() if r["model"] == model]


def test_reply_usage_and_cost(run_paradigm: Callable[..., Ran], server: FakeLLMServer) -> None:
    ran = run_paradigm(
        "pattern: independent\ninput: four little words here\nproviders:\n"
        + llm(server, ", price: {input: 2.0, output: 10.0}")
        + "agents:\n  a: {provider: llm, model: m, system: 'be brief', temperature: 0.2, max_tokens: 50}\n"
    )
    a = ran.agent("a")
    assert a.output == "Hello from the fake server."
    assert a.usage is not None
    assert (a.usage.prompt_tokens, a.usage.completion_tokens) == (6, 5)
    assert a.usage.cost_usd == pytest.approx((6 * 2.0 + 5 * 10.0) / 1e6)
    assert ran.report["metrics"]["tokens"] == {
        "prompt_tokens": 6,
        "completion_tokens": 5,
        "total_tokens": 11,
        "cost_usd": pytest.approx(62e-6),
    }
    [request] = server.requests()
    assert request["body"] == {
        "model": "m",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "four little words here"},
        ],
        "temperature": 0.2,
        "max_tokens": 50,
    }
    assert request["headers"]["authorization"] == "Bearer sk-test"


def test_5xx_retried_with_configured_backoff(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer
) -> None:
    ran = run_paradigm(
        "pattern: independent\nproviders:\n"
        + llm(server)
        + "agents:\n  a: {provider: llm, model: 'flaky;status=500x2', retries: 3,"
        " backoff: {initial: 50ms, multiplier: 2, jitter: false}}\n"
    )
    a = ran.agent("a")
    assert [x.status.value for x in a.attempts] == ["failed", "failed", "passed"]
    assert a.attempts[0].error == "provider 'llm': HTTP 500: simulated 500"
    assert [e["wait_s"] for e in ran.events if e["event"] == "retrying"] == [0.05, 0.1]
    starts = [r["t_start"] for r in by_model(server, "flaky;status=500x2")]
    assert len(starts) == 3
    assert starts[1] - starts[0] >= 0.045 and starts[2] - starts[1] >= 0.095


@pytest.mark.parametrize("header", ["0.4", "date:+1"])
def test_retry_after_is_obeyed(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer, header: str
) -> None:
    model = f"busy;status=429x1;retry_after={header}"
    ran = run_paradigm(
        "pattern: independent\nproviders:\n"
        + llm(server)
        + f"agents:\n  a: {{provider: llm, model: '{model}', retries: 1, backoff: {{initial: 1ms}}}}\n"
    )
    assert ran.agent("a").status.value == "passed"
    [wait] = [e["wait_s"] for e in ran.events if e["event"] == "retrying"]
    assert wait >= 0.35 if header == "0.4" else wait > 0.0
    first, second = by_model(server, model)
    assert float(str(second["t_start"])) - float(str(first["t_start"])) >= (
        0.35 if header == "0.4" else 0.0
    )


@pytest.mark.parametrize(
    ("status", "attempts"), [(400, 1), (401, 1), (404, 1), (408, 3), (409, 3), (429, 3), (503, 3)]
)
def test_which_statuses_are_retried(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer, status: int, attempts: int
) -> None:
    ran = run_paradigm(
        "pattern: independent\nproviders:\n"
        + llm(server)
        + f"agents:\n  a: {{provider: llm, model: 's;status={status}', retries: 2, backoff: {{initial: 1ms}}}}\n"
    )
    assert len(ran.agent("a").attempts) == attempts
    assert ran.result.exit_code == 3


def test_concurrency_never_above_the_limit(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer
) -> None:
    agents = "".join(f"  a{i}: {{provider: llm, model: 'slow;latency=0.05'}}\n" for i in range(12))
    ran = run_paradigm(
        "pattern: independent\nproviders:\n"
        + llm(server, ", max_concurrency: 3")
        + "agents:\n"
        + agents
    )
    assert ran.report["status"] == "passed"
    assert server.stats()["peak_in_flight"] == 3
    assert any(e["event"] == "queued" for e in ran.events)


def test_run_wide_max_concurrency(run_paradigm: Callable[..., Ran], server: FakeLLMServer) -> None:
    agents = "".join(f"  a{i}: {{provider: llm, model: 'slow;latency=0.05'}}\n" for i in range(8))
    ran = run_paradigm(
        "pattern: independent\nproviders:\n" + llm(server) + "agents:\n" + agents, max_concurrency=2
    )
    assert ran.report["status"] == "passed"
    assert server.stats()["peak_in_flight"] == 2


def test_rate_limit_spaces_request_starts(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer
) -> None:
    agents = "".join(f"  a{i}: {{provider: llm, model: rated}}\n" for i in range(6))
    ran = run_paradigm(
        "pattern: independent\nproviders:\n"
        + llm(server, ", rate_limit: 10/s")
        + "agents:\n"
        + agents
    )
    assert ran.report["status"] == "passed"
    starts = sorted(float(str(r["t_start"])) for r in by_model(server, "rated"))
    assert len(starts) == 6
    # 10/s: six starts span at least five intervals of 100 ms (less a little network jitter).
    assert starts[-1] - starts[0] >= 0.45


def test_429_shrinks_the_limit_then_it_grows_back(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer
) -> None:
    agents = "".join(
        f"  a{i}: {{provider: llm, model: 'crowd;latency=0.02;status=429x8', retries: 3, backoff: {{initial: 1ms}}}}\n"
        for i in range(24)
    )
    ran = run_paradigm(
        "pattern: independent\nproviders:\n"
        + llm(server, ", max_concurrency: 8")
        + "agents:\n"
        + agents
    )
    assert ran.report["status"] == "passed"
    limits = [e["limit"] for e in ran.events if e["event"] == "limit_changed"]
    assert limits[0] == 4  # one burst of 429s halves the limit once, not to 1
    assert max(limits[1:]) > 4  # successes grow it back


def test_timed_out_request_is_aborted_on_the_server(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer
) -> None:
    ran = run_paradigm(
        "pattern: independent\nproviders:\n"
        + llm(server)
        + "agents:\n  a: {provider: llm, model: 'stuck;hang', timeout: 200ms}\n"
    )
    assert ran.agent("a").status.value == "timeout"
    stats = server.wait_for_stats(lambda s: s["aborted"] == 1, timeout=5.0)
    assert stats["in_flight"] == 0


def test_competitive_loser_request_is_aborted(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer
) -> None:
    ran = run_paradigm(
        "pattern: competitive\nproviders:\n"
        + llm(server)
        + "agents:\n  fast: {provider: llm, model: 'fast;latency=0.05'}\n"
        "  slow: {provider: llm, model: 'slow;latency=30'}\n"
    )
    assert ran.report["winner"] == "fast"
    assert ran.agent("slow").status.value == "cancelled"
    server.wait_for_stats(lambda s: s["aborted"] == 1 and s["in_flight"] == 0, timeout=5.0)


def test_repair_continues_the_conversation(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer
) -> None:
    ran = run_paradigm(
        "pattern: independent\ninput: say hi\nproviders:\n"
        + llm(server)
        + "imperatives:\n  shout: {regex: '^[A-Z !.]+$'}\n"
        "agents:\n  a: {provider: llm, model: polite, retries: 1, backoff: {initial: 1ms}, imperatives: [shout]}\n"
    )
    assert [x.status.value for x in ran.agent("a").attempts] == ["violated", "violated"]
    first, second = by_model(server, "polite")
    assert first["body"]["messages"] == [{"role": "user", "content": "say hi"}]  # type: ignore[index]
    assert second["body"]["messages"] == [  # type: ignore[index]
        {"role": "user", "content": "say hi"},
        {"role": "assistant", "content": "Hello from the fake server."},
        {
            "role": "user",
            "content": "Your previous answer did not meet these requirements:\n"
            "- shout: does not match '^[A-Z !.]+$'\nWrite a new answer that meets all of them.",
        },
    ]
    assert ran.result.exit_code == 1


def test_streaming_events_and_imperatives_on_the_whole_text(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer
) -> None:
    ran = run_paradigm(
        "pattern: independent\nproviders:\n"
        + llm(server, ", stream: true")
        + "imperatives:\n  ten_words: {regex: '^(\\S+ ?){10}$'}\n"
        "agents:\n  a: {provider: llm, model: 'w;words=10', imperatives: [ten_words]}\n"
    )
    a = ran.agent("a")
    assert a.status.value == "passed"
    deltas = [e for e in ran.events if e["event"] == "streamed"]
    assert len(deltas) == 10
    assert "".join(e["delta"] for e in deltas) == a.output
    assert deltas[-1]["chars"] == len(a.output or "")
    assert a.usage is not None and a.usage.completion_tokens == 10
    assert server.requests()[0]["body"]["stream_options"] == {"include_usage": True}  # type: ignore[index]


def test_stream_cut_short_is_a_failure(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer
) -> None:
    ran = run_paradigm(
        "pattern: independent\nproviders:\n"
        + llm(server, ", stream: true")
        + "agents:\n  a: {provider: llm, model: 'w;words=10;fail_after_chunks=3'}\n"
    )
    a = ran.agent("a")
    assert a.status.value == "failed"
    assert a.error is not None and a.error.startswith("provider 'llm': ")


def test_timeout_covers_the_whole_stream(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer
) -> None:
    ran = run_paradigm(
        "pattern: independent\nproviders:\n"
        + llm(server, ", stream: true")
        + "agents:\n  a: {provider: llm, model: 'w;words=50;stream_delay=0.05', timeout: 300ms}\n"
    )
    a = ran.agent("a")
    assert a.status.value == "timeout"
    assert any(e["event"] == "streamed" for e in ran.events)  # it had started streaming


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("bad;malformed=1", "provider 'llm': reply is not JSON (HTTP 200): '<html>oops'"),
        ("bad;nochoices=1", "provider 'llm': reply has no choices"),
    ],
)
def test_malformed_replies_name_the_provider(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer, model: str, message: str
) -> None:
    ran = run_paradigm(
        "pattern: independent\nproviders:\n"
        + llm(server)
        + f"agents:\n  a: {{provider: llm, model: '{model}'}}\n"
    )
    assert ran.agent("a").error == message


def test_dropped_connection_is_retried(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer
) -> None:
    ran = run_paradigm(
        "pattern: independent\nproviders:\n"
        + llm(server)
        + "agents:\n  a: {provider: llm, model: 'd;drop=1', retries: 1, backoff: {initial: 1ms}}\n"
    )
    a = ran.agent("a")
    assert [x.status.value for x in a.attempts] == ["failed", "passed"]
    assert (a.attempts[0].error or "").startswith("provider 'llm': request failed: ")


def test_unreachable_host(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        "pattern: independent\nproviders:\n  llm: {type: openai, base_url: 'http://127.0.0.1:9/v1'}\n"
        "agents:\n  a: {provider: llm, model: m}\n"
    )
    a = ran.agent("a")
    assert a.status.value == "failed"
    assert (a.error or "").startswith("provider 'llm': request failed: ")
    assert ran.result.exit_code == 3


def test_anthropic_messages(run_paradigm: Callable[..., Ran], server: FakeLLMServer) -> None:
    ran = run_paradigm(
        f"pattern: independent\ninput: hi\nproviders:\n  claude: {{type: anthropic, base_url: '{server.base_url}', api_key: ak-1}}\n"
        "agents:\n  a: {provider: claude, model: c, system: 'be kind'}\n"
    )
    a = ran.agent("a")
    assert a.output == "Hello from the fake server."
    assert a.usage is not None and a.usage.completion_tokens == 5
    [request] = server.requests()
    assert request["body"] == {
        "model": "c",
        "max_tokens": 1024,
        "system": "be kind",
        "messages": [{"role": "user", "content": "hi"}],
    }
    headers = request["headers"]
    assert isinstance(headers, dict)
    assert headers["x-api-key"] == "ak-1" and headers["anthropic-version"] == "2023-06-01"


def test_http_provider_body_template_and_output_path(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer
) -> None:
    ran = run_paradigm(
        "pattern: independent\ninput: where is my order?\nproviders:\n"
        f"  bot: {{type: http, url: '{server.hook_url}', headers: {{X-Team: qa}}, output_path: echo.question}}\n"
        "agents:\n  a: {provider: bot, body: {question: '{{ input }}', customer: '{{ agent }}'}}\n"
    )
    assert ran.agent("a").output == "where is my order?"
    [request] = server.requests()
    assert request["body"] == {"question": "where is my order?", "customer": "a"}
    assert request["headers"]["x-team"] == "qa"  # type: ignore[index]


def test_mock_swaps_network_providers_offline(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        "pattern: independent\ninput: hi\nproviders:\n"
        "  llm: {type: openai, base_url: 'http://127.0.0.1:9/v1', api_key: x}\n"
        "agents:\n  echo: {provider: llm, model: m}\n"
        "  stand_in: {provider: llm, model: m, mock: {output: 'canned {{ input }}', latency: 10ms}}\n",
        mock=True,
    )
    assert ran.agent("echo").output == "hi"
    assert ran.agent("stand_in").output == "canned hi"


def test_secrets_never_reach_any_output(
    write_paradigm: Callable[[str], Path],
    tmp_path: Path,
    server: FakeLLMServer,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    from agentrun.cli import main

    secret = "sk-live-DO-NOT-PRINT-0123456789"
    monkeypatch.setenv("TEST_LLM_KEY", secret)
    server.configure(require_key=secret, reply="echo")  # the reply quotes the prompt
    path = write_paradigm(
        "pattern: independent\nproviders:\n"
        f"  llm: {{type: openai, base_url: '{server.openai_url}', api_key: '${{TEST_LLM_KEY}}'}}\n"
        "  wrong: {type: openai, base_url: '" + server.openai_url + "', api_key: 'wrong-key'}\n"
        "agents:\n  good: {provider: llm, model: m, prompt: 'repeat ${TEST_LLM_KEY}'}\n"
        "  bad: {provider: wrong, model: m}\n"
    )
    report, events = tmp_path / "r.json", tmp_path / "e.jsonl"
    with pytest.raises(SystemExit):
        main(
            [
                "run",
                str(path),
                "--display",
                "plain",
                "--report",
                str(report),
                "--events",
                str(events),
            ]
        )
    out, err = capfd.readouterr()
    assert server.requests()[0]["headers"]["authorization"] == f"Bearer {secret}"  # type: ignore[index]
    for text in (out, err, report.read_text(), events.read_text()):
        assert secret not in text
    assert "repeat ***" in report.read_text()  # the echoed prompt was masked
    assert "HTTP 401: Incorrect API key provided" in report.read_text()


def test_proxy_from_environment_once_per_host(monkeypatch: pytest.MonkeyPatch) -> None:
    from agentrun.providers.http_common import HttpSession
    from agentrun.providers.openai import OpenAIClient

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    session = HttpSession(None, OpenAIClient)
    assert session.proxy_for("https://api.example.com/v1/chat") == "http://proxy.internal:3128"
    assert session.proxy_for("https://127.0.0.1:8443/v1") is None
    assert session.proxy_for("http://api.example.com/v1") is None  # no HTTP_PROXY set
    monkeypatch.setenv("HTTPS_PROXY", "http://other:1")
    # looked up once: the session keeps what it found for the run
    assert session.proxy_for("https://api.example.com/other") == "http://proxy.internal:3128"


@pytest.mark.parametrize(
    ("header", "extra", "said"),
    [
        ("inf", "", "the server asked to wait forever (Retry-After), more than the 60s"),
        ("3600", "", "the server asked to wait 3600s (Retry-After), more than the 60s"),
        ("5", ", total_timeout: 2s", "the server asked to wait 5s (Retry-After), beyond the"),
    ],
)
def test_retry_after_beyond_the_cap_or_budget_fails_fast(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer, header: str, extra: str, said: str
) -> None:
    model = f"busy;status=429x1;retry_after={header}"
    ran = run_paradigm(
        "pattern: independent\nproviders:\n"
        + llm(server)
        + f"agents:\n  a: {{provider: llm, model: '{model}', retries: 3{extra}}}\n"
    )
    a = ran.agent("a")
    assert a.status.value == "failed"
    assert len(a.attempts) == 1
    assert said in (a.error or "")
    assert not [e for e in ran.events if e["event"] == "retrying"]
    assert ran.result.duration_s < 1.5
