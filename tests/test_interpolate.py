from __future__ import annotations

import pytest

from agentrun.loading.interpolate import interpolate, interpolate_tree, is_secret_name
from agentrun.templates import TemplateEngine

ENV = {"HOST": "example.org", "PORT": "8080", "EMPTY": "", "OPENAI_API_KEY": "sk-test-1234"}


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("plain text", "plain text"),
        ("${HOST}", "example.org"),
        ("http://${HOST}:${PORT}/v1", "http://example.org:8080/v1"),
        ("${UNSET:-fallback}", "fallback"),
        ("${UNSET:-}", ""),
        ("${HOST:-ignored}", "example.org"),
        ("${EMPTY:-used when empty}", "used when empty"),
        ("${EMPTY}", ""),
        ("${UNSET:-a b:c/d}", "a b:c/d"),
        ("$${HOST}", "${HOST}"),
        ("$$${HOST}", "$${HOST}"),
        ("cost: $5 and {{ input }}", "cost: $5 and {{ input }}"),
        ("$HOST stays", "$HOST stays"),
    ],
)
def test_interpolate(text: str, result: str) -> None:
    assert interpolate(text, ENV).text == result


def test_escape_is_not_a_reference() -> None:
    done = interpolate("$${UNSET}", ENV)
    assert done.text == "${UNSET}"
    assert done.missing == ()
    assert done.from_env == ()


def test_missing_variable_becomes_empty_and_is_reported() -> None:
    done = interpolate("key=${UNSET_ONE} ${UNSET_TWO} ${HOST}", ENV)
    assert done.text == "key=  example.org"
    assert done.missing == ("UNSET_ONE", "UNSET_TWO")
    assert done.from_env == (("HOST", "example.org"),)


@pytest.mark.parametrize("text", ["${1ABC}", "${VAR:default}", "${unterminated", "${{ x }}"])
def test_malformed_reference(text: str) -> None:
    done = interpolate(text, ENV)
    assert done.invalid
    assert done.text == text


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("OPENAI_API_KEY", True),
        ("github_token", True),
        ("CLIENT_SECRET", True),
        ("DB_PASSWORD", True),
        ("GOOGLE_APPLICATION_CREDENTIALS", True),
        ("MONKEY", True),  # by name alone: better too careful than leaking
        ("HOST", False),
        ("MODEL", False),
    ],
)
def test_is_secret_name(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_tree_interpolates_values_not_keys() -> None:
    data = {"${HOST}": "${HOST}", "list": ["${PORT}", 3, None, True], "nested": {"a": "${HOST}"}}
    tree = interpolate_tree(data, ENV)
    assert tree.data == {
        "${HOST}": "example.org",
        "list": ["8080", 3, None, True],
        "nested": {"a": "example.org"},
    }
    assert tree.secrets == frozenset()
    assert data["list"] == ["${PORT}", 3, None, True]  # the input is left alone


def test_tree_collects_secrets() -> None:
    env = {**ENV, "BOT_AUTH": "Bearer abc", "PLAIN": "p1", "SERVICE_TOKEN": "t0k"}
    data = {
        "providers": {"llm": {"api_key": "${PLAIN}", "base_url": "${HOST}"}},
        "agents": {
            "bot": {"headers": {"Authorization": "${BOT_AUTH}"}, "prompt": "${SERVICE_TOKEN}"},
            "other": {"prompt": "${OPENAI_API_KEY}", "model": "${EMPTY}"},
        },
        "vars": {"unused_key": "${UNSET_API_KEY:-default-not-secret}"},
    }
    tree = interpolate_tree(data, env)
    # A default stands in for a secret, so it is one too.
    assert tree.secrets == {"p1", "Bearer abc", "t0k", "sk-test-1234", "default-not-secret"}
    assert tree.missing == []


def test_literal_credentials_and_secret_defaults_are_secrets() -> None:
    data = {
        "providers": {
            "llm": {"api_key": "sk-literal-0123456789", "base_url": "http://localhost:1/v1"},
            "local": {"api_key": "none"},  # a placeholder, too short to be a credential
        },
        "agents": {
            "bot": {
                "headers": {
                    "Authorization": "Bearer literal-token-abc",
                    "X-Service-Token": "literal-service-token",
                    "Accept": "application/json",
                },
                "api_key": "${UNSET_VALUE:-default-credential}",
                "prompt": "${UNSET_PASSWORD:-default-password}",
                "system": "${UNSET_PLAIN:-default-plain-text}",
            }
        },
    }
    tree = interpolate_tree(data, {})
    assert tree.secrets == {
        "sk-literal-0123456789",
        "Bearer literal-token-abc",
        "literal-token-abc",
        "literal-service-token",
        "default-credential",
        "default-password",
    }


@pytest.mark.parametrize(
    "loc",
    [
        ("agents", "a", "prompt"),
        ("agents", "a", "mock", "outputs", 0),
        ("agents", "a", "command", 0),
        ("providers", "hook", "body", "messages", 0, "content"),
        ("agents", "a", "url"),
        ("defaults", "system"),
        ("stages", 0, "input"),
    ],
)
def test_values_in_template_fields_stay_literal(loc: tuple[str | int, ...]) -> None:
    data: object = "branch ${BRANCH}!"
    for key in reversed(loc):
        data = [data] if isinstance(key, int) else {key: data}
    tree = interpolate_tree(data, {"BRANCH": "{{ 7*7 }} {% if 1 %}{# c #}"})
    value: object = tree.data
    for key in loc:
        value = value[key]  # type: ignore[index]
    assert isinstance(value, str)
    assert TemplateEngine().render(value, {}) == "branch {{ 7*7 }} {% if 1 %}{# c #}!"


def test_values_elsewhere_are_untouched() -> None:
    data = {"agents": {"a": {"model": "${M}"}}, "vars": {"v": "${M}"}, "input": "${M}"}
    tree = interpolate_tree(data, {"M": "{{ x }}"})
    assert tree.data == {
        "agents": {"a": {"model": "{{ x }}"}},
        "vars": {"v": "{{ x }}"},
        "input": "{{ x }}",
    }


def test_a_reference_inside_template_code_is_refused() -> None:
    data = {"agents": {"a": {"prompt": "{{ input if '${MODE}' }} {# ${MODE} #} ${MODE}"}}}
    tree = interpolate_tree(data, {"MODE": "x"})
    assert tree.data["agents"]["a"]["prompt"] == "{{ input if '${MODE}' }} {#  #} x"
    assert tree.invalid == [
        (
            ("agents", "a", "prompt"),
            "${MODE} inside {{ }} or {% %} would turn its value into template code;"
            " declare it under vars: (e.g. mode: ${MODE}) and use vars.mode",
        )
    ]


def test_tree_reports_locations() -> None:
    data = {"agents": {"a": {"command": ["run", "${NOPE}"], "prompt": "${1x}"}}}
    tree = interpolate_tree(data, {})
    assert tree.missing == [(("agents", "a", "command", 1), "NOPE")]
    assert tree.invalid == [
        (
            ("agents", "a", "prompt"),
            "invalid environment reference '${1x}': "
            "write ${NAME} or ${NAME:-default}, or $${ for a literal ${",
        )
    ]
