"""``openai``: any OpenAI-compatible ``/chat/completions`` (OpenAI, vLLM, Ollama, llama.cpp)."""

from __future__ import annotations

import json
from typing import Any

from agentrun.errors import ProviderError
from agentrun.loading.model_base import StrictModel
from agentrun.loading.spec import ProviderEntry
from agentrun.providers.base import (
    ClientOptions,
    ProviderDescriptor,
    ProviderSession,
    Reply,
    Request,
)
from agentrun.providers.capture import too_large
from agentrun.providers.http_common import HttpSession, describe, parse_json
from agentrun.redact import clip

DEFAULT_BASE_URL = "https://api.openai.com/v1"


class LLMFields(StrictModel):
    """Fields of the LLM API providers (``openai``, ``anthropic``)."""

    base_url: str | None = None
    """API base address, e.g. https://api.openai.com/v1."""
    api_key: str | None = None
    """API key, normally ``${SOME_VAR}``; never printed."""
    model: str | None = None
    """Model name."""


class OpenAIFields(LLMFields):
    """Fields of the ``openai`` provider."""

    stream: bool | None = None
    """Stream tokens as they are generated (openai)."""


def repair_message(violations: tuple[str, ...]) -> str:
    """The user turn that asks a model to fix an answer that broke imperatives."""
    broken = "\n".join(f"- {v}" for v in violations)
    return (
        "Your previous answer did not meet these requirements:\n"
        f"{broken}\n"
        "Write a new answer that meets all of them."
    )


def chat_messages(request: Request, *, system_in_messages: bool = True) -> list[dict[str, str]]:
    """The conversation of one attempt; after a violation it continues with the rejected
    answer and a message naming what it broke, so the retry is a repair."""
    messages = []
    if system_in_messages and request.system:
        messages.append({"role": "system", "content": request.system})
    # An exchange turn continues the agent's own conversation: its earlier turns first.
    for turn in request.context.get("conversation") or ():
        messages.append({"role": "user", "content": turn["prompt"]})
        messages.append({"role": "assistant", "content": turn["output"]})
    messages.append({"role": "user", "content": request.prompt})
    if request.rejected is not None and request.violations:
        messages.append({"role": "assistant", "content": request.rejected})
        messages.append({"role": "user", "content": repair_message(request.violations)})
    return messages


def model_of(options: ClientOptions) -> str | None:
    """The model an LLM agent asks for: the agent's or defaults', else its provider entry's.

    Without one the request carries no model: some servers (llama.cpp) need none, and
    the others answer with their own clear message.
    """
    model = options.model or options.fields.get("model")
    return str(model) if model else None


class OpenAIClient:
    """One agent's chat completions, streamed or not."""

    def __init__(self, options: ClientOptions, session: HttpSession) -> None:
        base_url = str(options.fields.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
        self._url = f"{base_url}/chat/completions"
        self._session = session
        self._who = describe(options)
        self._model = model_of(options)
        self._stream = bool(options.fields.get("stream"))
        self._max_output = options.max_output
        key = options.fields.get("api_key")
        self._headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._extra: dict[str, Any] = {}
        if options.temperature is not None:
            self._extra["temperature"] = options.temperature
        if options.max_tokens is not None:
            self._extra["max_tokens"] = options.max_tokens

    async def complete(self, request: Request) -> Reply:
        """Send one chat completion and return its text and usage."""
        body: dict[str, Any] = {"messages": chat_messages(request), **self._extra}
        if self._model is not None:
            body["model"] = self._model
        if self._stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
            return await self._streamed(body, request)
        status, raw = await self._session.send(
            self._who,
            "POST",
            self._url,
            payload=body,
            headers=self._headers,
            max_output=self._max_output,
        )
        return self._reply(parse_json(self._who, raw, status))

    def _reply(self, data: Any) -> Reply:
        try:
            choice = data["choices"][0]
        except (KeyError, IndexError, TypeError):
            raise ProviderError(f"{self._who}: reply has no choices") from None
        message = choice.get("message") or {}
        text = message.get("content")
        if not isinstance(text, str):
            raise ProviderError(f"{self._who}: reply has no message content")
        usage = data.get("usage") or {}
        return Reply(
            text,
            self._session.usage(
                int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
            )
            if usage
            else None,
        )

    async def _streamed(self, body: dict[str, Any], request: Request) -> Reply:
        pieces: list[str] = []
        usage: dict[str, Any] = {}
        finished = False
        size = 0
        async with self._session.stream(
            self._who, self._url, payload=body, headers=self._headers
        ) as content:
            async for raw in content:
                size += len(raw)
                if size > self._max_output:
                    raise too_large(self._who, self._max_output)  # stop reading here
                line = raw.decode("utf-8", errors="replace").strip()
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    finished = True
                    break
                chunk = self._chunk(payload)
                if chunk.get("usage"):
                    usage = chunk["usage"]
                for choice in chunk.get("choices") or ():
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        pieces.append(piece)
                        if request.on_delta is not None:
                            request.on_delta(piece)
                    if choice.get("finish_reason"):
                        finished = True
        if not finished:
            raise ProviderError(f"{self._who}: the stream ended before the reply was complete")
        return Reply(
            "".join(pieces),
            self._session.usage(
                int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
            )
            if usage
            else None,
        )

    def _chunk(self, payload: str) -> dict[str, Any]:
        try:
            chunk = json.loads(payload)
        except ValueError:
            preview = clip(payload, 80)  # redacted before it is cut
            raise ProviderError(f"{self._who}: malformed stream chunk: {preview!r}") from None
        return chunk if isinstance(chunk, dict) else {}


def open_openai_session(entry: ProviderEntry | None) -> ProviderSession:
    """One pooled client for an ``openai`` provider entry."""
    return HttpSession(entry, OpenAIClient)


OPENAI = ProviderDescriptor(
    name="openai",
    fields=OpenAIFields,
    open_session=open_openai_session,
    network=True,
    secrets=("api_key",),
    description="an OpenAI-compatible chat completions API",
)
