"""The hints on YAML mistakes in text values: present where they help, absent elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentrun.errors import SpecError
from agentrun.loading.loader import load_text

HEAD = "pattern: independent\nagents:\n"


def problems(agents: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_text(HEAD + agents, Path("h.yaml"), env={"V": "x"})
    return [str(p).removeprefix("h.yaml:") for p in info.value.problems]


@pytest.mark.parametrize(
    ("agents", "expected"),
    [
        (
            "  a:\n    provider: mock\n    system: Role: critic\n",
            "5:17: mapping values are not allowed here; quote text that contains ': '",
        ),
        (
            "  a: {provider: mock, rubric: x: y}\n",
            "3:32: expected ',' or '}', but got ':' (in the flow mapping started on line 3);"
            " quote text that contains ': '",
        ),
        (
            # The colon breaks first; the braces would be read as text after it.
            "  a:\n    provider: mock\n    prompt: Sum up: {{ input }}\n",
            "5:19: mapping values are not allowed here; quote text that contains ': '",
        ),
        (
            "  a:\n    provider: mock\n    prompt: {{ input }} in one line\n",
            "5:25: bad indentation: this line does not line up with the block started on line 4;"
            " quote the value (YAML reads '{' as the start of a mapping)",
        ),
        (
            "  a:\n    provider: mock\n    model: gpt: 4\n",
            "5:15: mapping values are not allowed here",
        ),
        ("  a: {provider: mock, model: 4}\n", "3:30: model: expected a string, got 4"),
        (
            "  a: {provider: mock, model: no}\n",
            "3:30: model: expected a string, got false;"
            " quote it (YAML reads unquoted yes, no, on and off as booleans)",
        ),
        ("  a: {provider: mock, reply: 7}\n", "3:30: reply: expected a string, got 7; quote it"),
    ],
)
def test_hints(agents: str, expected: str) -> None:
    assert problems(agents) == [expected]


def test_a_quoted_template_or_variable_needs_no_hint() -> None:
    text = HEAD + "  a: {provider: mock, prompt: '{{ input }}', output: \"${V}\"}\n"
    assert load_text(text, Path("h.yaml"), env={"V": "x"}).spec.agents["a"].output == "x"
