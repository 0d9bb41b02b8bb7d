"""Explicit context caching: Gemini `cachedContents` created, used, refreshed and deleted.

Gemini refuses `systemInstruction`, `tools` and `toolConfig` next to `cachedContent`: they
live in the cache. So a request that names a cache is checked against what the cache holds
and then sent without them (and without the turns the cache already holds). What a cache
holds is known for caches this process created (a small record per cache name); Gemini's
GET does not return a cache's system instruction or tools, so for any other cache we GET it
once (it must exist and be for the same model) and refuse a system message or function
tools we cannot check, instead of sending what Gemini would refuse or silently dropping it.

Its requests are sans-IO flows (`_transport.flow`): the model's transport drives each with
blocking I/O or with asyncio, so every decision here is written once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_gemini_codeexec._core.checks import MAX_TTL, MIN_TTL, answer_shape, check_duration
from langchain_gemini_codeexec._transport.config import model_path
from langchain_gemini_codeexec._transport.flow import Flow, call
from langchain_gemini_codeexec._transport.sdk import vertex_prefix
from langchain_gemini_codeexec.errors import CacheGoneError, GeminiAPIError, InvalidMessageError

if TYPE_CHECKING:
    from google.genai import Client

TTL = int | float | str | dt.timedelta | dt.datetime
"""A cache lifetime: seconds, a duration string (`"3600s"`, `"90m"`, `"2h"`), a
`timedelta`, or an aware `datetime` at which it expires."""

_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(s|m|h|d)?\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_NAME = re.compile(r"^(?:projects/[^/?#\s]+/locations/[^/?#\s]+/)?cachedContents/[\w-]+$")
_BARE_ID = re.compile(r"^[\w-]+$")
_TOO_SMALL = re.compile(r"min_total_token_count=(\d+)")
_CODE_EXECUTION_ONLY: list[dict[str, Any]] = [{"codeExecution": {}}]


# --- TTL -------------------------------------------------------------------------------


def ttl_seconds(ttl: Any, where: str = "ttl") -> float:
    """Seconds of a relative TTL; `ValueError` (InvalidMessageError) naming the value."""
    if isinstance(ttl, bool):
        raise InvalidMessageError(f"{where}: {ttl!r} is not a duration")
    if isinstance(ttl, dt.timedelta):
        seconds: float = ttl.total_seconds()
    elif isinstance(ttl, (int, float)):
        seconds = ttl
    elif isinstance(ttl, str):
        match = _DURATION.match(ttl)
        if not match:
            raise InvalidMessageError(
                f"{where}: {ttl!r} is not a duration; give seconds (3600), a timedelta, or "
                "a string such as '3600s', '90m' or '2h'"
            )
        seconds = float(match.group(1)) * _UNITS[(match.group(2) or "s").lower()]
    else:
        raise InvalidMessageError(
            f"{where}: {type(ttl).__name__} is not a duration; give seconds, a timedelta, "
            "a string such as '3600s', or an aware datetime"
        )
    return check_duration(where, seconds, minimum=MIN_TTL, maximum=MAX_TTL, zero=True)


def ttl_field(ttl: Any, where: str = "ttl") -> dict[str, str]:
    """`{"ttl": "3600s"}` or `{"expireTime": "...Z"}` for the wire; None gives `{}`."""
    if ttl is None:
        return {}
    if isinstance(ttl, dt.datetime):
        if ttl.tzinfo is None:
            raise InvalidMessageError(
                f"{where}: the datetime {ttl.isoformat()} has no time zone; give an aware "
                "datetime (e.g. datetime.now(timezone.utc) + timedelta(hours=1))"
            )
        if ttl.timestamp() <= time.time():
            raise InvalidMessageError(f"{where}: {ttl.isoformat()} is in the past")
        when = ttl.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return {"expireTime": when}
    seconds = ttl_seconds(ttl, where)
    text = f"{seconds:.9f}".rstrip("0").rstrip(".")
    return {"ttl": f"{text}s"}


def expire_at(resource: dict[str, Any]) -> float:
    value = resource.get("expireTime")
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except (ValueError, OverflowError):
            pass
    return time.time() + 3600.0


# --- names and records ------------------------------------------------------------------


def cache_name(client: Client, name: Any, where: str = "cached_content") -> str:
    """The full resource name of a cache, as the request must carry it."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidMessageError(f"{where}: give a cache name such as 'cachedContents/abc123'")
    name = name.strip()
    if _BARE_ID.match(name):
        name = f"cachedContents/{name}"
    if not _NAME.match(name):
        raise InvalidMessageError(
            f"{where}: {name!r} is not a cache name; expected 'cachedContents/ID' (as "
            "returned by create_cache)"
        )
    prefix = vertex_prefix(client)
    if prefix and not name.startswith("projects/"):
        name = f"{prefix}/{name}"
    return str(name)


