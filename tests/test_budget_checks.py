"""max_tokens and max_cost imperatives against the real local server (its tokens are words)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import Ran
from fake_llm_server import FakeLLMServer

import agentrun
from agentrun.checks.budget import usd
from agentrun.errors import SpecError
from agentrun.results import AgentResult, Usage


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(latency=0.0, reply="Hello from the fake server.") as srv:
        yield srv


@pytest.fixture(autouse=True)
def fresh(server: FakeLLMServer) -> None:
    server.reset()


def paradigm(server: FakeLLMServer, imperatives: str, agents: str, *, price: str = "") -> str:
    """Four prompt words and a five-word reply: nine tokens per plain attempt."""
    return (
        "pattern: independent\ninput: four little words here\nproviders:\n"
        f'  llm: {{type: openai, base_url: "{server.openai_url}", api_key: "sk-test"{price}}}\n'
        f"imperatives:\n{imperatives}agents:\n{agents}"
    )


def usage_of(result: AgentResult) -> Usage:
    usages = [a.usage for a in result.attempts if a.usage is not None]
    assert usages
    return sum(usages[1:], usages[0])


def test_max_tokens_per_attempt(run_paradigm: Callable[..., Ran], server: FakeLLMServer) -> None:
    ran = run_paradigm(
        paradigm(
            server,
            "  tight: {max_tokens: 8}\n  roomy: {max_tokens: 9}\n",
            "  a: {provider: llm, model: m, imperatives: [tight]}\n"
            "  b: {provider: llm, model: m, imperatives: [roomy]}\n",
        )
    )
    assert ran.statuses() == {"a": "violated", "b": "passed"}
    assert ran.agent("a").error == "broke tight (9 tokens, at most 8 allowed)"
    [check] = ran.agent("a").attempts[0].checks
    assert (check.passed, check.message) == (False, "9 tokens, at most 8 allowed")


def test_max_cost_message_and_bound(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer
) -> None:
    # 4 prompt tokens at $1000/M and 5 completion tokens at $1840/M: $0.0132.
    ran = run_paradigm(
        paradigm(
            server,
            "  cheap: {max_cost: 0.01}\n  enough: {max_cost: 0.0132}\n",
            "  a: {provider: llm, model: m, imperatives: [cheap]}\n"
            "  b: {provider: llm, model: m, imperatives: [enough]}\n",
            price=", price: {input: 1000, output: 1840}",
        )
    )
    assert ran.statuses() == {"a": "violated", "b": "passed"}
    assert ran.agent("a").error == "broke cheap (cost $0.0132, at most $0.01 allowed)"


def test_agent_scope_adds_up_the_agents_attempts(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer
) -> None:
    # The first attempt fits the budget but misses the word; the retry breaks the budget.
    ran = run_paradigm(
        paradigm(
            server,
            "  word: {contains: zebra}\n  budget: {max_tokens: {limit: 40, scope: agent}}\n"
            "  each: {max_tokens: 40}\n",
            "  a: {provider: llm, model: m, retries: 1, backoff: {initial: 0},"
            " imperatives: [word, budget, each]}\n",
        )
    )
    a = ran.agent("a")
    first, second = a.attempts
    assert first.usage is not None and first.usage.total_tokens == 9
    assert [c.passed for c in first.checks] == [False, True, True]
    total = usage_of(a).total_tokens
    assert total > 40
    budget = next(c for c in second.checks if c.name == "budget")
    assert budget.message == f"{total} tokens over the agent's attempts, at most 40 allowed"
    each = next(c for c in second.checks if c.name == "each")
    assert each.passed  # the retry alone fits


def test_run_scope_counts_every_agent_so_far(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer
) -> None:
    text = paradigm(
        server,
        "  run_budget: {max_cost: {limit: 0.015, scope: run}}\n",
        "  a: {provider: llm, model: m}\n"
        "  b: {provider: llm, model: m, imperatives: [run_budget]}\n",
        price=", price: {input: 1000, output: 1000}",
    ).replace("pattern: independent", "pattern: pipeline\nstages: [{agents: [a]}, {agents: [b]}]")
    ran = run_paradigm(text)
    a, b = ran.agent("a"), ran.agent("b")
    assert a.status.value == "passed"
    alone, both = usage_of(b).cost_usd, (usage_of(a) + usage_of(b)).cost_usd
    assert alone is not None and both is not None
    assert alone <= 0.015 < both  # b alone fits: the run's total breaks the bound
    assert b.error == f"broke run_budget (cost {usd(both)} over the run, at most $0.015 allowed)"


def test_cost_without_a_price_cannot_be_checked(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer
) -> None:
    ran = run_paradigm(
        paradigm(
            server,
            "  cheap: {max_cost: 1}\n",
            "  a: {provider: llm, model: m, imperatives: [cheap]}\n",
        )
    )
    a = ran.agent("a")
    assert a.status.value == "failed"
    assert a.error == "cheap could not run: no cost known: the provider has no price"


def test_tokens_of_a_provider_without_usage_cannot_be_checked(
    run_paradigm: Callable[..., Ran],
) -> None:
    ran = run_paradigm(
        "pattern: independent\nimperatives:\n  small: {max_tokens: 100}\n"
        "agents:\n  a: {output: hi, imperatives: [small]}\n"
    )
    assert ran.agent("a").error == "small could not run: the provider reported no token usage"


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("-1", "3:23: max_tokens: expected a value >= 0 or a mapping, got -1"),
        ("{limit: 5, scope: stage}", "3:41: max_tokens.scope: expected one of attempt, agent, run"),
        ("{limit: 1.5}", "3:31: max_tokens.limit: expected an integer, got 1.5"),
        ("{scope: run}", "3:11: missing required key 'limit' in max_tokens"),
    ],
)
def test_bad_bounds_are_located(tmp_path: Path, argument: str, message: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        f"pattern: independent\nimperatives:\n  cheap: {{max_tokens: {argument}}}\n"
        "agents:\n  a: {output: hi, imperatives: [cheap]}\n"
    )
    with pytest.raises(SpecError) as raised:
        agentrun.load(path)
    assert f"p.yaml:{message}" in str(raised.value)


@pytest.mark.parametrize(
    ("amount", "above", "text"),
    [
        (0.0132, None, "$0.0132"),
        (0.01, None, "$0.01"),
        (2.5, None, "$2.50"),
        (0.010001, 0.01, "$0.010001"),
    ],
)
def test_dollars(amount: float, above: float | None, text: str) -> None:
    assert usd(amount, above=above) == text
