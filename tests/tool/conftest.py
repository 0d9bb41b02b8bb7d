"""Fixtures for the tool's tests: the real google-genai SDK over HTTP to the loopback server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from google.genai import _api_client

from langchain_gemini_codeexec import ChatGeminiCodeExecution, GeminiCodeExecutionTool
from langchain_gemini_codeexec.testing import GeminiTestServer

API_KEY = "test-key-not-a-secret-0123456789"
ASYNC_TRANSPORTS = ("aiohttp", "httpx")


@pytest.fixture
def server() -> Iterator[GeminiTestServer]:
    with GeminiTestServer() as srv:
        yield srv


@pytest.fixture
def make_llm(server: GeminiTestServer) -> Iterator[Callable[..., ChatGeminiCodeExecution]]:
    """Models on the loopback server (no retry waits); closed after the test."""
    built: list[ChatGeminiCodeExecution] = []

    def make(**kwargs: Any) -> ChatGeminiCodeExecution:
        settings: dict[str, Any] = {
            "api_key": API_KEY,
            "base_url": server.base_url,
            "retry_initial_delay": 0.0,
            "retry_max_delay": 0.0,
            "max_retries": 0,
        }
        settings.update(kwargs)
        llm = ChatGeminiCodeExecution(**settings)
        built.append(llm)
        return llm

    yield make
    for llm in built:
        if llm._client is not None:
            llm._client.close()


@pytest.fixture
def make_tool(
    make_llm: Callable[..., ChatGeminiCodeExecution],
) -> Callable[..., GeminiCodeExecutionTool]:
    def make(llm: ChatGeminiCodeExecution | None = None, **kwargs: Any) -> GeminiCodeExecutionTool:
        return GeminiCodeExecutionTool(llm=llm or make_llm(), **kwargs)

    return make


@pytest.fixture(params=ASYNC_TRANSPORTS)
def async_transport(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Clients built during the test send async requests through aiohttp or httpx."""
    if request.param == "aiohttp":
        monkeypatch.setattr(_api_client, "has_aiohttp", True)
        monkeypatch.delenv("GOOGLE_GENAI_HTTP_CLIENT", raising=False)
    else:
        monkeypatch.setattr(_api_client, "has_aiohttp", False)
        monkeypatch.setenv("GOOGLE_GENAI_HTTP_CLIENT", request.param)
    return str(request.param)


@pytest.fixture
async def close_async(
    make_llm: Callable[..., ChatGeminiCodeExecution],
) -> AsyncIterator[list[ChatGeminiCodeExecution]]:
    """Models listed here get their async sessions closed on the test's own loop."""
    models: list[ChatGeminiCodeExecution] = []
    yield models
    for llm in models:
        if llm._client is not None:
            await llm._client.aio.aclose()


def tool_call(
    tool: GeminiCodeExecutionTool, call_id: str = "call-1", **args: Any
) -> dict[str, Any]:
    return {"type": "tool_call", "id": call_id, "name": tool.name, "args": args}
