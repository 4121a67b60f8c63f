"""Client-side batching of http and mock attempts, against the real local server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import Ran
from fake_llm_server import FakeLLMServer


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(latency=0.0) as srv:
        yield srv


@pytest.fixture(autouse=True)
def fresh(server: FakeLLMServer) -> None:
    server.reset()


def paradigm(url: str, agents: int, batch: str, extra: str = "", agent: str = "") -> str:
    lines = [
        "pattern: independent",
        "providers:",
        f"  svc: {{type: http, url: '{url}'{extra},",
        f"        batch: {{{batch}, body: '{{\"texts\": {{{{ prompts | tojson }}}}}}',"
        " output_path: labels}}",
        "agents:",
    ]
    lines += [f"  a{i}: {{provider: svc, prompt: 'item {i}'{agent}}}" for i in range(agents)]
    return "\n".join(lines) + "\n"


def batches(server: FakeLLMServer) -> list[list[str]]:
    return [r["body"]["texts"] for r in server.requests() if r["path"].startswith("/batch")]


def flushes(ran: Ran) -> list[dict[str, Any]]:
    return [e for e in ran.events if e["event"] == "batch_flushed"]


def test_flush_on_size_sends_one_request_per_full_batch(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer
) -> None:
    ran = run_paradigm(paradigm(server.batch_url, 6, "max_size: 3, max_wait: 10s"))
    assert ran.result.exit_code == 0
    sent = batches(server)
    assert sorted(len(texts) for texts in sent) == [3, 3]
    assert sorted(t for texts in sent for t in texts) == [f"item {i}" for i in range(6)]
    assert [f["reason"] for f in flushes(ran)] == ["size", "size"]


def test_flush_on_the_wait_window(run_paradigm: Callable[..., Ran], server: FakeLLMServer) -> None:
    ran = run_paradigm(paradigm(server.batch_url, 2, "max_size: 32, max_wait: 50ms"))
    assert ran.result.exit_code == 0
    assert len(batches(server)) == 1
    [flush] = flushes(ran)
    assert flush["reason"] == "wait" and flush["size"] == 2
    assert flush["oldest_wait_ms"] >= 45  # the window counts from the oldest item


def test_flush_on_the_same_tick(run_paradigm: Callable[..., Ran], server: FakeLLMServer) -> None:
    ran = run_paradigm(paradigm(server.batch_url, 5, "max_size: 32, max_wait: 0"))
    assert ran.result.exit_code == 0
    assert len(batches(server)) == 1
    [flush] = flushes(ran)
    assert (flush["reason"], flush["size"]) == ("tick", 5)
    [finished] = [e for e in ran.events if e["event"] == "batch_finished"]
    assert finished["status"] == "passed"


def test_outputs_keep_their_positions(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer
) -> None:
    ran = run_paradigm(paradigm(server.batch_url, 8, "max_size: 8, max_wait: 1s"))
    [texts] = batches(server)
    assert texts == [f"item {i}" for i in range(8)]  # enqueue order
    for i in range(8):
        assert ran.agent(f"a{i}").output == f"item {i}"


def test_a_reply_of_the_wrong_length_fails_the_whole_batch(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer
) -> None:
    ran = run_paradigm(paradigm(f"{server.batch_url}/short", 3, "max_size: 3, max_wait: 1s"))
    assert ran.result.exit_code == 3
    for i in range(3):
        error = ran.agent(f"a{i}").error or ""
        assert "batch reply had 2 items for 3 inputs" in error


def test_an_item_error_fails_only_its_item(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer
) -> None:
    text = paradigm(f"{server.batch_url}/errors", 3, "max_size: 3, max_wait: 1s")
    text = text.replace("output_path: labels", "output_path: labels, item_error_path: error")
    text = text.replace("'item 1'", "'bad 1'")
    ran = run_paradigm(text)
    assert "bad item" in (ran.agent("a1").error or "")
    assert ran.agent("a0").status == "passed" and ran.agent("a2").status == "passed"
    assert ran.agent("a0").output == '{"label": "item 0", "error": null}'


def test_whole_batch_errors_are_retried_per_agent(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer
) -> None:
    url = f"{server.batch_url}/m;status=503x1"
    ran = run_paradigm(paradigm(url, 3, "max_size: 3, max_wait: 1s", agent=", retries: 1"))
    assert ran.result.exit_code == 0
    assert [len(texts) for texts in batches(server)] == [3, 3]  # the retries batched again
    assert all(len(ran.agent(f"a{i}").attempts) == 2 for i in range(3))


def test_per_item_timeout_counts_queue_time_and_aborts_the_request(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer
) -> None:
    url = f"{server.batch_url}/m;hang"
    ran = run_paradigm(paradigm(url, 2, "max_size: 2, max_wait: 1s", agent=", timeout: 300ms"))
    assert all(ran.agent(f"a{i}").status == "timeout" for i in range(2))
    assert server.stats()["aborted"] == 1  # every item gone: the request went too


def test_no_batch_sends_every_item_alone(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer
) -> None:
    ran = run_paradigm(paradigm(server.batch_url, 3, "max_size: 32, max_wait: 1s"), no_batch=True)
    assert ran.result.exit_code == 0
    assert sorted(batches(server)) == [["item 0"], ["item 1"], ["item 2"]]


def test_rate_limit_counts_requests_not_items(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer
) -> None:
    # 40 items at 2 requests a second would take about 20 s unbatched.
    text = paradigm(
        server.batch_url, 40, "max_size: 20, max_wait: 10s", ", rate_limit: 2/s, max_concurrency: 1"
    )
    ran = run_paradigm(text)
    assert ran.result.exit_code == 0
    assert len(batches(server)) == 2
    assert server.stats()["peak_in_flight"] == 1
    assert ran.result.duration_s < 3


def test_mock_batches_apply_latency_once_and_answer_each_item(
    run_paradigm: Callable[..., Ran],
) -> None:
    agents = "\n".join(f"  a{i}: {{provider: m, prompt: 'p{i}'}}" for i in range(10))
    ran = run_paradigm(
        "pattern: independent\nproviders:\n"
        "  m: {type: mock, latency: 300ms, batch: {max_size: 10, max_wait: 1s}}\n"
        f"agents:\n{agents}\n  bad: {{provider: m, error: boom}}\n"
    )
    assert [f["size"] for f in flushes(ran)] == [10, 1]
    assert ran.agent("a3").output == "p3"
    assert ran.agent("bad").error == "boom"


def test_mock_keeps_the_batches_of_http_providers(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer
) -> None:
    ran = run_paradigm(paradigm(server.batch_url, 4, "max_size: 4, max_wait: 1s"), mock=True)
    assert ran.result.exit_code == 0
    assert server.requests() == []
    assert [f["size"] for f in flushes(ran)] == [4]
