"""A local HTTP server that speaks the OpenAI and Anthropic wire formats, for tests and benchmarks.

Run it as a script::

    python tests/fake_llm_server.py [--port 0] [--latency 0.05] [--reply TEXT]
        [--stream-delay S] [--require-key KEY] [--no-record-bodies]
        [--exit-on-stdin-eof] [--max-seconds 1800]

It prints exactly one line, ``PORT <n>``, once it listens on 127.0.0.1, and serves until SIGTERM
or SIGINT, until its stdin reaches end of file (with ``--exit-on-stdin-eof``), or until
``--max-seconds`` have passed (zero or less: no limit).

Or from Python, in its own process::

    with FakeLLMServer(latency=0.05) as server:
        httpx.post(f"{server.openai_url}/chat/completions", json=...)
        server.stats()["completed"]

Endpoints:

* ``POST /v1/chat/completions`` -- OpenAI chat completions, plain or streamed (SSE).
* ``POST /v1/messages`` -- the Anthropic Messages API, plain or streamed (SSE).
* ``POST /hook`` and ``POST /hook/{anything}`` -- a generic JSON service: it answers
  ``{"data": {"reply": <text>}, "echo": <the received JSON>}``.
* ``POST /batch`` and ``POST /batch/{scenario}`` -- a batch service: it answers
  ``{"labels": [...], "echo": <the received JSON>}`` with one label per entry of the body's
  ``texts`` list, each the entry itself, in order. Path words after the scenario change
  that: ``/short`` answers one label too few, ``/errors`` answers entries
  ``{"label": TEXT, "error": null}`` whose ``error`` is ``"bad item"`` for texts holding "bad".
* ``GET /_stats``, ``POST /_reset``, ``POST /_configure`` -- administration.

The ``model`` string chooses a scenario: ``name;directive;directive...``, for example
``"gpt-test;status=429x2;retry_after=1"``. Directives that shape every reply:

* ``reply=TEXT`` (``%3B`` stands for ``;``), ``words=N``, ``latency=S``, ``stream_delay=S``,
  ``retry_after=S`` or ``retry_after=date:+S`` (added to ``status`` replies).
* ``error=TEXT`` (escaped as ``reply``) -- the message of ``status`` replies and the body of
  ``malformed`` ones.
* ``piece=N`` -- streams send the reply in pieces of N characters rather than one per word.

Fault directives form phases, consumed in the order written, each for its count of requests
(a phase without a count lasts for ever); once all phases are used up, requests succeed:

* ``status=CODExN`` / ``status=CODE`` -- an error reply shaped like the provider's.
* ``drop=N`` / ``drop`` -- close the connection without any response.
* ``malformed=N`` / ``malformed`` -- 200 with a body that is not JSON.
* ``nochoices=N`` / ``nochoices`` -- 200 JSON without choices (OpenAI) or content (Anthropic).
* ``hang=N`` / ``hang`` -- never answer; the request ends when the client goes away.
* ``fail_after_chunks=K`` / ``fail_after_chunks=KxN`` -- streams: drop the connection after K
  SSE events; plain replies: drop it halfway through the body.

So ``"m;status=429x2"`` fails twice then succeeds, and ``"m;drop=1;status=503x1"`` drops the
first request, answers 503 to the second and succeeds from the third on. Counters are kept per
full model string; ``/_reset`` clears them.

Tokens are words: the prompt counts the whitespace-separated words of every message (and the
Anthropic ``system``), the completion those of the reply. A ``max_tokens`` (or
``max_completion_tokens``) smaller than the reply cuts it to that many words, with
``finish_reason: "length"`` (OpenAI) or ``stop_reason: "max_tokens"`` (Anthropic).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import email.utils
import functools
import itertools
import json
import os
import re
import selectors
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar

from aiohttp import web

if TYPE_CHECKING:
    import httpx

DEFAULT_REPLY = "Hello from the fake server."
"""What the server answers unless told otherwise."""

ECHO = "echo"
"""The reply setting that makes the server answer with the last user message."""

MAX_RECORDS = 10_000
"""How many request records ``/_stats`` keeps (the most recent ones)."""

HOST = "127.0.0.1"

Api = Literal["openai", "anthropic", "hook"]
_Number = TypeVar("_Number", int, float)

_JSON_TYPE = "application/json"
_SSE_TYPE = "text/event-stream"
_SSE_HEADERS = {"Content-Type": f"{_SSE_TYPE}; charset=utf-8", "Cache-Control": "no-cache"}
_MALFORMED_BODY = "<html>oops"
_WORD_RE = re.compile(r"\S+\s*")
_COUNT_RE = re.compile(r"(\d+)(?:x(\d+))?")


# --------------------------------------------------------------------------------------------
# Settings and scenarios
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Settings:
    """Server-wide behaviour; ``/_configure`` changes it and ``/_reset`` restores it."""

    latency: float = 0.0
    reply: str = DEFAULT_REPLY
    stream_delay: float = 0.0
    require_key: str | None = None
    record_bodies: bool = True

    def update(self, changes: dict[str, Any]) -> None:
        """Apply validated ``changes``; raise ``ValueError`` (and change nothing) if one is bad."""
        checked: dict[str, Any] = {}
        for name, value in changes.items():
            if name in ("latency", "stream_delay"):
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise ValueError(f"{name} must be a number of seconds >= 0")
                checked[name] = float(value)
            elif name == "reply":
                if not isinstance(value, str):
                    raise ValueError("reply must be a string")
                checked[name] = value
            elif name == "require_key":
                if value is not None and (not isinstance(value, str) or not value):
                    raise ValueError("require_key must be a non-empty string or null")
                checked[name] = value
            elif name == "record_bodies":
                if not isinstance(value, bool):
                    raise ValueError("record_bodies must be true or false")
                checked[name] = value
            else:
                raise ValueError(f"unknown setting {name!r}")
        for name, value in checked.items():
            setattr(self, name, value)

    def public(self) -> dict[str, Any]:
        """The settings as JSON, telling whether a key is required but never which one."""
        data = dataclasses.asdict(self)
        data["require_key"] = self.require_key is not None
        return data


@dataclasses.dataclass(frozen=True)
class Phase:
    """One fault: what happens, to how many requests (``None``: all remaining), and its value."""

    kind: str
    count: int | None
    value: int = 0


@dataclasses.dataclass(frozen=True)
class Scenario:
    """The directives parsed from a model string."""

    reply: str | None = None
    words: int | None = None
    latency: float | None = None
    stream_delay: float | None = None
    retry_after: str | None = None
    error: str | None = None
    piece: int | None = None
    phases: tuple[Phase, ...] = ()

    def phase_for(self, index: int) -> Phase | None:
        """The fault for the request numbered ``index`` (from 0) of this model, if any."""
        for phase in self.phases:
            if phase.count is None or index < phase.count:
                return phase
            index -= phase.count
        return None


_FAULTS_WITH_COUNT = ("drop", "malformed", "nochoices", "hang")


@functools.lru_cache(maxsize=4096)
def parse_scenario(model: str) -> Scenario:
    """Parse ``name;directive;...``; raise ``ValueError`` for an unknown or malformed directive."""
    fields: dict[str, Any] = {}
    phases: list[Phase] = []
    for part in model.split(";")[1:]:
        key, has_value, value = (s.strip() for s in part.partition("="))
        if not key:
            continue
        try:
            if key in ("reply", "error") and has_value:
                fields[key] = urllib.parse.unquote(value)
            elif key == "piece" and has_value:
                fields["piece"] = int(value)
                if fields["piece"] < 1:
                    raise ValueError
            elif key == "words" and has_value:
                fields["words"] = _non_negative(int(value))
            elif key in ("latency", "stream_delay") and has_value:
                fields[key] = _non_negative(float(value))
            elif key == "retry_after" and has_value:
                _retry_after_header(value)  # validate now rather than on the first error reply
                fields["retry_after"] = value
            elif key == "status" and has_value:
                match = re.fullmatch(r"(\d{3})(?:x(\d+))?", value)
                if match is None:
                    raise ValueError
                count = int(match[2]) if match[2] else None
                phases.append(Phase("status", count, int(match[1])))
            elif key in _FAULTS_WITH_COUNT:
                phases.append(Phase(key, _non_negative(int(value)) if has_value else None))
            elif key == "fail_after_chunks" and has_value:
                match = _COUNT_RE.fullmatch(value)
                if match is None:
                    raise ValueError
                count = int(match[2]) if match[2] else None
                phases.append(Phase("fail_after_chunks", count, int(match[1])))
            else:
                raise KeyError(key)
        except KeyError:
            raise ValueError(f"unknown scenario directive {part.strip()!r}") from None
        except ValueError:
            raise ValueError(f"bad value in scenario directive {part.strip()!r}") from None
    return Scenario(phases=tuple(phases), **fields)


def scenario(name: str = "fake-model", **directives: object) -> str:
    """Build a model string from directives.

    ``scenario("m", status="429x2", hang=True)`` gives ``"m;status=429x2;hang"``: ``True``
    gives a bare directive; ``reply`` is escaped so that it may hold ``;``.
    """
    parts = [name]
    for key, value in directives.items():
        if value is True:
            parts.append(key)
        elif key in ("reply", "error"):
            parts.append(f"reply={urllib.parse.quote(str(value), safe=' ')}")
        else:
            parts.append(f"{key}={value}")
    return ";".join(parts)


def _non_negative(value: _Number) -> _Number:
    if value < 0:
        raise ValueError
    return value


def _retry_after_header(spec: str) -> str:
    """``"2"`` stays as is; ``"date:+2"`` becomes the HTTP date two seconds from now."""
    if spec.startswith("date:"):
        return email.utils.formatdate(time.time() + float(spec[5:]), usegmt=True)
    float(spec)  # raises ValueError when it is not a number
    return spec


# --------------------------------------------------------------------------------------------
# Text helpers
# --------------------------------------------------------------------------------------------


def count_tokens(text: str) -> int:
    """The fake tokenizer: whitespace-separated words."""
    return len(text.split())


def split_pieces(text: str, size: int | None = None) -> list[str]:
    """Stream pieces: one per word with its trailing whitespace (or of ``size`` characters);
    they join back to ``text``."""
    if size is not None:
        return [text[i : i + size] for i in range(0, len(text), size)]
    pieces = _WORD_RE.findall(text)
    lead = text[: len(text) - len(text.lstrip())]
    if lead:
        if pieces:
            pieces[0] = lead + pieces[0]
        else:
            pieces = [lead]
    return pieces


def generated_words(n: int) -> str:
    """``n`` numbered words: ``"word1 word2 ..."``."""
    return " ".join(f"word{i}" for i in range(1, n + 1))


def content_text(content: Any) -> str:
    """The text of a message's content: a string, or a list of parts with ``text`` fields."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(part["text"]) for part in content if isinstance(part, dict) and "text" in part
        )
    return ""


