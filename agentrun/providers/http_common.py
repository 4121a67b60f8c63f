"""What the network providers share: one pooled HTTP session per provider entry, and errors.

Every ``providers:`` entry of type openai, anthropic or http owns one aiohttp
``ClientSession`` for the run, shared by all agents naming it, with a connection
pool sized to its ``max_concurrency`` (unlimited without one). aiohttp carries the
requests directly: measured against a local server at 1,000 calls and 100 in
flight, httpx's client layer alone cost more CPU per call than a whole bare
aiohttp call, even over its aiohttp transport (see ``bench/bench_http.py``).
Timeouts are left to the runner's scopes, which always fire; cancelling a request
closes its connection, so the server sees the abort.
"""

from __future__ import annotations

import email.utils
import json
import time
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from agentrun.errors import ProviderError
from agentrun.loading.spec import Price, ProviderEntry
from agentrun.providers.base import AgentClient, ClientOptions
from agentrun.providers.batching import BatchBinding, BatchGroup
from agentrun.providers.capture import DEFAULT_MAX_OUTPUT, too_large
from agentrun.redact import clip
from agentrun.results import Usage

RETRYABLE_STATUSES = frozenset({408, 409, 429})
_MESSAGE_LIMIT = 300
_PREVIEW_LIMIT = 80
_ERROR_BODY_LIMIT = 64 * 1024
"""Bytes of an error reply read for its message; the rest is not read."""
_READ_SIZE = 64 * 1024
_NO_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=None, sock_connect=None, sock_read=None)


class HttpSession:
    """The pooled connections and pricing of one provider entry during one run."""

    def __init__(
        self,
        entry: ProviderEntry | None,
        make_client: Callable[[ClientOptions, HttpSession], AgentClient],
    ) -> None:
        self.entry = entry
        self.price: Price | None = entry.price if entry else None
        self._pool_size = (entry.max_concurrency if entry else None) or 0  # 0: no limit
        self._make_client = make_client
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}
        self.batches = BatchGroup(entry.max_concurrency if entry else None)
        """The batchers of agents with ``batch:`` (one request per batch)."""

    def bind_batching(self, binding: BatchBinding) -> None:
        """Take the provider's limiter and the batch observer (see :mod:`.batching`)."""
        self.batches.bind(binding)

    @property
    def session(self) -> aiohttp.ClientSession:
        """The shared session, created on first use (inside the run's event loop)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                timeout=_NO_TIMEOUT,  # the runner's timeout scopes bound every request
                # No cookies: agents sharing a pool must not share a server's state.
                cookie_jar=aiohttp.DummyCookieJar(),
                # Proxies come from the environment once per address (see proxy_for);
                # aiohttp's trust_env would look them up, and netrc, in a thread per request.
                trust_env=False,
                raise_for_status=False,
            )
        return self._session

    def client(self, options: ClientOptions) -> AgentClient:
        """Build one agent's client."""
        return self._make_client(options, self)

    def proxy_for(self, url: str) -> str | None:
        """The proxy ``HTTP(S)_PROXY`` / ``NO_PROXY`` name for ``url``, looked up once per
        scheme and host."""
        parts = urllib.parse.urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._proxies:
            proxies = urllib.request.getproxies_environment()
            proxy = proxies.get(parts.scheme)
            if (
                proxy and parts.hostname and urllib.request.proxy_bypass(parts.hostname)  # NO_PROXY
            ):
                proxy = None
            self._proxies[key] = proxy or None
        return self._proxies[key]

    async def aclose(self) -> None:
        """Close the pool and every connection in it."""
        await self.batches.aclose()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def usage(self, prompt_tokens: int, completion_tokens: int) -> Usage:
        """Tokens of one reply, priced when the entry has a ``price``."""
        cost = None
        if self.price is not None:
            cost = (prompt_tokens * self.price.input + completion_tokens * self.price.output) / 1e6
        return Usage(prompt_tokens, completion_tokens, cost)

    async def send(
        self,
        who: str,
        method: str,
        url: str,
        *,
        payload: Any,
        headers: Mapping[str, str],
        max_output: int = DEFAULT_MAX_OUTPUT,
    ) -> tuple[int, bytes]:
        """Send a request and read the whole reply: (status, body).

        Raises:
            ProviderError: no reply (connection, TLS, URL), a non-2xx status, or a
                body larger than ``max_output`` (read no further: it cannot be parsed).
        """
        try:
            async with self.session.request(
                method, url, json=payload, headers=headers, proxy=self.proxy_for(url)
            ) as response:
                body = await read_bounded(response.content, max_output)
                if response.status >= 300:
                    raise status_error(who, response, body or b"")
                if body is None:
                    raise too_large(who, max_output)
                return response.status, body
        except aiohttp.ClientError as exc:
            raise transport_error(who, exc) from None

    @asynccontextmanager
    async def stream(
        self, who: str, url: str, *, payload: Any, headers: Mapping[str, str]
    ) -> AsyncIterator[aiohttp.StreamReader]:
        """POST and yield the body of a 2xx reply, to read line by line as it arrives.

        Raises:
            ProviderError: no reply, a non-2xx status, or the stream broke.
        """
        try:
            async with self.session.post(
                url, json=payload, headers=headers, proxy=self.proxy_for(url)
            ) as response:
                if response.status >= 300:
                    body = await read_bounded(response.content, _ERROR_BODY_LIMIT)
                    raise status_error(who, response, body or b"")
                yield response.content  # errors while reading it are mapped here too
        except aiohttp.ClientError as exc:
            raise transport_error(who, exc) from None


async def read_bounded(content: aiohttp.StreamReader, limit: int) -> bytes | None:
    """The whole body, or ``None`` as soon as it passes ``limit`` bytes (read no further)."""
    body = bytearray()
    while chunk := await content.read(_READ_SIZE):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def describe(options: ClientOptions) -> str:
    """``provider 'llm'``: how errors name the provider (the runner names the agent)."""
    return f"provider {options.provider!r}"


def status_error(who: str, response: aiohttp.ClientResponse, body: bytes) -> ProviderError:
    """The error for a non-2xx reply: status and the server's own message, nothing more.

    408, 409, 429 and 5xx are worth retrying; 429 also shrinks the provider's limit.
    """
    status, reason, headers = response.status, response.reason, response.headers
    return ProviderError(
        f"{who}: HTTP {status}: {server_message(body) or reason or 'error'}",
        retryable=status in RETRYABLE_STATUSES or status >= 500,
        retry_after=retry_after(headers.get("Retry-After")),
        throttled=status == 429,
        status=status,
    )


def transport_error(who: str, exc: aiohttp.ClientError) -> ProviderError:
    """The error for a request that got no (whole) reply: connection, TLS, URL, protocol."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ClientSSLError):
        return ProviderError(f"{who}: TLS error: {_clip(text)}", retryable=False)
    if isinstance(exc, aiohttp.InvalidURL):
        return ProviderError(f"{who}: invalid URL: {_clip(text)}", retryable=False)
    return ProviderError(f"{who}: request failed: {_clip(text)}")


def parse_json(who: str, body: bytes, status: int) -> Any:
    """The reply's JSON, or a clear error quoting the start of what came instead."""
    try:
        return json.loads(body)
    except ValueError:
        preview = clip(body.decode("utf-8", errors="replace"), _PREVIEW_LIMIT)
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
    # Redacted before it is cut (inside clip): a cut through a key would hide it from redaction.
    return clip(" ".join(text.split()), _MESSAGE_LIMIT)
