"""Cases an outside audit of issue 9 found (points 2 and 7), on every HTTP path.

- A number too long for Python's int conversion (over 4300 digits) in Gemini's answer is a
  typed `IncompleteResponseError`, invoked and streamed, not a bare `ValueError`.
- A Files API answer the SDK cannot read (a create answer without an upload URL) is typed
  too: through the tool it reaches the agent as an error, through a file-mode batch
  submission it is an `IncompleteResponseError`, not the SDK's `KeyError`.
- A file-mode batch submission's JSONL upload is bounded by the model's `timeout`, as the
  tool's upload is.
- A redirect to a Location the HTTP library cannot parse is a `GeminiRedirectError`, not
  a retried connection error (classic httpx raised `RemoteProtocolError`).
- A candidate whose content or parts have the wrong JSON type is an
  `IncompleteResponseError`, not an empty answer.
- A model pickles (before and after first use); the copy builds its own client.
"""

from __future__ import annotations

import asyncio
import json
import pickle
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from langchain_gemini_codeexec import GeminiCodeExecutionTool
from langchain_gemini_codeexec.batch import asubmit_batch, submit_batch
from langchain_gemini_codeexec.errors import (
    GeminiCodeExecutionError,
    GeminiRedirectError,
    GeminiTimeoutError,
    IncompleteResponseError,
)
from langchain_gemini_codeexec.testing import GeminiTestServer, Reply
from tests.support import PATHS, SYNC_PATHS, invoke, stream
from tests.support import SECRET_API_KEY as API_KEY
from tests.support import path_llm as make_llm

