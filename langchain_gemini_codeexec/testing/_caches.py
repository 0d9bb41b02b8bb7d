"""Gemini's `cachedContents` for :class:`GeminiTestServer`: create, get, patch, delete, expiry.

Behaves the way the real API has been seen to behave (see the README, "Context caching"):

- ``POST {ver}/cachedContents`` takes ``model``, ``contents``, ``systemInstruction``,
  ``tools``, ``toolConfig``, ``displayName`` and ``ttl`` (a duration string such as
  ``"3600s"``) or ``expireTime``; content under ``min_tokens`` is refused with Gemini's 400
  "Cached content is too small".
- ``GET``/``PATCH`` (only ``ttl``/``expireTime``)/``DELETE`` ``{ver}/cachedContents/{id}``;
  the resource never echoes contents, system instruction or tools (input only, as in
  Gemini).
- A cache that does not exist, was deleted or expired answers ``gone_status``: 403
  ``PERMISSION_DENIED`` "CachedContent not found (or permission denied)" by default, as
  real Gemini does; set 404 or 400 to script the other answers seen in the wild.
- ``generateContent`` with ``cachedContent`` next to ``systemInstruction``, ``tools`` or
  ``toolConfig`` gets Gemini's 400; a cached request's ``usageMetadata`` reports the
  cache's size in ``cachedContentTokenCount`` (and inside ``promptTokenCount``).

Tokens are counted by one rule, also used by ``countTokens``: one token per 4 characters
of text or 4 bytes of inline or uploaded file data, rounded down, at least 1.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._replies import JSON, Reply

GONE_MESSAGE = "CachedContent not found (or permission denied)"
USE_WITH_CACHE_MESSAGE = (
    "CachedContent can not be used with GenerateContent request setting system_instruction, "
    "tools or tool_config.\n\nProposed fix: move those values to CachedContent from "
    "GenerateContent request."
)
_DURATION = re.compile(r"^([0-9]+(?:\.[0-9]{1,9})?)s$")
_MAX_DURATION = 315_576_000_000  # google.protobuf.Duration's largest, in seconds
_GONE_STATUS = {403: "PERMISSION_DENIED", 404: "NOT_FOUND", 400: "INVALID_ARGUMENT"}


def _b64len(data: str) -> int:
    s = data.strip().replace("-", "+").replace("_", "/")
    try:
        return len(base64.b64decode(s + "=" * (-len(s) % 4)))
    except ValueError:
        return len(data)


def count_units(body: Any, file_sizes: Mapping[str, int] | None = None) -> int:
    """Characters of text plus bytes of file data in a request body (contents, system)."""
    if not isinstance(body, dict):
        return 0
    contents = list(body.get("contents") or [])
    inner = body.get("generateContentRequest")
    if isinstance(inner, dict):
        contents += list(inner.get("contents") or [])
        if isinstance(inner.get("systemInstruction"), dict):
            contents.append(inner["systemInstruction"])
    if isinstance(body.get("systemInstruction"), dict):
        contents.append(body["systemInstruction"])
    units = 0
    for content in contents:
        if not isinstance(content, dict):
            continue
        for part in content.get("parts") or []:
            if not isinstance(part, dict):
                continue
            if isinstance(part.get("text"), str):
                units += len(part["text"])
            blob = part.get("inlineData") or part.get("inline_data")
            if isinstance(blob, dict) and isinstance(blob.get("data"), str):
                units += _b64len(blob["data"])
            ref = part.get("fileData") or part.get("file_data")
            if isinstance(ref, dict) and file_sizes:
                uri = str(ref.get("fileUri") or ref.get("file_uri") or "")
                units += next((n for k, n in file_sizes.items() if uri.endswith(k)), 0)
            for key in ("functionCall", "functionResponse", "executableCode"):
                if key in part:
                    units += len(json.dumps(part[key]))
            if isinstance(part.get("codeExecutionResult"), dict):
                units += len(str(part["codeExecutionResult"].get("output", "")))
    return units


def count_tokens(body: Any, file_sizes: Mapping[str, int] | None = None) -> int:
    """The server's token count of a request body (see the module docstring)."""
    return max(1, count_units(body, file_sizes) // 4)


def _timestamp(seconds: float) -> str:
    when = dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(value: str) -> float | None:
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _model_id(model: str) -> str:
    """`models/x`, `projects/../publishers/google/models/x` or `x` -> `x`."""
    return model.rsplit("models/", 1)[-1]


@dataclass
class StoredCache:
    """One cached content held by the fake API (inputs kept for assertions)."""

    name: str
    model: str
    tokens: int
    expire_at: float
    created_at: float
    updated_at: float
    display_name: str | None = None
    contents: list[JSON] = field(default_factory=list)
    system_instruction: JSON | None = None
    tools: list[JSON] | None = None
    tool_config: JSON | None = None

    def resource(self) -> JSON:
        """The ``CachedContent`` JSON the API returns (no contents, system or tools)."""
        res: JSON = {
            "name": self.name,
            "model": self.model,
            "createTime": _timestamp(self.created_at),
            "updateTime": _timestamp(self.updated_at),
            "expireTime": _timestamp(self.expire_at),
            "usageMetadata": {"totalTokenCount": self.tokens},
        }
        if self.display_name is not None:
            res["displayName"] = self.display_name
        return res


class CachedContentStore:
    """The fake `cachedContents` collection of one server (thread-safe).

    ``min_tokens``: smallest cache accepted (real minimums are per model, 1024 to 4096).
    ``gone_status``: 403 (default, as Gemini), 404 or 400 for a cache that is gone.
    ``clock``: seconds since the epoch; ``advance(seconds)`` moves it forward in tests.
    """

    def __init__(
        self,
        file_sizes: Callable[[], Mapping[str, int]] | None = None,
        *,
        min_tokens: int = 1024,
        gone_status: int = 403,
    ) -> None:
        self.min_tokens = min_tokens
        self.gone_status = gone_status
        self.caches: dict[str, StoredCache] = {}
        self.created: list[StoredCache] = []
        self._file_sizes = file_sizes or dict
        self._offset = 0.0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # --- test controls -----------------------------------------------------------

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the store's clock forward (caches past their expiry are gone)."""
        self._offset += seconds

    def expire(self, name: str) -> None:
        """Make one cache expire now."""
        with self._lock:
            entry = self.caches.get(name)
            if entry is not None:
                entry.expire_at = self.now() - 1

    def live(self) -> list[StoredCache]:
        """Caches that exist and have not expired."""
        now = self.now()
        with self._lock:
            return [c for c in self.caches.values() if c.expire_at > now]

    def count(self, body: Any) -> int:
        return count_tokens(body, self._file_sizes())

    # --- REST --------------------------------------------------------------------

    def _gone(self, name: str) -> Reply:
        status = self.gone_status
        if status == 400:
            message = f"Cache content {name} is expired."
        elif status == 404:
            message = f"Requested entity was not found: {name}"
        else:
            message = GONE_MESSAGE
        return Reply.error(status, message, _GONE_STATUS.get(status))

    def _get(self, name: str) -> StoredCache | None:
        with self._lock:
            entry = self.caches.get(name)
        if entry is None or entry.expire_at <= self.now():
            return None
        return entry

    def _expiry(self, body: JSON, default: float | None) -> float | Reply | None:
        ttl, expire = body.get("ttl"), body.get("expireTime") or body.get("expire_time")
        if ttl is not None:
            m = _DURATION.match(str(ttl))
            if not m:
                return Reply.error(
                    400,
                    f"Invalid value at 'cached_content.ttl' (type.googleapis.com/"
                    f"google.protobuf.Duration), Field 'ttl', Illegal duration format: {ttl!r}",
                )
            seconds = float(m.group(1))
            if not 0 < seconds <= _MAX_DURATION:  # Gemini's 400, not an overflow here
                return Reply.error(
                    400,
                    f"Invalid value at 'cached_content.ttl' (type.googleapis.com/"
                    f"google.protobuf.Duration), Field 'ttl', duration out of range: {ttl!r:.60}",
                )
            return self.now() + seconds
        if expire is not None:
            at = _parse_time(str(expire))
            if at is None:
                return Reply.error(400, f"Invalid value at 'cached_content.expire_time': {expire}")
            if at <= self.now():
                return Reply.error(400, "expire_time must be in the future.")
            return at
        return default

    def handle(self, method: str, prefix: str, ident: str | None, body: Any) -> Reply:
        """One REST call on the collection (``ident`` None) or one cache."""
        body = body if isinstance(body, dict) else {}
        if ident is None:
            if method == "POST":
                return self._create(prefix, body)
            if method == "GET":
                return Reply.json({"cachedContents": [c.resource() for c in self.live()]})
            return Reply.error(405, f"{method} is not allowed on cachedContents")
        name = f"{prefix}cachedContents/{ident}"
        entry = self._get(name)
        if entry is None:
            return self._gone(name)
        if method == "GET":
            return Reply.json(entry.resource())
        if method == "DELETE":
            with self._lock:
                self.caches.pop(name, None)
            return Reply.json({})
        if method == "PATCH":
            expiry = self._expiry(body, None)
            if isinstance(expiry, Reply):
                return expiry
            if expiry is None:
                return Reply.error(400, "Only ttl or expire_time can be updated.")
            entry.expire_at = expiry
            entry.updated_at = self.now()
            return Reply.json(entry.resource())
        return Reply.error(405, f"{method} is not allowed on a cached content")

    def _create(self, prefix: str, body: JSON) -> Reply:
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return Reply.error(400, "CachedContent.model is required.")
        expiry = self._expiry(body, self.now() + 3600.0)
        if isinstance(expiry, Reply):
            return expiry
        assert expiry is not None
        tokens = self.count({"contents": body.get("contents"), **_system(body)})
        if tokens < self.min_tokens:
            return Reply.error(
                400,
                f"Cached content is too small. total_token_count={tokens}, "
                f"min_total_token_count={self.min_tokens}",
            )
        now = self.now()
        entry = StoredCache(
            name=f"{prefix}cachedContents/cache-{next(self._ids)}",
            model=model,
            tokens=tokens,
            expire_at=expiry,
            created_at=now,
            updated_at=now,
            display_name=body.get("displayName") or body.get("display_name"),
            contents=list(body.get("contents") or []),
            system_instruction=body.get("systemInstruction"),
            tools=body.get("tools"),
            tool_config=body.get("toolConfig"),
        )
        with self._lock:
            self.caches[entry.name] = entry
            self.created.append(entry)
        return Reply.json(entry.resource())

    # --- model requests ------------------------------------------------------------

    def check_generate(self, body: Any, model: str | None) -> Reply | None:
        """Gemini's refusal of a request that uses a cache wrongly, else None."""
        if not isinstance(body, dict) or not body.get("cachedContent"):
            return None
        if any(body.get(k) for k in ("systemInstruction", "tools", "toolConfig")):
            return Reply.error(400, USE_WITH_CACHE_MESSAGE)
        name = str(body["cachedContent"])
        entry = self._get(name)
        if entry is None:
            return self._gone(name)
        if model is not None and _model_id(entry.model) != _model_id(model):
            return Reply.error(
                400,
                f"Model used by GenerateContent request ({model}) and CachedContent "
                f"({entry.model}) has to be the same.",
            )
        return None

    def annotate(self, reply: Reply, body: Any, count_usage: bool) -> Reply:
        """Fill ``usageMetadata`` of a 200 answer: cached tokens, and counted prompt tokens
        (for a cached request always; for others when ``count_usage``)."""
        if reply.status != 200 or reply.kind not in ("json", "stream"):
            return reply
        cached = 0
        if isinstance(body, dict) and body.get("cachedContent"):
            entry = self._get(str(body["cachedContent"]))
            cached = entry.tokens if entry is not None else 0
        elif not count_usage:
            return reply
        prompt = self.count(body) + cached

        def fix(usage: JSON | None) -> JSON:
            usage = dict(usage or {})
            before = int(usage.get("promptTokenCount", 0) or 0)
            total = (
                int(usage.get("totalTokenCount", 0) or 0)
                or sum(
                    int(usage.get(k, 0) or 0)
                    for k in (
                        "candidatesTokenCount",
                        "thoughtsTokenCount",
                        "toolUsePromptTokenCount",
                    )
                )
                + before
            )
            usage["promptTokenCount"] = prompt
            if cached:
                usage["cachedContentTokenCount"] = cached
            usage["totalTokenCount"] = total - before + prompt
            return usage

        if reply.kind == "json":
            if reply.body is None or "error" in reply.body:
                return reply
            return dataclasses.replace(
                reply, body={**reply.body, "usageMetadata": fix(reply.body.get("usageMetadata"))}
            )
        chunks = [dict(c) for c in reply.chunks]
        with_usage = [c for c in chunks if "usageMetadata" in c] or chunks[-1:]
        for chunk in with_usage:
            chunk["usageMetadata"] = fix(chunk.get("usageMetadata"))
        return dataclasses.replace(reply, chunks=tuple(chunks))


def _system(body: JSON) -> JSON:
    system = body.get("systemInstruction")
    return {"systemInstruction": system} if isinstance(system, dict) else {}


def cache_action(method: str, groups: Mapping[str, str]) -> str:
    """`RecordedRequest.action` of a cachedContents call: create, list, get, patch, delete."""
    if "cache" not in groups:
        return "create" if method == "POST" else "list"
    return {"GET": "get", "PATCH": "patch", "DELETE": "delete"}.get(method, method.lower())


__all__ = ["CachedContentStore", "StoredCache", "cache_action", "count_tokens"]
