"""Faults, each on every HTTP path (sync httpx2/httpx, async aiohttp/httpx2/httpx), invoke
and stream: a clear typed error naming the cause, or the correct answer after retries.

The server counts the requests it received. Chunks a stream already yielded stay valid
(their text is a prefix of the answer), and a partial stream is never presented as
complete: no chunk before the failure carries a finish reason or `chunk_position="last"`.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk

from langchain_gemini_codeexec.errors import (
    GeminiAPIError,
    GeminiCodeExecutionError,
    GeminiConnectionError,
    GeminiTimeoutError,
    IncompleteResponseError,
)
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    Reply,
    code,
    error_body,
    response,
    result,
    sse_event,
    stream_chunks,
    text,
)
from tests.support import PATHS, check_path, invoke, path_llm, stream

ANSWER = response(
    text("Let me compute that. "),
    code("print(sum(range(10)))", id="c1"),
    result("45\n", id="c1"),
    text("The sum is 45."),
    response_id="good",
)
ANSWER_TEXT = "Let me compute that. The sum is 45."
CHUNKS = stream_chunks(ANSWER)
MAX_RETRIES = 2
TIMEOUT = 0.3  # a good answer must fit in it, even on a loaded machine
# Every attempt times out anyway: no need to wait longer (but each attempt's request must
# still reach the server, which counts them).
HOPELESS_TIMEOUT = 0.1
# Long enough for the chunk sent before it to be read before the connection is reset.
RESET_DELAY = 0.1


def _good() -> Reply:
    return Reply.stream(CHUNKS)


def _malformed_sse() -> Reply:
    body = sse_event(CHUNKS[0]) + b'data: {"candidates": [{"content": {"parts": [{"te\r\n\r\n'
    return Reply.raw(200, body, {"Content-Type": "text/event-stream"})


@dataclass(frozen=True)
class Outcome:
    """What a caller sees: an error (type, words in its message) or the good answer."""

    error: type[Exception] | None = None
    says: tuple[str, ...] = ()
    requests: int = 1
    # Every attempt timed out: an async attempt cut before its request went out (a starved
    # machine) is never seen by the server, so it may count fewer, never more.
    unsent_ok: bool = False
    # For streams: how many chunks at least reached the caller before the error.
    min_chunks: int = 0
    # For answers: the text and finish reason the caller gets.
    text: str = ANSWER_TEXT
    finish: str | None = "STOP"


@dataclass(frozen=True)
class Fault:
    name: str
    replies: tuple[Reply, ...]
    invoke: Outcome
    stream: Outcome
    refused: bool = False
    kwargs: dict[str, Any] = field(default_factory=dict)


TIMED_OUT_TWICE = Outcome(
    GeminiTimeoutError, ("did not answer within the timeout", "after 2"), 2, unsent_ok=True
)
STORM = tuple(Reply.error(503, "The model is overloaded.") for _ in range(MAX_RETRIES + 1))
FAULTS = [
    Fault(
        "connection refused",
        (),
        Outcome(GeminiConnectionError, ("could not talk to Gemini", "after 3 attempts"), 0),
        Outcome(GeminiConnectionError, ("could not talk to Gemini", "after 3 attempts"), 0),
        refused=True,
    ),
    Fault(
        "connection reset before any answer",
        (Reply.reset(), _good()),
        Outcome(requests=2),
        Outcome(requests=2),
    ),
    Fault(
        "connection reset mid-stream",
        (Reply.stream(CHUNKS, reset_after=2, chunk_delay=RESET_DELAY), _good()),
        # A whole answer cut in the middle is retried: nothing reached the caller yet.
        Outcome(requests=2),
        Outcome(GeminiConnectionError, ("could not talk to Gemini", "stream broke"), 1, 1),
    ),
    Fault(
        "truncated SSE event",
        (Reply.stream(CHUNKS, truncate_last=True), _good()),
        Outcome(requests=2),
        Outcome(IncompleteResponseError, ("not valid JSON", "truncated"), 1, len(CHUNKS) - 1),
    ),
    Fault(
        "stream ends without a finish reason",
        (Reply.stream(CHUNKS[:-1]),),
        # Without streaming, the server sends what it has as one whole answer: the caller
        # gets it as it came, with no finish_reason to pretend it is finished.
        Outcome(text=ANSWER_TEXT.removesuffix(" 45."), finish=None),
        Outcome(IncompleteResponseError, ("without a finishReason", "incomplete"), 1, 1),
    ),
    Fault(
        "malformed JSON answer",
        (Reply.raw(200, b'{"candidates": [{"content": ', {"Content-Type": "application/json"}),),
        Outcome(IncompleteResponseError, ("not valid JSON",)),
        Outcome(IncompleteResponseError, ("not valid JSON",)),
    ),
    Fault(
        "malformed SSE event after a good one",
        (_malformed_sse(),),
        Outcome(IncompleteResponseError, ("not valid JSON",)),
        Outcome(IncompleteResponseError, ("not valid JSON", "stream broke after 1 chunks"), 1, 1),
    ),
    Fault(
        "empty 200 answer",
        (Reply.raw(200, b"", {"Content-Type": "application/json"}),),
        Outcome(IncompleteResponseError, ("no candidate", "nothing was generated")),
        Outcome(IncompleteResponseError, ("after 0 chunks", "without a finishReason")),
    ),
    Fault(
        "answer without candidates or block reason",
        (Reply.json({"usageMetadata": {"promptTokenCount": 3}, "modelVersion": "m"}),),
        Outcome(IncompleteResponseError, ("no candidate", "nothing was generated")),
        Outcome(IncompleteResponseError, ("without a finishReason", "incomplete")),
    ),
    Fault(
        "error event mid-stream",
        (Reply.stream(CHUNKS[:2], error_after=error_body(500, "Internal error mid-way")), _good()),
        # Without streaming the same failure is an HTTP 500, and retried.
        Outcome(requests=2),
        Outcome(GeminiAPIError, ("500", "Internal error mid-way", "stream broke after 2"), 1, 2),
    ),
    Fault(
        "5xx storm longer than the retries",
        (*STORM, _good()),
        Outcome(GeminiAPIError, ("503", "UNAVAILABLE", "overloaded", "after 3 attempts"), 3),
        Outcome(GeminiAPIError, ("503", "UNAVAILABLE", "overloaded", "after 3 attempts"), 3),
    ),
    Fault(
        "5xx storm shorter than the retries",
        (*STORM[:MAX_RETRIES], _good()),
        Outcome(requests=3),
        Outcome(requests=3),
    ),
    Fault(
        "HTML error page from a proxy",
        (Reply.raw(502, b"<html><body>Bad Gateway</body></html>", {"Content-Type": "text/html"}),)
        * 3,
        Outcome(GeminiAPIError, ("502", "Bad Gateway", "after 3 attempts"), 3),
        Outcome(GeminiAPIError, ("502", "Bad Gateway", "after 3 attempts"), 3),
    ),
    Fault(
        "5xx with a malformed JSON body",
        (Reply.raw(500, b'{"error": {"code": 500', {"Content-Type": "application/json"}),) * 3,
        Outcome(GeminiAPIError, ("500", "after 3 attempts"), 3),
        Outcome(GeminiAPIError, ("500", "after 3 attempts"), 3),
    ),
    Fault(  # one retry (not MAX_RETRIES): each attempt only waits out the timeout
        "server slower than the timeout",
        (Reply.hang(10), Reply.hang(10), Reply.hang(10)),
        TIMED_OUT_TWICE,
        TIMED_OUT_TWICE,
        kwargs={"timeout": HOPELESS_TIMEOUT, "max_retries": 1},
    ),
    Fault(
        "server slow once, then fine",
        (Reply.hang(10), _good()),
        Outcome(requests=2),
        Outcome(requests=2),
        kwargs={"timeout": TIMEOUT},
    ),
    Fault(
        "stream stalls after its first chunk",
        (Reply.stream(CHUNKS, chunk_delay=3 * TIMEOUT), _good()),
        Outcome(requests=1),  # a whole answer comes at once: no stall to time out on
        Outcome(GeminiTimeoutError, ("did not answer within the timeout", "stream broke"), 1, 1),
        kwargs={"timeout": TIMEOUT},
    ),
]


def _refused_url() -> str:
    """A loopback port with nobody listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _chunk_text(chunks: list[AIMessageChunk]) -> str:
    return "".join(b.get("text", "") for c in chunks for b in c.content if isinstance(b, dict))


