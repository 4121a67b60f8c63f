"""``http``: send JSON to any service (a bot under test, a webhook); take a field of the reply."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from agentrun.errors import ProviderError, UsageError
from agentrun.loading.model_base import StrictModel
from agentrun.loading.spec import ProviderEntry
from agentrun.providers.base import (
    ClientOptions,
    ProviderDescriptor,
    ProviderSession,
    Reply,
    Request,
)
from agentrun.providers.batching import BatchFields
from agentrun.providers.http_batch import HttpBatch
from agentrun.providers.http_common import HttpSession, describe
from agentrun.templates import TemplateEngine


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
    batch: BatchFields | None = None
    """Send many attempts in one request (see :mod:`agentrun.providers.http_batch`)."""


class WebhookClient:
    """One agent's requests to an HTTP service."""

    def __init__(self, options: ClientOptions, session: HttpSession) -> None:
        url = options.fields.get("url")
        if not url:
            raise UsageError(f"agent {options.agent!r}: an http agent needs a url")
        self._url = str(url)
        self._method = str(options.fields.get("method") or "POST")
        self._headers = dict(options.fields.get("headers") or {})
        self._body: Any = options.fields.get("body")
        path = options.fields.get("output_path")
        self._path = str(path).split(".") if path else []
        self._templates = options.templates
        self._session = session
        self._who = describe(options)
        self._max_output = options.max_output
        batch = options.fields.get("batch")
        self._batch = batch if isinstance(batch, BatchFields) else None
        self._sender = (
            HttpBatch(self._who, self._batch, self._templates, self._post, self._payload)
            if self._batch is not None
            else None
        )
        self._batch_key = (
            self._url,
            self._method,
            tuple(sorted(self._headers.items())),
            json.dumps(self._body, sort_keys=True),
            self._batch.model_dump_json() if self._batch else None,
        )

    @property
    def batched(self) -> bool:
        """Whether attempts go through the batcher (which takes the provider's limits)."""
        return self._batch is not None

    async def complete(self, request: Request) -> Reply:
        """Send the rendered body and return the chosen field of the reply."""
        if self._batch is not None and self._sender is not None:
            batcher = self._session.batches.batcher(
                self._batch_key, self._batch, self._sender.send, self._who
            )
            return await batcher.submit(request)
        url = self._templates.render(self._url, request.context)
        payload = self._payload(request)
        _, raw = await self._session.send(
            self._who,
            self._method,
            url,
            payload=payload if self._method != "GET" else None,
            headers=self._headers,
            max_output=self._max_output,
        )
        return Reply(self._extract(raw))

    async def _post(self, payload: Any, context: Mapping[str, Any]) -> bytes:
        """Send one batch body; the reply's raw bytes."""
        url = self._templates.render(self._url, context)
        _, raw = await self._session.send(
            self._who,
            self._method,
            url,
            payload=payload if self._method != "GET" else None,
            headers=self._headers,
            max_output=self._max_output,
        )
        return raw

    def _payload(self, request: Request) -> Any:
        if self._body is None:
            return {"prompt": request.prompt, "agent": request.agent, "attempt": request.attempt}
        if isinstance(self._body, str):
            rendered = self._templates.render(self._body, request.context)
            try:
                return json.loads(rendered)
            except ValueError:
                return rendered  # a plain string body is sent as a JSON string
        return _render_tree(self._body, self._templates, request.context)

    def _extract(self, raw: bytes) -> str:
        try:
            data = json.loads(raw)
        except ValueError:
            if self._path:
                raise ProviderError(
                    f"{self._who}: reply is not JSON, cannot read {'.'.join(self._path)}"
                ) from None
            return raw.decode("utf-8", errors="replace")
        for part in self._path:
            if isinstance(data, Mapping) and part in data:
                data = data[part]
            elif (
                isinstance(data, list)
                and part.lstrip("-").isdigit()
                and -len(data) <= int(part) < len(data)
            ):
                data = data[int(part)]
            else:
                raise ProviderError(
                    f"{self._who}: reply has no {'.'.join(self._path)} (missing {part!r})"
                )
        return data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)


def _render_tree(value: Any, templates: TemplateEngine, context: Mapping[str, Any]) -> Any:
    """Render every string inside a JSON-like body."""
    if isinstance(value, str):
        return templates.render(value, context)
    if isinstance(value, Mapping):
        return {k: _render_tree(v, templates, context) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_tree(v, templates, context) for v in value]
    return value


def open_http_session(entry: ProviderEntry | None) -> ProviderSession:
    """One pooled client for an ``http`` provider entry."""
    return HttpSession(entry, WebhookClient)


HTTP = ProviderDescriptor(
    name="http",
    fields=HttpFields,
    open_session=open_http_session,
    network=True,
    templates=("url", "body"),
    required=("url",),
    infers=("url",),
    secrets=("headers",),
    description="a JSON request to any web service",
)