def _model_id(model: str) -> str:
    return model.rsplit("models/", 1)[-1]


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


@dataclass
class CacheRecord:
    """What one cache holds, as far as this process knows."""

    name: str
    model: str
    expire_at: float
    known: bool
    """True when this process created the cache (so its contents below are known)."""
    system: dict[str, Any] | None = None
    tools: list[Any] | None = None
    tool_config: dict[str, Any] | None = None
    contents_count: int = 0
    contents_digest: str = ""
    tokens: int = 0


_RECORDS: dict[str, CacheRecord] = {}
_RECORDS_LOCK = threading.Lock()


def _remember(record: CacheRecord) -> CacheRecord:
    with _RECORDS_LOCK:
        _RECORDS[record.name] = record
    return record


def forget(name: str) -> None:
    """Drop what we know of a cache (deleted, or Gemini said it is gone)."""
    with _RECORDS_LOCK:
        _RECORDS.pop(name, None)


def _recorded(name: str) -> CacheRecord | None:
    with _RECORDS_LOCK:
        return _RECORDS.get(name)


def record(name: str) -> CacheRecord | None:
    """What this process knows of cache `name` (full resource name), if anything."""
    return _recorded(name)


def is_gone(exc: BaseException) -> bool:
    """True for Gemini's answers that mean "this cache no longer exists".

    Seen: 403 PERMISSION_DENIED "CachedContent not found (or permission denied)", 404,
    and 400 saying the cache expired. A 403 about anything else (a key without rights)
    and a 400 about an expired API key are not.
    """
    if isinstance(exc, CacheGoneError):
        return True
    if not isinstance(exc, GeminiAPIError):
        return False
    message = (exc.message or "").lower()
    if exc.code == 404:
        return True
    if exc.code == 403:
        return "cache" in message
    if exc.code == 400:
        return "expire" in message and "api key" not in message
    return False


def too_small(exc: BaseException) -> int | None:
    """Gemini's minimum cache size when it refused a cache as too small, else None."""
    if isinstance(exc, GeminiAPIError) and exc.code == 400:
        message = exc.message or ""
        if "too small" in message.lower():
            match = _TOO_SMALL.search(message)
            return int(match.group(1)) if match else 0
    return None


# --- flows (sans-IO: they yield their requests; Transport.drive / adrive send them) -------


def _not_found(name: str, exc: GeminiAPIError) -> CacheGoneError:
    return CacheGoneError(
        f"cached_content: {name!r} does not exist or has expired (Gemini answered "
        f"{exc.code} {exc.status}: {exc.message}); create a new one with create_cache"
    )


def _record_from_get(name: str, resource: dict[str, Any]) -> CacheRecord:
    with answer_shape(f"the lookup of cache {name!r}"):
        return _remember(
            CacheRecord(
                name=name,
                model=str(resource.get("model") or ""),
                expire_at=expire_at(resource),
                known=False,
                tokens=int((resource.get("usageMetadata") or {}).get("totalTokenCount") or 0),
            )
        )


def _current(name: str) -> CacheRecord | None:
    """Our record of `name` unless its expiry has passed (then Gemini is asked again)."""
    record = _recorded(name)
    if record is not None and record.expire_at <= time.time():
        forget(name)
        return None
    return record


def _lookup(name: str) -> Flow[CacheRecord]:
    record = _current(name)
    if record is not None:
        return record
    try:
        resource = yield from call("get", name, {})
    except GeminiAPIError as exc:
        if is_gone(exc):
            raise _not_found(name, exc) from exc
        raise
    return _record_from_get(name, resource)


# --- requests that use a cache ----------------------------------------------------------


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if value is not None else "none"
    return text if len(text) <= 200 else text[:200] + "..."


