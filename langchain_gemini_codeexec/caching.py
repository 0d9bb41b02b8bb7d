"""Explicit context caches (Gemini `cachedContents`) as free functions of the model.

    from langchain_gemini_codeexec.caching import create_cache, delete_cache

    name = create_cache(llm, [SystemMessage(rules), HumanMessage(dataset)], ttl="1h")
    llm.invoke(question, cached_content=name)  # sends only the turns after the cached ones
    delete_cache(llm, name)

`llm` is a `ChatGeminiCodeExecution` or what its `bind(...)` / `bind_tools(...)` returns;
the bound tools and options are cached with the messages, exactly as `invoke` would send
them. Each function has an async twin (`acreate_cache`, ...).
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import LanguageModelInput

from langchain_gemini_codeexec._core import caches as _caches
from langchain_gemini_codeexec._core import options as _options
from langchain_gemini_codeexec._core import request as _request
from langchain_gemini_codeexec._core.binding import unwrap
from langchain_gemini_codeexec._core.caches import TTL
from langchain_gemini_codeexec._mapping import function_tools as _function_tools
from langchain_gemini_codeexec.chat_models import ChatGeminiCodeExecution

__all__ = [
    "TTL",
    "acreate_cache",
    "adelete_cache",
    "aget_cache",
    "aupdate_cache",
    "create_cache",
    "delete_cache",
    "get_cache",
    "update_cache",
]


def _model(llm: Any, feature: str) -> tuple[ChatGeminiCodeExecution, dict[str, Any]]:
    return unwrap(llm, ChatGeminiCodeExecution, feature)


def _create_request(
    llm: Any, messages: LanguageModelInput, ttl: Any, display_name: str | None, kwargs: Any
) -> tuple[ChatGeminiCodeExecution, dict[str, Any]]:
    model, bound = _model(llm, "create_cache")
    options = {**bound, **kwargs}
    if "tools" in options:
        options["tools"] = [_function_tools.normalize_tool(tool) for tool in options["tools"]]
    options["cached_content"] = None  # a cache is made from the full request
    name, body = _request.build(
        _options.resolve(model, options),
        _request.to_messages(messages),
        vertexai=bool(model.vertexai),
        files_base=model._get_transport().files_base,
    )
    return model, _caches.create_body(model.genai_client, name, body, ttl, display_name)


def create_cache(
    llm: Any,
    messages: LanguageModelInput,
    *,
    ttl: TTL | None = None,
    display_name: str | None = None,
    **kwargs: Any,
) -> str:
    """Cache `messages` with Gemini; returns the cache name.

    The cache holds exactly what `llm.invoke(messages, **kwargs)` would send: the contents,
    the system instruction and the tools (code execution, and `tools=[...]` /
    `tool_choice=` given here or bound). Use it with `cached_content=name` (on the model or
    per call): the call then sends only the turns after the cached ones. `ttl`: seconds,
    `"3600s"`, `"90m"`, a `timedelta` or an aware `datetime` (default: Gemini's, one hour).
    Gemini refuses caches below a per-model minimum (about 1,000-4,000 tokens).
    """
    model, request = _create_request(llm, messages, ttl, display_name, kwargs)
    return model._get_transport().drive(_caches.create(request))


async def acreate_cache(
    llm: Any,
    messages: LanguageModelInput,
    *,
    ttl: TTL | None = None,
    display_name: str | None = None,
    **kwargs: Any,
) -> str:
    """Async `create_cache`."""
    model, request = _create_request(llm, messages, ttl, display_name, kwargs)
    return await model._get_transport().adrive(_caches.create(request))


def update_cache(llm: Any, name: str, *, ttl: TTL) -> dict[str, Any]:
    """Set a cache's TTL (or expiry `datetime`); returns the cache resource JSON."""
    model, _ = _model(llm, "update_cache")
    return model._get_transport().drive(_caches.update(model.genai_client, name, ttl))


async def aupdate_cache(llm: Any, name: str, *, ttl: TTL) -> dict[str, Any]:
    """Async `update_cache`."""
    model, _ = _model(llm, "update_cache")
    return await model._get_transport().adrive(_caches.update(model.genai_client, name, ttl))


def get_cache(llm: Any, name: str) -> dict[str, Any]:
    """A cache's resource JSON (name, model, displayName, expireTime, usageMetadata)."""
    model, _ = _model(llm, "get_cache")
    return model._get_transport().drive(_caches.get(model.genai_client, name))


async def aget_cache(llm: Any, name: str) -> dict[str, Any]:
    """Async `get_cache`."""
    model, _ = _model(llm, "get_cache")
    return await model._get_transport().adrive(_caches.get(model.genai_client, name))


def delete_cache(llm: Any, name: str) -> None:
    """Delete a cache now (else Gemini deletes it when its TTL runs out)."""
    model, _ = _model(llm, "delete_cache")
    model._get_transport().drive(_caches.delete(model.genai_client, name))


async def adelete_cache(llm: Any, name: str) -> None:
    """Async `delete_cache`."""
    model, _ = _model(llm, "delete_cache")
    await model._get_transport().adrive(_caches.delete(model.genai_client, name))
