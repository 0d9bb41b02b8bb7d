"""The tool's cached files: one Gemini context cache per content, reused across calls.

A key is the hash of the files' bytes (or URIs), names and types, the model, the tools
(code execution) and the system instruction: exactly what the cache holds. Per key:

- the first call counts the would-be cache with `countTokens`; below the model's minimum
  cacheable size the files go inline as without caching (remembered, so not recounted);
- else it creates the cache (one creation however many calls ask at once: a single-flight
  per key across threads and tasks) and later calls send only the task;
- a cache close to its expiry is extended (PATCH ttl) before it is used;
- a cache Gemini says is gone (403 "CachedContent not found", 404, 400 expired) is
  recreated once and the call answered.

A changed file hashes differently and gets its own cache; the old one expires by its TTL.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_gemini_codeexec._core import caches as _caching
from langchain_gemini_codeexec._core import options as _options
from langchain_gemini_codeexec._core import request as _request
from langchain_gemini_codeexec._core.checks import answer_shape
from langchain_gemini_codeexec._sandbox.names import LoadedFile
from langchain_gemini_codeexec._sandbox.upload import file_block
from langchain_gemini_codeexec._transport.config import model_path
from langchain_gemini_codeexec._transport.flow import Flow, call, invoke
from langchain_gemini_codeexec._transport.single_flight import SingleFlight
from langchain_gemini_codeexec.errors import GeminiAPIError

if TYPE_CHECKING:
    from google.genai import Client


# Smallest cache Gemini accepts, by model name prefix (Google's caching page; the figures
# have changed over time, so a refusal's own minimum is learned, and unknown models get
# the largest). Checked against the count from `countTokens`, never estimated.
MIN_CACHE_TOKENS: dict[str, int] = {
    "gemini-2.5-flash": 1024,
    "gemini-2.5-pro": 4096,
    "gemini-3-flash": 1024,
    "gemini-3-pro": 4096,
}
DEFAULT_MIN_CACHE_TOKENS = 4096
_KEY_VERSION = 1


def min_cache_tokens(model: str) -> int:
    name = model.rsplit("/", 1)[-1]
    best = [(len(p), n) for p, n in MIN_CACHE_TOKENS.items() if name.startswith(p)]
    return max(best)[1] if best else DEFAULT_MIN_CACHE_TOKENS


def file_key(model: str, system: str | None, files: list[LoadedFile]) -> str:
    identity = {
        "v": _KEY_VERSION,
        "model": model,
        "tools": [{"codeExecution": {}}],
        "system": system,
        "files": [(f.name, f.mime_type, f.uri or f.sha256) for f in files],
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


@dataclass
class FileCache:
    """What one key resolved to: a cache (name, expiry) or "inline" (name None)."""

    name: str | None
    expire_at: float
    tokens: int


class FileCacheStore:
    """Caches of one google-genai client by key (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, FileCache] = {}
        self.flights: SingleFlight[str, FileCache] = SingleFlight()
        self.learned_min: dict[str, int] = {}

    def fresh(self, key: str, margin: float) -> FileCache | None:
        """The entry if it can be used as is (inline, or not due for a refresh)."""
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry.name is None or entry.expire_at - time.time() > margin:
            return entry
        return None

    def current(self, key: str) -> FileCache | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: str, entry: FileCache) -> FileCache:
        with self._lock:
            self._entries[key] = entry
        return entry

    def drop(self, key: str, name: str | None) -> None:
        """Forget `key` if it still points at cache `name` (not at a newer one)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.name == name:
                del self._entries[key]
        if name is not None:
            _caching.forget(name)

    def names(self) -> list[str]:
        with self._lock:
            return [e.name for e in self._entries.values() if e.name is not None]


_STORES: weakref.WeakKeyDictionary[Client, FileCacheStore] = weakref.WeakKeyDictionary()
_STORES_LOCK = threading.Lock()


def store_for(client: Client) -> FileCacheStore:
    with _STORES_LOCK:
        store = _STORES.get(client)
        if store is None:
            store = _STORES[client] = FileCacheStore()
        return store


def refresh_margin(ttl: float) -> float:
    """Extend a cache when less than this many seconds are left."""
    return min(ttl / 4, 600.0)


def inline_entry(tokens: int) -> FileCache:
    return FileCache(None, math.inf, tokens)


def created_entry(name: str, tokens: int) -> FileCache:
    record = _caching.record(name)
    expire_at = record.expire_at if record is not None else time.time()
    return FileCache(name, expire_at, record.tokens if record and record.tokens else tokens)


# --- the tool's call ----------------------------------------------------------------------


class _Call:
    """One tool call's view of its files' cache (`tool` is a GeminiCodeExecutionTool)."""

    def __init__(self, tool: Any, loaded: list[LoadedFile]) -> None:
        self.tool = tool
        self.loaded = loaded
        self.llm = tool.llm
        self.client = self.llm.genai_client
        self.ttl = _caching.ttl_seconds(tool.cache_ttl, "cache_ttl")
        self.margin = refresh_margin(self.ttl)
        self.store = store_for(self.client)
        self.key = file_key(self.llm.model, tool.instructions, loaded)

    def _body(self, blocks: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
        messages = self.tool._messages(None, self.loaded, blocks)
        options = {"code_execution": True, "cached_content": None}
        resolved = _options.resolve(self.llm, options)
        files_base = self.llm._get_transport().files_base
        return _request.build(
            resolved, messages, vertexai=bool(self.llm.vertexai), files_base=files_base
        )

    def _minimum(self, model: str) -> int:
        given = self.tool.cache_min_tokens
        return int(given or self.store.learned_min.get(model) or min_cache_tokens(model))

    def _too_small(self, model: str, exc: BaseException, counted: int) -> FileCache | None:
        learned = _caching.too_small(exc)
        if learned is None:
            return None
        if learned:
            self.store.learned_min[model] = learned
        return inline_entry(counted)

    def _reuse(self, old: FileCache | None) -> str | None:
        """The cache to extend instead of creating one (not yet expired), if any."""
        if old is None or old.name is None or old.expire_at <= time.time() + 1:
            return None
        return old.name

    def _extended(self, name: str, resource: dict[str, Any], tokens: int) -> FileCache:
        return self.store.put(self.key, FileCache(name, _caching.expire_at(resource), tokens))

    def _create(self) -> Flow[FileCache]:
        blocks = []
        for file in self.loaded:
            blocks.append((yield from file_block(file, self.client, self.tool.inline_max_bytes)))
        model, body = self._body(blocks)
        path = f"{model_path(self.client, model)}:countTokens"
        answer = yield from call("post", path, {"contents": body["contents"]})
        with answer_shape("countTokens"):
            counted = int(answer.get("totalTokens") or 0)
        if counted < self._minimum(model):
            return inline_entry(counted)
        request = _caching.create_body(self.client, model, body, self.ttl)
        try:
            name = yield from _caching.create(request)
        except GeminiAPIError as exc:
            small = self._too_small(model, exc, counted)
            if small is None:
                raise
            return small
        self.tool._created_caches.add(name)
        return created_entry(name, counted)

    def _make(self) -> Flow[FileCache]:
        entry = self.store.fresh(self.key, self.margin)
        if entry is not None:
            return entry  # another caller made or refreshed it meanwhile
        old = self.store.current(self.key)
        name = self._reuse(old)
        if name is not None and old is not None:
            try:
                resource = yield from _caching.update(self.client, name, self.ttl)
                return self._extended(name, resource, old.tokens)
            except GeminiAPIError as exc:
                if not _caching.is_gone(exc):
                    raise
        if old is not None:
            self.store.drop(self.key, old.name)
        return self.store.put(self.key, (yield from self._create()))

    def entry(self) -> Flow[FileCache]:
        fresh = self.store.fresh(self.key, self.margin)
        if fresh is not None:
            return fresh
        return (yield from self.store.flights.run(self.key, self._make))

    def gone(self, entry: FileCache) -> None:
        self.store.drop(self.key, entry.name)


def invoke_cached(tool: Any, task: str, loaded: list[LoadedFile], config: Any) -> Flow[Any]:
    """The tool's answer with its files from their cache; None: send them inline."""
    from langchain_core.messages import HumanMessage

    cached = _Call(tool, loaded)
    for attempt in (1, 2):
        entry = yield from cached.entry()
        if entry.name is None:
            return None
        try:
            return (
                yield from invoke(
                    cached.llm,
                    [HumanMessage(task)],
                    config,
                    code_execution=True,
                    cached_content=entry.name,
                )
            )
        except Exception as exc:
            if attempt == 2 or not _caching.is_gone(exc):
                raise
            cached.gone(entry)  # recreated once, then the call is answered
    return None  # pragma: no cover
