"""The registry: new provider and check types by registration only, and its rules."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import pytest
from pydantic import Field

from agentrun import api
from agentrun.checks import compile_check
from agentrun.checks.base import Check, CheckDescriptor, CheckInput, JudgeRunner
from agentrun.checks.text import PredicateCheck
from agentrun.errors import SpecError
from agentrun.graph.compiled import compile_graph
from agentrun.loading.loader import load_text
from agentrun.loading.model_base import StrictModel
from agentrun.loading.schema import paradigm_schema
from agentrun.loading.spec import ImperativeSpec, Paradigm, ProviderEntry
from agentrun.providers.base import (
    ClientOptions,
    ProviderDescriptor,
    ProviderSession,
    Reply,
    Request,
    StatelessSession,
)
from agentrun.registry import Registry, RegistryFrozenError, default_registry

# --- a provider type and a check type that agentrun/ knows nothing about ----------


class ShoutFields(StrictModel):
    """Fields of the ``shout`` provider."""

    shout: str | None = None
    """Template of the reply, upper-cased."""
    volume: int | None = Field(default=None, ge=1)
    """How many exclamation marks follow."""


OPENED: list[str] = []


class ShoutClient:
    def __init__(self, options: ClientOptions) -> None:
        self.source = str(options.fields["shout"])
        self.bang = "!" * int(options.fields.get("volume", 1))
        self.render = options.templates.render

    async def complete(self, request: Request) -> Reply:
        return Reply(self.render(self.source, request.context).upper() + self.bang)


def open_shout(entry: ProviderEntry | None) -> ProviderSession:
    OPENED.append(entry.type if entry else "shout")
    return StatelessSession(ShoutClient)


SHOUT = ProviderDescriptor(
    "shout",
    ShoutFields,
    open_shout,
    network=True,
    templates=("shout",),
    required=("shout",),
    infers=("shout",),
)


def compile_ends_with(name: str, spec: ImperativeSpec, *, run_judge: JudgeRunner | None) -> Check:
    suffix: str = spec.argument

    def verdict(inp: CheckInput) -> str | None:
        return None if inp.output.endswith(suffix) else f"does not end with {suffix!r}"

    return PredicateCheck(name, spec.severity, verdict)


ENDS_WITH = CheckDescriptor(
    "ends_with", Annotated[str, Field(min_length=1)], compile_ends_with, description="Suffix."
)


def registry() -> Registry:
    extended = Registry.builtin()
    extended.add_provider(SHOUT)
    extended.add_check(ENDS_WITH)
    return extended.freeze()


PARADIGM = """\
pattern: independent
input: hello
imperatives:
  loud: {ends_with: "!!"}
agents:
  crier:
    shout: "{{ input }} world"
    volume: 2
    mock: {output: "quiet!!"}
    imperatives: [loud]
