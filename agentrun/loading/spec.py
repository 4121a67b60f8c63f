"""Pydantic models of a paradigm file: the shape half of validation.

Every model forbids unknown keys (a typo must never be ignored). Cross-references
(agent names, imperatives, providers, fallback cycles, templates) are checked
afterwards by :mod:`agentrun.loading.semantics`, which knows where each YAML node sits.
Field docstrings become the descriptions in ``agentrun schema``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from agentrun.durations import parse_duration
from agentrun.sizes import ByteSize

Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?|\.\d+)\s*(ms|s|m|h)?\s*$"},
                {"type": "string", "enum": ["none", "inf", "unlimited"]},
                {"type": "number", "minimum": 0},
            ],
            "description": "250ms, 30s, 2m, 1h, a bare number of seconds, or none",
        }
    ),
]
"""A duration in seconds, written as ``250ms``, ``30s``, ``2m``, ``1h`` or a number."""

Require = Literal["all", "any", "majority"] | Annotated[int, Field(ge=1)]
"""How many agents must pass: all, any, majority, or a number."""

PatternName = Literal["independent", "pipeline", "competitive"]
BUILTIN_PROVIDER_TYPES = ("mock", "command", "python", "http", "openai", "anthropic")
ProviderType = Literal["mock", "command", "python", "http", "openai", "anthropic"]

_CALLABLE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|m|h)\s*$")
_RATE_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}

# Which agent fields belong to which provider type. An agent (or a provider entry)
# that sets a field of another type is reported by the semantic checks.
PROVIDER_FIELDS: dict[str, frozenset[str]] = {
    "mock": frozenset({"output", "outputs", "latency", "fail_times", "error", "hang"}),
    "command": frozenset({"command", "stdin", "env", "cwd"}),
    "python": frozenset({"callable"}),
    "http": frozenset({"url", "method", "headers", "body", "output_path"}),
    "openai": frozenset({"base_url", "api_key", "model", "stream"}),
    "anthropic": frozenset({"base_url", "api_key", "model"}),
}
TYPE_SPECIFIC_FIELDS = frozenset().union(*PROVIDER_FIELDS.values()) - {"model"}


def parse_rate(value: str) -> float:
    """Turn ``5/s``, ``100/m`` or ``1000/h`` into requests per second.

    Raises:
        ValueError: the value is not a rate.
    """
    match = _RATE.match(value)
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"expected a rate such as 5/s or 100/m, got {value!r}")
    return float(match.group(1)) / _RATE_UNITS[match.group(2)]


def _check_callable(value: str | None) -> str | None:
    if value is not None and not _CALLABLE.match(value):
        raise ValueError(f"expected 'package.module:function', got {value!r}")
    return value


class StrictModel(BaseModel):
    """Base of every paradigm model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)


class Backoff(StrictModel):
    """Wait between attempts: ``min(max, initial * multiplier ** (n - 1))``, jittered."""

    initial: Duration = 0.5
    """Wait before the first retry."""
    max: Duration = 8.0
    """Upper bound of any single wait."""
    multiplier: float = Field(default=2.0, ge=1.0, allow_inf_nan=False)
    """Growth factor between successive waits."""
    jitter: bool = True
    """Randomise each wait between half and all of its computed value."""

    @model_validator(mode="after")
    def _max_not_below_initial(self) -> Backoff:
        if self.max < self.initial:
            raise ValueError(f"max ({self.max:g}s) must be >= initial ({self.initial:g}s)")
        return self


class Price(StrictModel):
    """Cost of a provider's tokens, in USD per million tokens."""

    input: float = Field(ge=0, allow_inf_nan=False)
    """USD per million prompt tokens."""
    output: float = Field(ge=0, allow_inf_nan=False)
    """USD per million completion tokens."""


class MockFields(StrictModel):
    """Fields of the offline ``mock`` provider."""

    output: str | None = None
    """Template rendered as the output of every attempt."""
    outputs: list[str] | None = Field(default=None, min_length=1)
    """One output template per attempt; the last one repeats."""
    latency: Duration | None = None
    """How long each attempt takes."""
    fail_times: int | None = Field(default=None, ge=0)
    """The first N attempts raise an error."""
    error: str | None = None
    """Message of the error raised by failing attempts."""
    hang: bool | None = None
    """Never answer (for testing timeouts)."""


class CommandFields(StrictModel):
    """Fields of the ``command`` provider (a program run without a shell)."""

    command: list[str] | None = Field(default=None, min_length=1)
    """Program and arguments, each a template; never passed through a shell."""
    stdin: str | None = None
    """Template written to the program's standard input (default: the rendered prompt)."""
    env: dict[str, str] | None = None
    """Extra environment variables for the program."""
    cwd: str | None = None
    """Working directory (relative paths are relative to the paradigm file)."""