def _last_user_text(messages: Iterable[Any]) -> str:
    text = ""
    for message in messages:
        if isinstance(message, dict) and message.get("role") == "user":
            text = content_text(message.get("content"))
    return text


def _batch_reply(body: Any, request: web.Request) -> dict[str, Any]:
    """The ``/batch`` reply: one label per text, in order (see the module docstring)."""
    texts = body.get("texts") if isinstance(body, dict) else None
    texts = [str(text) for text in texts] if isinstance(texts, list) else []
    words = request.path.split("/")
    labels: list[Any] = list(texts)
    if "short" in words:
        labels = labels[:-1]
    if "errors" in words:
        labels = [{"label": t, "error": "bad item" if "bad" in t else None} for t in texts]
    return {"labels": labels, "echo": body}


def _hook_text(body: Any) -> str:
    """What ``echo`` answers on the hook: the last user message, a usual text field, or the JSON."""
    if isinstance(body, dict):
        if isinstance(body.get("messages"), list):
            return _last_user_text(body["messages"])
        for key in ("message", "prompt", "text", "input", "query"):
            if isinstance(body.get(key), str):
                return str(body[key])
    return json.dumps(body)


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


def _sse(data: Any, event: str | None = None) -> bytes:
    payload = data if isinstance(data, str) else _dumps(data)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


