"""``${VAR}`` values are data: never template code, and secret wherever they sit."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import Ran
from fake_llm_server import FakeLLMServer

INJECTION = "{{ 7*7 }}{% if true %}yes{% endif %}"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(latency=0.0, reply="unused") as srv:
        yield srv


def env_file(tmp_path: Path, **values: str) -> str:
    path = tmp_path / "ci.env"
    path.write_text("".join(f"{k}='{v}'\n" for k, v in values.items()), encoding="utf-8")
    return str(path)


def test_a_value_in_a_prompt_is_not_template_code(
    run_paradigm: Callable[..., Ran], tmp_path: Path
) -> None:
    ran = run_paradigm(
        """
        pattern: independent
        input: hi
        agents:
          a: {provider: mock, prompt: "branch ${BRANCH} for {{ input }}"}
        """,
        env_file=env_file(tmp_path, BRANCH=INJECTION),
    )
    assert ran.agent("a").output == f"branch {INJECTION} for hi"


def test_a_value_in_an_http_body_is_not_template_code(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer, tmp_path: Path
) -> None:
    server.reset()
    ran = run_paradigm(
        "pattern: independent\ninput: hi\n"
        "agents:\n"
        f"  a: {{provider: http, url: '{server.hook_url}', output_path: echo.question,\n"
        "      body: {question: '${BRANCH} {{ input }}', tags: ['${BRANCH}']}}\n",
        env_file=env_file(tmp_path, BRANCH=INJECTION),
    )
    assert ran.agent("a").output == f"{INJECTION} hi"
    [request] = server.requests()
    assert request["body"] == {"question": f"{INJECTION} hi", "tags": [INJECTION]}


def test_literal_and_default_credentials_are_redacted(
    run_paradigm: Callable[..., Ran],
) -> None:
    ran = run_paradigm(
        """
        pattern: independent
        input: "keys: sk-literal-0123456789 and fallback-credential-42"
        providers:
          llm:
            type: openai
            base_url: http://127.0.0.1:9/v1
            api_key: sk-literal-0123456789
          other:
            type: openai
            base_url: http://127.0.0.1:9/v1
            api_key: ${AGENTRUN_TEST_UNSET:-fallback-credential-42}
        agents:
          a: {provider: llm, model: m}
          b: {provider: other, model: m}
        """,
        mock=True,
    )
    printed = json.dumps(ran.report) + json.dumps(ran.events) + ran.out
    assert "keys: *** and ***" in printed
    assert "sk-literal" not in printed and "fallback-credential" not in printed
