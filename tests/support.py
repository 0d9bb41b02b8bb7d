"""Helpers shared by the test folders: constants, HTTP-path selection, message helpers.

Fixtures live in `tests/conftest.py` (they use these helpers); tests import helpers from
here, never from a conftest. Every helper drives the real google-genai SDK over HTTP to
the loopback `GeminiTestServer`; none mocks the SDK's request behaviour.

The HTTP paths google-genai has: sync calls on httpx2 (its default) or httpx; async calls
on aiohttp (its choice whenever aiohttp is importable), httpx2 or httpx.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import runpy
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from google import genai
from google.genai import types
from hypothesis import HealthCheck, given, settings
from hypothesis.strategies import SearchStrategy
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.runnables import Runnable

from langchain_gemini_codeexec import ChatGeminiCodeExecution, GeminiCodeExecutionTool
from langchain_gemini_codeexec._transport import sdk as _sdk
from langchain_gemini_codeexec._transport.config import build_client
from langchain_gemini_codeexec._transport.retry import RetryPolicy
from langchain_gemini_codeexec._transport.transport import Transport
from tests.modes import ASYNC_PATHS as ASYNC_PATHS
from tests.modes import ASYNC_TRANSPORTS as ASYNC_TRANSPORTS
from tests.modes import CALL_MODES as CALL_MODES
from tests.modes import CONTRACT_MODES as CONTRACT_MODES
from tests.modes import EXAMPLE_MODES as EXAMPLE_MODES
from tests.modes import PATHS as PATHS
from tests.modes import SYNC_PATHS as SYNC_PATHS
from tests.modes import SYNC_TRANSPORTS as SYNC_TRANSPORTS
from tests.modes import TRANSPORT_MODES as TRANSPORT_MODES

API_KEY = "test-key-not-a-secret-0123456789"
# A key-shaped secret that must never show up in anything printed, logged or serialized.
SECRET_API_KEY = "AIzaSyTEST-reliability-5ecret-K3y-0000"
GEMINI_3 = "gemini-3-flash-preview"
GEMINI_25 = "gemini-2.5-flash"

MakeLLM = Callable[..., ChatGeminiCodeExecution]
Test = Callable[..., None]
MakeTool = Callable[..., GeminiCodeExecutionTool]

# --- HTTP paths --------------------------------------------------------------------------

# Retries in a millisecond or so: only tests of the backoff itself set longer delays.
FAST_RETRY = {"retry_initial_delay": 0.001, "retry_max_delay": 0.005}


def offline_transport() -> Transport:
    """A transport for driving flows whose steps never reach its client (no server)."""
    client = build_client(
        api_key="test-key",
        vertexai=False,
        project=None,
        location=None,
        credentials=None,
        base_url="http://127.0.0.1:9",
        api_version=None,
    )
    return Transport(client, RetryPolicy(max_retries=0))


def force_transport(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make clients built from now on use `name` for their async requests.

    httpx is forced the way a user without aiohttp gets it: the SDK's module flag
    `has_aiohttp` is False (and `GOOGLE_GENAI_HTTP_CLIENT=httpx` picks classic httpx).
    """
    _sdk.set_aiohttp_available(monkeypatch, name == "aiohttp")
    if name == "aiohttp":
        monkeypatch.delenv("GOOGLE_GENAI_HTTP_CLIENT", raising=False)
    else:
        monkeypatch.setenv("GOOGLE_GENAI_HTTP_CLIENT", name)


def transport_in_use(llm: ChatGeminiCodeExecution) -> str:
    """Which async path the model's client is configured for (aiohttp / httpx2 / httpx)."""
    return _sdk.http_library(llm.genai_client, is_async=True)


def sync_transport_in_use(llm: ChatGeminiCodeExecution) -> str:
    """Which sync HTTP library the model's client uses (httpx2 / httpx)."""
    return _sdk.http_library(llm.genai_client, is_async=False)


def async_path_used(llm: ChatGeminiCodeExecution) -> bool:
    """True once an async request went through the configured path."""
    return _sdk.async_path_used(llm.genai_client)


def close_model(llm: ChatGeminiCodeExecution) -> None:
    """Close the model's sync HTTP client (if it built one)."""
    llm.close()


async def aclose_model(llm: ChatGeminiCodeExecution) -> None:
    """Close the model's async HTTP sessions, on the loop that opened them."""
    await llm.aclose()


def path_llm(base_url: str, path: str = "sync-httpx2", **kwargs: Any) -> ChatGeminiCodeExecution:
    """A model on one of `PATHS`; the default paths are built the way a user builds them,
    the others by giving the SDK an httpx or httpx2 transport."""
    settings: dict[str, Any] = {"api_key": SECRET_API_KEY, **FAST_RETRY, **kwargs}
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
    options = types.HttpOptions(base_url=base_url, api_version="v1beta", **client_args)
    client = genai.Client(api_key=SECRET_API_KEY, http_options=options)
    return ChatGeminiCodeExecution(client=client, **settings)


def check_path(llm: ChatGeminiCodeExecution, path: str) -> None:
    """The model really runs on `path` (so a parametrized test cannot test the same twice)."""
    client = llm.genai_client
    if path.startswith("async"):
        assert _sdk.uses_aiohttp(client) == (path == "async-aiohttp")
        if path != "async-aiohttp":
            inner = _sdk.http_options(client).async_client_args["transport"]  # type: ignore[index]
            assert type(inner).__module__.split(".")[0] == path.split("-")[1]
    else:
        assert _sdk.http_library(client, is_async=False) == path.split("-")[1]