def _check_and_strip(record: CacheRecord, model: str, body: dict[str, Any]) -> dict[str, Any]:
    name = record.name
    if record.model and _model_id(record.model) != _model_id(model):
        raise InvalidMessageError(
            f"cached_content: {name!r} was created for model {_model_id(record.model)!r}, "
            f"but this call uses {model!r}; a cache works only with its own model"
        )
    system, tools, config = (
        body.get("systemInstruction"),
        body.get("tools"),
        body.get("toolConfig"),
    )
    contents = list(body.get("contents") or [])
    if record.known:
        if system is not None and system != record.system:
            raise InvalidMessageError(
                f"cached_content: the system message differs from the system instruction "
                f"cached in {name!r}. Cache holds: {_short(record.system)}; this call sends: "
                f"{_short(system)}. Leave the system message out (the cache's applies) or "
                "create a new cache with this system message."
            )
        if (tools or None) != (record.tools or None) or (config or None) != (
            record.tool_config or None
        ):
            raise InvalidMessageError(
                f"cached_content: the tools differ from those cached in {name!r}. Cache "
                f"holds: tools={_short(record.tools)}, toolConfig={_short(record.tool_config)}"
                f"; this call sends: tools={_short(tools)}, toolConfig={_short(config)}. "
                "Gemini takes tools only from the cache: create a new cache with these tools."
            )
        n = record.contents_count
        if n and len(contents) > n and _digest(contents[:n]) == record.contents_digest:
            contents = contents[n:]  # the turns the cache holds are not sent again
    else:
        if system is not None:
            raise InvalidMessageError(
                f"cached_content: {name!r} was not created by this process and Gemini does "
                "not return a cache's system instruction, so this call's system message "
                f"({_short(system)}) cannot be checked against it. Leave the system message "
                "out (the cache's applies), or create the cache with llm.create_cache."
            )
        if (tools and tools != _CODE_EXECUTION_ONLY) or config:
            raise InvalidMessageError(
                f"cached_content: {name!r} was not created by this process and Gemini does "
                f"not return a cache's tools, so these tools ({_short(tools)}) cannot be "
                "checked against it; Gemini uses only the cache's tools. Create the cache "
                "with llm.create_cache(messages, tools=[...])."
            )
    if not contents:
        raise InvalidMessageError(
            f"cached_content: nothing to send besides what {name!r} holds; add a new message"
        )
    sent = {k: v for k, v in body.items() if k not in ("systemInstruction", "tools", "toolConfig")}
    sent["contents"] = contents
    sent["cachedContent"] = name
    return sent


def apply(client: Client, model: str, body: dict[str, Any]) -> Flow[dict[str, Any]]:
    """The body to send: unchanged without `cachedContent`, else checked and trimmed."""
    if "cachedContent" not in body:
        return body
    name = cache_name(client, body["cachedContent"])
    return _check_and_strip((yield from _lookup(name)), model, body)


# --- create, update, delete ---------------------------------------------------------------


def _model_resource(client: Client, model: str) -> str:
    path = model_path(client, model)
    prefix = vertex_prefix(client)
    if prefix and not path.startswith("projects/"):
        path = f"{prefix}/{path}"
    return path


def create_body(
    client: Client,
    model: str,
    body: dict[str, Any],
    ttl: Any = None,
    display_name: str | None = None,
) -> dict[str, Any]:
    """The `cachedContents.create` body holding what `body` (a generate request) holds."""
    if "cachedContent" in body:
        raise InvalidMessageError("create_cache: do not pass cached_content (a cache cannot nest)")
    if display_name is not None and (not isinstance(display_name, str) or len(display_name) > 128):
        raise InvalidMessageError("display_name: a string of at most 128 characters")
    request: dict[str, Any] = {"model": _model_resource(client, model)}
    for key in ("contents", "systemInstruction", "tools", "toolConfig"):
        if body.get(key):
            request[key] = body[key]
    request.update(ttl_field(ttl))
    if display_name is not None:
        request["displayName"] = display_name
    return request


def _record_created(request: dict[str, Any], resource: dict[str, Any]) -> str:
    name = resource.get("name")
    if not isinstance(name, str) or not name:
        raise GeminiAPIError(None, None, f"cachedContents.create returned no name: {resource}")
    contents = request.get("contents") or []
    with answer_shape("cachedContents.create"):
        tokens = int((resource.get("usageMetadata") or {}).get("totalTokenCount") or 0)
    _remember(
        CacheRecord(
            name=name,
            model=str(resource.get("model") or request["model"]),
            expire_at=expire_at(resource),
            known=True,
            system=request.get("systemInstruction"),
            tools=request.get("tools"),
            tool_config=request.get("toolConfig"),
            contents_count=len(contents),
            contents_digest=_digest(contents),
            tokens=tokens,
        )
    )
    return name


def create(request: dict[str, Any]) -> Flow[str]:
    """Create the cache `request` (from `create_body`) describes; its name."""
    return _record_created(request, (yield from call("post", "cachedContents", request)))


def _patch(client: Client, name: str, ttl: Any) -> tuple[str, dict[str, str]]:
    if ttl is None:
        raise InvalidMessageError("update_cache: give ttl (seconds, '3600s', a timedelta...)")
    field = ttl_field(ttl)
    return f"{cache_name(client, name)}?updateMask={next(iter(field))}", field


def _updated(name: str, resource: dict[str, Any]) -> dict[str, Any]:
    record = _recorded(name)
    if record is not None:
        record.expire_at = expire_at(resource)
    return resource


def update(client: Client, name: str, ttl: Any) -> Flow[dict[str, Any]]:
    path, field = _patch(client, name, ttl)
    full = cache_name(client, name)
    return _updated(full, (yield from call("patch", path, field)))


def get(client: Client, name: str) -> Flow[dict[str, Any]]:
    return (yield from call("get", cache_name(client, name), {}))


def delete(client: Client, name: str) -> Flow[None]:
    full = cache_name(client, name)
    yield from call("delete", full, {})
    forget(full)
