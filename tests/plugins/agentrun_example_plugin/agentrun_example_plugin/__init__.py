"""An example agentrun plugin: the ``parrot`` provider type and the ``max_words`` check.

``parrot`` declares itself a network provider, so ``--mock`` replaces it; it answers
offline (its "service" is a prefix it puts before the prompt) so tests can run it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from agentrun.checks.base import Check, CheckDescriptor, CheckInput, JudgeRunner
from agentrun.checks.text import PredicateCheck
from agentrun.loading.model_base import StrictModel
from agentrun.loading.spec import ImperativeSpec, ProviderEntry
from agentrun.providers.base import (
    ClientOptions,
    ProviderDescriptor,
    ProviderSession,
    Reply,
    Request,
    StatelessSession,
)


class ParrotFields(StrictModel):
    """Fields of the ``parrot`` provider."""

    squawk: str | None = None
    """Template put before every reply."""
    parrot_key: str | None = None
    """A made-up credential (kept secret)."""


class ParrotClient:
    """Repeats the prompt after its squawk."""

    def __init__(self, options: ClientOptions) -> None:
        self._squawk = str(options.fields.get("squawk", ""))
        options.templates.precompile(self._squawk, f"agent {options.agent!r}")
        self._render = options.templates.render

    async def complete(self, request: Request) -> Reply:
        """Answer with the rendered squawk and the prompt."""
        return Reply(f"{self._render(self._squawk, request.context)} {request.prompt}")


def open_parrot_session(entry: ProviderEntry | None) -> ProviderSession:
    """Parrots share nothing between agents."""
    return StatelessSession(ParrotClient)


PARROT = ProviderDescriptor(
    name="parrot",
    fields=ParrotFields,
    open_session=open_parrot_session,
    network=True,
    templates=("squawk",),
    required=("squawk",),
    infers=("squawk",),
    secrets=("parrot_key",),
    description="repeats the prompt after a squawk",
)


def compile_max_words(
    name: str, spec: ImperativeSpec, *, run_judge: JudgeRunner | None = None
) -> Check:
    """``max_words: N``: the output has at most N words."""
    limit: int = spec.argument

    def verdict(inp: CheckInput) -> str | None:
        count = len(inp.output.split())
        return None if count <= limit else f"{count} words, at most {limit} allowed"

    return PredicateCheck(name, spec.severity, verdict)


MAX_WORDS = CheckDescriptor(
    name="max_words",
    argument=Annotated[int, Field(ge=1)],
    compile=compile_max_words,
    description="At most this many words.",
)
