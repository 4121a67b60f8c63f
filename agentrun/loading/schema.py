"""The JSON Schema of a paradigm file, with the keys of every registered type.

Agents, provider entries and imperatives are open models: pydantic alone would
describe them as taking any key. The schema here lists, for each of them, the keys
the registry's provider and check types declare, and forbids every other key.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from agentrun.loading.model_base import OpenModel, or_default
from agentrun.loading.pattern_keys import keys_model_of
from agentrun.loading.spec import AgentSpec, ImperativeSpec, MockStandIn, Paradigm, ProviderEntry

if TYPE_CHECKING:
    from agentrun.registry import Registry

_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def paradigm_schema(registry: Registry | None = None) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a paradigm file for ``registry``'s types.

    Args:
        registry: the provider and check types (default: built-ins and plugins).
    """
    registry = or_default(registry)
    owners = list(dict.fromkeys(d.fields for d in registry.providers.values()))
    checks = registry.checks_model()
    models: list[type[BaseModel]] = [Paradigm, AgentSpec, ProviderEntry, MockStandIn]
    models += [ImperativeSpec, *owners, checks]
    owned = {
        pattern: model
        for pattern, obj in registry.patterns.items()
        if (model := keys_model_of(obj)) is not None
    }
    models += list(dict.fromkeys(owned.values()))
    refs, top = models_json_schema([(m, "validation") for m in models], by_alias=True)
    defs: dict[str, Any] = top["$defs"]

    def name(model: type[BaseModel]) -> str:
        return str(refs[(model, "validation")]["$ref"]).rsplit("/", 1)[-1]

    for model in (AgentSpec, ProviderEntry, MockStandIn, ImperativeSpec):
        _close(defs[name(model)], model, registry, lambda owner: defs[name(owner)])
    entry_type = defs[name(ProviderEntry)]["properties"]["type"]
    entry_type.pop("type", None)
    entry_type["enum"] = list(registry.providers)
    # An imperative holds exactly one check: each alternative requires one of them.
    defs[name(ImperativeSpec)]["oneOf"] = [{"required": [check]} for check in registry.checks]
    document = defs.pop(name(Paradigm))
    document = {"$schema": _DIALECT, **document, "$defs": defs}
    # `x-` keys are the home of YAML anchors; the loader ignores them.
    document["patternProperties"] = {"^x-": {}}
    for pattern, model in owned.items():
        _own_keys(document, pattern, defs.pop(name(model)))
    return document


def _own_keys(document: dict[str, Any], pattern: str, keys: dict[str, Any]) -> None:
    """A pattern's own keys (``rounds`` of ``exchange``): allowed at the top level, its
    required ones required, and only with ``pattern`` set to it."""
    properties = document["properties"]
    for key, schema in keys.get("properties", {}).items():
        properties.setdefault(
            key, {**schema, "description": f"(pattern: {pattern}) " + schema.get("description", "")}
        )
    only = {"properties": {"pattern": {"const": pattern}}, "required": ["pattern"]}
    rule: dict[str, Any] = {"if": only, "then": {"required": keys.get("required", [])}}
    rule["else"] = {"not": {"anyOf": [{"required": [key]} for key in keys.get("properties", {})]}}
    document.setdefault("allOf", []).append(rule)


def _close(schema: dict[str, Any], model: type[OpenModel], registry: Registry, of: Any) -> None:
    """Add the open keys of ``model`` to its schema and forbid every other key."""
    properties = schema.setdefault("properties", {})
    for key, owner in model.open_keys(registry).items():
        if key not in properties:
            properties[key] = copy.deepcopy(of(owner)["properties"][key])
    schema["additionalProperties"] = False
