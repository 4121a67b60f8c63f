"""``http`` with ``batch:``: one request carries many attempts, matched by position.

The batch body is rendered once per batch with ``prompts`` (each item's prompt) and
``items`` (each item's own rendered ``body``, or its default JSON); without a batch
``body`` the request is ``{"items": [...]}``. The reply holds a list at
``output_path`` (or is one), an entry per item in the same order; an entry with a
non-null value at ``item_error_path`` fails only its item.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from agentrun.errors import ProviderError
from agentrun.providers.base import Reply, Request
from agentrun.providers.batching import BatchFields
from agentrun.templates import TemplateEngine


class HttpBatch:
    """Sends the items of one batch for the agents sharing one http setup."""

    def __init__(
        self,
        who: str,
        fields: BatchFields,
        templates: TemplateEngine,
        send: Callable[[Any, Mapping[str, Any]], Any],
        payload: Callable[[Request], Any],
    ) -> None:
        self._who = who
        self._fields = fields
        self._templates = templates
        self._post = send
        self._payload = payload
        if fields.body is not None:
            templates.precompile(fields.body, who)
        self._path = fields.output_path.split(".") if fields.output_path else []
        self._error_path = fields.item_error_path.split(".") if fields.item_error_path else []

    async def send(self, requests: Sequence[Request]) -> list[Reply | BaseException]:
        """One request for every item; one reply or error per item, in order."""
        items = [self._payload(request) for request in requests]
        context = {
            **requests[0].context,
            "prompts": [request.prompt for request in requests],
            "items": items,
        }
        body: Any = {"items": items}
        if self._fields.body is not None:
            rendered = self._templates.render(self._fields.body, context)
            try:
                body = json.loads(rendered)
            except ValueError:
                raise ProviderError(
                    f"{self._who}: batch body is not JSON: {rendered[:80]!r}", retryable=False
                ) from None
        raw = await self._post(body, requests[0].context)
        return [self._entry(entry) for entry in self._entries(raw)]

    def _entries(self, raw: bytes) -> list[Any]:
        try:
            data = json.loads(raw)
        except ValueError:
            raise ProviderError(f"{self._who}: batch reply is not JSON") from None
        found = _at(data, self._path)
        if not isinstance(found, list):
            where = ".".join(self._path) or "the reply"
            raise ProviderError(f"{self._who}: batch reply has no list at {where}")
        return found

    def _entry(self, entry: Any) -> Reply | BaseException:
        if self._error_path:
            error = _at(entry, self._error_path)
            if error is not None:
                text = error if isinstance(error, str) else json.dumps(error)
                return ProviderError(f"{self._who}: item failed: {text}")
        text = entry if isinstance(entry, str) else json.dumps(entry, ensure_ascii=False)
        return Reply(text)


def _at(data: Any, path: Sequence[str]) -> Any:
    """The value at a dotted path, ``None`` where it is missing."""
    for part in path:
        if isinstance(data, Mapping):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data
