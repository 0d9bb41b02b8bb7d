"""Shared helpers of the reliability tests: one model per HTTP path, run sync or async.

The five paths are the ways the google-genai SDK can carry a request: sync calls on httpx2
(the SDK's default) or httpx, async calls on aiohttp (the default when it is installed),
httpx2 or httpx (chosen by giving the SDK an httpx transport). Every test here talks to
the loopback `GeminiTestServer` through the real SDK.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import httpx2
import pytest
from langchain_core.messages import AIMessage, AIMessageChunk

from langchain_gemini_codeexec import ChatGeminiCodeExecution
from langchain_gemini_codeexec._client import build_client
from langchain_gemini_codeexec.testing import GeminiTestServer

# A key-shaped secret that must never show up in anything printed, logged or serialized.
API_KEY = "AIzaSyTEST-reliability-5ecret-K3y-0000"

SYNC_PATHS = ("sync-httpx2", "sync-httpx")
ASYNC_PATHS = ("async-aiohttp", "async-httpx2", "async-httpx")
PATHS = SYNC_PATHS + ASYNC_PATHS
FAST_RETRY = {"retry_initial_delay": 0.01, "retry_max_delay": 0.05}


def make_llm(base_url: str, path: str = "sync-httpx2", **kwargs: Any) -> ChatGeminiCodeExecution:
    """A model on `path`; the default paths are built the way a user builds them."""
    settings: dict[str, Any] = {"api_key": API_KEY, **FAST_RETRY, **kwargs}
    if path in ("sync-httpx2", "async-aiohttp"):
        return ChatGeminiCodeExecution(base_url=base_url, **settings)
    client_args: dict[str, Any] = {}
    if path == "sync-httpx":
        client_args["client_args"] = {"transport": httpx.HTTPTransport()}
    elif path == "async-httpx":
        client_args["async_client_args"] = {"transport": httpx.AsyncHTTPTransport()}
    elif path == "async-httpx2":
        client_args["async_client_args"] = {"transport": httpx2.AsyncHTTPTransport()}
    else:
        raise ValueError(path)
    client = build_client(
        api_key=API_KEY,
        vertexai=False,
        project=None,
        location=None,
        credentials=None,
        base_url=base_url,
        api_version=None,
        **client_args,
    )
    return ChatGeminiCodeExecution(client=client, **settings)


def check_path(llm: ChatGeminiCodeExecution, path: str) -> None:
    """The model really runs on `path` (so a parametrized test cannot test the same twice)."""
    api = llm.genai_client._api_client
    if path.startswith("async"):
        assert api._use_aiohttp() == (path == "async-aiohttp")
        if path != "async-aiohttp":
            inner = api._http_options.async_client_args["transport"]
            assert type(inner).__module__.split(".")[0] == path.split("-")[1]
    else:
        package = type(api._httpx_client).__mro__[1].__module__.split(".")[0]
        assert package == path.split("-")[1]


def invoke(llm: ChatGeminiCodeExecution, path: str, prompt: Any = "hi", **kw: Any) -> AIMessage:
    if path.startswith("sync"):
        return llm.invoke(prompt, **kw)
    return asyncio.run(llm.ainvoke(prompt, **kw))


def stream(
    llm: ChatGeminiCodeExecution, path: str, prompt: Any = "hi", **kw: Any
) -> tuple[list[AIMessageChunk], Exception | None]:
    """(chunks the caller received, the error that ended the stream or None)."""
    chunks: list[AIMessageChunk] = []
    try:
        if path.startswith("sync"):
            for chunk in llm.stream(prompt, **kw):
                chunks.append(chunk)
        else:

            async def consume() -> None:
                async for chunk in llm.astream(prompt, **kw):
                    chunks.append(chunk)

            asyncio.run(consume())
    except Exception as exc:
        return chunks, exc
    return chunks, None


def invoke_error(llm: ChatGeminiCodeExecution, path: str, prompt: Any = "hi") -> Exception:
    with pytest.raises(Exception) as caught:
        invoke(llm, path, prompt)
    assert isinstance(caught.value, Exception)
    return caught.value


@pytest.fixture
def server() -> Iterator[GeminiTestServer]:
    with GeminiTestServer() as srv:
        yield srv


@pytest.fixture(params=PATHS)
def path(request: pytest.FixtureRequest) -> str:
    return str(request.param)
