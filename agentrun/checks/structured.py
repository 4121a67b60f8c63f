"""Checks on structured output: ``json`` (parses) and ``json_schema`` (parses and validates)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import jsonschema
from jsonschema.exceptions import best_match
from pydantic import AfterValidator

from agentrun.checks.base import Check, CheckDescriptor, CheckInput, JudgeRunner
from agentrun.checks.text import PredicateCheck, shorten
from agentrun.graph.runtime import Imperative

_NOT_PARSED = object()


def _parse(text: str) -> tuple[Any, str | None]:
    """The JSON value of ``text``, or a reason why it is not JSON."""
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return _NOT_PARSED, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    except RecursionError:
        return _NOT_PARSED, "not valid JSON: nested too deeply"
    except ValueError as exc:  # e.g. an integer beyond Python's digit limit
        return _NOT_PARSED, f"not valid JSON: {shorten(str(exc), 120)}"


def compile_json(name: str, spec: Imperative, *, run_judge: JudgeRunner | None = None) -> Check:
    """``json: true``: the output must parse as JSON (surrounding whitespace allowed)."""

    def verdict(inp: CheckInput) -> str | None:
        return _parse(inp.output)[1]

    return PredicateCheck(name, spec.severity, verdict)


def compile_json_schema(
    name: str, spec: Imperative, *, run_judge: JudgeRunner | None = None
) -> Check:
    """``json_schema``: the output must parse as JSON and be valid against the schema.

    The validator follows the schema's ``$schema`` and defaults to Draft 2020-12.
    """
    schema: dict[str, Any] = spec.argument
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    validator = cls(schema)

    def verdict(inp: CheckInput) -> str | None:
        value, reason = _parse(inp.output)
        if reason is not None:
            return reason
        error = best_match(validator.iter_errors(value))
        if error is None:
            return None
        # Messages may quote the whole offending value; keep them to a readable size.
        return f"JSON Schema: {shorten(error.message, 160)} (at {error.json_path})"

    return PredicateCheck(name, spec.severity, verdict)


def _valid_schema(value: dict[str, Any]) -> dict[str, Any]:
    try:
        jsonschema.validators.validator_for(value).check_schema(value)
    except jsonschema.SchemaError as exc:
        raise ValueError(f"invalid JSON Schema: {exc.message}") from None
    return value


JSON = CheckDescriptor(
    "json", Literal[True], compile_json, description="The output must parse as JSON."
)
JSON_SCHEMA = CheckDescriptor(
    "json_schema",
    Annotated[dict[str, Any], AfterValidator(_valid_schema)],
    compile_json_schema,
    description="The output must be JSON valid against this schema.",
)
