"""The transport's promises, each on every HTTP path, invoke and stream (issue 9).

- The key goes only to the configured endpoint: a redirect is never followed, it is a
  typed error naming the target's origin (and a second server, the "other origin",
  receives nothing).
- `timeout` bounds each attempt as a whole, even against a server trickling one byte at
  a time (body, or headers too), and huge timeouts do not overflow.
- A stream that ends early releases its connection at once (counted at the server with
  the garbage collector off).
- Every failure is typed; errors are LangChain's standard ones as well as ours.
- Copies of a model are independent; `max_retries` means the same with a client you built.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from google import genai
from google.genai import types
from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelTimeoutError,
)

from langchain_gemini_codeexec import ChatGeminiCodeExecution, GeminiCodeExecutionTool
from langchain_gemini_codeexec._core.checks import MAX_TIMEOUT
from langchain_gemini_codeexec.errors import (
    GeminiAPIError,
    GeminiCodeExecutionError,
    GeminiRedirectError,
    GeminiTimeoutError,
)
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    Reply,
    error_body,
    response,
    stream_chunks,
    text,
)
from tests.support import ASYNC_PATHS, PATHS, check_path, invoke, stream
from tests.support import SECRET_API_KEY as API_KEY
from tests.support import path_llm as make_llm

ANSWER = response(text("The sum is 45."))
MODES = ("invoke", "stream")


def call(llm: ChatGeminiCodeExecution, path: str, mode: str) -> Exception | None:
    """Run one call; the error it ended with (None if it succeeded)."""
    if mode == "stream":
        return stream(llm, path)[1]
    try:
        invoke(llm, path)
    except Exception as exc:
        return exc
    return None


@pytest.fixture
def other() -> Iterator[GeminiTestServer]:
    """A second server: the "other origin" a redirect points to."""
    with GeminiTestServer() as srv:
        yield srv


# --- 1. redirects ------------------------------------------------------------------------


@pytest.mark.parametrize("code", [301, 302, 307, 308])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", PATHS)
def test_redirect_is_not_followed_and_names_the_origin(
    server: GeminiTestServer, other: GeminiTestServer, path: str, mode: str, code: int
) -> None:
    target = f"{other.base_url}/v1beta/models/gemini-2.5-flash:generateContent?steal=1"
    server.enqueue(Reply.raw(code, b"", {"Location": target}))
    llm = make_llm(server.base_url, path, max_retries=2)
    check_path(llm, path)
    error = call(llm, path, mode)
    assert isinstance(error, GeminiRedirectError), repr(error)
    assert isinstance(error, GeminiAPIError) and error.code == code
    assert error.location_origin == other.base_url
    assert other.base_url in str(error) and "steal" not in str(error)
    assert API_KEY not in str(error) and API_KEY not in repr(error)
    assert len(server.model_requests) == 1  # a redirect is not retried either
    assert other.connections_accepted == 0 and other.requests == []


@pytest.mark.parametrize("path", ["sync-httpx2", "async-aiohttp"])
def test_redirect_of_a_files_api_upload_is_not_followed(
    server: GeminiTestServer, other: GeminiTestServer, path: str
) -> None:
    """The tool's upload goes through the same client: no key to another origin there."""
    llm = make_llm(server.base_url, path, max_retries=0)
    tool = GeminiCodeExecutionTool(llm=llm, files={"big.csv": b"a,b\n" * 300}, inline_max_bytes=16)
    original = server._files  # the Files API start answers with a redirect

    def files(req: Any, groups: Any) -> Reply:
        if req.action == "upload":
            return Reply.raw(307, b"", {"Location": f"{other.base_url}/upload/v1beta/files"})
        return original(req, groups)

    server._files = files  # type: ignore[method-assign]
    args = {"task": "sum column a", "files": ["big.csv"]}
    tool.handle_tool_error = True
    content = tool.invoke(args) if path.startswith("sync") else asyncio.run(tool.ainvoke(args))
    assert "redirect" in str(content) and other.base_url in str(content)
    assert API_KEY not in str(content)
    assert other.connections_accepted == 0


# --- 2. timeouts -------------------------------------------------------------------------