def _requests(server: GeminiTestServer, expected: int) -> int:
    """The model requests the server got; on a loaded machine a request of an attempt that
    timed out may land a little after the caller gave up."""
    deadline = time.monotonic() + 2.0
    while len(server.model_requests) < expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return len(server.model_requests)


def _check_requests(server: GeminiTestServer, expected: Outcome) -> None:
    got = _requests(server, expected.requests)
    assert got == expected.requests or (expected.unsent_ok and got < expected.requests), got


def _check_error(error: BaseException | None, expected: Outcome) -> None:
    assert error is not None, "the call should have failed"
    assert isinstance(error, expected.error or Exception), repr(error)
    assert isinstance(error, GeminiCodeExecutionError)
    message = str(error)
    for word in expected.says:
        assert word in message, f"{word!r} not in {message!r}"


# Faults that only wait out a timeout: the same wait on every path in both modes. The fast
# suite runs each once per HTTP path, invoke on these paths and stream on the others (both
# modes on a sync and an async path); the slow set runs the whole matrix.
WAITING = frozenset({"server slower than the timeout", "server slow once, then fine"})
INVOKE_PATHS = ("sync-httpx2", "async-aiohttp", "async-httpx")


def _cases(mode: str) -> list[Any]:
    """(fault, path) for `mode`, ids as `fault-path`; see WAITING for the slow ones."""
    cases = []
    for fault in FAULTS:
        for path in PATHS:
            fast = fault.name not in WAITING or (path in INVOKE_PATHS) == (mode == "invoke")
            mark = () if fast else pytest.mark.slow
            cases.append(pytest.param(fault, path, id=f"{fault.name}-{path}", marks=mark))
    return cases