# --------------------------------------------------------------------------------------------
# Error bodies
# --------------------------------------------------------------------------------------------

_ANTHROPIC_ERRORS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def error_body(api: Api, status: int, message: str) -> dict[str, Any]:
    """An error body shaped like the provider's (OpenAI's shape for the hook)."""
    if api == "anthropic":
        kind = _ANTHROPIC_ERRORS.get(status) or (
            "api_error" if status >= 500 else "invalid_request_error"
        )
        return {"type": "error", "error": {"type": kind, "message": message}}
    code: str | None = None
    if status == 429:
        kind, code = "requests", "rate_limit_exceeded"
    elif status == 401:
        kind, code = "invalid_request_error", "invalid_api_key"
    elif status >= 500:
        kind = "server_error"
    else:
        kind = "invalid_request_error"
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


class _Reject(Exception):
    """Answer with an error reply (a bad request or failed authentication)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class FakeLLMApp:
    """The request handlers and everything ``/_stats`` reports."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.startup = dataclasses.replace(settings or Settings())
        self.settings = dataclasses.replace(self.startup)
        self.records: deque[dict[str, Any]] = deque(maxlen=MAX_RECORDS)
        self.in_flight = 0
        self.peak_in_flight = 0
        self.completed = 0
        self.aborted = 0
        self.per_model: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()
        self.seen: Counter[str] = Counter()
        self._ids = itertools.count(1)

    def build(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self.openai)
        app.router.add_post("/v1/messages", self.anthropic)
        app.router.add_post("/hook", self.hook)
        app.router.add_post("/hook/{tail:.*}", self.hook)
        app.router.add_post("/batch", self.hook)
        app.router.add_post("/batch/{tail:.*}", self.hook)
        app.router.add_get("/_stats", self.stats)
        app.router.add_post("/_reset", self.reset)
        app.router.add_post("/_configure", self.configure)
        return app

    # ---- administration ---------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything ``/_stats`` answers."""
        return {
            "requests": list(self.records),
            "in_flight": self.in_flight,
            "peak_in_flight": self.peak_in_flight,
            "completed": self.completed,
            "aborted": self.aborted,
            "per_model": dict(self.per_model),
            "outcomes": dict(self.outcomes),
            "settings": self.settings.public(),
        }

    async def stats(self, request: web.Request) -> web.Response:
        """``GET /_stats``."""
        return web.json_response(self.snapshot(), dumps=_dumps)

    async def reset(self, request: web.Request) -> web.Response:
        """``POST /_reset``: forget every request, counter and setting change."""
        self.records.clear()
        self.peak_in_flight = self.in_flight
        self.completed = self.aborted = 0
        self.per_model.clear()
        self.outcomes.clear()
        self.seen.clear()
        self.settings = dataclasses.replace(self.startup)
        return web.json_response({"ok": True, "settings": self.settings.public()})

    async def configure(self, request: web.Request) -> web.Response:
        """``POST /_configure``: change some settings until the next reset."""
        try:
            changes = json.loads(await request.read())
            if not isinstance(changes, dict):
                raise ValueError("the body must be a JSON object")
            self.settings.update(changes)
        except ValueError as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400)
        return web.json_response({"ok": True, "settings": self.settings.public()})

    # ---- the three services -----------------------------------------------------------------

    async def openai(self, request: web.Request) -> web.StreamResponse:
        """``POST /v1/chat/completions``."""
        return await self._track(request, "openai")

    async def anthropic(self, request: web.Request) -> web.StreamResponse:
        """``POST /v1/messages``."""
        return await self._track(request, "anthropic")

    async def hook(self, request: web.Request) -> web.StreamResponse:
        """``POST /hook`` and ``POST /hook/{anything}``."""
        return await self._track(request, "hook")

    async def _track(self, request: web.Request, api: Api) -> web.StreamResponse:
        """Serve one request, keeping the in-flight count and its record."""
        self.in_flight += 1
        if self.in_flight > self.peak_in_flight:
            self.peak_in_flight = self.in_flight
        record: dict[str, Any] = {
            "path": request.path,
            "model": None,
            "headers": {name.lower(): value for name, value in request.headers.items()},
            "body": None,
            "t_start": time.time(),
            "t_end": None,
            "status": None,
            "outcome": None,
        }
        try:
            return await self._serve(request, api, record)
        except asyncio.CancelledError:
            # The client went away (aiohttp cancels the handler) or the server is stopping.
            if record["outcome"] is None:
                record["outcome"] = "aborted"
            raise
        finally:
            self.in_flight -= 1
            record["t_end"] = time.time()
            outcome = record["outcome"] or "error:500"
            record["outcome"] = outcome
            if outcome == "aborted":
                self.aborted += 1
            else:
                self.completed += 1
            self.outcomes[outcome] += 1
            self.records.append(record)

    async def _serve(
        self, request: web.Request, api: Api, record: dict[str, Any]
    ) -> web.StreamResponse:
        settings = self.settings
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            return await self._send_error(request, api, record, 400, "the body is not valid JSON")
        if settings.record_bodies:
            record["body"] = body
        try:
            model = self._model_of(request, api, body)
            record["model"] = model
            self.per_model[model] += 1
            self._authenticate(request, api)
            found = parse_scenario(model)
        except _Reject as exc:
            return await self._send_error(request, api, record, exc.status, exc.message)
        except ValueError as exc:
            return await self._send_error(request, api, record, 400, str(exc))

        phase = found.phase_for(self.seen[model])
        self.seen[model] += 1
        if phase is not None and phase.kind == "hang":
            await asyncio.Event().wait()  # until the client disconnects and we are cancelled
        latency = settings.latency if found.latency is None else found.latency
        if latency > 0:
            await asyncio.sleep(latency)

        kind = phase.kind if phase is not None else None
        if kind == "drop":
            record["outcome"] = "dropped"
            _close(request)
            return web.Response()
        if kind == "status":
            assert phase is not None
            headers = {}
            if found.retry_after is not None:
                headers["Retry-After"] = _retry_after_header(found.retry_after)
            message = f"simulated {phase.value}" if found.error is None else found.error
            return await self._send_error(request, api, record, phase.value, message, headers)
        if kind == "malformed":
            malformed = _MALFORMED_BODY if found.error is None else found.error
            response = web.Response(text=malformed, content_type="text/html")
            return await self._send(request, record, response, "malformed")

        text = self._reply_text(api, body, found, settings.reply)
        fail_after = phase.value if kind == "fail_after_chunks" and phase is not None else None
        empty = kind == "nochoices"
        if api == "hook" and request.path.startswith("/batch"):
            return await self._send_json(request, record, _batch_reply(body, request), fail_after)
        if api == "hook":
            data: dict[str, Any] = {} if empty else {"reply": text}
            return await self._send_json(request, record, {"data": data, "echo": body}, fail_after)

        limit = body.get("max_tokens")
        if limit is None:
            limit = body.get("max_completion_tokens")
        truncated = False
        if isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0:
            pieces = split_pieces(text)
            if count_tokens(text) > limit:
                text = "".join(pieces[:limit]).rstrip()
                truncated = True
        stream = body.get("stream") is True
        delay = settings.stream_delay if found.stream_delay is None else found.stream_delay
        events: AsyncIterator[bytes] | None = None
        reply: dict[str, Any] | None = None
        if api == "openai":
            prompt = sum(
                count_tokens(content_text(m.get("content")))
                for m in body["messages"]
                if isinstance(m, dict)
            )
            reason = "length" if truncated else "stop"
            options = body.get("stream_options")
            usage = isinstance(options, dict) and options.get("include_usage") is True
            if stream:
                events = self._openai_events(model, text, prompt, reason, empty, usage, delay)
            else:
                reply = self._openai_reply(model, text, prompt, reason, empty)
        else:
            prompt_tokens = count_tokens(content_text(body.get("system"))) + sum(
                count_tokens(content_text(m.get("content")))
                for m in body["messages"]
                if isinstance(m, dict)
            )
            reason = "max_tokens" if truncated else "end_turn"
            if stream:
                events = self._anthropic_events(model, text, prompt_tokens, reason, empty, delay)
            else:
                reply = self._anthropic_reply(model, text, prompt_tokens, reason, empty)
        if events is not None:
            return await self._send_stream(request, record, events, fail_after)
        return await self._send_json(request, record, reply, fail_after)

    def _model_of(self, request: web.Request, api: Api, body: Any) -> str:
        """The model (scenario) string, after checking the body has the fields the API needs."""
        if api == "hook":
            if isinstance(body, dict) and isinstance(body.get("model"), str):
                return str(body["model"])
            return request.match_info.get("tail", "")
        if not isinstance(body, dict):
            raise _Reject(400, "the body must be a JSON object")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise _Reject(400, "model: a non-empty string is required")
        if not isinstance(body.get("messages"), list):
            raise _Reject(400, "messages: a list is required")
        if api == "anthropic":
            limit = body.get("max_tokens")
            if not isinstance(limit, int) or isinstance(limit, bool):
                raise _Reject(400, "max_tokens: an integer is required")
        return model

    def _authenticate(self, request: web.Request, api: Api) -> None:
        key = self.settings.require_key
        if api == "openai":
            if key is not None and request.headers.get("Authorization") != f"Bearer {key}":
                raise _Reject(401, "Incorrect API key provided")
        elif api == "anthropic":
            given = request.headers.get("x-api-key")
            if not given:
                raise _Reject(401, "x-api-key header is required")
            if not request.headers.get("anthropic-version"):
                raise _Reject(401, "anthropic-version header is required")
            if key is not None and given != key:
                raise _Reject(401, "invalid x-api-key")

    def _reply_text(self, api: Api, body: Any, found: Scenario, default: str) -> str:
        if found.words is not None:
            return generated_words(found.words)
        text = found.reply if found.reply is not None else default
        if text != ECHO:
            return text
        if api == "hook":
            return _hook_text(body)
        return _last_user_text(body["messages"])

    # ---- reply bodies -----------------------------------------------------------------------

    def _openai_reply(
        self, model: str, text: str, prompt: int, reason: str, empty: bool
    ) -> dict[str, Any]:
        completion = 0 if empty else count_tokens(text)
        choices = [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "logprobs": None,
                "finish_reason": reason,
            }
        ]
        return {
            "id": f"chatcmpl-fake{next(self._ids):08d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [] if empty else choices,
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }

    async def _openai_events(
        self,
        model: str,
        text: str,
        prompt: int,
        reason: str,
        empty: bool,
        usage: bool,
        delay: float,
    ) -> AsyncIterator[bytes]:
        base = {
            "id": f"chatcmpl-fake{next(self._ids):08d}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }
        completion = 0
        if not empty:
            pieces = split_pieces(text, parse_scenario(model).piece) or [""]
            for number, piece in enumerate(pieces):
                if number and delay > 0:
                    await asyncio.sleep(delay)
                delta = (
                    {"role": "assistant", "content": piece} if number == 0 else {"content": piece}
                )
                choice = {"index": 0, "delta": delta, "finish_reason": None}
                yield _sse({**base, "choices": [choice]})
            final = {"index": 0, "delta": {}, "finish_reason": reason}
            yield _sse({**base, "choices": [final]})
            completion = count_tokens(text)
        if usage or empty:
            numbers = {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            }
            yield _sse({**base, "choices": [], "usage": numbers if usage else None})
        yield _sse("[DONE]")

    def _anthropic_reply(
        self, model: str, text: str, prompt: int, reason: str, empty: bool
    ) -> dict[str, Any]:
        return {
            "id": f"msg_fake{next(self._ids):08d}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [] if empty else [{"type": "text", "text": text}],
            "stop_reason": reason,
            "stop_sequence": None,
            "usage": {"input_tokens": prompt, "output_tokens": 0 if empty else count_tokens(text)},
        }

    async def _anthropic_events(
        self, model: str, text: str, prompt: int, reason: str, empty: bool, delay: float
    ) -> AsyncIterator[bytes]:
        message: dict[str, Any] = {
            "id": f"msg_fake{next(self._ids):08d}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": prompt, "output_tokens": 0},
        }
        yield _sse({"type": "message_start", "message": message}, "message_start")
        if not empty:
            block = {"type": "content_block_start", "index": 0}
            block["content_block"] = {"type": "text", "text": ""}
            yield _sse(block, "content_block_start")
            for number, piece in enumerate(split_pieces(text, parse_scenario(model).piece)):
                if number and delay > 0:
                    await asyncio.sleep(delay)
                delta = {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": piece},
                }
                yield _sse(delta, "content_block_delta")
            yield _sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
        closing = {
            "type": "message_delta",
            "delta": {"stop_reason": reason, "stop_sequence": None},
            "usage": {"output_tokens": 0 if empty else count_tokens(text)},
        }
        yield _sse(closing, "message_delta")
        yield _sse({"type": "message_stop"}, "message_stop")

    # ---- sending ----------------------------------------------------------------------------

    async def _send(
        self,
        request: web.Request,
        record: dict[str, Any],
        response: web.StreamResponse,
        outcome: str,
    ) -> web.StreamResponse:
        """Write ``response`` now, so that a client that went away counts as aborted."""
        record["status"] = response.status
        try:
            await response.prepare(request)
            await response.write_eof()
        except ConnectionError:
            record["outcome"] = "aborted"
        else:
            record["outcome"] = outcome
        return response

    async def _send_error(
        self,
        request: web.Request,
        api: Api,
        record: dict[str, Any],
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> web.StreamResponse:
        body = _dumps(error_body(api, status, message))
        response = web.Response(
            text=body, status=status, content_type=_JSON_TYPE, headers=headers or None
        )
        return await self._send(request, record, response, f"error:{status}")

    async def _send_json(
        self,
        request: web.Request,
        record: dict[str, Any],
        data: Any,
        fail_after: int | None,
    ) -> web.StreamResponse:
        body = _dumps(data).encode()
        if fail_after is None:
            whole = web.Response(body=body, content_type=_JSON_TYPE)
            return await self._send(request, record, whole, "ok")
        # Promise the whole body, send half of it, then hang up.
        response = web.StreamResponse(headers={"Content-Type": _JSON_TYPE})
        response.content_length = len(body)
        record["status"] = response.status
        try:
            await response.prepare(request)
            await response.write(body[: len(body) // 2])
        except ConnectionError:
            record["outcome"] = "aborted"
            return response
        record["outcome"] = "dropped"
        _close(request)
        return response

    async def _send_stream(
        self,
        request: web.Request,
        record: dict[str, Any],
        events: AsyncIterator[bytes],
        fail_after: int | None,
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers=_SSE_HEADERS)
        record["status"] = response.status
        sent = 0
        try:
            await response.prepare(request)
            async for event in events:
                if fail_after is not None and sent >= fail_after:
                    record["outcome"] = "dropped"
                    _close(request)
                    return response
                await response.write(event)
                sent += 1
            await response.write_eof()
        except ConnectionError:
            record["outcome"] = "aborted"
            return response
        record["outcome"] = "ok"
        return response


def _close(request: web.Request) -> None:
    """Hang up on the client (whatever was written so far still reaches it)."""
    transport = request.transport
    if transport is not None:
        transport.close()


# --------------------------------------------------------------------------------------------
# Script mode
# --------------------------------------------------------------------------------------------


async def serve(
    settings: Settings,
    port: int = 0,
    *,
    exit_on_stdin_eof: bool = False,
    max_seconds: float = 1800.0,
    ready: Callable[[int], None] | None = None,
) -> None:
    """Serve on 127.0.0.1 until SIGTERM/SIGINT, stdin EOF (if asked) or ``max_seconds``."""
    handlers = FakeLLMApp(settings)
    runner = web.AppRunner(
        handlers.build(), handler_cancellation=True, access_log=None, shutdown_timeout=1.0
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, HOST, port, backlog=1024)
        await site.start()
        bound = int(runner.addresses[0][1])
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        if exit_on_stdin_eof:
            watcher = threading.Thread(
                target=_wait_for_stdin_eof, args=(loop, stop), name="stdin-eof", daemon=True
            )
            watcher.start()
        if ready is not None:
            ready(bound)
        try:
            await asyncio.wait_for(stop.wait(), max_seconds if max_seconds > 0 else None)
        except TimeoutError:
            print(f"fake LLM server: stopping after {max_seconds:g} seconds", file=sys.stderr)
    finally:
        await runner.cleanup()


def _wait_for_stdin_eof(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Block on stdin until end of file, then ask the loop to stop."""
    try:
        while os.read(0, 65536):
            pass
    except OSError:
        pass
    try:
        loop.call_soon_threadsafe(stop.set)
    except RuntimeError:  # the loop is already closed
        pass


def _announce(port: int) -> None:
    print(f"PORT {port}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each reply")
    parser.add_argument("--reply", default=DEFAULT_REPLY, help=f"reply text, or {ECHO!r}")
    parser.add_argument("--stream-delay", type=float, default=0.0, help="seconds between pieces")
    parser.add_argument("--require-key", default=None, help="API key the clients must send")
    parser.add_argument(
        "--no-record-bodies", action="store_true", help="do not keep request bodies in /_stats"
    )
    parser.add_argument(
        "--exit-on-stdin-eof", action="store_true", help="stop once stdin reaches end of file"
    )
    parser.add_argument(
        "--max-seconds", type=float, default=1800.0, help="stop after this long (<= 0: never)"
    )
    args = parser.parse_args(argv)
    settings = Settings()
    try:
        settings.update(
            {
                "latency": args.latency,
                "reply": args.reply,
                "stream_delay": args.stream_delay,
                "require_key": args.require_key,
                "record_bodies": not args.no_record_bodies,
            }
        )
    except ValueError as exc:
        parser.error(str(exc))
    asyncio.run(
        serve(
            settings,
            args.port,
            exit_on_stdin_eof=args.exit_on_stdin_eof,
            max_seconds=args.max_seconds,
            ready=_announce,
        )
    )
    return 0


# --------------------------------------------------------------------------------------------
# Driving it from Python
# --------------------------------------------------------------------------------------------


class FakeLLMServer:
    """The fake server in a child process; use it as a context manager.

    ``base_url`` is ``http://127.0.0.1:<port>``, which is also what Anthropic clients take;
    ``openai_url`` adds ``/v1``. ``stats()``, ``reset()`` and ``configure(**settings)`` call the
    admin endpoints.
    """

    def __init__(
        self,
        latency: float = 0.0,
        reply: str = DEFAULT_REPLY,
        *,
        stream_delay: float = 0.0,
        require_key: str | None = None,
        record_bodies: bool = True,
        max_seconds: float = 1800.0,
        startup_timeout: float = 15.0,
    ) -> None:
        self.settings = Settings()
        self.settings.update(
            {
                "latency": latency,
                "reply": reply,
                "stream_delay": stream_delay,
                "require_key": require_key,
                "record_bodies": record_bodies,
            }
        )
        self.max_seconds = max_seconds
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.port: int | None = None
        self._admin: httpx.Client | None = None

    # ---- life cycle -------------------------------------------------------------------------

    def command(self) -> list[str]:
        """The command line that starts the server."""
        settings = self.settings
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--port=0",
            f"--latency={settings.latency!r}",
            f"--reply={settings.reply}",
            f"--stream-delay={settings.stream_delay!r}",
            f"--max-seconds={self.max_seconds!r}",
            "--exit-on-stdin-eof",
        ]
        if settings.require_key is not None:
            command.append(f"--require-key={settings.require_key}")
        if not settings.record_bodies:
            command.append("--no-record-bodies")
        return command

    def start(self) -> Self:
        """Start the child process and wait until it listens."""
        import httpx

        if self.process is not None:
            return self
        self.process = subprocess.Popen(
            self.command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        try:
            self.port = self._read_port()
        except BaseException:
            self.stop()
            raise
        self._admin = httpx.Client(base_url=self.base_url, timeout=10.0, trust_env=False)
        return self

    def _read_port(self) -> int:
        process = self.process
        assert process is not None and process.stdout is not None
        deadline = time.monotonic() + self.startup_timeout
        buffer = b""
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while b"\n" not in buffer:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"the fake server did not start in {self.startup_timeout}s")
                if not selector.select(left):
                    continue
                data = os.read(process.stdout.fileno(), 4096)
                if not data:
                    code = process.wait()
                    raise RuntimeError(f"the fake server exited with code {code} before listening")
                buffer += data
        line = buffer.split(b"\n", 1)[0].decode()
        match = re.fullmatch(r"PORT (\d+)", line.strip())
        if match is None:
            raise RuntimeError(f"unexpected first line from the fake server: {line!r}")
        return int(match[1])

    def stop(self) -> None:
        """Terminate the child (SIGTERM, then SIGKILL if it lingers) and release everything."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        process = self.process
        if process is None:
            return
        self.process = None
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # ---- addresses --------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (the base URL Anthropic clients expect)."""
        if self.port is None:
            raise RuntimeError("the fake server is not running")
        return f"http://{HOST}:{self.port}"

    @property
    def openai_url(self) -> str:
        """``<base_url>/v1`` (the base URL OpenAI clients expect)."""
        return f"{self.base_url}/v1"

    @property
    def hook_url(self) -> str:
        """``<base_url>/hook``."""
        return f"{self.base_url}/hook"

    @property
    def batch_url(self) -> str:
        """``<base_url>/batch``."""
        return f"{self.base_url}/batch"

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        return self.process.pid if self.process is not None else None

    # ---- administration ---------------------------------------------------------------------

    def _admin_call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        if self._admin is None:
            raise RuntimeError("the fake server is not running")
        response = self._admin.request(method, path, json=body)
        if response.status_code >= 400:
            raise ValueError(f"{path}: {response.text}")
        result: dict[str, Any] = response.json()
        return result

    def stats(self) -> dict[str, Any]:
        """``GET /_stats``: requests, in_flight, peak_in_flight, completed, aborted, per_model..."""
        return self._admin_call("GET", "/_stats")

    def requests(self) -> list[dict[str, Any]]:
        """The recorded requests, oldest first."""
        records: list[dict[str, Any]] = self.stats()["requests"]
        return records

    def reset(self) -> None:
        """``POST /_reset``: forget requests and counters, restore the start-up settings."""
        self._admin_call("POST", "/_reset")

    def configure(self, **settings: Any) -> dict[str, Any]:
        """``POST /_configure``: latency, reply, stream_delay, require_key, record_bodies."""
        result: dict[str, Any] = self._admin_call("POST", "/_configure", settings)["settings"]
        return result

    def wait_for_stats(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 5.0
    ) -> dict[str, Any]:
        """Poll ``stats()`` until ``predicate`` holds; raise ``TimeoutError`` after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            current = self.stats()
            if predicate(current):
                return current
            if time.monotonic() > deadline:
                raise TimeoutError(f"stats never matched: {current!r}")
            time.sleep(0.02)


def start_server(**kwargs: Any) -> FakeLLMServer:
    """Start a :class:`FakeLLMServer` (arguments as its constructor); ``stop()`` it when done."""
    return FakeLLMServer(**kwargs).start()


if __name__ == "__main__":
    sys.exit(main())
