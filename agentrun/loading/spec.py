"""Pydantic models of a paradigm file: the shape half of validation.

Every model forbids unknown keys (a typo must never be ignored); agents, provider
entries and imperatives also take the keys of the registered provider and check
types (:class:`~agentrun.loading.model_base.OpenModel`). Cross-references
(agent names, imperatives, providers, fallback cycles, templates) are checked
afterwards by :mod:`agentrun.loading.semantics`, which knows where each YAML node sits.
Field docstrings become the descriptions in ``agentrun schema``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from agentrun.coordination.spec import AnswerSpec, Select, StateKey, Writes
from agentrun.loading.model_base import Duration, OpenModel, StrictModel, registry_of
from agentrun.loading.pattern_name import PatternName
from agentrun.sizes import ByteSize

if TYPE_CHECKING:
    from agentrun.registry import Registry

Require = Literal["all", "any", "majority"] | Annotated[int, Field(ge=1)]
"""How many agents must pass: all, any, majority, or a number."""


FieldsModel = type[BaseModel]
"""A provider type's fields model (an alias: ``type`` is also a field name below)."""

_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|m|h)\s*$")
_RATE_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}


def parse_rate(value: str) -> float:
    """Turn ``5/s``, ``100/m`` or ``1000/h`` into requests per second.

    Raises:
        ValueError: the value is not a rate.
    """
    match = _RATE.match(value)
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"expected a rate such as 5/s or 100/m, got {value!r}")
    return float(match.group(1)) / _RATE_UNITS[match.group(2)]


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


class ProviderEntry(OpenModel):
    """A named connection under ``providers:``; agents naming it share its limits.

    Besides the keys below it takes the type-specific keys of every registered
    provider type; the semantic checks report those that do not apply to ``type``.
    """

    model_config = ConfigDict(extra="allow")

    type: str
    """Which provider type this entry configures (a registered type)."""
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

    @field_validator("type")
    @classmethod
    def _registered_type(cls, value: str, info: ValidationInfo) -> str:
        known = registry_of(info.context).providers
        if value not in known:
            raise ValueError(f"expected one of {', '.join(known)}, got {value!r}")
        return value

    @classmethod
    def open_keys(cls, registry: Registry) -> Mapping[str, FieldsModel]:
        """Every registered type's keys."""
        return registry.field_models()


class AgentSettings(StrictModel):
    """Fields an agent may take from ``defaults:``."""

    provider: str | None = None
    """A name under ``providers:`` or a provider type (mock, command, python, http, openai, ...)."""
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


class MockStandIn(OpenModel):
    """The keys of the ``mock`` provider type, as an agent's offline stand-in."""

    model_config = ConfigDict(extra="allow")

    @classmethod
    def open_keys(cls, registry: Registry) -> Mapping[str, FieldsModel]:
        """The keys of the registered ``mock`` type."""
        mock = registry.providers.get("mock")
        return dict.fromkeys(mock.fields.model_fields, mock.fields) if mock else {}


class AgentSpec(AgentSettings, OpenModel):
    """One agent: a provider, a prompt, its time budget and the checks its outputs must pass.

    Besides the keys below it takes the type-specific keys of every registered
    provider type (``output``, ``command``, ``url``, ...).
    """

    model_config = ConfigDict(extra="allow")

    prompt: str | None = None
    """Prompt template (default ``{{ input }}``)."""
    prompt_file: str | None = None
    """A file (relative to the paradigm) whose text is the prompt, sent verbatim and never
    rendered as a template; excludes ``prompt``."""
    fallback: list[str] | None = None
    """Agents tried in order once this agent has failed all its attempts."""
    mock: MockStandIn | None = None
    """Offline stand-in (mock fields) used instead of a network provider (openai,
    anthropic, http, ...) when the run uses ``--mock``; without it the mock echoes the prompt."""
    description: str | None = None
    """Free text."""
    writes: Writes | None = None
    """State keys a passing output is written to: a key, a list, or key → template."""
    wait_for: str | None = None
    """Start only once this expression over ``state`` and ``agents`` is true."""
    wait_timeout: Duration | None = None
    """Longest to wait for ``wait_for`` (default: until the deadline)."""
    reply: str | None = None
    """Prompt template of rounds 2 onward of an exchange (default: the others' answers)."""

    @classmethod
    def open_keys(cls, registry: Registry) -> Mapping[str, FieldsModel]:
        """Every registered type's keys, except the settings every agent has (``model``)."""
        return {k: m for k, m in registry.field_models().items() if k not in cls.model_fields}


class Judge(StrictModel):
    """An agent asked to judge an output; its reply must begin with PASS."""

    agent: str
    """The judging agent."""
    rubric: str
    """What the judge checks."""


