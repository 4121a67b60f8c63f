"""The offline ``mock`` provider: deterministic outputs, failures, latency and hangs.

It stands in for real providers in demos, tests and ``--mock`` runs, and is
used in benchmarks of thousands of agents, so everything that does not depend
on the request is worked out once per agent, in the constructor.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from agentrun.durations import parse_duration
from agentrun.errors import ProviderError, TemplateError, UsageError
from agentrun.loading.model_base import Duration, StrictModel
from agentrun.loading.spec import ProviderEntry
from agentrun.providers.base import (
    AgentClient,
    ClientOptions,
    ProviderDescriptor,
    ProviderSession,
    Reply,
    Request,
)
from agentrun.providers.batching import BatchBinding, BatchFields, BatchGroup

__all__ = ["MOCK", "MockClient", "MockFields", "MockSession", "open_mock_session"]


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
    batch: BatchFields | None = None
    """Answer attempts in batches: each item as if alone, ``latency`` once per batch."""


class MockClient:
    """One agent's mock: answers from its ``output``/``outputs`` templates.

    Fields (all optional):

    ============== ============================================================
    ``output``     template rendered as every attempt's output
    ``outputs``    one template per attempt (1-based); the last one repeats
    ``latency``    seconds awaited before each answer or failure
    ``fail_times`` attempts ``1..N`` raise a retryable ``ProviderError``
    ``error``      that error's message; alone, every attempt fails with it
    ``hang``       never answer (until cancelled)
    ============== ============================================================

    Without ``output`` or ``outputs`` the reply is the rendered prompt (an echo).

    Raises:
        UsageError: both ``output`` and ``outputs`` are set, or ``latency`` is invalid.
        TemplateError: an output template has a syntax error.
    """

    __slots__ = (
        "_batch",
        "_error",
        "_fail_times",
        "_fails_through",
        "_group",
        "_hang",
        "_latency",
        "_outputs",
        "_render",
        "_single",
    )

    def __init__(self, options: ClientOptions, group: BatchGroup | None = None) -> None:
        fields = options.fields
        batch = fields.get("batch")
        self._batch = batch if isinstance(batch, BatchFields) else None
        self._group = group
        output = fields.get("output")
        outputs = fields.get("outputs")
        if output is not None and outputs is not None:
            raise UsageError(f"agent {options.agent!r}: set either output or outputs, not both")
        if outputs is not None:
            sources: tuple[str, ...] = tuple(str(source) for source in outputs)
        elif output is not None:
            sources = (str(output),)
        else:
            sources = ()
        for source in sources:
            options.templates.precompile(source, f"agent {options.agent!r}")
        self._outputs = sources
        self._single = outputs is None
        self._render = options.templates.render

        latency = _seconds(options.agent, fields.get("latency"))
        # An unlimited latency is a hang; asyncio.sleep(inf) would overflow the timer.
        self._hang = bool(fields.get("hang")) or math.isinf(latency)
        self._latency = 0.0 if math.isinf(latency) else latency

        error = fields.get("error")
        fail_times = fields.get("fail_times")
        self._error: str | None = None if error is None else str(error)
        self._fail_times = int(fail_times or 0)
        # Attempts up to this number fail: `error` alone means every attempt.
        self._fails_through: float = (
            math.inf if fail_times is None and error is not None else self._fail_times
        )

    async def complete(self, request: Request) -> Reply:
        """Answer one attempt as configured.

        Raises:
            ProviderError: this attempt is one of the configured failures (retryable).
            TemplateError: the output template failed to render.
        """
        if self._batch is not None and self._group is not None:
            batcher = self._group.batcher(
                self._batch.model_dump_json(), self._batch, _send_batch, "provider 'mock'"
            )
            return await batcher.submit((self, request))
        if self._latency:
            await asyncio.sleep(self._latency)
        if self._hang:
            # Waiting on an event nobody sets: cancellation ends it at once.
            await asyncio.Event().wait()
        return self._answer(request)

    @property
    def batched(self) -> bool:
        """Whether attempts go through the batcher (which takes the provider's limits)."""
        return self._batch is not None and self._group is not None

    def _answer(self, request: Request) -> Reply:
        """The output or failure of one attempt, once its latency has passed."""
        attempt = request.attempt
        if attempt <= self._fails_through:
            raise ProviderError(
                self._error or f"mock failure on attempt {attempt} of {self._fail_times}"
            )
        outputs = self._outputs
        if not outputs:
            return Reply(request.prompt)
        index = attempt - 1 if attempt <= len(outputs) else len(outputs) - 1
        try:
            return Reply(self._render(outputs[index], request.context))
        except TemplateError as exc:
            field = "output" if self._single else f"outputs[{index}]"
            raise TemplateError(f"{exc} (in {field})") from None


async def _send_batch(items: Sequence[tuple[MockClient, Request]]) -> list[Reply | BaseException]:
    """Answer a batch: the longest latency once, then each item as if alone."""
    latency = max(client._latency for client, _ in items)
    if latency:
        await asyncio.sleep(latency)
    if any(client._hang for client, _ in items):
        await asyncio.Event().wait()
    replies: list[Reply | BaseException] = []
    for client, request in items:
        try:
            replies.append(client._answer(request))
        except (ProviderError, TemplateError) as exc:
            replies.append(exc)
    return replies


class MockSession:
    """A ``mock`` session: agents share nothing but the batchers of ``batch:``."""

    def __init__(self, entry: ProviderEntry | None) -> None:
        self.batches = BatchGroup(entry.max_concurrency if entry else None)

    def client(self, options: ClientOptions) -> AgentClient:
        """Build one agent's mock."""
        return MockClient(options, self.batches)

    def bind_batching(self, binding: BatchBinding) -> None:
        """Take the provider's limiter and the batch observer (see :mod:`.batching`)."""
        self.batches.bind(binding)

    async def aclose(self) -> None:
        """Cancel open batches."""
        await self.batches.aclose()


def open_mock_session(entry: ProviderEntry | None) -> ProviderSession:
    """Open a ``mock`` session; any entry is accepted as is."""
    return MockSession(entry)


MOCK = ProviderDescriptor(
    name="mock",
    fields=MockFields,
    open_session=open_mock_session,
    templates=("output", "outputs"),
    infers=tuple(name for name in MockFields.model_fields if name != "batch"),
    description="offline outputs, failures, latency and hangs; stands in under --mock",
)


def _seconds(agent: str, value: Any) -> float:
    """A latency as seconds; the loader normally hands over a float already."""
    if value is None:
        return 0.0
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise UsageError(f"agent {agent!r}: latency: {exc}") from None
