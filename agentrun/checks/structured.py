"""Checks on structured output: ``json`` (parses) and ``json_schema`` (parses and validates)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

from agentrun.checks.base import Check, CheckInput, JudgeRunner
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
    schema = spec.argument
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
