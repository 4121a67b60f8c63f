"""Hostile templates fail fast with a budget error instead of hanging the process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from test_cli import run_cli

from agentrun.errors import TemplateError
from agentrun.interrupts import guard
from agentrun.template_budget import MAX_PRODUCED, MAX_SECONDS, MAX_STEPS, MAX_TEXT
from agentrun.templates import TemplateEngine

EXCEEDED = "template exceeded its budget: "

HOSTILE = {
    "nested loops": (
        "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
        f"more than {MAX_STEPS:,} loop iterations",
    ),
    "power": ("{{ 9**99999999 }}", "`**` would build an integer"),
    "int product": ("{{ 2**32000 * 2**32000 * 2**32000 }}", "`*` would build an integer"),
    "repetition": ("{{ 'a' * 10**10 }}", "`*` would be longer"),
    "list repetition": ("{{ ([input] * 100000) * 100000 }}", "`*` would be longer"),
    "concatenation": ("{{ ('a' * 4000000) + ('a' * 4000000) }}", "`+` would be longer"),
    "center filter": ("{{ 'x' | center(3000000000) }}", "filter 'center' would be longer"),
    "format filter": ("{{ '%999999999s' | format('x') }}", "a `%` format width"),
    "percent width": ("{{ '%*s' % (999999999, 'x') }}", "a `%` format width"),
    "str.format width": ("{{ '{:999999999}'.format(1) }}", "a format width"),
    "nested format width": ("{{ '{:>{w}}'.format('', w=999999999) }}", "a format width"),
    "str.center": ("{{ 'x'.center(999999999) }}", "str.center would be longer"),
    "expandtabs": ("{{ 'a\tb'.expandtabs(999999999) }}", "str.expandtabs would be longer"),
    "replace": ("{{ ('a' * 3000000) | replace('', 'bb') }}", "filter 'replace' would be longer"),
    "join": ("{{ ('x' * 1000000) | list | join('yyyyyyyy') }}", "filter 'join' would be longer"),
    "lipsum": ("{{ lipsum(100000000) }}", "lipsum would be longer"),
    "namespace doubling": (
        "{% set ns = namespace(x='a') %}{% for i in range(80) %}"
        "{% set ns.x = ns.x ~ ns.x %}{% endfor %}",
        "namespace attribute 'x' is longer",
    ),
    "captured block": (
        "{% set s %}{% for i in range(100000) %}{% for j in range(9) %}"
        + "a" * 100
        + "{% endfor %}{% endfor %}{% endset %}{{ s | length }}",
        f"it wrote more than {MAX_PRODUCED:,} characters",
    ),
    "output": ("{{ 'a' * 4000000 }}{{ 'a' * 4000000 }}", f"its output is longer than {MAX_TEXT:,}"),
    "exponential macro": (
        "{% macro m(n) %}{% if n %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}{% endmacro %}"
        "{{ m(60) }}",
        f"it ran for more than {MAX_SECONDS:g}s",
    ),
}


@pytest.mark.timeout(20)
@pytest.mark.parametrize(("source", "reason"), HOSTILE.values(), ids=list(HOSTILE))
def test_a_hostile_template_exceeds_its_budget_quickly(source: str, reason: str) -> None:
    started = time.monotonic()
    with pytest.raises(TemplateError) as caught:
        TemplateEngine().render(source, {"input": "hi"})
    assert str(caught.value).startswith(EXCEEDED + reason), str(caught.value)
    if "output" not in reason:  # the output is measured once the render is over
        assert str(caught.value).endswith("(line 1)")
    assert time.monotonic() - started < MAX_SECONDS + 3


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{% for x in [1, 2, 3] %}{{ loop.index }}/{{ loop.length }} {% endfor %}", "1/3 2/3 3/3 "),
        ("{% for x in [] %}x{% else %}empty{% endfor %}", "empty"),
        ("{{ input * 3 }} {{ 2 ** 10 }} {{ attempt + 1 }} {{ 7 % 3 }}", "hihihi 1024 3 1"),
        ("{{ '%5s|%-3d' % ('x', 7) }}{{ '{:>4}'.format('y') }}", "    x|7     y"),
        ("{{ '%s-%s' | format('a', 'b') }} {{ 'a b' | replace(' ', '--') }}", "a-b a--b"),
        ("{{ range(4) | join(',') }} {{ [1, 2] | map('string') | join('-') }}", "0,1,2,3 1-2"),
        (
            "{% set ns = namespace(n=0) %}{% for i in range(5) %}{% set ns.n = ns.n + i %}"
            "{% endfor %}{{ ns.n }}",
            "10",
        ),
        ("{{ 'ab' | center(6) }}|{{ 'x' | indent(2, true) }}", "  ab  |  x"),
    ],
)
def test_ordinary_templates_render_as_before(source: str, expected: str) -> None:
    assert TemplateEngine().render(source, {"input": "hi", "attempt": 2}) == expected


def test_a_signal_interrupts_a_render(monkeypatch: pytest.MonkeyPatch) -> None:
    # The watchdog counts signals in `received`; a render in progress stops at its next hook.
    monkeypatch.setattr(guard(), "received", 0)
    spin = "{% macro m(n) %}{% if n %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}{% endmacro %}"
    timer = threading.Timer(0.2, lambda: setattr(guard(), "received", 1))
    timer.start()
    started = time.monotonic()
    with pytest.raises(TemplateError, match="template exceeded its budget: interrupted"):
        TemplateEngine().render(spin + "{{ m(60) }}", {})
    timer.join()
    assert time.monotonic() - started < MAX_SECONDS + 10  # a hang guard; the match says why


def test_constants_are_not_folded_at_load(tmp_path: Path) -> None:
    # Jinja folds constant expressions while compiling: that must not run them.
    path = tmp_path / "p.yaml"
    path.write_text(
        textwrap.dedent("""
            pattern: independent
            input: hi
            agents:
              a: {provider: mock, output: "{{ 9**99999999 }}{{ 'x' | center(3000000000) }}"}
        """),
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "agentrun", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.timeout(20)
def test_a_runaway_mock_output_fails_its_attempt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        textwrap.dedent("""
            pattern: independent
            input: hi
            deadline: 2s
            agents:
              a:
                provider: mock
                timeout: 1s
                output: '{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}'
              b: {provider: mock, output: "{{ input }}"}
        """),
        encoding="utf-8",
    )
    report = tmp_path / "report.json"
    status, _, _ = run_cli(
        ["run", str(path), "--display", "quiet", "--report", str(report)], capsys
    )
    assert status == 3
    agents = {a["name"]: a for a in json.loads(report.read_text(encoding="utf-8"))["agents"]}
    assert agents["a"]["error"].startswith(EXCEEDED + "more than 1,000,000 loop iterations")
    assert agents["b"]["status"] == "passed"
