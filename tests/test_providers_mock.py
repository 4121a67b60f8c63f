"""The mock provider and the provider registry."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from helpers_providers import make_options, make_request, run_once

from agentrun.errors import ProviderError, TemplateError, UsageError
from agentrun.loading.spec import ProviderEntry
from agentrun.providers import open_session
from agentrun.providers.mock import MockClient


def mock(**fields: Any) -> MockClient:
    return MockClient(make_options(fields))


def failure(client: MockClient, attempt: int) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        run_once(client, make_request(attempt=attempt))
    return caught.value


# --- outputs ---------------------------------------------------------------


def test_output_is_rendered_with_the_context() -> None:
    client = mock(output="{{ input }} for {{ vars.audience }} (try {{ attempt }})")
    request = make_request("quantum", attempt=2, context={"vars": {"audience": "engineers"}})
    assert run_once(client, request).text == "quantum for engineers (try 2)"


def test_plain_output_is_returned_as_is() -> None:
    assert run_once(mock(output="fixed answer"), make_request("x")).text == "fixed answer"


def test_outputs_follow_the_attempt_and_the_last_repeats() -> None:
    client = mock(outputs=["first", "second {{ attempt }}"])
    texts = [run_once(client, make_request(attempt=n)).text for n in (1, 2, 3, 7)]
    assert texts == ["first", "second 2", "second 3", "second 7"]


def test_without_output_the_prompt_is_echoed() -> None:
    assert run_once(mock(), make_request("echo me")).text == "echo me"


def test_previous_outputs_reach_the_template() -> None:
    client = mock(output="{{ previous | join(' + ') }}")
    request = make_request(context={"previous": ["a", "b"]})
    assert run_once(client, request).text == "a + b"


def test_output_and_outputs_together_are_refused() -> None:
    with pytest.raises(UsageError, match="either output or outputs"):
        mock(output="a", outputs=["b"])


def test_a_template_syntax_error_shows_when_the_client_is_built() -> None:
    with pytest.raises(TemplateError, match="tester"):
        mock(output="{{ input ")


def test_an_undefined_name_fails_the_attempt_without_retry() -> None:
    with pytest.raises(TemplateError) as caught:
        run_once(mock(output="{{ nowhere }}"), make_request())
    assert caught.value.retryable is False


# --- failures --------------------------------------------------------------


def test_fail_times_fails_the_first_attempts_then_answers() -> None:
    client = mock(fail_times=2, output="ok")
    first, second = failure(client, 1), failure(client, 2)
    assert str(first) == "mock failure on attempt 1 of 2"
    assert str(second) == "mock failure on attempt 2 of 2"
    assert first.retryable and second.retryable
    assert run_once(client, make_request(attempt=3)).text == "ok"


def test_fail_times_uses_the_error_message() -> None:
    client = mock(fail_times=1, error="service unavailable")
    assert str(failure(client, 1)) == "service unavailable"
    assert run_once(client, make_request("back", attempt=2)).text == "back"


def test_error_alone_fails_every_attempt() -> None:
    client = mock(error="always down", output="never")
    for attempt in (1, 2, 10, 100):
        assert str(failure(client, attempt)) == "always down"


def test_fail_times_zero_never_fails() -> None:
    assert run_once(mock(fail_times=0, error="unused"), make_request("fine")).text == "fine"


# --- time ------------------------------------------------------------------


def test_latency_is_awaited() -> None:
    started = time.monotonic()
    assert run_once(mock(latency=0.05, output="late"), make_request()).text == "late"
    assert time.monotonic() - started >= 0.04  # the loop may wake a clock tick early


def test_latency_accepts_a_duration_string() -> None:
    client = mock(latency="10ms", output="soon")
    assert run_once(client, make_request()).text == "soon"


def test_an_invalid_latency_is_refused() -> None:
    with pytest.raises(UsageError, match="latency"):
        mock(latency="soon")


async def _within(seconds: float, client: MockClient, attempt: int = 1) -> None:
    async with asyncio.timeout(seconds):
        await client.complete(make_request(attempt=attempt))


@pytest.mark.parametrize(
    "fields",
    [
        {"latency": 1000.0},
        {"latency": 1000.0, "fail_times": 1},
        {"hang": True},
        {"hang": True, "output": "never"},
        {"latency": "none"},
    ],
)
def test_a_long_wait_ends_as_soon_as_it_is_cancelled(fields: dict[str, Any]) -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        asyncio.run(_within(0.05, mock(**fields)))
    assert time.monotonic() - started < 10  # hang guard only


def test_latency_comes_before_a_failure() -> None:
    # The failure is configured, yet the attempt is still waiting when the timeout fires.
    with pytest.raises(TimeoutError):
        asyncio.run(_within(0.05, mock(latency=1000.0, error="boom")))


def test_hang_false_answers() -> None:
    assert run_once(mock(hang=False, output="here"), make_request()).text == "here"


def test_many_mocks_run_concurrently() -> None:
    clients = [mock(output="{{ input }}-" + str(n)) for n in range(200)]

    async def run_all() -> list[str]:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(c.complete(make_request("x"))) for c in clients]
        return [task.result().text for task in tasks]

    assert asyncio.run(run_all()) == [f"x-{n}" for n in range(200)]


# --- opening a session ------------------------------------------------------------


def test_open_session_builds_working_clients() -> None:
    session = open_session("mock", ProviderEntry(type="mock"))
    client = session.client(make_options({"output": "from session"}))
    assert run_once(client, make_request()).text == "from session"
    asyncio.run(session.aclose())


def test_open_session_of_an_unknown_type_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"unknown provider type 'nope' \(known: .*mock"):
        open_session("nope", None)
