"""Fixtures for Batch API tests: the real google-genai SDK over HTTP to the loopback server.

- `server`: a running `GeminiTestServer` (its `server.batch` speaks the Batch API).
- `make_llm`: `ChatGeminiCodeExecution` on that server, fast retries, closed afterwards.
- `sync_client`: runs a sync test on each of google-genai's sync HTTP libraries (httpx2,
  its default, and classic httpx via `GOOGLE_GENAI_HTTP_CLIENT`).
- `async_transport`: runs an async test on aiohttp, httpx2 and httpx, the way the protocol
  tests force them (the SDK's own `has_aiohttp` flag / environment variable).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from google.genai import _api_client

from langchain_gemini_codeexec import ChatGeminiCodeExecution
from langchain_gemini_codeexec.testing import GeminiTestServer

API_KEY = "batch-test-key-not-a-secret-0123456789"


@pytest.fixture
def server() -> Iterator[GeminiTestServer]:
    with GeminiTestServer() as srv:
        yield srv


@pytest.fixture
def make_llm(server: GeminiTestServer) -> Iterator[Callable[..., ChatGeminiCodeExecution]]:
    built: list[ChatGeminiCodeExecution] = []

    def make(**kwargs: Any) -> ChatGeminiCodeExecution:
        settings: dict[str, Any] = {
            "api_key": API_KEY,
            "base_url": server.base_url,
            "retry_initial_delay": 0.0,
            "retry_max_delay": 0.05,
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
def llm(make_llm: Callable[..., ChatGeminiCodeExecution]) -> ChatGeminiCodeExecution:
    return make_llm()


@pytest.fixture(params=("httpx2", "httpx"))
def sync_client(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("GOOGLE_GENAI_HTTP_CLIENT", request.param)
    return str(request.param)


@pytest.fixture(params=("aiohttp", "httpx2", "httpx"))
async def async_transport(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[str]:
    if request.param == "aiohttp":
        monkeypatch.setattr(_api_client, "has_aiohttp", True)
        monkeypatch.delenv("GOOGLE_GENAI_HTTP_CLIENT", raising=False)
    else:
        monkeypatch.setattr(_api_client, "has_aiohttp", False)
        monkeypatch.setenv("GOOGLE_GENAI_HTTP_CLIENT", request.param)
    yield request.param


def async_path(llm: ChatGeminiCodeExecution) -> str:
    """Which async HTTP library the model's client uses."""
    api = llm.genai_client._api_client
    if api._use_aiohttp():
        return "aiohttp"
    for cls in type(api._async_httpx_client).__mro__:
        package = cls.__module__.split(".")[0]
        if package in ("httpx", "httpx2"):
            return package
    raise AssertionError("unknown async client")


def sync_path(llm: ChatGeminiCodeExecution) -> str:
    for cls in type(llm.genai_client._api_client._httpx_client).__mro__:
        package = cls.__module__.split(".")[0]
        if package in ("httpx", "httpx2"):
            return package
    raise AssertionError("unknown sync client")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """google-genai subclasses aiohttp.ClientSession, which aiohttp warns about: not ours."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(
                pytest.mark.filterwarnings(
                    "ignore:Inheritance class AiohttpClientSession:DeprecationWarning"
                )
            )
