"""The response cache: successful openai, anthropic and http replies kept in SQLite.

The database is ``.agentrun/cache.sqlite`` beside the paradigm (or ``--cache-dir``),
in WAL mode so several processes can share it at once. A reply is keyed by the
sha256 of the provider type, base URL, model, everything the request body is built
from, and the repeat index (so ``--repeat 3`` asks three times, and a rerun asks
none). Secret fields (API keys, headers) are never part of the key or the database.
A hit skips the network and the provider's limits, and costs nothing; the cost it
saved is reported on its own.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agentrun.errors import UsageError
from agentrun.graph.compiled import AgentNode
from agentrun.providers.base import AgentClient, Reply, Request
from agentrun.results import Usage

CACHED_TYPES = frozenset({"openai", "anthropic", "http"})
"""Provider types whose replies are cached (``--mock`` runs use none of them)."""
SECRET_FIELDS = frozenset({"api_key", "headers"})
CACHE_FILE = "cache.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS replies (
    key TEXT PRIMARY KEY,
    provider_type TEXT NOT NULL,
    text TEXT NOT NULL,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    cost_usd REAL,
    created REAL NOT NULL
)
"""


def cache_dir_for(paradigm: Path, cache_dir: str | None) -> Path:
    """Where the cache of a paradigm lives: ``--cache-dir``, else ``.agentrun`` beside it."""
    return Path(cache_dir) if cache_dir else paradigm.resolve().parent / ".agentrun"


class ResponseCache:
    """One connection to the cache database, shared by every agent of a run."""

    def __init__(self, folder: Path, *, refresh: bool = False) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                folder / CACHE_FILE, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise UsageError(f"cannot open the response cache in {folder}: {exc}") from None
        self.refresh = refresh
        self._lock = threading.Lock()
        self._tallies: dict[tuple[str, int], Counter[str]] = {}
        self._saved: dict[tuple[str, int], float] = {}

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def wrap(self, client: AgentClient, node: AgentNode) -> AgentClient:
        """``client``, answered from the cache when its provider type is cached."""
        if node.provider_type not in CACHED_TYPES:
            return client
        return CachedClient(client, node, self)

    def tally(self, case_id: str, repeat: int) -> dict[str, Any]:
        """Hits, misses and saved cost of one finished case (forgotten once read)."""
        counts = self._tallies.pop((case_id, repeat), Counter())
        saved = self._saved.pop((case_id, repeat), 0.0)
        if not counts:
            return {}
        return {"hits": counts["hits"], "misses": counts["misses"], "saved_usd": round(saved, 8)}

    def count(self, context: Any, what: str, saved: float = 0.0) -> None:
        """Count a hit or a miss for the case a request belongs to."""
        case = context.get("case") or {}
        key = (str(case.get("id")), int(case.get("repeat") or 0))
        self._tallies.setdefault(key, Counter())[what] += 1
        if saved:
            self._saved[key] = self._saved.get(key, 0.0) + saved

    def get(self, key: str) -> Reply | None:
        """The stored reply of ``key`` (never during a refresh)."""
        if self.refresh:
            return None
        with self._lock:
            row = self._db.execute(
                "SELECT text, prompt_tokens, completion_tokens, cost_usd FROM replies"
                " WHERE key = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        text, prompt, completion, cost = row
        usage = None if prompt is None else Usage(prompt, completion, cost)
        return Reply(text, usage)

    def put(self, key: str, provider_type: str, reply: Reply) -> None:
        """Store a successful reply (as assembled, for streamed ones)."""
        usage = reply.usage
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO replies VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    provider_type,
                    reply.text,
                    usage.prompt_tokens if usage else None,
                    usage.completion_tokens if usage else None,
                    usage.cost_usd if usage else None,
                    time.time(),
                ),
            )


class CachedClient:
    """An agent's client that asks the cache first and stores what succeeds."""

    def __init__(self, inner: AgentClient, node: AgentNode, cache: ResponseCache) -> None:
        self._inner = inner
        self._cache = cache
        self._type = node.provider_type
        fields = {k: v for k, v in node.fields.items() if k not in SECRET_FIELDS}
        self._fixed = {
            "type": node.provider_type,
            "base_url": fields.pop("base_url", None) or fields.pop("url", None),
            "model": node.model or fields.pop("model", None),
            "temperature": node.temperature,
            "max_tokens": node.max_tokens,
            "fields": fields,
        }
        self._peeked: dict[int, Reply] = {}

    def key(self, request: Request) -> str:
        """The cache key of one request."""
        context = request.context
        body: dict[str, Any] = {
            **self._fixed,
            "system": request.system,
            "prompt": request.prompt,
            "rejected": request.rejected,
            "violations": list(request.violations),
            "repeat": int((context.get("case") or {}).get("repeat") or 0),
        }
        if self._type == "http":  # its body is a template of the whole context
            body["input"] = context.get("input")
            body["vars"] = context.get("vars")
        text = json.dumps(body, sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def peek(self, request: Request) -> bool:
        """Whether the cache holds the reply (then no provider slot is needed)."""
        reply = self._cache.get(self.key(request))
        if reply is not None:
            self._peeked[id(request)] = reply
        return reply is not None

    async def complete(self, request: Request) -> Reply:
        """The cached reply, else the provider's (stored when it succeeds)."""
        key = self.key(request)
        reply = self._peeked.pop(id(request), None) or self._cache.get(key)
        if reply is not None:
            saved = reply.usage.cost_usd if reply.usage and reply.usage.cost_usd else 0.0
            self._cache.count(request.context, "hits", saved)
            if request.on_delta is not None and reply.text:
                request.on_delta(reply.text)
            usage = reply.usage
            free = Usage(usage.prompt_tokens, usage.completion_tokens, 0.0) if usage else None
            return Reply(reply.text, free)
        self._cache.count(request.context, "misses")
        reply = await self._inner.complete(request)
        self._cache.put(key, self._type, reply)
        return reply


@contextmanager
def open_cache(paradigm: Path, dataset: Any, enabled: bool) -> Iterator[ResponseCache | None]:
    """The run's cache when it is on (``--cache``, ``cache: true``), closed at the end."""
    if not enabled:
        yield None
        return
    cache = ResponseCache(
        cache_dir_for(paradigm, dataset.cache_dir), refresh=dataset.cache == "refresh"
    )
    try:
        yield cache
    finally:
        cache.close()


def stats(folder: Path) -> dict[str, Any]:
    """Entries per provider type, total size and age of a cache folder."""
    path = folder / CACHE_FILE
    if not path.exists():
        return {"path": str(path), "entries": 0, "by_type": {}, "bytes": 0}
    db = sqlite3.connect(path, timeout=30.0)
    try:
        rows = db.execute(
            "SELECT provider_type, COUNT(*), SUM(COALESCE(cost_usd, 0)) FROM replies GROUP BY 1"
        ).fetchall()
    finally:
        db.close()
    size = sum(p.stat().st_size for p in folder.glob(CACHE_FILE + "*"))
    return {
        "path": str(path),
        "entries": sum(row[1] for row in rows),
        "by_type": {row[0]: row[1] for row in rows},
        "stored_cost_usd": round(sum(row[2] for row in rows), 6),
        "bytes": size,
    }


def clear(folder: Path) -> int:
    """Delete every entry of a cache folder; how many there were."""
    path = folder / CACHE_FILE
    if not path.exists():
        return 0
    db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
    try:
        count = int(db.execute("SELECT COUNT(*) FROM replies").fetchone()[0])
        db.execute("DELETE FROM replies")
        db.execute("VACUUM")
    finally:
        db.close()
    return count
