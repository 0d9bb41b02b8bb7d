"""Retries and timeouts, counted at the server.

`max_retries` retries 408/429/500/502/503/504, timeouts and connection errors with
exponential backoff and jitter, honouring `Retry-After` and Gemini's `RetryInfo` up to
`retry_max_delay`; other 4xx are never retried; a stream is retried only until its first
chunk reached the caller. Delays are read from the retry log records (no timing).
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Iterator

import pytest
from google.genai import errors

from langchain_gemini_codeexec._transport.retry import RetryPolicy
from langchain_gemini_codeexec.errors import GeminiAPIError, GeminiTimeoutError
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    Reply,
    error_body,
    response,
    stream_chunks,
    text,
)
from tests.support import invoke, path_llm, stream

ANSWER = response(text("All good."), response_id="ok")
# Server-given delays: short (a test sleeps them), yet far from the backoff path_llm's
# FAST_RETRY would give (about 1 ms for a first retry) and under retry_max_delay.
RETRY_AFTER = 0.05
RETRY_INFO = 0.04
HOPELESS_TIMEOUT = 0.05  # the server hangs: the call waits just this long
GOOD_TIMEOUT = 0.3  # a good answer must fit in it, even on a loaded machine
MODES = ("invoke", "stream")
DEFAULT_PATHS = ("sync-httpx2", "async-aiohttp")


class _Delays(logging.Handler):
    """Collects the delays our retry log records carry."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.delays: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        delay = getattr(record, "gemini_retry_delay", None)
        if delay is not None:
            self.delays.append(delay)


@pytest.fixture
def delays() -> Iterator[_Delays]:
    handler = _Delays()
    logger = logging.getLogger("langchain_gemini_codeexec")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def _call(server: GeminiTestServer, path: str, mode: str, **kw: object) -> str:
    llm = path_llm(server.base_url, path, **kw)
    if mode == "invoke":
        return invoke(llm, path).text
    chunks, error = stream(llm, path)
    if error is not None:
        raise error
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    return total.text


def _fail(server: GeminiTestServer, path: str, mode: str, **kw: object) -> BaseException:
    with pytest.raises(Exception) as caught:
        _call(server, path, mode, **kw)
    return caught.value


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", DEFAULT_PATHS)
@pytest.mark.parametrize("code", [408, 429, 500, 502, 503, 504])
def test_retryable_status_is_retried(
    server: GeminiTestServer, code: int, path: str, mode: str
) -> None:
    server.enqueue(Reply.error(code, "try again"), Reply.error(code, "try again"), ANSWER)
    assert _call(server, path, mode, max_retries=2) == "All good."
    assert len(server.model_requests) == 3


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", DEFAULT_PATHS)
@pytest.mark.parametrize("code", [400, 401, 403, 404, 409, 413, 422])
def test_other_4xx_never_retried(server: GeminiTestServer, code: int, path: str, mode: str) -> None:
    server.enqueue(Reply.error(code, f"client problem {code}"), ANSWER)
    error = _fail(server, path, mode, max_retries=5)
    assert isinstance(error, GeminiAPIError)
    assert error.code == code and error.attempts == 1
    assert f"client problem {code}" in str(error)
    assert len(server.model_requests) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("retries", [0, 1, 4])
def test_max_retries_bounds_the_requests(server: GeminiTestServer, retries: int, mode: str) -> None:
    server.enqueue(*[Reply.error(500, "boom")] * (retries + 3))
    error = _fail(server, "sync-httpx2", mode, max_retries=retries)
    assert isinstance(error, GeminiAPIError) and error.attempts == retries + 1
    assert len(server.model_requests) == retries + 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", DEFAULT_PATHS)
def test_retry_after_header_is_honoured(
    server: GeminiTestServer, delays: _Delays, path: str, mode: str
) -> None:
    server.enqueue(Reply.rate_limited(retry_after=RETRY_AFTER), ANSWER)
    assert _call(server, path, mode, retry_max_delay=1.0) == "All good."
    assert delays.delays == [pytest.approx(RETRY_AFTER)]
    assert len(server.model_requests) == 2


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", DEFAULT_PATHS)
def test_retry_info_delay_is_honoured(
    server: GeminiTestServer, delays: _Delays, path: str, mode: str
) -> None:
    server.enqueue(Reply.rate_limited(retry_delay=f"{RETRY_INFO}s"), ANSWER)
    assert _call(server, path, mode, retry_max_delay=1.0) == "All good."
    assert delays.delays == [pytest.approx(RETRY_INFO)]


def test_server_delay_is_capped(server: GeminiTestServer, delays: _Delays) -> None:
    server.enqueue(Reply.rate_limited(retry_after=3600), Reply.rate_limited(retry_delay="900s"))
    server.enqueue(ANSWER)
    assert _call(server, "sync-httpx2", "invoke", retry_max_delay=0.05) == "All good."
    assert delays.delays == [pytest.approx(0.05), pytest.approx(0.05)]


