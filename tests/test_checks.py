"""Imperatives compiled into checks: verdicts, messages, timeouts and the registry."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from typing import Any

import pytest

from agentrun.checks import Check, CheckInput, compile_check
from agentrun.checks.judge import read_verdict
from agentrun.graph.runtime import Imperative
from agentrun.loading.spec import ImperativeSpec
from agentrun.results import CheckResult

# Check functions used by `python` imperatives live in this module; they are
# referenced through __name__ so the reference works however pytest imports it.
HERE = __name__
_RELEASE = threading.Event()


def is_yes(output: str) -> bool:
    return output.strip() == "yes"


def with_reason(output: str) -> tuple[bool, str]:
    return ("ok" in output, f"expected 'ok' in a {len(output)}-character output")


def as_list(output: str) -> list[object]:
    return [False, "listed reason"]


def with_context(output: str, context: Mapping[str, Any]) -> tuple[bool, str]:
    seen = f"{context['agent']}|{context['input']}|{context['vars']}|{context['previous']}"
    return (False, seen + f"|{context['duration_s']}")


async def async_is_yes(output: str) -> bool:
    await asyncio.sleep(0)
    return output == "yes"


def returns_number(output: str) -> int:
    return 3


def returns_none(output: str) -> None:
    return None


def raises(output: str) -> bool:
    raise ValueError("no luck")


def raises_timeout(output: str) -> bool:
    raise TimeoutError("socket timed out")


def blocks(output: str) -> bool:
    _RELEASE.wait(30)  # bounded, so the abandoned thread ends soon after the test
    return True


async def sleeps_forever(output: str) -> bool:
    await asyncio.Event().wait()
    return True


class CallableObject:
    async def __call__(self, output: str) -> bool:
        return output == "yes"


callable_object = CallableObject()


def imperative(**fields: Any) -> Imperative:
    return Imperative.from_spec("imperative", ImperativeSpec.model_validate(fields))


def check_input(output: str, duration_s: float = 0.0, **context: Any) -> CheckInput:
    return CheckInput(
        output=output, duration_s=duration_s, agent="writer", instance="writer", context=context
    )


def run(check: Check, output: str = "", duration_s: float = 0.0, **context: Any) -> CheckResult:
    async def bounded() -> CheckResult:
        # A generous bound: a hung check fails the test instead of hanging the suite.
        async with asyncio.timeout(10):
            return await check(check_input(output, duration_s, **context))

    return asyncio.run(bounded())


def verdict(fields: dict[str, Any], output: str, duration_s: float = 0.0) -> CheckResult:
    return run(compile_check("rule", imperative(**fields)), output, duration_s)


# --- text and structured checks ------------------------------------------------------

PASSING = [
    ({"contains": "http"}, "see http://x"),
    ({"contains": ["http", "doi:"]}, "http://x and doi:10.1"),
    ({"contains": []}, "anything"),
    ({"contains": "HTTP", "case_sensitive": False}, "see http://x"),
    ({"contains": "straße", "case_sensitive": False}, "STRASSE"),
    ({"contains_any": ["http", "doi:"]}, "doi:10.1"),
    ({"contains_any": ["HTTP"], "case_sensitive": False}, "Http"),
    ({"not_contains": "password"}, "nothing to see"),
    ({"not_contains": ["a1", "b2"]}, "c3"),
    ({"not_contains": "Password"}, "password"),
    ({"regex": r"^\d+$"}, "123"),
    ({"regex": r"\d{3}"}, "abc 123 def"),
    ({"regex": "^yes", "case_sensitive": False}, "YES sir"),
    ({"not_regex": "sk-[A-Za-z0-9]{20,}"}, "no keys here"),
    ({"not_regex": "secret"}, "SECRET"),
    ({"equals": "yes"}, "  yes\n"),
    ({"equals": "Yes", "case_sensitive": False}, "YES"),
    ({"min_length": 3}, "abc"),
    ({"min_length": 0}, ""),
    ({"max_length": 3}, "abc"),
    ({"json": True}, ' {"a": [1, 2]} \n'),
    ({"json": True}, "null"),
    ({"json_schema": {"type": "object", "required": ["age"]}}, '{"age": 3}'),
    ({"json_schema": {"type": "array", "items": {"type": "integer"}}}, "[1, 2]"),
    ({"max_latency": "1s"}, "x"),
]


@pytest.mark.parametrize(("fields", "output"), PASSING)
def test_passes(fields: dict[str, Any], output: str) -> None:
    result = verdict(fields, output, duration_s=0.5)
    assert result == CheckResult("rule", True, "", "error")


FAILING = [
    ({"contains": ["http", "doi:"]}, "nothing", "missing 'http', 'doi:'"),
    ({"contains": ["http", "doi:"]}, "http only", "missing 'doi:'"),
    ({"contains": "HTTP"}, "http", "missing 'HTTP'"),
    ({"contains_any": ["http", "doi:"]}, "nothing", "contains none of 'http', 'doi:'"),
    ({"contains_any": ["HTTP"]}, "http", "contains none of 'HTTP'"),
    ({"not_contains": "password"}, "my password is", "contains forbidden 'password'"),
    ({"not_contains": ["a1", "b2", "c3"]}, "c3 a1", "contains forbidden 'a1', 'c3'"),
    (
        {"not_contains": "PASSWORD", "case_sensitive": False},
        "password",
        "contains forbidden 'PASSWORD'",
    ),
    ({"regex": r"^\d+$"}, "12a", r"does not match '^\d+$'"),
    ({"regex": "^yes"}, "YES", "does not match '^yes'"),
    (
        {"not_regex": "secret", "case_sensitive": False},
        "SECRET",
        "matches forbidden pattern 'secret'",
    ),
    ({"equals": "yes"}, "no", "expected 'yes', got 'no'"),
    ({"equals": "yes"}, "YES", "expected 'yes', got 'YES'"),
    ({"equals": "yes"}, "x" * 100, f"expected 'yes', got '{'x' * 59}…'"),
    ({"equals": "a"}, "line\nbreak", "expected 'a', got 'line\\nbreak'"),
    ({"min_length": 20}, "x" * 12, "12 characters, at least 20 required"),
    ({"min_length": 2}, "x", "1 character, at least 2 required"),
    ({"max_length": 5}, "x" * 7, "7 characters, at most 5 allowed"),
    ({"json": True}, "", "not valid JSON: Expecting value at line 1 column 1"),
    ({"json": True}, '{"a" 1}', "not valid JSON: Expecting ':' delimiter at line 1 column 6"),
    ({"json": True}, "[" * 100_000, "not valid JSON: nested too deeply"),
    (
        {"json_schema": {"type": "object", "required": ["age"]}},
        "{}",
        "JSON Schema: 'age' is a required property (at $)",
    ),
    (
        {"json_schema": {"type": "object", "properties": {"tags": {"items": {"type": "string"}}}}},
        '{"tags": ["a", 2]}',
        "JSON Schema: 2 is not of type 'string' (at $.tags[1])",
    ),
    (
        {"json_schema": {"type": "object"}},
        "not json",
        "not valid JSON: Expecting value at line 1 column 1",
    ),
    ({"max_latency": "1s"}, "x", "took 2.3s, at most 1s allowed"),
    ({"max_latency": "250ms"}, "x", "took 2.3s, at most 250ms allowed"),
]


@pytest.mark.parametrize(("fields", "output", "message"), FAILING)
def test_fails_with_message(fields: dict[str, Any], output: str, message: str) -> None:
    result = verdict(fields, output, duration_s=2.3)
    assert result == CheckResult("rule", False, message, "error")


def test_json_error_names_line_and_column() -> None:
    assert verdict({"json": True}, '{\n  "a": 1,\n}').message.endswith("at line 3 column 1")


def test_forbidden_match_is_not_echoed() -> None:
    secret = "sk-" + "A1b2C3d4" * 4
    result = verdict({"not_regex": "sk-[A-Za-z0-9]{20,}"}, f"here: {secret} ok")
    assert not result.passed
    assert result.message == "matches forbidden pattern 'sk-[A-Za-z0-9]{20,}'"
    assert "A1b2" not in result.message


def test_json_schema_defaults_to_draft_2020_12() -> None:
    schema = {"type": "array", "prefixItems": [{"type": "integer"}]}
    result = verdict({"json_schema": schema}, '["a"]')
    assert result.message == "JSON Schema: 'a' is not of type 'integer' (at $[0])"


def test_json_schema_follows_its_dollar_schema() -> None:
    # In draft 7 a list under `items` validates by position; 2020-12 has no such form.
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", "items": [{"type": "integer"}]}
    assert verdict({"json_schema": schema}, "[1]").passed
    result = verdict({"json_schema": schema}, '["a"]')
    assert result.message == "JSON Schema: 'a' is not of type 'integer' (at $[0])"


def test_json_schema_message_is_bounded() -> None:
    result = verdict({"json_schema": {"type": "string"}}, "[" + "1, " * 500 + "1]")
    assert not result.passed
    assert len(result.message) < 220


def test_long_needles_are_shortened() -> None:
    result = verdict({"contains": "n" * 200}, "x")
    assert result.message == f"missing '{'n' * 59}…'"


def test_a_compiled_check_is_reused_across_outputs() -> None:
    check = compile_check("short", imperative(max_length=3, severity="warning"))
    assert check.name == "short"
    assert check.severity == "warning"
    assert run(check, "abc").passed
    assert run(check, "abcd") == CheckResult(
        "short", False, "4 characters, at most 3 allowed", "warning"
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"contains": "y"},
        {"not_regex": "x"},
        {"json": True},
        {"max_latency": "1s"},
        {"python": f"{HERE}:is_yes"},
    ],
)
def test_severity_warning_is_kept(fields: dict[str, Any]) -> None:
    result = verdict({**fields, "severity": "warning"}, "x", duration_s=5)
    assert not result.passed
    assert result.severity == "warning"
    assert not result.is_violation


# --- python checks -----------------------------------------------------------------


def python_check(function: str, timeout: float | str = 10) -> Check:
    return compile_check("fn", imperative(python=f"{HERE}:{function}", timeout=timeout))


@pytest.mark.parametrize(
    ("function", "output", "passed", "message"),
    [
        ("is_yes", "yes", True, ""),
        ("is_yes", "no", False, "returned False"),
        ("async_is_yes", "yes", True, ""),
        ("async_is_yes", "no", False, "returned False"),
        ("callable_object", "yes", True, ""),
        ("callable_object", "no", False, "returned False"),
        ("with_reason", "ok!", True, ""),
        ("with_reason", "nope", False, "expected 'ok' in a 4-character output"),
        ("as_list", "x", False, "listed reason"),
        ("returns_number", "x", False, "returned int, expected a bool or (bool, reason)"),
        ("returns_none", "x", False, "returned None, expected a bool or (bool, reason)"),
    ],
)
def test_python(function: str, output: str, passed: bool, message: str) -> None:
    assert run(python_check(function), output) == CheckResult("fn", passed, message, "error")


@pytest.mark.parametrize(
    ("function", "message", "line"),
    [
        ("raises", "raised ValueError: no luck", raises.__code__.co_firstlineno + 1),
        (
            "raises_timeout",
            "raised TimeoutError: socket timed out",
            raises_timeout.__code__.co_firstlineno + 1,
        ),
    ],
)
def test_a_python_check_that_raises_is_an_error_of_the_check(
    function: str, message: str, line: int
) -> None:
    result = run(python_check(function), "x")
    assert (result.passed, result.message, result.error) == (False, message, True)
    assert not result.is_violation
    # Only the user's frames: the check's own function, not agentrun's or asyncio's.
    assert result.traceback == (f"tests/test_checks.py:{line} in {function}",)


def test_python_two_arguments_get_a_context() -> None:
    result = run(
        python_check("with_context"),
        "out",
        duration_s=1.5,
        input="topic",
        vars={"k": "v"},
        previous=["a"],
        stages={},
    )
    assert result.message == "writer|topic|{'k': 'v'}|['a']|1.5"


@pytest.mark.parametrize(
    ("reference", "fragment"),
    [
        ("no_such_module_for_checks:fn", "cannot import 'no_such_module_for_checks'"),
        (f"{HERE}:missing_function", "has no attribute 'missing_function'"),
        (f"{HERE}:HERE", "is not callable"),
    ],
)
def test_python_import_error_is_a_failed_check(reference: str, fragment: str) -> None:
    check = compile_check("fn", imperative(python=reference))
    first, second = run(check, "x"), run(check, "x")
    assert not first.passed
    assert first.message.startswith(f"cannot load {reference}: ")
    assert fragment in first.message
    assert second == first
    assert first.error and not first.is_violation


def test_python_blocking_forever_times_out() -> None:
    _RELEASE.clear()
    try:
        result = run(python_check("blocks", timeout="200ms"), "x")
    finally:
        _RELEASE.set()
    assert result == CheckResult("fn", False, "check timed out after 200ms", "error")


def test_python_sleeping_forever_times_out() -> None:
    result = run(python_check("sleeps_forever", timeout=0.2), "x")
    assert result == CheckResult("fn", False, "check timed out after 200ms", "error")


def test_python_cancellation_propagates() -> None:
    check = python_check("sleeps_forever", timeout="none")

    async def scenario() -> None:
        task = asyncio.create_task(check(check_input("x")))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())


# --- judge checks ------------------------------------------------------------------


class FakeJudge:
    """Stands in for the runner: answers with a fixed reply and records prompts."""

    def __init__(self, reply: str = "PASS", succeeded: bool = True, hang: bool = False) -> None:
        self.reply = reply
        self.succeeded = succeeded
        self.hang = hang
        self.calls: list[tuple[str, str, CheckInput]] = []

    async def __call__(self, agent: str, prompt: str, inp: CheckInput) -> tuple[bool, str]:
        self.calls.append((agent, prompt, inp))
        if self.hang:
            await asyncio.Event().wait()
        return self.succeeded, self.reply


def judge_check(fake: FakeJudge, timeout: float | str = 10) -> Check:
    spec = imperative(judge={"agent": "critic", "rubric": "Cites {sources}."}, timeout=timeout)
    return compile_check("judged", spec, run_judge=fake)


@pytest.mark.parametrize(
    ("reply", "passed", "message"),
    [
        ("PASS", True, "PASS"),
        ("PASS: cites two papers", True, "PASS: cites two papers"),
        ("**PASS**\nCites two papers.", True, "PASS: Cites two papers."),
        ("\n  > `pass` - fine\nmore", True, "> `pass` - fine"),
        ("## Pass\n", True, "PASS"),
        ("fail: no sources at all", False, "fail: no sources at all"),
        ("FAIL\n\n*No sources.*", False, "FAIL: No sources."),
        ("I think it passes", False, "I think it passes"),
        ("", False, "judge 'critic' gave an empty reply"),
        ("**", False, "judge 'critic' gave an empty reply"),
    ],
)
def test_judge_reply(reply: str, passed: bool, message: str) -> None:
    result = run(judge_check(FakeJudge(reply)), "the output")
    assert result == CheckResult("judged", passed, message, "error")


def test_judge_prompt_holds_rubric_and_output() -> None:
    fake = FakeJudge()
    run(judge_check(fake), "answer with {braces} and }{")
    [(agent, prompt, inp)] = fake.calls
    assert agent == "critic"
    assert "Cites {sources}." in prompt
    assert "<output>\nanswer with {braces} and }{\n</output>" in prompt
    assert "PASS or FAIL" in prompt
    assert inp.output == "answer with {braces} and }{"


def test_judge_failure_is_reported() -> None:
    result = run(judge_check(FakeJudge("connection refused", succeeded=False)), "x")
    assert result == CheckResult(
        "judged", False, "judge 'critic' failed: connection refused", "error"
    )


def test_judge_too_slow_times_out() -> None:
    result = run(judge_check(FakeJudge(hang=True), timeout="100ms"), "x")
    assert result == CheckResult("judged", False, "judge 'critic' timed out after 100ms", "error")


def test_judge_runner_error_is_a_failed_check() -> None:
    async def broken(agent: str, prompt: str, inp: CheckInput) -> tuple[bool, str]:
        raise RuntimeError("runner bug")

    spec = imperative(judge={"agent": "critic", "rubric": "r"})
    result = run(compile_check("judged", spec, run_judge=broken), "x")
    assert result.message == "judge 'critic' raised RuntimeError: runner bug"


def test_judge_long_reply_is_shortened() -> None:
    result = run(judge_check(FakeJudge("FAIL " + "x" * 500)), "x")
    assert not result.passed
    assert len(result.message) == 160
    assert result.message.endswith("…")


def test_judge_without_runner_is_a_programming_error() -> None:
    spec = imperative(judge={"agent": "critic", "rubric": "r"})
    with pytest.raises(ValueError, match="no run_judge"):
        compile_check("judged", spec)


def test_judge_cancellation_propagates() -> None:
    check = judge_check(FakeJudge(hang=True))

    async def scenario() -> None:
        task = asyncio.create_task(check(check_input("x")))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())


def test_read_verdict_accepts_markdown_around_pass() -> None:
    assert read_verdict("\n\n_**PASS**_ good") == (True, "_**PASS**_ good")
    assert read_verdict("passable")[0]  # the contract: the reply begins with PASS


@pytest.mark.parametrize(
    ("duration_s", "took"), [(2.0004, "2.0004s"), (2.0000001, "2.0000001s"), (0.0204, "20.4ms")]
)
def test_latency_over_its_limit_never_reads_as_equal(duration_s: float, took: str) -> None:
    limit = "20ms" if duration_s < 1 else "2s"
    result = verdict({"max_latency": limit}, "x", duration_s=duration_s)
    assert result.message == f"took {took}, at most {limit} allowed"
