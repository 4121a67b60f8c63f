"""The python provider: sync and async functions, context, results and failures."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import helpers_funcs
import pytest
from helpers_providers import make_options, make_request, run_once

from agentrun.errors import CallableFailed, ProviderError, UsageError
from agentrun.providers.function import PythonClient

HERE = Path(__file__).parent


@pytest.fixture(autouse=True)
def helpers_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Put this folder on sys.path, as the runner does with the paradigm's folder."""
    monkeypatch.syspath_prepend(str(HERE))


def client(name: str, module: str = "helpers_funcs") -> PythonClient:
    return PythonClient(make_options({"callable": f"{module}:{name}"}))


def test_a_sync_function_gets_the_prompt() -> None:
    assert run_once(client("shout"), make_request("quiet")).text == "QUIET"


def test_an_async_function_is_awaited() -> None:
    assert run_once(client("async_echo"), make_request("hi")).text == "async:hi"


def test_an_object_with_an_async_call_is_awaited() -> None:
    assert run_once(client("async_object"), make_request("hi")).text == "object:hi"


def test_a_second_parameter_receives_the_context() -> None:
    request = make_request(
        "topic",
        attempt=2,
        agent="researcher",
        context={"input": "the input", "vars": {"k": "v"}, "previous": ["p1"]},
    )
    reply = json.loads(run_once(client("with_context"), request).text)
    assert reply == {
        "prompt": "topic",
        "input": "the input",
        "vars": {"k": "v", "mutated": True},
        "previous": ["p1"],
        "agent": "researcher",
        "attempt": 2,
    }
    assert request.context["vars"] == {"k": "v"}  # the function changed only its copy


def test_an_async_function_with_context() -> None:
    request = make_request("go", attempt=3, agent="bot")
    assert run_once(client("async_with_context"), request).text == "bot#3:go"


def test_a_defaulted_second_parameter_also_receives_the_context() -> None:
    # Two positional parameters: the contract says it then gets the context mapping.
    assert run_once(client("with_default"), make_request("x")).text == "x:dict"


def test_varargs_receive_the_context() -> None:
    assert run_once(client("varargs"), make_request()).text == "2"


def test_non_string_results_become_json() -> None:
    assert run_once(client("returns_list"), make_request("a")).text == '["a", "é"]'
    assert run_once(client("returns_date"), make_request()).text == '{"when": "2024-01-02"}'


def test_none_is_a_failure() -> None:
    with pytest.raises(ProviderError, match="returned None"):
        run_once(client("returns_none"), make_request())


@pytest.mark.parametrize(
    ("name", "message"),
    [("raises", "ValueError: bad prompt 'p'"), ("async_raises", "KeyError: 'missing'")],
)
def test_an_exception_is_a_retryable_callable_failure(name: str, message: str) -> None:
    with pytest.raises(CallableFailed) as caught:
        run_once(client(name), make_request("p"))
    assert str(caught.value) == message
    assert caught.value.retryable


def test_an_agentrun_error_from_the_function_is_kept() -> None:
    with pytest.raises(ProviderError, match="quota exhausted") as caught:
        run_once(client("raises_final"), make_request())
    assert not isinstance(caught.value, CallableFailed)
    assert caught.value.retryable is False


@pytest.mark.parametrize(
    ("reference", "detail"),
    [
        ("agentrun_no_such_module:fn", "No module named 'agentrun_no_such_module'"),
        ("helpers_funcs:absent", "has no attribute 'absent'"),
        ("helpers_funcs:not_callable", "is not callable"),
    ],
)
def test_an_import_error_is_not_retryable(reference: str, detail: str) -> None:
    module, _, name = reference.partition(":")
    with pytest.raises(ProviderError) as caught:
        run_once(client(name, module), make_request())
    assert str(caught.value).startswith(f"cannot import {reference!r}: ")
    assert detail in str(caught.value)
    assert caught.value.retryable is False


def test_the_import_happens_on_the_first_call_not_before() -> None:
    lazy = client("absent", "agentrun_no_such_module")  # building the client does not import
    with pytest.raises(ProviderError):
        run_once(lazy, make_request())


def test_the_function_is_resolved_once() -> None:
    shouting = client("shout")
    assert run_once(shouting, make_request("a")).text == "A"
    assert run_once(shouting, make_request("b")).text == "B"


def test_a_missing_callable_field_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="callable"):
        PythonClient(make_options({}))


def test_a_blocking_function_is_abandoned_when_the_timeout_fires() -> None:
    async def attempt() -> None:
        async with asyncio.timeout(0.1):
            await client("block_forever").complete(make_request())

    started = time.monotonic()
    try:
        with pytest.raises(TimeoutError):
            asyncio.run(attempt())
    finally:
        helpers_funcs.RELEASE.set()  # let the abandoned thread finish
    assert time.monotonic() - started < 10  # hang guard only


def test_a_blocking_function_does_not_block_the_loop() -> None:
    async def race() -> str:
        async with asyncio.TaskGroup() as group:
            blocked = group.create_task(client("block_forever").complete(make_request()))
            quick = group.create_task(client("shout").complete(make_request("free")))
            text = (await quick).text
            blocked.cancel()
        return text

    try:
        assert asyncio.run(race()) == "FREE"
    finally:
        helpers_funcs.RELEASE.set()


def test_a_hanging_async_function_is_cancelled() -> None:
    async def attempt() -> None:
        async with asyncio.timeout(0.05):
            await client("async_hang").complete(make_request())

    with pytest.raises(TimeoutError):
        asyncio.run(attempt())


@pytest.mark.parametrize("name", ["returns_generator", "returns_async_generator"])
def test_a_generator_is_a_failure_not_its_repr(name: str) -> None:
    with pytest.raises(ProviderError) as caught:
        run_once(client(name), make_request("two words"))
    assert str(caught.value) == (
        f"callable 'helpers_funcs:{name}' returned a generator; return a string"
        " (for instance ''.join(...) of its items)"
    )
