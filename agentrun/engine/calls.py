"""One provider call: bounded by its time limit, its streamed text redacted on the way out."""

from __future__ import annotations

import asyncio

from agentrun.engine.context import Limit, RunContext
from agentrun.errors import AgentError
from agentrun.events.records import Streamed
from agentrun.providers.base import AgentClient, Reply, Request
from agentrun.redact import StreamRedactor, active_redactor


class DeltaStream:
    """Turns one attempt's streamed pieces into ``streamed`` events.

    A secret can arrive split across two pieces, where redacting each piece alone
    would miss it: the text is redacted as one stream instead, holding back a tail
    shorter than the longest secret until the next piece (or :meth:`close`).
    """

    def __init__(self, ctx: RunContext, instance: str, attempt: int) -> None:
        self._ctx = ctx
        self._instance = instance
        self._attempt = attempt
        self._redact = StreamRedactor(active_redactor())
        self._received = 0

    def feed(self, delta: str) -> None:
        """Take one piece as it arrives (the provider's ``on_delta``)."""
        self._received += len(delta)
        self._emit(self._redact.feed(delta))

    def close(self) -> None:
        """Emit what was held back; called once the attempt ends, however it ends."""
        self._emit(self._redact.flush())

    def _emit(self, text: str) -> None:
        if text:
            self._ctx.emit(
                Streamed,
                instance=self._instance,
                attempt=self._attempt,
                delta=text,
                chars=self._received,
            )


async def call_provider(client: AgentClient, request: Request, limit: Limit | None) -> Reply:
    """One provider call under the attempt's limit; only our own expired scope raises
    TimeoutError (a provider's own timeout is an ordinary, retryable failure)."""
    if limit is None:
        try:
            return await client.complete(request)
        except TimeoutError:
            raise AgentError("the provider timed out") from None
    async with asyncio.timeout_at(limit.at) as scope:
        try:
            return await client.complete(request)
        except TimeoutError:
            if scope.expired():
                raise
            raise AgentError("the provider timed out") from None
