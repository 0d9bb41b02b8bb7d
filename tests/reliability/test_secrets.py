"""The API key never appears in repr, str, dumpd/dumps, LangSmith params, callbacks, DEBUG
log records of every library on the request path, or error messages and tracebacks."""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.load import dumpd, dumps
from langchain_core.messages import BaseMessage
from pydantic import ValidationError

from langchain_gemini_codeexec import ChatGeminiCodeExecution, GeminiCodeExecutionTool
from langchain_gemini_codeexec.errors import GeminiCodeExecutionError
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    Reply,
    error_body,
    response,
    stream_chunks,
    text,
)
from tests.support import PATHS, SECRET_API_KEY, path_llm

# Every logger that can see a request: ours, the SDK's, and each HTTP stack's.
LOGGERS = (
    "",
    "langchain_gemini_codeexec",
    "google_genai",
    "httpx",
    "httpcore",
    "httpx2",
    "httpcore2",
    "aiohttp",
    "asyncio",
    "urllib3",
    "google.auth",
)
ANSWER = response(text("fine"), response_id="r")


class _Everything(logging.Handler):
    """Keeps every record, formatted the way a handler would print it, plus its fields."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def dump(self) -> str:
        out = []
        for record in self.records:
            out.append(self.format(record))
            out.append(repr(record.__dict__))
        return "\n".join(out)


@pytest.fixture
def debug_logs() -> Iterator[_Everything]:
    handler = _Everything()
    saved = {}
    for name in LOGGERS:
        logger = logging.getLogger(name)
        saved[name] = logger.level
        logger.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


class _Capture(BaseCallbackHandler):
    """What LangChain hands to tracers (LangSmith included) about a run."""

    def __init__(self) -> None:
        self.seen: list[Any] = []

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[BaseMessage]], **kwargs: Any
    ) -> None:
        self.seen.append((serialized, kwargs))

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.seen.append(response)

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        self.seen.append(repr(error))


def _assert_hidden(*things: Any) -> None:
    for thing in things:
        shown = thing if isinstance(thing, str) else repr(thing)
        assert SECRET_API_KEY not in shown
        assert SECRET_API_KEY[8:24] not in shown  # not even a recognisable part of it


async def _ascenario(llm: ChatGeminiCodeExecution) -> tuple[BaseException, BaseException]:
    """One event loop for the whole sequence (an httpx transport is bound to its loop)."""
    assert (await llm.ainvoke("hi")).text == "fine"
    assert [c async for c in llm.astream("hi")]
    assert (await llm.ainvoke("hi")).text == "fine"
    with pytest.raises(GeminiCodeExecutionError) as failure:
        await llm.ainvoke("hi")
    with pytest.raises(GeminiCodeExecutionError) as broken:
        async for _ in llm.astream("hi"):
            pass
    return failure.value, broken.value


def _scenario(llm: ChatGeminiCodeExecution, path: str) -> tuple[BaseException, BaseException]:
    """good answer, 503 then a stream, reset then an answer, a 401, an error mid-stream."""
    if path.startswith("async"):
        return asyncio.run(_ascenario(llm))
    assert llm.invoke("hi").text == "fine"
    assert list(llm.stream("hi"))
    assert llm.invoke("hi").text == "fine"
    with pytest.raises(GeminiCodeExecutionError) as failure:
        llm.invoke("hi")
    with pytest.raises(GeminiCodeExecutionError) as broken:
        for _ in llm.stream("hi"):
            pass
    return failure.value, broken.value


def _all_text(exc: BaseException) -> str:
    """Everything a traceback of `exc` prints, chained causes included."""
    return "".join(traceback.format_exception(exc))


def test_repr_str_and_dumps_hide_the_key(server: GeminiTestServer) -> None:
    llm = path_llm(server.base_url)
    serialized = dumpd(llm)
    assert serialized["kwargs"]["api_key"] == {
        "lc": 1,
        "type": "secret",
        "id": ["GOOGLE_API_KEY"],
    }
    _assert_hidden(
        repr(llm),
        str(llm),
        serialized,
        dumps(llm),
        dumps(llm, pretty=True),
        llm.model_dump(),
        llm.model_dump_json(),
        llm._identifying_params,
        llm._get_ls_params(),
        llm._get_invocation_params(),
    )
    assert llm.api_key is not None and llm.api_key.get_secret_value() == SECRET_API_KEY


def test_env_key_is_hidden_too(server: GeminiTestServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", SECRET_API_KEY)
    llm = ChatGeminiCodeExecution(base_url=server.base_url)
    _assert_hidden(repr(llm), dumps(llm), llm.model_dump_json())


def test_tool_repr_and_dumps_hide_the_key(server: GeminiTestServer) -> None:
    tool = GeminiCodeExecutionTool(llm=path_llm(server.base_url))
    _assert_hidden(
        repr(tool), str(tool), tool.model_dump(), tool.tool_call_schema.model_json_schema()
    )


@pytest.mark.parametrize("path", PATHS)
def test_callbacks_and_debug_logs_never_see_the_key(
    server: GeminiTestServer, debug_logs: _Everything, path: str
) -> None:
    """A good call, a retried 503, a reset connection and a 401, invoke and stream, on
    every HTTP path, with every logger on the request path at DEBUG."""
    capture = _Capture()
    chunks = stream_chunks(ANSWER)
    server.enqueue(
        ANSWER,
        Reply.error(503, "busy"),
        Reply.stream(chunks),
        Reply.reset(),
        ANSWER,
        Reply.error(401, "API key not valid. Please pass a valid API key.", "UNAUTHENTICATED"),
        Reply.stream(chunks[:1], error_after=error_body(500, "mid-stream")),
    )
    llm = path_llm(server.base_url, path, max_retries=1, callbacks=[capture])
    failure, broken = _scenario(llm, path)
    assert server.requests[0].headers["x-goog-api-key"] == SECRET_API_KEY  # it was really sent
    assert len(server.model_requests) == 7
    assert any(r.name.startswith(("httpcore", "aiohttp")) for r in debug_logs.records) or (
        path == "async-aiohttp"
    )
    assert any(getattr(r, "gemini_retry", None) for r in debug_logs.records)
    _assert_hidden(debug_logs.dump(), capture.seen, _all_text(failure), _all_text(broken))


def test_error_messages_of_every_failure_hide_the_key(server: GeminiTestServer) -> None:
    server.enqueue(
        Reply.error(400, "API key not valid.", "INVALID_ARGUMENT"),
        Reply.raw(200, b'{"broken', {"Content-Type": "application/json"}),
        Reply.hang(10),
    )
    llm = path_llm(server.base_url, max_retries=0, timeout=0.2)
    for _ in range(3):
        with pytest.raises(GeminiCodeExecutionError) as caught:
            llm.invoke("hi")
        error = caught.value
        _assert_hidden(str(error), repr(error), error.args, _all_text(error))


@pytest.mark.parametrize("suffix", ["\n", "\r\nX-Evil: 1", "é", " tail", "\x00"])
def test_a_malformed_key_is_refused_without_being_echoed(
    server: GeminiTestServer, suffix: str
) -> None:
    """httpx quotes an illegal header value in its error; the key must not get that far."""
    with pytest.raises(ValidationError) as caught:
        ChatGeminiCodeExecution(api_key=SECRET_API_KEY + suffix, base_url=server.base_url)
    # What is printed hides it (`errors()` hands the caller back their own input).
    _assert_hidden(str(caught.value), repr(caught.value))
    assert "api_key" in str(caught.value)
    assert server.requests == []


def test_validation_errors_do_not_echo_the_input(server: GeminiTestServer) -> None:
    """Pydantic prints the whole input of a failed model validator, key included."""
    for bad in ({"retry_initial_delay": 5, "retry_max_delay": 1}, {"timeout": -1}, {"nope": 1}):
        with pytest.raises(ValidationError) as caught:
            ChatGeminiCodeExecution(api_key=SECRET_API_KEY, base_url=server.base_url, **bad)
        _assert_hidden(str(caught.value), repr(caught.value))


def test_bad_input_errors_hide_the_key(server: GeminiTestServer) -> None:
    llm = path_llm(server.base_url)
    with pytest.raises(GeminiCodeExecutionError) as caught:
        llm.invoke([{"role": "user", "content": [{"type": "hologram"}]}])
    _assert_hidden(_all_text(caught.value))
