"""Fixtures for protocol tests: the real google-genai SDK over HTTP to the loopback server.

- `server`: a running `GeminiTestServer`.
- `make_llm` / `llm`: `ChatGeminiCodeExecution` pointed at it (fast retries).
- `async_transport`: parametrizes an async test over google-genai's async HTTP paths:
  aiohttp (the SDK's choice whenever aiohttp is importable), httpx2 (its default httpx
  flavour) and classic httpx. httpx is forced the way a user without aiohttp gets it: the
  SDK's module flag `has_aiohttp` is set to False (and `GOOGLE_GENAI_HTTP_CLIENT=httpx`
  picks classic httpx). Request behaviour itself is never mocked; after the test we check
  that the chosen path really carried the requests.
- `mode`: one behaviour through invoke, stream, ainvoke and astream (async modes on each
  async transport); `ask` runs a call in that mode and returns the message to assert on.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from google.genai import _api_client
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage

from langchain_gemini_codeexec import ChatGeminiCodeExecution
from langchain_gemini_codeexec.testing import GeminiTestServer

ASYNC_TRANSPORTS = ("aiohttp", "httpx2", "httpx")
MODES = (
    "invoke",
    "stream",
    *(f"ainvoke-{t}" for t in ASYNC_TRANSPORTS),
    *(f"astream-{t}" for t in ASYNC_TRANSPORTS),
)
API_KEY = "test-key-not-a-secret-0123456789"


def force_transport(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make clients built from now on use `name` for their async requests."""
    if name == "aiohttp":
        monkeypatch.setattr(_api_client, "has_aiohttp", True)
        monkeypatch.delenv("GOOGLE_GENAI_HTTP_CLIENT", raising=False)
    else:
        monkeypatch.setattr(_api_client, "has_aiohttp", False)
        monkeypatch.setenv("GOOGLE_GENAI_HTTP_CLIENT", name)


def transport_in_use(llm: ChatGeminiCodeExecution) -> str:
    """Which async path the model's client is configured for (aiohttp / httpx2 / httpx)."""
    api = llm.genai_client._api_client
    if api._use_aiohttp():
        return "aiohttp"
    for cls in type(api._async_httpx_client).__mro__:
        package = cls.__module__.split(".")[0]
        if package in ("httpx", "httpx2"):
            return package
    raise AssertionError(f"unknown async client {api._async_httpx_client!r}")


def async_path_used(llm: ChatGeminiCodeExecution) -> bool:
    """True once an async request went through the configured path."""
    api = llm.genai_client._api_client
    if api._use_aiohttp():
        return bool(api._aiohttp_sessions)
    return bool(getattr(api._async_httpx_client, "_loop_clients", None))


async def close_async(llm: ChatGeminiCodeExecution) -> None:
    if llm._client is not None:
        await llm._client.aio.aclose()