def test_retry_after_as_http_date(server: GeminiTestServer, delays: _Delays) -> None:
    past = email.utils.formatdate(time.time() - 60, usegmt=True)
    server.enqueue(Reply.error(503, "busy", headers={"Retry-After": past}), ANSWER)
    assert _call(server, "sync-httpx2", "invoke") == "All good."
    assert delays.delays == [0.0]


def test_garbage_retry_after_falls_back_to_backoff(
    server: GeminiTestServer, delays: _Delays
) -> None:
    server.enqueue(Reply.error(503, "busy", headers={"Retry-After": "soon-ish"}), ANSWER)
    llm_kw = {"retry_initial_delay": 0.02, "retry_max_delay": 0.05}
    assert _call(server, "sync-httpx2", "invoke", **llm_kw) == "All good."
    assert len(delays.delays) == 1 and 0.015 <= delays.delays[0] <= 0.025


def test_backoff_grows_exponentially_with_jitter_and_cap(
    server: GeminiTestServer, delays: _Delays
) -> None:
    server.enqueue(*[Reply.error(503, "busy")] * 5, ANSWER)
    llm_kw = {"max_retries": 5, "retry_initial_delay": 0.004, "retry_max_delay": 0.04}
    assert _call(server, "sync-httpx2", "invoke", **llm_kw) == "All good."
    assert len(delays.delays) == 5
    for retry, delay in enumerate(delays.delays):
        base = 0.004 * 2**retry
        assert min(base * 0.75, 0.04) <= delay <= min(base * 1.25, 0.04)


def test_jitter_spreads_delays() -> None:
    policy = RetryPolicy(max_retries=3, initial_delay=1.0, max_delay=100.0)
    exc = errors.ServerError(503, error_body(503, "busy"))
    samples = {policy.delay(2, exc) for _ in range(200)}
    assert len(samples) > 100  # not one fixed schedule shared by every client
    assert all(3.0 <= s <= 5.0 for s in samples)


def test_stream_retried_before_first_chunk_only(server: GeminiTestServer) -> None:
    chunks = stream_chunks(response(text("one two three four"), response_id="s"))
    server.enqueue(
        Reply.error(503, "busy"),  # before the stream: retried
        Reply.stream(chunks[:1], error_after=error_body(503, "busy mid-stream")),
        Reply.stream(chunks),
    )
    llm = path_llm(server.base_url, max_retries=3)
    received, error = stream(llm, "sync-httpx2")
    assert isinstance(error, GeminiAPIError) and error.code == 503
    assert "busy mid-stream" in str(error) and "stream broke after 1 chunks" in str(error)
    assert [c.text for c in received] == [chunks[0]["candidates"][0]["content"]["parts"][0]["text"]]
    # The first request failed before the stream, the second after a chunk: never a third.
    assert len(server.model_requests) == 2


@pytest.mark.parametrize("path", DEFAULT_PATHS)
def test_timeout_bounds_each_request_and_is_retried(server: GeminiTestServer, path: str) -> None:
    server.enqueue(Reply.hang(10), Reply.hang(10), ANSWER)
    assert _call(server, path, "invoke", timeout=GOOD_TIMEOUT, max_retries=2) == "All good."
    assert len(server.model_requests) == 3
    assert server.model_requests[0].headers["x-server-timeout"] == "1"


@pytest.mark.parametrize("path", DEFAULT_PATHS)
def test_timeout_with_no_retries_left(server: GeminiTestServer, path: str) -> None:
    server.enqueue(Reply.hang(10))
    error = _fail(server, path, "invoke", timeout=HOPELESS_TIMEOUT, max_retries=0)
    assert isinstance(error, GeminiTimeoutError) and isinstance(error, TimeoutError)
    assert "raise `timeout`" in str(error)


@pytest.mark.parametrize("path", ("sync-httpx2", "async-aiohttp", "async-httpx"))
def test_slow_stream_within_timeout_per_chunk_completes(
    server: GeminiTestServer, path: str
) -> None:
    """`timeout` bounds each wait, not the whole stream: a long answer that keeps coming
    is not cut (the SDK alone would give aiohttp a total deadline)."""
    chunks = stream_chunks(
        response(text("a long answer arriving slowly"), response_id="s"), text_pieces=5
    )
    server.enqueue(Reply.stream(chunks, chunk_delay=0.1))
    llm = path_llm(server.base_url, path, timeout=0.3, max_retries=0)
    received, error = stream(llm, path)
    assert error is None
    assert "".join(c.text for c in received) == "a long answer arriving slowly"
    assert len(received) == len(chunks) >= 5  # more than 0.3 s in total