class PythonFields(StrictModel):
    """Fields of the ``python`` provider."""

    callable: str | None = None
    """``package.module:function``, sync or async, called with the rendered prompt."""

    _callable_format = field_validator("callable")(_check_callable)


class HttpFields(StrictModel):
    """Fields of the ``http`` provider."""

    url: str | None = None
    """Address the request is sent to."""
    method: Literal["POST", "PUT", "PATCH", "GET"] | None = None
    """HTTP method (default POST)."""
    headers: dict[str, str] | None = None
    """Request headers; values may use ${VAR} and are then kept secret."""
    body: str | dict[str, Any] | None = None
    """JSON body (templates inside are rendered)."""
    output_path: str | None = None
    """Dotted path of the output inside the JSON reply, e.g. ``data.reply``."""


class LLMFields(StrictModel):
    """Fields of the ``openai`` and ``anthropic`` providers."""

    base_url: str | None = None
    """API base address, e.g. https://api.openai.com/v1."""
    api_key: str | None = None
    """API key, normally ``${SOME_VAR}``; never printed."""
    model: str | None = None
    """Model name."""
    stream: bool | None = None
    """Stream tokens as they are generated (openai)."""


class ProviderEntry(MockFields, CommandFields, PythonFields, HttpFields, LLMFields):
    """A named connection under ``providers:``; agents naming it share its limits."""

    type: ProviderType
    """Which built-in provider this entry configures."""
    max_concurrency: int | None = Field(default=None, ge=1)
    """At most this many requests in flight to this provider."""
    rate_limit: str | None = None
    """At most this many requests started per second or minute: ``5/s``, ``100/m``."""
    price: Price | None = None
    """Cost per million tokens, for the report's cost figure."""
    description: str | None = None
    """Free text."""

    @field_validator("rate_limit")
    @classmethod
    def _rate_format(cls, value: str | None) -> str | None:
        if value is not None:
            parse_rate(value)
        return value


class AgentSettings(StrictModel):
    """Fields an agent may take from ``defaults:``."""

    provider: str | None = None
    """A name under ``providers:`` or a built-in type (mock, command, python, http, openai, ...)."""
    system: str | None = None
    """System prompt template (LLM providers)."""
    model: str | None = None
    """Model name, for LLM providers."""
    temperature: float | None = Field(default=None, ge=0, le=2)
    """Sampling temperature, for LLM providers."""
    max_tokens: int | None = Field(default=None, ge=1)
    """Largest completion, for LLM providers."""
    timeout: Duration | None = None
    """Time limit of one attempt (default 60s)."""
    total_timeout: Duration | None = None
    """Time limit of all attempts and backoff waits together."""
    retries: int | None = Field(default=None, ge=0, le=100)
    """Extra attempts after the first (default 0)."""
    backoff: Backoff | None = None
    """Waits between attempts."""
    imperatives: list[str] | None = None
    """Names of imperatives every output must pass."""
    max_output: ByteSize | None = None
    """Most output kept per attempt (default 1MiB): ``64KiB``, ``2MB`` or bytes. A longer
    output keeps its head and tail, marked truncated; a program is stopped at 8 times it."""


class Defaults(AgentSettings):
    """Settings applied to every agent that does not set them; ``imperatives`` are added."""


class AgentSpec(AgentSettings, MockFields, CommandFields, PythonFields, HttpFields, LLMFields):
    """One agent: a provider, a prompt, its time budget and the checks its outputs must pass."""

    prompt: str | None = None
    """Prompt template (default ``{{ input }}``)."""
    fallback: list[str] | None = None
    """Agents tried in order once this agent has failed all its attempts."""
    mock: MockFields | None = None
    """Offline stand-in (mock fields) used instead of an openai, anthropic or http
    provider when the run uses ``--mock``; without it the mock echoes the prompt."""
    description: str | None = None
    """Free text."""


class Judge(StrictModel):
    """An agent asked to judge an output; its reply must begin with PASS."""

    agent: str
    """The judging agent."""
    rubric: str
    """What the judge checks."""