def invoke(llm: ChatGeminiCodeExecution, path: str, prompt: Any = "hi", **kw: Any) -> AIMessage:
    """`invoke` on a sync path, `ainvoke` (in a fresh event loop) on an async one."""
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


# --- messages ----------------------------------------------------------------------------


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
    """An added-up stream as the AIMessage `invoke` gives (stream `index` keys dropped)."""
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


def tool_call(
    tool: GeminiCodeExecutionTool, call_id: str = "call-1", **args: Any
) -> dict[str, Any]:
    """A LangChain tool call of `tool` (what an agent sends)."""
    return {"type": "tool_call", "id": call_id, "name": tool.name, "args": args}


# --- one call in a mode ------------------------------------------------------------------


@dataclass
class Answer:
    """What one call returned: the message (aggregated when streamed) and the chunks."""

    message: AIMessage
    chunks: list[AIMessageChunk] = field(default_factory=list)
    streamed: bool = False


@dataclass
class Caller:
    """Runs a call in one of `TRANSPORT_MODES` and checks what it can (the `ask` fixture)."""

    mode: str
    monkeypatch: pytest.MonkeyPatch
    make_llm: MakeLLM
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


def _added_dicts(outputs: list[dict[str, Any]]) -> dict[str, Any]:
    """`include_raw` streams yield pieces of one dict: messages add up, the rest is replaced."""
    total: dict[str, Any] = {}
    for piece in outputs:
        for key, value in piece.items():
            if isinstance(value, AIMessageChunk) and isinstance(total.get(key), AIMessageChunk):
                total[key] = total[key] + value
            else:
                total[key] = value
    return {k: as_message(v) if isinstance(v, AIMessageChunk) else v for k, v in total.items()}


async def call_in_mode(runnable: Runnable[Any, Any], value: Any, mode: str, **kwargs: Any) -> Any:
    """`runnable` called in one of `CALL_MODES`; streamed outputs are added up (messages)
    or the last one kept."""
    if mode == "invoke":
        return runnable.invoke(value, **kwargs)
    if mode == "ainvoke":
        return await runnable.ainvoke(value, **kwargs)
    outputs = (
        list(runnable.stream(value, **kwargs))
        if mode == "stream"
        else [o async for o in runnable.astream(value, **kwargs)]
    )
    assert outputs, "the stream yielded nothing"
    if isinstance(outputs[0], dict) and {"raw", "computation"} & set(outputs[0]):
        return _added_dicts(outputs)
    if not isinstance(outputs[0], AIMessageChunk):
        return outputs[-1]
    total = aggregate(outputs)
    assert total.chunk_position == "last"
    return as_message(total)


# --- examples ----------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
CREDENTIALS = ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI")


@dataclass
class Ran:
    """What a run of an example printed, and its exit status."""

    returncode: int
    stdout: str
    stderr: str


def run_example(
    mode: str, script: Path, cwd: Path, *args: str, env: dict[str, str] | None = None
) -> Ran:
    """Run `script` offline (no credentials; `env` added) with `args`, from `cwd`.

    In process: `runpy` with `__name__ == "__main__"`, stdout, stderr and log records
    captured; cwd, argv, environment and logger levels are restored afterwards.
    """
    if mode == "subprocess":
        full_env = {k: v for k, v in os.environ.items() if k not in CREDENTIALS}
        done = subprocess.run(
            [sys.executable, str(script), *args],
            cwd=cwd,
            env={**full_env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=180,
        )
        return Ran(done.returncode, done.stdout, done.stderr)
    assert mode == "in-process", mode
    out, err = io.StringIO(), io.StringIO()
    handler = logging.StreamHandler(err)
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    code: Any = 0
    with pytest.MonkeyPatch.context() as patch:
        for name in CREDENTIALS:
            patch.delenv(name, raising=False)
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        patch.chdir(cwd)
        patch.setattr(sys, "argv", [str(script), *args])
        root.addHandler(handler)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                runpy.run_path(str(script), run_name="__main__")
        except SystemExit as stop:
            code = stop.code
        finally:
            root.removeHandler(handler)
            for name in list(logging.root.manager.loggerDict):
                logging.getLogger(name).setLevel(levels.get(name, logging.NOTSET))
    returncode = code if isinstance(code, int) else (0 if code is None else 1)
    return Ran(returncode, out.getvalue(), err.getvalue())


# --- property tests ----------------------------------------------------------------------


def property_test(full: int, *strategies: SearchStrategy[Any]) -> Callable[[Test], Test]:
    """`@given(*strategies)` as two tests: `[fast]` tries a tenth of `full` examples (at
    least 10) in the fast suite, `[full]` (slow set) tries all `full` of them."""
    budgets = (
        pytest.param(max(10, full // 10), id="fast"),
        pytest.param(full, id="full", marks=pytest.mark.slow),
    )

    def decorate(body: Test) -> Test:
        @pytest.mark.parametrize("examples", budgets)
        def test(examples: int) -> None:
            # A fresh @given per run: hypothesis allows one @settings per test function.
            check = settings(
                max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow]
            )(given(*strategies)(body))
            check()

        test.__name__, test.__qualname__, test.__doc__ = (
            body.__name__,
            body.__qualname__,
            body.__doc__,
        )
        test.__module__ = body.__module__
        return test

    return decorate
