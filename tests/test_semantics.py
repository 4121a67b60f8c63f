from __future__ import annotations

from typing import Any

import pytest

from agentrun.errors import Severity
from agentrun.loading.semantics import (
    Finding,
    check_paradigm,
    hint,
    provider_name_of,
    provider_type_of,
    run_agents,
    stage_names,
)
from agentrun.loading.spec import Paradigm
from agentrun.loading.template_checks import check_templates


def paradigm(agents: dict[str, Any], **fields: Any) -> Paradigm:
    return Paradigm.model_validate({"pattern": "independent", "agents": agents, **fields})


@pytest.mark.parametrize(
    ("agent", "fields", "name", "kind"),
    [
        ({"provider": "mock"}, {}, "mock", "mock"),
        ({"provider": "llm"}, {}, "llm", "openai"),
        ({}, {"defaults": {"provider": "llm"}}, "llm", "openai"),
        ({"provider": "anthropic"}, {"defaults": {"provider": "llm"}}, "anthropic", "anthropic"),
        ({"command": ["echo"]}, {}, "command", "command"),
        ({"callable": "pkg.mod:fn"}, {}, "python", "python"),
        ({"url": "http://localhost"}, {}, "http", "http"),
        ({"output": "x"}, {}, "mock", "mock"),
        ({"outputs": ["x"]}, {}, "mock", "mock"),
        ({"fail_times": 1}, {}, "mock", "mock"),
        ({"hang": True}, {}, "mock", "mock"),
        ({"latency": "1s"}, {}, "mock", "mock"),
        ({"error": "boom"}, {}, "mock", "mock"),
        ({"prompt": "hi"}, {}, None, None),
        ({"provider": "lmm"}, {}, "lmm", None),
        ({"provider": "mock"}, {"providers": {"mock": {"type": "http"}}}, "mock", "http"),
    ],
)
def test_provider_resolution(
    agent: dict[str, Any], fields: dict[str, Any], name: str | None, kind: str | None
) -> None:
    fields.setdefault("providers", {"llm": {"type": "openai"}})
    spec = paradigm({"a": agent}, **fields)
    assert provider_name_of(spec.agents["a"], spec) == name
    assert provider_type_of(spec.agents["a"], spec) == kind


def test_run_agents_default_leaves_out_fallbacks_and_judges() -> None:
    spec = paradigm(
        {
            "a": {"provider": "mock", "fallback": ["b", "a"]},
            "b": {"provider": "mock"},
            "judge": {"provider": "mock"},
            "c": {"provider": "mock"},
            "late": {"provider": "mock"},
        },
        imperatives={"fair": {"judge": {"agent": "judge", "rubric": "ok"}}},
        fallback=["late"],
    )
    assert run_agents(spec) == ["a", "c"]


def test_run_agents_explicit_run_wins() -> None:
    spec = paradigm(
        {"a": {"provider": "mock", "fallback": ["b"]}, "b": {"provider": "mock"}},
        run=["b", "a"],
    )
    assert run_agents(spec) == ["b", "a"]


def test_run_agents_of_a_pipeline_follow_the_stages() -> None:
    spec = paradigm(
        {name: {"provider": "mock"} for name in ("a", "b", "c", "unused")},
        pattern="pipeline",
        stages=[{"agents": ["c", "a"]}, {"agents": ["b", "a"]}],
    )
    assert run_agents(spec) == ["c", "a", "b"]
    assert stage_names(spec) == ["stage1", "stage2"]


def test_a_valid_paradigm_has_no_findings() -> None:
    spec = paradigm(
        {
            "writer": {"provider": "llm", "fallback": ["backup"], "imperatives": ["short"]},
            "backup": {"output": "sorry"},
        },
        providers={"llm": {"type": "openai", "api_key": "k"}},
        imperatives={"short": {"max_length": 10}},
    )
    assert check_paradigm(spec) == []
    assert check_templates(spec) == []


def test_findings_carry_locations() -> None:
    spec = paradigm({"a": {"provider": "mock", "command": ["x"]}, "b": {"provider": "mock"}})
    assert check_paradigm(spec) == [
        Finding(
            ("agents", "a", "command"),
            "field 'command' does not apply to provider type 'mock'",
            at_key=True,
        )
    ]


def test_unused_things_are_warnings() -> None:
    spec = paradigm(
        {"a": {"provider": "mock"}, "b": {"provider": "mock"}},
        run=["a"],
        imperatives={"short": {"max_length": 3}},
        providers={"spare": {"type": "mock"}},
    )
    findings = check_paradigm(spec)
    assert [(f.loc, f.severity) for f in findings] == [
        (("agents", "b"), Severity.WARNING),
        (("imperatives", "short"), Severity.WARNING),
        (("providers", "spare"), Severity.WARNING),
    ]


def test_model_is_allowed_for_every_type() -> None:
    spec = paradigm({"a": {"provider": "mock", "model": "echo"}})
    assert check_paradigm(spec) == []


def test_a_template_in_a_fallback_of_a_for_each_agent_may_use_item() -> None:
    spec = paradigm(
        {
            "first": {"output": "one"},
            "each": {"output": "{{ item }}", "fallback": ["spare"]},
            "spare": {"output": "spare {{ item }}"},
        },
        pattern="pipeline",
        stages=[{"agents": ["first"]}, {"agents": ["each"], "for_each": True}],
    )
    assert check_templates(spec) == []


def test_template_names_may_come_from_the_command_line() -> None:
    spec = paradigm({"a": {"output": "{{ vars.topic }} {{ vars['tone'] }}"}})
    assert len(check_templates(spec)) == 2
    assert check_templates(spec, extra_vars={"topic", "tone"}) == []


def test_locally_bound_names_are_not_context_names() -> None:
    source = "{% set x = 1 %}{% for line in previous %}{{ line }}{{ x }}{% endfor %}"
    spec = paradigm({"a": {"output": source}})
    assert check_templates(spec) == []


@pytest.mark.parametrize(
    ("name", "known", "what", "text"),
    [
        ("critc", ["critic", "writer"], "agents", " (did you mean 'critic'?)"),
        ("zzz", ["critic", "writer"], "agents", " (defined: critic, writer)"),
        ("zzz", [], "imperatives", " (no imperatives are defined)"),
        ("zzz", [f"agent{i}" for i in range(20)], "agents", ""),
        ("zzz", ["critic"], "", ""),
    ],
)
def test_hint(name: str, known: list[str], what: str, text: str) -> None:
    assert hint(name, known, what=what) == text