@pytest.fixture(autouse=True, scope="session")
def _reuse_ssl_contexts() -> Iterator[None]:
    """google-genai builds three SSL contexts for every client, loading the CA bundle each
    time (~40 ms apiece, most of a test's time). The loopback server speaks plain HTTP,
    so no request uses them: each kind is built once per session. Requests are untouched.
    """
    original = ssl.create_default_context
    built: dict[str, ssl.SSLContext] = {}

    def reuse(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        key = repr((args, sorted(kwargs.items())))
        if key not in built:
            built[key] = original(*args, **kwargs)
        return built[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ssl, "create_default_context", reuse)
        yield


@pytest.fixture
def server() -> Iterator[GeminiTestServer]:
    with GeminiTestServer() as srv:
        yield srv


@pytest.fixture
def make_llm(
    server: GeminiTestServer,
) -> Iterator[Callable[..., ChatGeminiCodeExecution]]:
    """Build models on the loopback server; they are closed after the test."""
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


@pytest.fixture(params=ASYNC_TRANSPORTS)
async def async_transport(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[str]:
    """The async HTTP path under test; models built during the test use it."""
    force_transport(monkeypatch, request.param)
    yield request.param


@pytest.fixture
async def allm(
    async_transport: str, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> AsyncIterator[ChatGeminiCodeExecution]:
    """A model whose async calls go through `async_transport` (checked before and after)."""
    model = make_llm()
    assert transport_in_use(model) == async_transport
    yield model
    assert async_path_used(model), f"no async request went through {async_transport}"
    await close_async(model)


# --------------------------------------------------------------------- helpers


def strip_index(content: Any) -> Any:
    if isinstance(content, str):
        return content
    return [
        {k: v for k, v in b.items() if k != "index"} if isinstance(b, dict) else b for b in content
    ]


def aggregate(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    assert chunks, "the stream yielded nothing"
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


def as_message(total: AIMessageChunk) -> AIMessage:
    """The aggregated stream as the AIMessage invoke would give (index keys aside)."""
    return AIMessage(
        content=strip_index(total.content),
        response_metadata=dict(total.response_metadata),
        usage_metadata=total.usage_metadata,
        tool_calls=total.tool_calls,
        id=total.id,
    )


def assert_plain_json(message: BaseMessage) -> None:
    """Everything a message carries survives json.dumps/loads unchanged."""
    for name in ("content", "response_metadata", "additional_kwargs", "usage_metadata"):
        value = getattr(message, name, None)
        if value is None:
            continue
        value = dict(value) if name == "usage_metadata" else value
        assert json.loads(json.dumps(value)) == value, name
        _check_types(value, name)


def _check_types(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            assert type(key) is str, f"{where}: key {key!r}"
            _check_types(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_types(item, f"{where}[{i}]")
    else:
        assert value is None or type(value) in (str, int, float, bool), (
            f"{where}: {type(value).__name__} is not plain JSON"
        )


def check_message(message: AIMessage) -> None:
    """Contract invariants of every answer."""
    assert_plain_json(message)
    assert message.response_metadata["output_version"] == "v1"
    assert message.response_metadata["model_provider"] == "google_genai"
    assert message.content_blocks == message.content


@dataclass
class Answer:
    """What one call returned: the message (aggregated when streamed) and the chunks."""

    message: AIMessage
    chunks: list[AIMessageChunk] = field(default_factory=list)
    streamed: bool = False


@dataclass
class Caller:
    """Runs a call in one mode (sync/async, invoke/stream) and checks what it can."""

    mode: str
    monkeypatch: pytest.MonkeyPatch
    make_llm: Callable[..., ChatGeminiCodeExecution]
    built: list[ChatGeminiCodeExecution] = field(default_factory=list)

    @property
    def method(self) -> str:
        return self.mode.split("-")[0]

    @property
    def transport(self) -> str | None:
        return self.mode.split("-")[1] if "-" in self.mode else None

    @property
    def streamed(self) -> bool:
        return "stream" in self.method

    def model(self, **kwargs: Any) -> ChatGeminiCodeExecution:
        if self.transport is not None:
            force_transport(self.monkeypatch, self.transport)
        llm = self.make_llm(**kwargs)
        if self.transport is not None:
            assert transport_in_use(llm) == self.transport
        self.built.append(llm)
        return llm

    async def __call__(
        self, llm: ChatGeminiCodeExecution, prompt: Any = "question", **kwargs: Any
    ) -> Answer:
        run = getattr(self, f"_{self.method}")
        answer: Answer = await run(llm, prompt, kwargs)
        if self.transport is not None:
            assert async_path_used(llm)
        check_message(answer.message)
        return answer

    async def _invoke(self, llm: Any, prompt: Any, kwargs: dict[str, Any]) -> Answer:
        return Answer(llm.invoke(prompt, **kwargs))

    async def _ainvoke(self, llm: Any, prompt: Any, kwargs: dict[str, Any]) -> Answer:
        return Answer(await llm.ainvoke(prompt, **kwargs))

    async def _stream(self, llm: Any, prompt: Any, kwargs: dict[str, Any]) -> Answer:
        chunks = list(llm.stream(prompt, **kwargs))
        return Answer(as_message(aggregate(chunks)), chunks, True)

    async def _astream(self, llm: Any, prompt: Any, kwargs: dict[str, Any]) -> Answer:
        chunks = [c async for c in llm.astream(prompt, **kwargs)]
        return Answer(as_message(aggregate(chunks)), chunks, True)

    def raises(self, llm: Any, prompt: Any = "question", **kwargs: Any) -> Awaitable[Answer]:
        """The call itself, for `pytest.raises` (no invariant checks)."""
        return getattr(self, f"_{self.method}")(llm, prompt, kwargs)  # type: ignore[no-any-return]


@pytest.fixture(params=MODES)
async def ask(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    make_llm: Callable[..., ChatGeminiCodeExecution],
) -> AsyncIterator[Caller]:
    """Call in every mode: `llm = ask.model(...)`, then `answer = await ask(llm, prompt)`."""
    caller = Caller(request.param, monkeypatch, make_llm)
    yield caller
    for llm in caller.built:
        await close_async(llm)


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
