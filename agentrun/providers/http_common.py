"""What the network providers share: one pooled client per provider entry, and errors.

Every ``providers:`` entry of type openai, anthropic or http owns one
``httpx.AsyncClient`` for the run, shared by all agents naming it. httpx keeps
its API; underneath, the aiohttp transport carries the requests, because
httpx's own pool does work in proportion to its size on every request and
falls far behind at a few thousand concurrent calls (see ``bench/``).
Timeouts are left to the runner's scopes, which always fire; cancelling a
request closes its connection, so the server sees the abort.
"""

from __future__ import annotations

import email.utils
import functools
import json
import ssl
import time
from collections.abc import Callable
from typing import Any

import httpx
from httpx_aiohttp import AiohttpTransport

from agentrun.errors import ProviderError
from agentrun.providers.base import AgentClient, ClientOptions
from agentrun.results import Usage
from agentrun.spec import Price, ProviderEntry

RETRYABLE_STATUSES = frozenset({408, 409, 429})
_MESSAGE_LIMIT = 300


class HttpSession:
    """The pooled client and pricing of one provider entry during one run."""

    def __init__(
        self,
        entry: ProviderEntry | None,
        make_client: Callable[[ClientOptions, HttpSession], AgentClient],
    ) -> None:
        self.entry = entry
        self.price: Price | None = entry.price if entry else None
        size = entry.max_concurrency if entry else None
        self._make_client = make_client
        self._limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        self._http: httpx.AsyncClient | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        """The shared client, created on first use (inside the run's event loop)."""
        if self._http is None:
            self._http = httpx.AsyncClient(
                transport=AiohttpTransport(limits=self._limits, verify=_tls_context()),
                timeout=None,  # the runner's timeout scopes bound every request
                follow_redirects=False,
            )
        return self._http

    def client(self, options: ClientOptions) -> AgentClient:
        """Build one agent's client."""
        return self._make_client(options, self)

    async def aclose(self) -> None:
        """Close the pool and every connection in it."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def usage(self, prompt_tokens: int, completion_tokens: int) -> Usage:
        """Tokens of one reply, priced when the entry has a ``price``."""
        cost = None
        if self.price is not None:
            cost = (prompt_tokens * self.price.input + completion_tokens * self.price.output) / 1e6
        return Usage(prompt_tokens, completion_tokens, cost)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every session: loading the CA bundle takes tens of
    milliseconds of event-loop time, so it is done once per process, not per provider."""
    return httpx.create_ssl_context()


def describe(options: ClientOptions) -> str:
    """``provider 'llm'``: how errors name the provider (the runner names the agent)."""
    return f"provider {options.provider!r}"


def status_error(who: str, response: httpx.Response, body: bytes) -> ProviderError:
    """The error for a non-2xx reply: status and the server's own message, nothing more.

    408, 409, 429 and 5xx are worth retrying; 429 also shrinks the provider's limit.
    """
    status = response.status_code
    return ProviderError(
        f"{who}: HTTP {status}: {server_message(body) or response.reason_phrase}",
        retryable=status in RETRYABLE_STATUSES or status >= 500,
        retry_after=retry_after(response.headers.get("retry-after")),
        throttled=status == 429,
        status=status,
    )


def transport_error(who: str, exc: httpx.TransportError) -> ProviderError:
    """The error for a request that got no reply: connection, TLS or protocol trouble."""
    text = str(exc) or type(exc).__name__
    if "SSL" in text or "CERTIFICATE" in text.upper():
        return ProviderError(f"{who}: TLS error: {_clip(text)}", retryable=False)
    if isinstance(exc, httpx.UnsupportedProtocol):
        return ProviderError(f"{who}: unsupported URL: {_clip(text)}", retryable=False)
    return ProviderError(f"{who}: request failed: {_clip(text)}")


def parse_json(who: str, body: bytes, status: int) -> Any:
    """The reply's JSON, or a clear error quoting the start of what came instead."""
    try:
        return json.loads(body)
    except ValueError:
        preview = body[:80].decode("utf-8", errors="replace")
        raise ProviderError(f"{who}: reply is not JSON (HTTP {status}): {preview!r}") from None


def server_message(body: bytes) -> str:
    """The message a server put in its error body (OpenAI, Anthropic or plain text)."""
    try:
        data = json.loads(body)
    except ValueError:
        return _clip(body.decode("utf-8", errors="replace").strip())
    if isinstance(data, dict):
        error = data.get("error", data)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return _clip(error["message"])
        if isinstance(error, str):
            return _clip(error)
        if isinstance(data.get("message"), str):
            return _clip(data["message"])
    return _clip(json.dumps(data))


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 1] + "…"