"""


def run(tmp_path: Path, text: str, **options: Any) -> dict[str, Any]:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    report = tmp_path / "report.json"
    opts = api.RunOptions(display="quiet", report=str(report), registry=registry(), **options)
    api.run(path, opts)
    result: dict[str, Any] = json.loads(report.read_text())
    return result


def test_a_registered_type_runs_from_a_paradigm(tmp_path: Path) -> None:
    OPENED.clear()
    report = run(tmp_path, PARADIGM)
    assert report["outputs"] == ["HELLO WORLD!!"]
    assert report["status"] == "passed"
    assert OPENED == ["shout"]  # inferred from its `shout` key


def test_mock_replaces_a_registered_network_type(tmp_path: Path) -> None:
    OPENED.clear()
    report = run(tmp_path, PARADIGM, mock=True)
    assert report["outputs"] == ["quiet!!"]
    assert OPENED == []


def test_a_registered_check_can_fail(tmp_path: Path) -> None:
    report = run(tmp_path, PARADIGM.replace("volume: 2", "volume: 1"))
    assert report["status"] == "failed"
    assert "does not end with '!!'" in json.dumps(report)


def test_registered_types_are_validated_with_the_usual_messages() -> None:
    text = PARADIGM.replace('"!!"', '""').replace("volume: 2", "volume: 0\n    latency: 1s")
    with pytest.raises(SpecError) as caught:
        load_text(text, Path("p.yaml"), registry=registry())
    assert [str(p) for p in caught.value.problems] == [
        "p.yaml:4:21: ends_with: String should have at least 1 character",
        "p.yaml:8:13: volume: expected a value >= 1, got 0",
    ]
    text = PARADIGM.replace("    volume: 2", "    latency: 1s\n    shuot: x")
    with pytest.raises(SpecError) as caught:
        load_text(text, Path("p.yaml"), registry=registry())
    assert [str(p) for p in caught.value.problems] == [
        "p.yaml:9:5: unknown key 'shuot' in agent 'crier' (did you mean 'shout'?)"
    ]


def test_semantic_rules_come_from_the_descriptor() -> None:
    text = (
        "pattern: independent\nagents:\n  a: {provider: shout, latency: 1s, output: '{{ nope }}'}\n"
    )
    with pytest.raises(SpecError) as caught:
        load_text(text, Path("p.yaml"), registry=registry())
    assert [str(p) for p in caught.value.problems] == [
        "p.yaml:3:3: agent 'a' uses provider type 'shout', which needs 'shout'; set it on the agent",
        "p.yaml:3:24: field 'latency' does not apply to provider type 'shout'",
        "p.yaml:3:37: field 'output' does not apply to provider type 'shout'",
    ]
    text = "pattern: independent\nagents:\n  a: {shout: '{{ inptu }}'}\n"
    with pytest.raises(SpecError) as caught:
        load_text(text, Path("p.yaml"), registry=registry())
    assert "template uses undefined name 'inptu'" in str(caught.value)


def test_the_default_registry_does_not_know_them() -> None:
    with pytest.raises(SpecError, match="unknown key 'shout'"):
        load_text(PARADIGM, Path("p.yaml"))
    assert "shout" not in default_registry().providers


def test_type_of_an_entry_is_checked_against_the_registry() -> None:
    data = {"pattern": "independent", "agents": {"a": {"provider": "p"}}}
    data["providers"] = {"p": {"type": "shout", "shout": "x"}}
    spec = Paradigm.model_validate(data, context={"registry": registry()})
    assert spec.providers["p"].provider_field("shout") == "x"
    with pytest.raises(ValueError, match="expected one of mock, command, python, http"):
        Paradigm.model_validate(data)


def test_graph_uses_the_descriptor_for_slow_checks_and_mock() -> None:
    loaded = load_text(PARADIGM, Path("p.yaml"), registry=registry())
    graph = compile_graph(loaded)
    assert graph.agents["crier"].fields == {"shout": "{{ input }} world", "volume": 2}
    assert graph.worst_case("crier") == 60.0  # ends_with is not slow: no check timeout
    mocked = compile_graph(loaded, mock=True)
    assert (mocked.agents["crier"].provider_type, mocked.agents["crier"].fields) == (
        "mock",
        {"output": "quiet!!"},
    )


def test_schema_lists_registered_keys_and_forbids_others() -> None:
    schema = paradigm_schema(registry())
    defs: Mapping[str, Any] = schema["$defs"]
    assert defs["AgentSpec"]["properties"]["volume"]["anyOf"][0]["minimum"] == 1
    assert defs["AgentSpec"]["additionalProperties"] is False
    assert {"required": ["ends_with"]} in defs["ImperativeSpec"]["oneOf"]
    assert "shout" in defs["ProviderEntry"]["properties"]["type"]["enum"]


# --- the registry's own rules ----------------------------------------------------


def test_a_frozen_registry_refuses_registration() -> None:
    with pytest.raises(RegistryFrozenError, match="cannot register provider 'shout'"):
        default_registry().add_provider(SHOUT)
    assert default_registry().frozen


def test_views_are_read_only() -> None:
    with pytest.raises(TypeError):
        registry().providers["x"] = SHOUT  # type: ignore[index]


def test_names_are_never_silently_replaced() -> None:
    fresh = Registry.builtin()
    with pytest.raises(ValueError, match="provider type 'mock' is already registered"):
        fresh.add_provider(ProviderDescriptor("mock", ShoutFields, open_shout))
    with pytest.raises(ValueError, match="check 'contains' is already registered"):
        fresh.add_check(CheckDescriptor("contains", str, compile_ends_with))
    with pytest.raises(ValueError, match="pattern 'pipeline' is already registered"):
        fresh.add_pattern("pipeline", object())


class Required(StrictModel):
    needed: str


class Clashing(StrictModel):
    url: int | None = None


class Owning(StrictModel):
    timeout: float | None = None


@pytest.mark.parametrize(
    ("descriptor", "message"),
    [
        (ProviderDescriptor("r", Required, open_shout), "field 'needed' needs a default"),
        (ProviderDescriptor("c", Clashing, open_shout), "'url' is declared differently by"),
        (ProviderDescriptor("o", Owning, open_shout), "field 'timeout' is a key agentrun owns"),
        (ProviderDescriptor("i", ShoutFields, open_shout, infers=("x",)), "unknown fields"),
    ],
)
def test_contradictory_descriptors_are_refused(
    descriptor: ProviderDescriptor, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Registry.builtin().add_provider(descriptor)


def test_two_types_cannot_infer_from_one_key() -> None:
    fresh = Registry.builtin()
    fresh.add_provider(SHOUT)
    twin = ProviderDescriptor("twin", ShoutFields, open_shout, infers=("shout",))
    with pytest.raises(ValueError, match="already infer type 'shout'"):
        fresh.add_provider(twin)


def test_a_check_cannot_hide_an_imperative_key() -> None:
    with pytest.raises(ValueError, match="'severity' is a key every imperative has"):
        Registry().add_check(CheckDescriptor("severity", str, compile_ends_with))


def test_compiling_a_check_the_registry_lacks_is_an_error() -> None:
    spec = ImperativeSpec.model_validate({"ends_with": "!"}, context={"registry": registry()})
    assert compile_check("x", spec, registry=registry()).name == "x"
    with pytest.raises(KeyError, match="no compiler registered for check 'ends_with'"):
        compile_check("x", spec)


def test_every_built_in_check_and_provider_is_listed_with_its_origin() -> None:
    rows = [(r.kind, r.name, r.origin.distribution) for r in default_registry().registrations()]
    assert ("check", "judge", "agentrun") in rows
    assert ("provider", "anthropic", "agentrun") in rows
    assert ("pattern", "competitive", "agentrun") in rows