class ImperativeSpec(StrictModel):
    """A named check every output of the agents that list it must pass (exactly one check)."""

    contains: str | list[str] | None = None
    """Every one of these must appear."""
    contains_any: list[str] | None = Field(default=None, min_length=1)
    """At least one of these must appear."""
    not_contains: str | list[str] | None = None
    """None of these may appear."""
    regex: str | None = None
    """The output must match this regular expression (search, not full match)."""
    not_regex: str | None = None
    """The output must not match this regular expression."""
    equals: str | None = None
    """The output, stripped of surrounding whitespace, must equal this."""
    json_: Literal[True] | None = Field(default=None, alias="json")
    """The output must parse as JSON."""
    json_schema: dict[str, Any] | None = None
    """The output must be JSON valid against this schema."""
    min_length: int | None = Field(default=None, ge=0)
    """At least this many characters."""
    max_length: int | None = Field(default=None, ge=0)
    """At most this many characters."""
    max_latency: Duration | None = None
    """The attempt must take at most this long."""
    python: str | None = None
    """``package.module:function`` returning a bool or ``(bool, reason)``."""
    judge: Judge | None = None
    """Ask another agent; its reply must begin with PASS."""
    severity: Literal["error", "warning"] = "error"
    """``warning`` results are reported but never fail an agent."""
    case_sensitive: bool = True
    """Whether text comparisons respect case."""
    timeout: Duration = 10.0
    """Time limit of the check itself (python and judge checks)."""
    description: str | None = None
    """Free text shown with violations."""

    model_config = ConfigDict(populate_by_name=False)

    _python_format = field_validator("python")(_check_callable)

    @field_validator("regex", "not_regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return value

    @field_validator("json_schema")
    @classmethod
    def _valid_schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            import jsonschema

            try:
                jsonschema.validators.validator_for(value).check_schema(value)
            except jsonschema.SchemaError as exc:
                raise ValueError(f"invalid JSON Schema: {exc.message}") from None
        return value

    @model_validator(mode="after")
    def _exactly_one_check(self) -> ImperativeSpec:
        found = [name for name in CHECK_NAMES if getattr(self, _attr(name)) is not None]
        if len(found) != 1:
            what = "none" if not found else f"{len(found)} ({', '.join(found)})"
            raise ValueError(
                f"an imperative holds exactly one check, found {what}; "
                f"checks: {', '.join(CHECK_NAMES)}"
            )
        return self

    @property
    def check(self) -> str:
        """The name of this imperative's check (``contains``, ``regex``, ...)."""
        return next(n for n in CHECK_NAMES if getattr(self, _attr(n)) is not None)

    @property
    def argument(self) -> Any:
        """The value given to this imperative's check."""
        return getattr(self, _attr(self.check))


CHECK_NAMES = (
    "contains",
    "contains_any",
    "not_contains",
    "regex",
    "not_regex",
    "equals",
    "json",
    "json_schema",
    "min_length",
    "max_length",
    "max_latency",
    "python",
    "judge",
)


def _attr(check: str) -> str:
    return "json_" if check == "json" else check


class Stage(StrictModel):
    """One stage of a pipeline: its agents run at once."""

    name: str | None = None
    """Stage name (default ``stage1``, ``stage2``, ...)."""
    agents: list[str] = Field(min_length=1)
    """Agents of this stage."""
    input: str | None = None
    """Template giving this stage's ``input`` (default: the paradigm's input)."""
    require: Require = "all"
    """How many of the stage's agents must pass for the pipeline to go on."""
    timeout: Duration | None = None
    """Time limit of the whole stage."""
    for_each: bool = False
    """Run the stage once per output of the previous stage (``item`` in templates)."""
    description: str | None = None
    """Free text."""


class Winner(StrictModel):
    """Extra checks a competitive winner must pass."""

    imperatives: list[str] = Field(default_factory=list)
    """Imperatives every racer's output must also pass to win."""


class Paradigm(StrictModel):
    """A paradigm file: agents, a parallel pattern and its safety rails."""

    version: Literal[1] = 1
    """Format version."""
    name: str | None = None
    """Paradigm name (default: the file's stem)."""
    description: str | None = None
    """Free text."""
    pattern: PatternName
    """independent, pipeline or competitive."""
    input: str = ""
    """Default input; ``--input`` and ``--input-file`` override it."""
    vars: dict[str, Any] = Field(default_factory=dict)
    """Template variables; ``--var key=value`` overrides them."""
    defaults: Defaults = Field(default_factory=Defaults)
    """Settings applied to every agent that does not set them."""
    providers: dict[str, ProviderEntry] = Field(default_factory=dict)
    """Named connections that agents share."""
    imperatives: dict[str, ImperativeSpec] = Field(default_factory=dict)
    """Named checks on agent outputs."""
    agents: dict[str, AgentSpec] = Field(min_length=1)
    """Agents by name."""
    stages: list[Stage] | None = None
    """Pipeline stages, in order (pipeline only)."""
    run: list[str] | None = None
    """Agents that run (independent, competitive; default: all but fallbacks and judges)."""
    require: Require = "all"
    """How many agents must pass (independent)."""
    deadline: Duration | None = None
    """Time limit of the whole pattern."""
    fallback: list[str] | None = None
    """Agents tried in order if the pattern as a whole fails."""
    winner: Winner | None = None
    """Extra checks for the competitive winner."""