TRICKLED = json.dumps(response(text("x" * 200))).encode()  # ~300 bytes
# Where every attempt times out, the timeout is as short as a loopback request allows (no
# good answer has to fit in it); the trickle stays a third of it, so that every socket read
# (bounded by the same timeout on sync paths) gets its byte in time and only the deadline on
# the whole attempt can stop the answer, which would otherwise go on for ~10 s.
TIMEOUT = 0.1
TRICKLE = TIMEOUT / 3
MARGIN = 0.6  # connecting, thread hand-off and a loaded machine
HOPELESS = 0.05  # the server never answers and no request has to be counted: just the bound


@pytest.mark.parametrize("head_too", [False, True], ids=["body", "head-and-body"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", PATHS)
def test_timeout_bounds_a_trickled_answer(
    server: GeminiTestServer, path: str, mode: str, head_too: bool
) -> None:
    """No warm-up call (a good answer need not fit in the short TIMEOUT): the client is
    built by `check_path` before the clock starts; connecting is within MARGIN."""
    llm = make_llm(server.base_url, path, timeout=TIMEOUT, max_retries=0)
    check_path(llm, path)
    server.enqueue(Reply.trickle(TRICKLED, TRICKLE, head_too=head_too))
    if path.startswith("async"):

        async def timed() -> tuple[float, Exception | None]:
            start = time.perf_counter()
            try:
                if mode == "invoke":
                    await llm.ainvoke("hi")
                else:
                    async for _ in llm.astream("hi"):
                        pass
            except Exception as exc:
                return time.perf_counter() - start, exc
            return time.perf_counter() - start, None

        elapsed, error = asyncio.run(timed())
    else:
        start = time.perf_counter()
        error = call(llm, path, mode)
        elapsed = time.perf_counter() - start
    assert isinstance(error, GeminiTimeoutError), repr(error)
    assert isinstance(error, ModelTimeoutError) and isinstance(error, TimeoutError)
    assert TIMEOUT * 0.9 <= elapsed <= TIMEOUT + MARGIN, elapsed
    assert len(TRICKLED) * TRICKLE > 10 * (TIMEOUT + MARGIN)  # the trickle alone would not end


def _requests(server: GeminiTestServer, expected: int) -> int:
    """The model requests the server got; a request of an attempt that timed out may land
    a little after the caller gave up."""
    deadline = time.monotonic() + 2.0
    while len(server.model_requests) < expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return len(server.model_requests)


@pytest.mark.parametrize("path", PATHS)
def test_timeout_is_per_attempt(server: GeminiTestServer, path: str) -> None:
    """Two attempts that each time out take two whole timeouts (a timeout shared by the
    attempts would end after one), then a typed error."""
    server.enqueue(Reply.trickle(TRICKLED, TRICKLE), Reply.trickle(TRICKLED, TRICKLE))
    llm = make_llm(server.base_url, path, timeout=TIMEOUT, max_retries=1)
    check_path(llm, path)
    start = time.perf_counter()
    error = call(llm, path, "invoke")
    elapsed = time.perf_counter() - start
    assert isinstance(error, GeminiTimeoutError), repr(error)
    assert "after 2 attempts" in str(error)
    # At most two requests (an async attempt cut before its request went out, on a starved
    # machine, never reaches the server).
    assert _requests(server, 2) <= 2
    # two attempts, a short backoff (FAST_RETRY), a loaded machine
    assert 2 * TIMEOUT * 0.9 <= elapsed < 2 * TIMEOUT + 1.5, elapsed


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", PATHS)
def test_huge_timeout_does_not_overflow(server: GeminiTestServer, path: str, mode: str) -> None:
    """The largest timeout the model takes (a day; 1e10 is refused at construction, see
    test_bad_inputs.py "absurd timeout") works on every path."""
    server.enqueue(Reply.stream(stream_chunks(ANSWER)))
    llm = make_llm(server.base_url, path, timeout=MAX_TIMEOUT)
    assert call(llm, path, mode) is None


@pytest.mark.parametrize("path", ["sync-httpx2", "sync-httpx", "async-aiohttp", "async-httpx"])
def test_timeout_bounds_the_files_api_upload(server: GeminiTestServer, path: str) -> None:
    """Every attempt times out (the upload is the tool's first request): a tiny timeout."""
    server.files_delay = 5.0
    llm = make_llm(server.base_url, path, timeout=HOPELESS, max_retries=0)
    tool = GeminiCodeExecutionTool(
        llm=llm, files={"big.csv": b"a,b\n" * 300}, inline_max_bytes=16, handle_tool_error=True
    )
    args = {"task": "sum column a", "files": ["big.csv"]}
    start = time.perf_counter()
    content = tool.invoke(args) if path.startswith("sync") else asyncio.run(tool.ainvoke(args))
    elapsed = time.perf_counter() - start
    assert "did not answer in time" in str(content)
    assert HOPELESS * 0.9 <= elapsed < HOPELESS + 1.5, elapsed  # far less than the server's 5 s
    assert server.model_requests == []


# --- 3. early stream exits release the connection -------------------------------------

LONG = stream_chunks(response(text("word " * 400)), text_pieces=100)


async def _early_exits(server: GeminiTestServer, llm: ChatGeminiCodeExecution, how: str) -> None:
    if how == "error":
        server.enqueue(Reply.stream(LONG[:3], error_after=error_body(500, "boom")))
    else:
        server.enqueue(Reply.stream(LONG, chunk_delay=0.01))
    if how == "break":
        async for _ in llm.astream("hi"):
            break
    elif how == "aclose":
        chunks = llm.astream("hi")
        await anext(chunks)
        await chunks.aclose()  # type: ignore[attr-defined]
    else:
        with pytest.raises(GeminiAPIError, match="boom"):
            async for _ in llm.astream("hi"):
                pass


@pytest.mark.parametrize("how", ["break", "aclose", "error"])
@pytest.mark.parametrize("path", ASYNC_PATHS)
def test_early_stream_exit_releases_the_connection(
    server: GeminiTestServer, path: str, how: str
) -> None:
    llm = make_llm(server.base_url, path, max_retries=0)
    check_path(llm, path)

    async def run() -> list[int]:
        left = []
        for _ in range(10):
            await _early_exits(server, llm, how)
            for _ in range(3):
                await asyncio.sleep(0)  # let aclose() run for a dropped generator
            deadline = time.monotonic() + 1.0
            while server.open_connections > (1 if how == "error" else 0):
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.01)
            left.append(server.open_connections)
        await llm.aclose()
        return left

    gc.disable()
    try:
        left = asyncio.run(run())
    finally:
        gc.enable()
    # A stream read to its end (the error event is the last one) may stay pooled: one
    # idle connection, reused by the next call. A stream cut short is closed.
    assert max(left) <= (1 if how == "error" else 0), left


# --- 7. every failure is typed ---------------------------------------------------------

NESTED = b"[" * 200_000 + b"]" * 200_000


@pytest.mark.parametrize(
    "reply",
    [
        Reply.raw(200, b'{"candidates": ' + NESTED + b"}", {"Content-Type": "application/json"}),
        Reply.raw(
            200,
            b'data: {"candidates": ' + NESTED + b"}\r\n\r\n",
            {"Content-Type": "text/event-stream"},
        ),
        Reply.raw(500, b'{"error": ' + NESTED + b"}", {"Content-Type": "application/json"}),
        Reply.raw(200, b"not gzip at all", {"Content-Encoding": "gzip"}),
        Reply.raw(200, b"\x1f\x8b\x08\x00broken", {"Content-Encoding": "gzip"}),
        Reply.raw(200, b"[1, 2, 3]", {"Content-Type": "application/json"}),
    ],
    ids=["nested-json", "nested-sse", "nested-error", "bad-gzip", "truncated-gzip", "json-list"],
)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", PATHS)
def test_every_failure_is_typed(
    server: GeminiTestServer, path: str, mode: str, reply: Reply
) -> None:
    server.enqueue(reply)
    llm = make_llm(server.base_url, path, max_retries=0)
    error = call(llm, path, mode)
    assert isinstance(error, GeminiCodeExecutionError), repr(error)
    assert API_KEY not in str(error)


@pytest.mark.parametrize("path", ["sync-httpx2", "sync-httpx", "async-aiohttp", "async-httpx2"])
def test_tool_with_error_handling_survives_hostile_answers(
    server: GeminiTestServer, path: str
) -> None:
    server.enqueue(
        Reply.raw(200, b'{"candidates": ' + NESTED + b"}", {"Content-Type": "application/json"}),
        Reply.raw(200, b"not gzip at all", {"Content-Encoding": "gzip"}),
    )
    llm = make_llm(server.base_url, path, max_retries=0)
    tool = GeminiCodeExecutionTool(llm=llm, handle_tool_error=True)
    args = {"task": "compute"}
    if path.startswith("sync"):
        contents = [tool.invoke(args), tool.invoke(args)]
    else:

        async def both() -> list[Any]:
            return [await tool.ainvoke(args), await tool.ainvoke(args)]

        contents = asyncio.run(both())
    for content in contents:
        assert str(content).startswith("gemini_code_execution failed"), content


# --- 11. LangChain's standard errors -----------------------------------------------------

OVERFLOW = "The input token count (2000000) exceeds the maximum number of tokens allowed (1048576)."
STANDARD = [
    (400, "Invalid value at 'contents'", ModelInvalidRequestError),
    (400, OVERFLOW, ContextOverflowError),
    (401, "API key not valid", ModelAuthenticationError),
    (403, "Permission denied", ModelPermissionDeniedError),
    (404, "models/nope is not found", ModelNotFoundError),
    (429, "Resource has been exhausted", ModelRateLimitError),
    (500, "Internal error", ModelAPIError),
    (503, "The model is overloaded", ModelAPIError),
]


@pytest.mark.parametrize(("code", "message", "standard"), STANDARD)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", PATHS)
def test_errors_are_langchain_standard_errors(
    server: GeminiTestServer, path: str, mode: str, code: int, message: str, standard: type
) -> None:
    server.enqueue(Reply.error(code, message))
    llm = make_llm(server.base_url, path, max_retries=0)
    error = call(llm, path, mode)
    assert isinstance(error, standard), repr(error)
    assert isinstance(error, GeminiAPIError)  # `except GeminiAPIError` keeps working
    assert (error.code, error.message) == (code, message)
    assert error.is_retryable == (code in (429, 500, 503))  # type: ignore[attr-defined]
    if standard is not ContextOverflowError:
        assert not isinstance(error, ContextOverflowError)


@pytest.mark.parametrize("path", PATHS)
def test_connection_failures_are_langchain_standard_errors(
    server: GeminiTestServer, path: str
) -> None:
    server.enqueue(Reply.reset())
    llm = make_llm(server.base_url, path, max_retries=0)
    error = call(llm, path, "invoke")
    assert isinstance(error, ModelConnectionError) and error.is_retryable, repr(error)
    server.enqueue(Reply.hang(5))
    llm = make_llm(server.base_url, path, max_retries=0, timeout=HOPELESS)
    error = call(llm, path, "invoke")
    assert isinstance(error, ModelTimeoutError) and isinstance(error, ModelConnectionError)


# --- 8. copies ----------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["model_copy", "deepcopy"])
@pytest.mark.parametrize("path", ["sync-httpx2", "async-aiohttp"])
def test_copies_build_their_own_client(
    server: GeminiTestServer, other: GeminiTestServer, path: str, how: str
) -> None:
    llm = make_llm(server.base_url, path, timeout=30, max_retries=2)
    server.enqueue(ANSWER)
    invoke(llm, path)  # first use: the original has its client
    update = {"api_key": "copy-key-0123", "base_url": other.base_url, "max_retries": 0}
    if how == "model_copy":
        twin = llm.model_copy(update=update)
    else:
        twin = copy.deepcopy(llm)
        for name, value in update.items():
            setattr(twin, name, value)
    assert twin.genai_client is not llm.genai_client
    assert "copy-key-0123" not in repr(twin)  # a plain-string key is kept as a secret
    other.enqueue(Reply.error(503, "overloaded"))
    error = call(twin, path, "invoke")
    assert isinstance(error, GeminiAPIError) and error.code == 503
    assert len(other.model_requests) == 1  # its own endpoint, its own max_retries
    assert other.last_request.headers["x-goog-api-key"] == "copy-key-0123"
    server.enqueue(ANSWER)
    assert invoke(llm, path).text == "The sum is 45."  # the original is untouched
    assert server.last_request.headers["x-goog-api-key"] == API_KEY


@pytest.mark.parametrize("path", ["sync-httpx2", "async-aiohttp"])
def test_setting_a_connection_setting_after_first_use_takes_effect(
    server: GeminiTestServer, other: GeminiTestServer, path: str
) -> None:
    llm = make_llm(server.base_url, path)
    server.enqueue(ANSWER)
    invoke(llm, path)
    llm.base_url = other.base_url
    other.enqueue(ANSWER)
    assert invoke(llm, path).text == "The sum is 45."
    assert len(other.model_requests) == 1 and len(server.model_requests) == 1


def test_close_releases_the_client_and_the_model_stays_usable(server: GeminiTestServer) -> None:
    llm = make_llm(server.base_url)
    server.enqueue(ANSWER, ANSWER)
    first = llm.genai_client
    llm.invoke("hi")
    llm.close()
    assert llm.invoke("hi").text == "The sum is 45."
    assert llm.genai_client is not first


def test_deepcopy_shares_a_client_you_passed(server: GeminiTestServer) -> None:
    client = genai.Client(api_key=API_KEY, http_options=types.HttpOptions(base_url=server.base_url))
    llm = ChatGeminiCodeExecution(client=client)
    twin = copy.deepcopy(llm)
    assert twin.client is client and twin.genai_client is client
    server.enqueue(ANSWER)
    assert twin.invoke("hi").text == "The sum is 45."


# --- 9. max_retries with a client you built ------------------------------------------


@pytest.mark.parametrize("reply", [Reply.close(), Reply.reset()], ids=["close", "reset"])
@pytest.mark.parametrize("mode", MODES)
def test_max_retries_zero_with_your_own_aiohttp_client(
    server: GeminiTestServer, mode: str, reply: Reply
) -> None:
    """The SDK's hidden aiohttp reconnect (1-10 s of sleep, one more attempt) is off."""
    client = genai.Client(api_key=API_KEY, http_options=types.HttpOptions(base_url=server.base_url))
    llm = ChatGeminiCodeExecution(client=client, max_retries=0)
    check_path(llm, "async-aiohttp")
    server.enqueue(reply, ANSWER)
    start = time.perf_counter()
    error = call(llm, "async-aiohttp", mode)
    assert isinstance(error, GeminiCodeExecutionError), repr(error)
    assert len(server.model_requests) == 1
    assert time.perf_counter() - start < 1.0


def test_max_retries_counts_the_same_with_your_own_client(server: GeminiTestServer) -> None:
    client = genai.Client(api_key=API_KEY, http_options=types.HttpOptions(base_url=server.base_url))
    llm = ChatGeminiCodeExecution(
        client=client, max_retries=2, retry_initial_delay=0.01, retry_max_delay=0.02
    )
    server.enqueue(*[Reply.close() for _ in range(3)], ANSWER)

    async def run() -> Exception | None:
        try:
            await llm.ainvoke("hi")
        except Exception as exc:
            return exc
        return None

    assert isinstance(asyncio.run(run()), GeminiCodeExecutionError)
    assert len(server.model_requests) == 3


@pytest.mark.parametrize("path", ["sync-httpx2", "sync-httpx"])
def test_timed_out_sync_calls_leave_no_thread_or_connection(
    server: GeminiTestServer, path: str
) -> None:
    """The worker that ran a timed-out attempt ends and drops its connection."""
    llm = make_llm(server.base_url, path, timeout=TIMEOUT, max_retries=0)
    check_path(llm, path)  # the client is built before the threads are counted
    before = threading.active_count()
    for mode in ("invoke", "stream", "invoke", "stream"):
        server.enqueue(Reply.trickle(TRICKLED, TRICKLE))
        assert isinstance(call(llm, path, mode), GeminiTimeoutError)
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and (
        threading.active_count() > before or server.open_connections
    ):
        time.sleep(0.02)
    assert threading.active_count() <= before
    assert server.open_connections == 0
    assert len(server.model_requests) == 4
