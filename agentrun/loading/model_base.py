"""Base models of the paradigm schema: strict models, durations, and open models.

An :class:`OpenModel` (an agent, a provider entry, an imperative) also takes the keys
that registered types declare, so a provider or check type added by a plugin can be
named in a paradigm file without editing the schema.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, cast, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ModelWrapValidatorHandler,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError
from pydantic_core.core_schema import ErrorType

from agentrun.durations import parse_duration

if TYPE_CHECKING:
    from agentrun.registry import Registry

__all__ = [
    "Duration",
    "OpenModel",
    "StrictModel",
    "check_callable",
    "or_default",
    "registry_of",
]

_CALLABLE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")

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


def check_callable(value: str | None) -> str | None:
    """``value`` if it reads ``package.module:function`` (or is None).

    Raises:
        ValueError: it does not.
    """
    if value is not None and not _CALLABLE.match(value):
        raise ValueError(f"expected 'package.module:function', got {value!r}")
    return value


class StrictModel(BaseModel):
    """Base of every paradigm model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)


class OpenModel(StrictModel):
    """A model that also takes the keys the registry's types declare (``open_keys``).

    Its own fields are validated as usual; each other key is validated by the model
    that declares it (a provider type's fields, the checks), and any key nobody
    declares is an unknown key, as in every other model. The registry comes from the
    validation context (``context={"registry": ...}``), else the default one.
    """

    model_config = ConfigDict(extra="allow")

    @classmethod
    def open_keys(cls, registry: Registry) -> Mapping[str, type[BaseModel]]:
        """The extra keys accepted, each with the model that validates it."""
        return {}

    @classmethod
    def _complete(cls, instance: OpenModel, registry: Registry) -> None:
        """Rules about the extra keys as a whole; raise ValueError to refuse."""

    @model_validator(mode="wrap")
    @classmethod
    def _open_keys(
        cls, data: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo
    ) -> Any:
        if not isinstance(data, dict):
            return handler(data)
        registry = registry_of(info.context)
        accepted = cls.open_keys(registry)
        own = {k: v for k, v in data.items() if k in cls.model_fields}
        errors: list[ErrorDetails] = []
        instance: OpenModel | None = None
        try:
            instance = handler(own)
        except ValidationError as exc:
            errors += exc.errors()
        values: dict[str, Any] = {}
        by_model: dict[type[BaseModel], list[str]] = {}
        for key, value in data.items():
            if key in own:
                continue
            if key in accepted:
                by_model.setdefault(accepted[key], []).append(key)
            else:  # extra="allow" holds the open keys: the unknown ones are refused here
                errors.append(_unknown(key, value))
        for model, keys in by_model.items():
            try:
                validated = model.model_validate({k: data[k] for k in keys}, context=info.context)
            except ValidationError as exc:
                errors += exc.errors()
                continue
            names = {info.alias or name: name for name, info in model.model_fields.items()}
            values.update((key, getattr(validated, names[key])) for key in keys)
        if errors or instance is None:
            raise _merged(cls.__name__, errors)
        extra = instance.__pydantic_extra__
        assert extra is not None  # extra="allow" always sets it
        extra.update((key, values[key]) for key in data if key in values)
        cls._complete(instance, registry)
        return instance

    def provider_field(self, name: str) -> Any:
        """The value of a type-specific key (or of a shared setting such as ``model``)."""
        if name in type(self).model_fields:
            return getattr(self, name)
        return (self.model_extra or {}).get(name)

    @property
    def open_values(self) -> Mapping[str, Any]:
        """The extra keys the file set, in file order, with their validated values."""
        return MappingProxyType(self.model_extra or {})


def registry_of(context: Any) -> Registry:
    """The registry given in a validation context, else the default one."""
    registry = context.get("registry") if isinstance(context, dict) else None
    return or_default(cast("Registry | None", registry))


def or_default(registry: Registry | None) -> Registry:
    """``registry``, or the default registry (built-ins and plugins) when it is None."""
    if registry is not None:
        return registry
    from agentrun.registry import default_registry

    return default_registry()


def _unknown(key: Any, value: Any) -> ErrorDetails:
    message = "Extra inputs are not permitted"
    return ErrorDetails(type="extra_forbidden", loc=(key,), msg=message, input=value)


def _merged(title: str, errors: list[ErrorDetails]) -> ValidationError:
    """One ValidationError of ``errors`` (raised in a validator, pydantic nests their locs)."""
    line_errors: list[InitErrorDetails] = []
    for error in errors:
        kind: Any = error["type"]
        if kind not in _KNOWN_ERROR_TYPES:  # a plugin's PydanticCustomError keeps its message
            kind = PydanticCustomError(kind, error["msg"])
        detail = InitErrorDetails(type=kind, loc=error["loc"], input=error["input"])
        if "ctx" in error and not isinstance(kind, PydanticCustomError):
            detail["ctx"] = error["ctx"]
        line_errors.append(detail)
    return ValidationError.from_exception_data(title, line_errors)


_KNOWN_ERROR_TYPES = frozenset(get_args(ErrorType))
