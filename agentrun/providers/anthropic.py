"""``anthropic``: the Anthropic Messages API."""

from __future__ import annotations

from typing import Any

from agentrun.errors import ProviderError
from agentrun.loading.spec import ProviderEntry
from agentrun.providers.base import (
    ClientOptions,
    ProviderDescriptor,
    ProviderSession,
    Reply,
    Request,
)
from agentrun.providers.http_common import HttpSession, describe, parse_json
from agentrun.providers.openai import LLMFields, chat_messages, model_of

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 1024
"""The Messages API requires ``max_tokens``; this is used when the agent sets none."""


class AnthropicClient:
    """One agent's messages."""

    def __init__(self, options: ClientOptions, session: HttpSession) -> None:
        base_url = str(options.fields.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
        self._url = f"{base_url}/v1/messages"
        self._session = session
        self._who = describe(options)
        self._model = model_of(options)
        self._max_output = options.max_output
        self._headers = {"anthropic-version": API_VERSION}
        key = options.fields.get("api_key")
        if key:
            self._headers["x-api-key"] = str(key)
        self._extra: dict[str, Any] = {"max_tokens": options.max_tokens or DEFAULT_MAX_TOKENS}
        if options.temperature is not None:
            self._extra["temperature"] = options.temperature

    async def complete(self, request: Request) -> Reply:
        """Send one message and return the text of its reply."""
        body: dict[str, Any] = {
            "messages": chat_messages(request, system_in_messages=False),
            **self._extra,
        }
        if self._model is not None:
            body["model"] = self._model
        if request.system:
            body["system"] = request.system
        status, raw = await self._session.send(
            self._who,
            "POST",
            self._url,
            payload=body,
            headers=self._headers,
            max_output=self._max_output,
        )
        data = parse_json(self._who, raw, status)
        try:
            blocks = data["content"]
            text = "".join(b["text"] for b in blocks if b.get("type") == "text")
        except (KeyError, TypeError):
            raise ProviderError(f"{self._who}: reply has no content") from None
        if not blocks:
            raise ProviderError(f"{self._who}: reply has no content")
        usage = data.get("usage") or {}
        return Reply(
            text,
            self._session.usage(
                int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)
            )
            if usage
            else None,
        )


def open_anthropic_session(entry: ProviderEntry | None) -> ProviderSession:
    """One pooled client for an ``anthropic`` provider entry."""
    return HttpSession(entry, AnthropicClient)


ANTHROPIC = ProviderDescriptor(
    name="anthropic",
    fields=LLMFields,
    open_session=open_anthropic_session,
    network=True,
    secrets=("api_key",),
    description="the Anthropic messages API",
)