@pytest.mark.parametrize(("fault", "path"), _cases("invoke"))
def test_fault_invoke(server: GeminiTestServer, fault: Fault, path: str) -> None:
    """Every fault through invoke on every path (WAITING faults: some paths in the fast
    suite, all in the slow set)."""
    url = _refused_url() if fault.refused else server.base_url
    server.enqueue(*fault.replies)
    llm = path_llm(url, path, **{"max_retries": MAX_RETRIES, **fault.kwargs})
    check_path(llm, path)
    expected = fault.invoke
    if expected.error is None:
        message = invoke(llm, path)
        assert message.text == expected.text
        assert message.response_metadata.get("finish_reason") == expected.finish
        kinds = {b["type"]: b for b in message.content if isinstance(b, dict)}
        assert kinds["server_tool_call"]["args"]["code"] == "print(sum(range(10)))"
        assert kinds["server_tool_result"]["output"] == "45\n"
        assert message.response_metadata["response_id"] == "good"
    else:
        with pytest.raises(expected.error) as caught:
            invoke(llm, path)
        _check_error(caught.value, expected)
    _check_requests(server, expected)


@pytest.mark.parametrize(("fault", "path"), _cases("stream"))
def test_fault_stream(server: GeminiTestServer, fault: Fault, path: str) -> None:
    """Every fault through stream on every path (WAITING faults: the paths invoke leaves
    out in the fast suite, all in the slow set)."""
    url = _refused_url() if fault.refused else server.base_url
    server.enqueue(*fault.replies)
    llm = path_llm(url, path, **{"max_retries": MAX_RETRIES, **fault.kwargs})
    check_path(llm, path)
    expected = fault.stream
    chunks, error = stream(llm, path)
    if expected.error is None:
        assert error is None, repr(error)
        total = chunks[0]
        for chunk in chunks[1:]:
            total += chunk
        assert total.text == ANSWER_TEXT
        assert total.response_metadata["finish_reason"] == "STOP"
        assert chunks[-1].chunk_position == "last"
    else:
        _check_error(error, expected)
        assert len(chunks) >= expected.min_chunks
        # What arrived is valid and a true prefix of the answer, and does not pose as whole.
        assert ANSWER_TEXT.startswith(_chunk_text(chunks))
        for chunk in chunks:
            assert isinstance(chunk, AIMessageChunk)
            assert chunk.chunk_position != "last"
            assert "finish_reason" not in chunk.response_metadata
    _check_requests(server, expected)


@pytest.mark.parametrize("path", PATHS)
def test_invalid_utf8_is_typed_or_replaced(server: GeminiTestServer, path: str) -> None:
    """Bytes that are not UTF-8: aiohttp decodes strictly (a typed error naming the cause),
    httpx/httpx2 replace them with U+FFFD; never a bare UnicodeDecodeError."""
    first = response(text("Let me compute. "), finish_reason=None)
    second = response(text("The sum is 45."))
    body = (sse_event(first) + sse_event(second)).replace(b" is 45", b" is \xff\xfe45")
    server.enqueue(Reply.raw(200, json.dumps(second).encode().replace(b" is 45", b" is \xff45")))
    server.enqueue(Reply.raw(200, body, {"Content-Type": "text/event-stream"}))
    llm = path_llm(server.base_url, path, max_retries=MAX_RETRIES)
    check_path(llm, path)
    strict = path == "async-aiohttp"
    try:
        answer: str | None = invoke(llm, path).text
    except GeminiCodeExecutionError as exc:
        answer = None
        assert strict and isinstance(exc, IncompleteResponseError), repr(exc)
        assert "not valid UTF-8" in str(exc)
    assert answer is None if strict else answer == "The sum is \ufffd45."
    # A new model: an httpx transport given to the SDK is bound to its first event loop.
    chunks, error = stream(path_llm(server.base_url, path, max_retries=MAX_RETRIES), path)
    if strict:
        _check_error(error, Outcome(IncompleteResponseError, ("not valid UTF-8", "after 1")))
        assert _chunk_text(chunks) == "Let me compute. "
    else:
        assert error is None and _chunk_text(chunks) == "Let me compute. The sum is \ufffd\ufffd45."
    assert len(server.model_requests) == 2  # not retried: the same bytes would come back