ANSWER_OK = {
    "candidates": [
        {"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}
    ]
}
HUGE = b"9" * 5000  # json.loads refuses ints over 4300 digits with a ValueError
ANSWER = (
    b'{"candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]},'
    b' "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": ' + HUGE + b"}}"
)


@pytest.mark.parametrize("mode", ["invoke", "stream"])
@pytest.mark.parametrize("path", PATHS)
def test_a_number_too_long_to_convert_is_a_typed_error(
    server: GeminiTestServer, path: str, mode: str
) -> None:
    if mode == "stream":
        server.enqueue(
            Reply.raw(200, b"data: " + ANSWER + b"\r\n\r\n", {"Content-Type": "text/event-stream"})
        )
        error = stream(make_llm(server.base_url, path, max_retries=0), path)[1]
    else:
        server.enqueue(Reply.raw(200, ANSWER, {"Content-Type": "application/json"}))
        with pytest.raises(GeminiCodeExecutionError) as info:
            invoke(make_llm(server.base_url, path, max_retries=0), path)
        error = info.value
    assert isinstance(error, IncompleteResponseError), repr(error)
    assert API_KEY not in str(error)


class _NoUploadURL(BaseHTTPRequestHandler):
    """Answers every request 200 `{}`: a Files API create answer without an upload URL."""

    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        body = json.dumps({}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def no_upload_url() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _NoUploadURL)
    httpd.daemon_threads = True
    # A short poll: shutdown() waits up to one poll interval (0.5 s by default).
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("path", PATHS)
def test_an_unreadable_files_api_answer_is_typed_through_the_tool(
    no_upload_url: str, path: str
) -> None:
    llm = make_llm(no_upload_url, path, max_retries=0)
    tool = GeminiCodeExecutionTool(
        llm=llm, files={"big.csv": b"a,b\n" * 300}, inline_max_bytes=16, handle_tool_error=True
    )
    args = {"task": "sum column a", "files": ["big.csv"]}
    content = tool.invoke(args) if path.startswith("sync") else asyncio.run(tool.ainvoke(args))
    assert str(content).startswith("gemini_code_execution failed"), content
    assert "could not be read" in str(content)


@pytest.mark.parametrize("path", PATHS)
def test_an_unreadable_files_api_answer_is_typed_in_a_file_batch(
    no_upload_url: str, path: str
) -> None:
    llm = make_llm(no_upload_url, path, max_retries=0)
    with pytest.raises(IncompleteResponseError, match="could not be read"):
        if path in SYNC_PATHS:
            submit_batch(llm, ["a", "b"], input_mode="file")
        else:
            asyncio.run(asubmit_batch(llm, ["a", "b"], input_mode="file"))


UPLOAD_TIMEOUT = 0.05


@pytest.mark.parametrize("path", PATHS)
def test_timeout_bounds_a_file_batch_upload(server: GeminiTestServer, path: str) -> None:
    """The upload is the submission's first request and never answered: a tiny timeout."""
    server.files_delay = 5.0
    llm = make_llm(server.base_url, path, timeout=UPLOAD_TIMEOUT, max_retries=0)
    start = time.perf_counter()
    with pytest.raises(GeminiTimeoutError):
        if path in SYNC_PATHS:
            submit_batch(llm, ["a", "b"], input_mode="file")
        else:
            asyncio.run(asubmit_batch(llm, ["a", "b"], input_mode="file"))
    elapsed = time.perf_counter() - start
    assert UPLOAD_TIMEOUT * 0.9 <= elapsed < UPLOAD_TIMEOUT + 1.5, elapsed  # not the server's 5 s


@pytest.mark.parametrize("used", [False, True], ids=["fresh", "after-use"])
@pytest.mark.parametrize("path", [PATHS[0], PATHS[2]])
def test_a_pickled_model_builds_its_own_client(
    server: GeminiTestServer, path: str, used: bool
) -> None:
    """Pickling (multiprocessing, caches) keeps the settings, never the client or its lock."""
    llm = make_llm(server.base_url, path, max_retries=0, temperature=0.3)
    if used:
        server.enqueue(Reply.json(ANSWER_OK))
        invoke(llm, path)
    restored = pickle.loads(pickle.dumps(llm))
    assert restored.temperature == 0.3
    server.enqueue(Reply.json(ANSWER_OK))
    assert invoke(restored, path).text == "ok"
    assert restored.genai_client is not llm.genai_client


@pytest.mark.parametrize("location", ["http://[::1", "http://h:99999/x"], ids=["bracket", "port"])
@pytest.mark.parametrize("mode", ["invoke", "stream"])
@pytest.mark.parametrize("path", PATHS)
def test_a_redirect_to_an_unparsable_location_is_a_redirect_error(
    server: GeminiTestServer, path: str, mode: str, location: str
) -> None:
    """Classic httpx raises on such a Location (even when not following): still typed as a
    redirect, and not retried."""
    server.enqueue(*[Reply.raw(308, b"", {"Location": location}) for _ in range(3)])
    llm = make_llm(server.base_url, path, max_retries=2)
    if mode == "stream":
        error = stream(llm, path)[1]
    else:
        with pytest.raises(GeminiCodeExecutionError) as info:
            invoke(llm, path)
        error = info.value
    assert isinstance(error, GeminiRedirectError), repr(error)
    assert error.location_origin == "(an unparsable Location)"
    assert len(server.model_requests) == 1  # not retried


@pytest.mark.parametrize(
    "content",
    [{"role": "model", "parts": "abc"}, {"role": "model", "parts": {"text": "x"}}, "abc", [1]],
    ids=["parts-string", "parts-object", "content-string", "content-list"],
)
@pytest.mark.parametrize("mode", ["invoke", "stream"])
@pytest.mark.parametrize("path", PATHS)
def test_malformed_content_is_not_an_empty_answer(
    server: GeminiTestServer, path: str, mode: str, content: Any
) -> None:
    body = {"candidates": [{"content": content, "finishReason": "STOP"}]}
    if mode == "stream":
        event = b"data: " + json.dumps(body).encode() + b"\r\n\r\n"
        server.enqueue(Reply.raw(200, event, {"Content-Type": "text/event-stream"}))
        error = stream(make_llm(server.base_url, path, max_retries=0), path)[1]
    else:
        server.enqueue(Reply.json(body))
        with pytest.raises(GeminiCodeExecutionError) as info:
            invoke(make_llm(server.base_url, path, max_retries=0), path)
        error = info.value
    assert isinstance(error, IncompleteResponseError), repr(error)