class ImperativeSpec(OpenModel):
    """A named check every output of the agents that list it must pass (exactly one check).

    The check is one key of a registered check type (``contains``, ``regex``, ``judge``, ...).
    """

    model_config = ConfigDict(extra="allow")

    severity: Literal["error", "warning"] = "error"
    """``warning`` results are reported but never fail an agent."""
    case_sensitive: bool = True
    """Whether text comparisons respect case."""
    timeout: Duration = 10.0
    """Time limit of the check itself (slow checks: python, judge)."""
    description: str | None = None
    """Free text shown with violations."""

    @classmethod
    def open_keys(cls, registry: Registry) -> Mapping[str, FieldsModel]:
        """One key per registered check type."""
        model = registry.checks_model()
        return dict.fromkeys(registry.checks, model)

    @classmethod
    def _complete(cls, instance: OpenModel, registry: Registry) -> None:
        found = [name for name in registry.checks if name in (instance.model_extra or {})]
        if len(found) != 1:
            what = "none" if not found else f"{len(found)} ({', '.join(found)})"
            raise ValueError(
                f"an imperative holds exactly one check, found {what}; "
                f"checks: {', '.join(registry.checks)}"
            )

    @property
    def check(self) -> str:
        """The name of this imperative's check (``contains``, ``regex``, ...)."""
        return next(iter(self.model_extra or {}))

    @property
    def argument(self) -> Any:
        """The value given to this imperative's check."""
        return (self.model_extra or {})[self.check]

    @property
    def judge(self) -> Judge | None:
        """The judge this imperative asks, when its check is ``judge``."""
        argument = (self.model_extra or {}).get("judge")
        return argument if isinstance(argument, Judge) else None


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
    select: Select | None = None
    """Pick the stage's result (``vote`` or ``{agent: NAME}``): the next stage's ``previous``."""
    description: str | None = None
    """Free text."""


class Winner(StrictModel):
    """Extra checks a competitive winner must pass."""

    imperatives: list[str] = Field(default_factory=list)
    """Imperatives every racer's output must also pass to win."""


class CasesFile(StrictModel):
    """Cases kept in their own file."""

    file: str
    """A JSONL, CSV or YAML file of cases, relative to the paradigm."""


class Thresholds(StrictModel):
    """What a dataset run must reach to succeed (default: every case passes)."""

    pass_rate: float | None = Field(default=None, ge=0, le=1)
    """Smallest share of passed cases, 0 to 1."""
    p95_latency: Duration | None = None
    """Largest 95th percentile of a case's duration."""
    cost: float | None = Field(default=None, ge=0)
    """Largest total cost in USD."""


class Paradigm(StrictModel):
    """A paradigm file: agents, a parallel pattern and its safety rails."""

    version: Literal[1] = 1
    """Format version."""
    name: str | None = None
    """Paradigm name (default: the file's stem)."""
    description: str | None = None
    """Free text."""
    pattern: PatternName
    """independent, pipeline, competitive, or a registered pattern."""
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
    cases: list[dict[str, Any]] | CasesFile | None = None
    """Inputs to run one by one: a list of cases (``input``, ``id``, ``vars``,
    ``imperatives``) or ``{file: PATH}``; ``--cases`` replaces them."""
    thresholds: Thresholds | None = None
    """What a run over cases must reach; ``--pass-rate`` overrides ``pass_rate``."""
    cache: bool = False
    """Keep successful LLM and HTTP replies in a local cache and reuse them (``--cache``)."""
    state: dict[str, StateKey] | None = None
    """The run's shared board: only declared keys exist."""
    answer: AnswerSpec | None = None
    """How an answer is read out of an output (votes, consensus)."""
    select: Select | None = None
    """How the result is picked: ``vote`` or ``{agent: NAME}`` (independent, exchange)."""

    _pattern_keys: Any = PrivateAttr(default=None)

    @property
    def pattern_keys(self) -> Any:
        """The validated keys the file's pattern owns (its ``keys_model``), if any."""
        return self._pattern_keys


SHARED_SETTINGS = frozenset({"model", "system", "temperature", "max_tokens"})
"""Agent settings a provider type may also declare as its own key (``model`` on an entry)."""
AGENT_KEYS = frozenset(AgentSpec.model_fields)
"""Keys every agent has, whatever its provider type."""
ENTRY_KEYS = frozenset(ProviderEntry.model_fields)
"""Keys every provider entry has."""
IMPERATIVE_KEYS = frozenset(ImperativeSpec.model_fields)
"""Keys every imperative has besides its one check."""
