"""GeminiTestServer driven by the real google-genai SDK (sync, aiohttp and httpx)."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import httpx
import httpx2
import pytest
from google import genai
from google.auth.credentials import Credentials
from google.genai import errors, types

from langchain_gemini_codeexec._transport import sdk as _sdk
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    RecordedRequest,
    Reply,
    blocked,
    code,
    function_call,
    image,
    merge_chunks,
    response,
    result,
    stream_chunks,
    text,
    usage,
)
from langchain_gemini_codeexec.testing.demo import SUM_OF_PRIMES_PROMPT, sum_of_primes_chunks

MODEL = "gemini-2.5-flash"
TRANSPORT_ERRORS = (httpx.TransportError, httpx2.TransportError, aiohttp.ClientError)


class StubCredentials(Credentials):
    """google.auth credentials that always hold a bearer token, no network."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.token = "tok"

    def refresh(self, request: Any) -> None:
        self.token = "tok"


@pytest.fixture
def server() -> Iterator[GeminiTestServer]:
    with GeminiTestServer() as srv:
        yield srv


@pytest.fixture(params=["httpx2", "httpx"])
def client(request: pytest.FixtureRequest, server: GeminiTestServer) -> genai.Client:
    """A sync client on httpx2 (google-genai 3.6's default) or classic httpx.

    The SDK picks the httpx flavour from the package of any object in
    ``client_args`` / ``async_client_args``, so passing a transport selects it.
    """
    args = {"transport": httpx.HTTPTransport()} if request.param == "httpx" else None
    opts = types.HttpOptions(base_url=server.base_url, client_args=args)
    c = genai.Client(api_key="test", http_options=opts)
    assert _sdk.http_library(c, is_async=False) == request.param
    return c


@pytest.fixture(params=["aiohttp", "httpx2", "httpx"])
def aclient(request: pytest.FixtureRequest, server: GeminiTestServer) -> genai.Client:
    """A client whose ``.aio`` uses aiohttp (the default when importable), httpx2 or httpx.

    google-genai 3.6 uses aiohttp unless ``async_client_args`` has a ``transport``
    or an ``httpx_async_client`` is given; the transport's package picks the flavour.
    """
    transports = {"httpx2": httpx2.AsyncHTTPTransport, "httpx": httpx.AsyncHTTPTransport}
    args = {"transport": transports[request.param]()} if request.param in transports else None
    opts = types.HttpOptions(base_url=server.base_url, async_client_args=args)
    c = genai.Client(api_key="test", http_options=opts)
    assert _sdk.http_library(c, is_async=True) == request.param
    return c


CODE_RESPONSE = response(
    text("Let me compute.", thought=True),
    code("print(2 + 2)", id="c1"),
    result("4\n", id="c1", signature="c2ln"),
    image(b"\x89PNG fake"),
    text("The answer is 4."),
    usage=usage(prompt=5, candidates=7, tool_use_prompt=3),
)


def _parts(resp: types.GenerateContentResponse) -> list[types.Part]:
    assert resp.candidates and resp.candidates[0].content
    return list(resp.candidates[0].content.parts or [])


def _check_code_response(resp: types.GenerateContentResponse) -> None:
    parts = _parts(resp)
    assert parts[0].thought is True and parts[0].text == "Let me compute."
    assert parts[1].executable_code and parts[1].executable_code.code == "print(2 + 2)"
    assert parts[2].code_execution_result and parts[2].code_execution_result.output == "4\n"
    assert parts[2].thought_signature == b"sig"
    assert parts[3].inline_data and parts[3].inline_data.data == b"\x89PNG fake"
    assert parts[4].text == "The answer is 4."
    assert resp.usage_metadata and resp.usage_metadata.total_token_count == 15


# ------------------------------------------------------------------ generate_content


def test_generate_content_sync_records_request(
    server: GeminiTestServer, client: genai.Client
) -> None:
    server.enqueue(CODE_RESPONSE)
    resp = client.models.generate_content(
        model=MODEL,
        contents=[
            types.Content(
                role="user",
                parts=[
                    types.Part(text="2+2?"),
                    types.Part.from_bytes(data=b"\xfb\xff\xfe", mime_type="image/png"),
                ],
            )
        ],
        config=types.GenerateContentConfig(
            tools=[types.Tool(code_execution=types.ToolCodeExecution())]
        ),
    )
    _check_code_response(resp)
    req = server.last_request
    assert (req.method, req.api, req.model, req.action, req.stream) == (
        "POST",
        "developer",
        MODEL,
        "generateContent",
        False,
    )
    assert req.path == f"/v1/models/{MODEL}:generateContent"
    assert req.headers["x-goog-api-key"] == "test"
    assert req.body["tools"] == [{"codeExecution": {}}]
    assert req.text == "2+2?"
    assert req.inline_data() == [b"\xfb\xff\xfe"]
    assert req.parts(0)[0] == {"text": "2+2?"}
    assert b"2+2?" in req.raw_body


async def test_generate_content_async(server: GeminiTestServer, aclient: genai.Client) -> None:
    server.enqueue(CODE_RESPONSE, CODE_RESPONSE)
    for _ in range(2):  # the second request reuses the kept-alive connection
        _check_code_response(await aclient.aio.models.generate_content(model=MODEL, contents="x"))
    assert [r.action for r in server.requests] == ["generateContent"] * 2


def test_model_parts_of_history(server: GeminiTestServer, client: genai.Client) -> None:
    server.enqueue(response(text("ok")))
    history = [
        types.Content(role="user", parts=[types.Part(text="q")]),
        types.Content(
            role="model",
            parts=[
                types.Part(
                    executable_code=types.ExecutableCode(code="1", language=types.Language.PYTHON)
                )
            ],
        ),
        types.Content(role="user", parts=[types.Part(text="more")]),
    ]
    client.models.generate_content(model=MODEL, contents=history)
    assert server.last_request.model_parts() == [
        {"executableCode": {"code": "1", "language": "PYTHON"}}
    ]


# ------------------------------------------------------------------ streaming


def test_stream_sync(server: GeminiTestServer, client: genai.Client) -> None:
    server.enqueue(Reply.stream(sum_of_primes_chunks()))
    chunks = list(client.models.generate_content_stream(model=MODEL, contents=SUM_OF_PRIMES_PROMPT))
    assert len(chunks) == len(sum_of_primes_chunks())
    parts = [p for c in chunks for p in _parts(c)]
    assert any(p.executable_code for p in parts)
    outputs = [p.code_execution_result.output for p in parts if p.code_execution_result]
    assert outputs and outputs[0] and "sum=5117" in outputs[0]
    assert chunks[-1].candidates and chunks[-1].candidates[0].finish_reason == "STOP"
    req = server.last_request
    assert (req.action, req.stream, req.query) == ("streamGenerateContent", True, {"alt": "sse"})


async def test_stream_async(server: GeminiTestServer, aclient: genai.Client) -> None:
    chunks_in = stream_chunks(CODE_RESPONSE)
    server.enqueue(Reply.stream(chunks_in, crlf=False), Reply.stream(chunks_in, chunk_delay=0.001))
    for _ in range(2):
        stream = await aclient.aio.models.generate_content_stream(model=MODEL, contents="x")
        chunks = [c async for c in stream]
        assert len(chunks) == len(chunks_in)
        assert "".join(c.text or "" for c in chunks) == "The answer is 4."
        assert chunks[-1].usage_metadata and chunks[-1].usage_metadata.total_token_count == 15


def test_json_reply_to_stream_is_one_event_and_stream_to_json_is_merged(
    server: GeminiTestServer, client: genai.Client
) -> None:
    server.enqueue(CODE_RESPONSE, Reply.stream(stream_chunks(CODE_RESPONSE, text_pieces=2)))
    chunks = list(client.models.generate_content_stream(model=MODEL, contents="x"))
    assert len(chunks) == 1
    _check_code_response(chunks[0])
    resp = client.models.generate_content(model=MODEL, contents="x")
    texts = [p.text for p in _parts(resp) if p.text is not None]
    # Text deltas become whole parts again, as generateContent answers.
    assert texts == ["Let me compute.", "The answer is 4."]
    assert resp.response_id == "resp-1"


def test_error_mid_stream_raises(server: GeminiTestServer, client: genai.Client) -> None:
    err = {"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}
    server.enqueue(Reply.stream(stream_chunks(CODE_RESPONSE)[:2], error_after=err))
    got = []
    with pytest.raises(errors.ServerError) as info:
        for chunk in client.models.generate_content_stream(model=MODEL, contents="x"):
            got.append(chunk)
    assert len(got) == 2 and info.value.code == 503 and info.value.message == "overloaded"


async def test_error_mid_stream_raises_async(
    server: GeminiTestServer, aclient: genai.Client
) -> None:
    err = {"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}}
    server.enqueue(Reply.stream(stream_chunks(CODE_RESPONSE)[:1], error_after=err))
    stream = await aclient.aio.models.generate_content_stream(model=MODEL, contents="x")
    got = []
    with pytest.raises(errors.ClientError) as info:
        async for chunk in stream:
            got.append(chunk)
    assert len(got) == 1 and info.value.code == 429


async def test_reset_and_truncate_mid_stream(
    server: GeminiTestServer, aclient: genai.Client
) -> None:
    chunks_in = stream_chunks(CODE_RESPONSE)
    server.enqueue(
        Reply.stream(chunks_in, reset_after=2), Reply.stream(chunks_in, truncate_last=True)
    )
    for expected in (2, len(chunks_in) - 1):
        stream = await aclient.aio.models.generate_content_stream(model=MODEL, contents="x")
        got = []
        with pytest.raises((*TRANSPORT_ERRORS, errors.UnknownApiResponseError)):
            async for chunk in stream:
                got.append(chunk)
        assert len(got) == expected


def test_truncate_last_sync_raises_unknown_response(
    server: GeminiTestServer, client: genai.Client
) -> None:
    server.enqueue(Reply.stream(stream_chunks(CODE_RESPONSE), truncate_last=True))
    with pytest.raises(errors.UnknownApiResponseError):
        list(client.models.generate_content_stream(model=MODEL, contents="x"))


# ------------------------------------------------------------------ Vertex and express


def test_vertex_path_and_bearer_token(server: GeminiTestServer) -> None:
    c = genai.Client(
        vertexai=True,
        project="p",
        location="us-central1",
        credentials=StubCredentials(),
        http_options=types.HttpOptions(base_url=server.base_url),
    )
    server.enqueue(CODE_RESPONSE, Reply.stream(stream_chunks(CODE_RESPONSE)))
    _check_code_response(c.models.generate_content(model=MODEL, contents="x"))
    assert len(list(c.models.generate_content_stream(model=MODEL, contents="x"))) > 1
    req = server.requests[0]
    assert req.api == "vertex" and req.model == MODEL
    assert req.path.endswith(
        f"/projects/p/locations/us-central1/publishers/google/models/{MODEL}:generateContent"
    )
    assert req.headers["authorization"] == "Bearer tok"
    assert server.last_request.stream


async def test_vertex_async(server: GeminiTestServer) -> None:
    c = genai.Client(
        vertexai=True,
        project="p",
        location="us-central1",
        credentials=StubCredentials(),
        http_options=types.HttpOptions(base_url=server.base_url),
    )
    server.enqueue(CODE_RESPONSE)
    _check_code_response(await c.aio.models.generate_content(model=MODEL, contents="x"))
    assert server.last_request.api == "vertex"


def test_express_mode(server: GeminiTestServer) -> None:
    c = genai.Client(
        vertexai=True, api_key="k", http_options=types.HttpOptions(base_url=server.base_url)
    )
    server.enqueue(CODE_RESPONSE)
    _check_code_response(c.models.generate_content(model=MODEL, contents="x"))
    req = server.last_request
    assert (req.api, req.model) == ("vertex_express", MODEL)
    assert req.path.endswith(f"/publishers/google/models/{MODEL}:generateContent")
    assert req.headers["x-goog-api-key"] == "k"


# ------------------------------------------------------------------ countTokens


def test_count_tokens_estimate_and_callable(server: GeminiTestServer, client: genai.Client) -> None:
    server.enqueue(Reply.error(500, "must not be used"))
    assert client.models.count_tokens(model=MODEL, contents="a" * 40).total_tokens == 10
    assert client.models.count_tokens(model=MODEL, contents="a").total_tokens == 1
    server.count_tokens = lambda req: 42
    assert client.models.count_tokens(model=MODEL, contents="x").total_tokens == 42
    assert server.pending == 1 and server.last_request.action == "countTokens"


# ------------------------------------------------------------------ errors


def test_rate_limited_is_client_error(server: GeminiTestServer, client: genai.Client) -> None:
    server.enqueue(Reply.rate_limited(retry_after=2, retry_delay="1.5s"))
    with pytest.raises(errors.ClientError) as info:
        client.models.generate_content(model=MODEL, contents="x")
    err = info.value
    assert (err.code, err.status) == (429, "RESOURCE_EXHAUSTED")
    assert err.details["error"]["details"][0]["retryDelay"] == "1.5s"
    assert err.response is not None and err.response.headers["retry-after"] == "2"


async def test_error_async(server: GeminiTestServer, aclient: genai.Client) -> None:
    server.enqueue(Reply.error(400, "bad tool"), Reply.error(503, "down"))
    with pytest.raises(errors.ClientError) as info:
        await aclient.aio.models.generate_content(model=MODEL, contents="x")
    assert (info.value.code, info.value.status, info.value.message) == (
        400,
        "INVALID_ARGUMENT",
        "bad tool",
    )
    with pytest.raises(errors.ServerError):  # an error status on a stream request
        stream = await aclient.aio.models.generate_content_stream(model=MODEL, contents="x")
        async for _ in stream:
            pass


def test_no_scripted_reply_is_an_immediate_client_error(
    server: GeminiTestServer, client: genai.Client
) -> None:
    with pytest.raises(errors.ClientError) as info:
        client.models.generate_content(model=MODEL, contents="x")
    assert info.value.code == 400 and info.value.status == "FAILED_PRECONDITION"
    assert "nothing was scripted" in (info.value.message or "")
    assert len(server.requests) == 1


def test_unscripted_request_is_not_retried_by_the_model(server: GeminiTestServer) -> None:
    import time

    from langchain_gemini_codeexec import ChatGeminiCodeExecution
    from langchain_gemini_codeexec.errors import GeminiAPIError

    llm = ChatGeminiCodeExecution(api_key="k", base_url=server.base_url, max_retries=5)
    started = time.monotonic()
    with pytest.raises(GeminiAPIError, match="nothing was scripted"):
        llm.invoke("hi")
    assert len(server.requests) == 1
    assert time.monotonic() - started < 5  # no back-off (5 retries would take 30 s+)


def test_unknown_route_is_404(server: GeminiTestServer, client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as info:
        client.models.get(model=MODEL)
    assert info.value.code == 404
    assert (server.last_request.api, server.last_request.action) == ("unknown", "")


def test_blocked_prompt(server: GeminiTestServer, client: genai.Client) -> None:
    server.enqueue(blocked("PROHIBITED_CONTENT"))
    resp = client.models.generate_content(model=MODEL, contents="x")
    assert not resp.candidates
    assert resp.prompt_feedback and resp.prompt_feedback.block_reason == "PROHIBITED_CONTENT"


def test_raw_close_reset_and_timeout(server: GeminiTestServer, client: genai.Client) -> None:
    server.enqueue(Reply.raw(200, b"{not json"), Reply.close(), Reply.reset(), Reply.hang(30))
    with pytest.raises(ValueError):  # json.JSONDecodeError, raised as is by the SDK
        client.models.generate_content(model=MODEL, contents="x")
    for _ in range(2):
        with pytest.raises(TRANSPORT_ERRORS):
            client.models.generate_content(model=MODEL, contents="x")
    start = time.monotonic()
    with pytest.raises((httpx.TimeoutException, httpx2.TimeoutException)):
        client.models.generate_content(
            model=MODEL, contents="x", config={"http_options": {"timeout": 50}}
        )
    assert 0.045 <= time.monotonic() - start < 5  # milliseconds: 50 ms, not the 30 s hang


# ------------------------------------------------------------------ responder


def test_responder_used_when_queue_empty() -> None:
    seen: list[RecordedRequest] = []

    def responder(req: RecordedRequest) -> dict[str, Any]:
        seen.append(req)
        return response(text(f"echo {req.text}"))

    with GeminiTestServer(responder) as srv:
        c = genai.Client(api_key="t", http_options=types.HttpOptions(base_url=srv.base_url))
        srv.enqueue(response(text("queued")))
        assert c.models.generate_content(model=MODEL, contents="a").text == "queued"
        assert c.models.generate_content(model=MODEL, contents="b").text == "echo b"
        streamed = list(c.models.generate_content_stream(model=MODEL, contents="c"))
        assert [s.text for s in streamed] == ["echo c"]
        assert [r.text for r in seen] == ["b", "c"]
        srv.responder = lambda req: 1 / 0  # type: ignore[assignment, return-value]
        with pytest.raises(errors.ServerError, match="ZeroDivisionError"):
            c.models.generate_content(model=MODEL, contents="d")


# ------------------------------------------------------------------ Files API


def test_files_upload_sync(server: GeminiTestServer, client: genai.Client, tmp_path: Any) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"a,b\n1,2\n")
    f = client.files.upload(file=path, config={"mime_type": "text/csv", "display_name": "d"})
    assert f.name and f.uri and f.state == "ACTIVE" and f.size_bytes == 8
    assert f.uri.startswith(server.base_url) and f.display_name == "d"
    stored = server.files[f.name]
    assert (stored.data, stored.mime_type, stored.display_name) == (b"a,b\n1,2\n", "text/csv", "d")
    upload, data = server.requests
    assert (upload.api, upload.action, data.action) == ("files", "upload", "upload_data")
    assert upload.headers["x-goog-upload-protocol"] == "resumable"
    assert data.raw_body == b"a,b\n1,2\n"
    got = client.files.get(name=f.name)
    assert got.uri == f.uri
    server.enqueue(response(text("2 rows")))
    client.models.generate_content(
        model=MODEL, contents=[types.Part.from_uri(file_uri=f.uri, mime_type="text/csv"), "rows?"]
    )
    assert server.last_request.parts(0)[0]["fileData"]["file_uri"] == f.uri  # SDK sends snake
    client.files.delete(name=f.name)
    assert not server.files


def test_files_upload_in_several_chunks(server: GeminiTestServer, client: genai.Client) -> None:
    blob = bytes(range(256)) * (9 * 4096)  # 9 MiB: the SDK sends 8 MiB chunks
    f = client.files.upload(file=io.BytesIO(blob), config={"mime_type": "application/pdf"})
    assert f.name and server.files[f.name].data == blob
    assert [r.action for r in server.requests] == ["upload", "upload_data", "upload_data"]


async def test_files_upload_async(server: GeminiTestServer, aclient: genai.Client) -> None:
    f = await aclient.aio.files.upload(file=io.BytesIO(b"xyz"), config={"mime_type": "text/plain"})
    assert f.name and server.files[f.name].data == b"xyz"
    assert (await aclient.aio.files.get(name=f.name)).mime_type == "text/plain"


# ------------------------------------------------------------------ load and lifecycle


# 300 at once is CPU-bound (~1 s a path): the slow set; 50 show the same in the fast suite.
@pytest.mark.parametrize("count", [50, pytest.param(300, marks=pytest.mark.slow)])
async def test_many_concurrent_requests(
    server: GeminiTestServer, aclient: genai.Client, count: int
) -> None:
    server.responder = lambda req: response(text(req.text))
    results = await asyncio.gather(
        *(aclient.aio.models.generate_content(model=MODEL, contents=f"n{i}") for i in range(count))
    )
    assert [r.text for r in results] == [f"n{i}" for i in range(count)]
    assert len(server.requests) == count


@pytest.mark.parametrize("count", [150, pytest.param(500, marks=pytest.mark.slow)])
async def test_many_open_connections(count: int) -> None:
    """Connections open at once, past asyncio's default listen backlog (100): all answered."""
    async with GeminiTestServer() as srv:
        srv.responder = lambda req: response(text("ok"))
        port = int(srv.base_url.rsplit(":", 1)[1])
        body = b'{"contents": [{"parts": [{"text": "hi"}]}]}'
        req = (
            f"POST /v1beta/models/{MODEL}:generateContent HTTP/1.1\r\nHost: x\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body

        async def one() -> bytes:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(req)
            head = await reader.readuntil(b"\r\n\r\n")
            writer.close()
            return head

        heads = await asyncio.gather(*(one() for _ in range(count)))
        assert all(h.startswith(b"HTTP/1.1 200 OK") for h in heads)


def test_stop_with_hanging_request_returns_promptly() -> None:
    srv = GeminiTestServer().start()
    srv.enqueue(Reply.hang(60))
    c = genai.Client(api_key="t", http_options=types.HttpOptions(base_url=srv.base_url))
    failures: list[BaseException] = []

    def call() -> None:
        try:
            c.models.generate_content(model=MODEL, contents="x")
        except BaseException as exc:
            failures.append(exc)

    t = threading.Thread(target=call, daemon=True)
    t.start()
    deadline = time.monotonic() + 5
    while not srv.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    start = time.monotonic()
    srv.stop()
    srv.stop()  # idempotent
    assert time.monotonic() - start < 2
    t.join(5)
    assert failures and isinstance(failures[0], TRANSPORT_ERRORS)


def test_clear_and_restart() -> None:
    srv = GeminiTestServer()
    with pytest.raises(RuntimeError):
        _ = srv.base_url
    with srv:
        srv.enqueue(response(text("a")))
        c = genai.Client(api_key="t", http_options=types.HttpOptions(base_url=srv.base_url))
        c.models.generate_content(model=MODEL, contents="x")
        srv.enqueue(response(text("b")))
        srv.clear()
        assert srv.requests == [] and srv.pending == 0


# ------------------------------------------------------------------ builders


def test_builders_shape() -> None:
    assert code("x", id="1", signature="s") == {
        "executableCode": {"language": "PYTHON", "code": "x", "id": "1"},
        "thoughtSignature": "s",
    }
    assert result() == {"codeExecutionResult": {"outcome": "OUTCOME_OK"}}
    assert image(b"\xff\xfe")["inlineData"]["data"] == base64.b64encode(b"\xff\xfe").decode()
    assert function_call("f", {"a": 1}, id="i") == {
        "functionCall": {"name": "f", "args": {"a": 1}, "id": "i"}
    }
    assert usage(1, 2, thoughts=3) == {
        "promptTokenCount": 1,
        "candidatesTokenCount": 2,
        "thoughtsTokenCount": 3,
        "totalTokenCount": 6,
    }
    assert usage(100, 5, cached=60)["totalTokenCount"] == 105  # cached is part of prompt
    assert "usageMetadata" not in response(text("a"), usage={})
    assert response(text("a"))["candidates"][0]["content"]["role"] == "model"


def test_stream_chunks_and_merge() -> None:
    signed = response(text("abcdef"), text("", signature="c2ln"), code("1"), usage=usage(3, 30))
    chunks = stream_chunks(signed)
    assert [c["candidates"][0]["content"]["parts"][0].get("text") for c in chunks] == [
        "ab",
        "cd",
        "ef",
        "",
        None,
    ]
    totals = [c["usageMetadata"]["totalTokenCount"] for c in chunks]
    assert totals == sorted(totals) and chunks[-1]["usageMetadata"] == usage(3, 30)
    assert [("finishReason" in c["candidates"][0]) for c in chunks] == [False] * 4 + [True]
    assert all(c["responseId"] == "resp-1" and c["modelVersion"] for c in chunks)
    merged = merge_chunks(chunks)
    merged_parts = merged["candidates"][0]["content"]["parts"]
    assert merged_parts == [{"text": "abcdef"}, *signed["candidates"][0]["content"]["parts"][1:]]
    assert merged["candidates"][0]["finishReason"] == "STOP"
    assert merged["usageMetadata"] == usage(3, 30)
    assert stream_chunks(blocked()) == [blocked()]


def test_recorded_sum_of_primes_is_true() -> None:
    whole = merge_chunks(sum_of_primes_chunks())
    parts = whole["candidates"][0]["content"]["parts"]
    out = next(p["codeExecutionResult"]["output"] for p in parts if "codeExecutionResult" in p)
    primes = eval(out.split("\n")[0].removeprefix("primes="))
    assert len(primes) == 50 and sum(primes) == 5117 and out.endswith("sum=5117\n")
    namespace: dict[str, Any] = {}
    src = next(p["executableCode"]["code"] for p in parts if "executableCode" in p)
    exec(src.replace("print(", "str("), namespace)
    assert namespace["primes"] == primes


async def test_connection_close_flushes_whole_body_and_headers_override() -> None:
    big = "x" * (5 << 20)
    async with GeminiTestServer() as srv:
        srv.enqueue(Reply.json(response(text(big)), headers={"content-type": "application/json"}))
        port = int(srv.base_url.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"POST /v1/models/{MODEL}:generateContent HTTP/1.0\r\n\r\n".encode())
        data = await reader.read()  # until the server closes
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.lower().count(b"content-type") == 1 and b"Connection: close" in head
    assert json.loads(body)["candidates"][0]["content"]["parts"][0]["text"] == big
    assert srv.last_request.action == "generateContent" and srv.last_request.body is None


def test_stream_reply_with_error_to_plain_request(
    server: GeminiTestServer, client: genai.Client
) -> None:
    err = {"error": {"code": 500, "message": "boom", "status": "INTERNAL"}}
    server.enqueue(Reply.stream(stream_chunks(CODE_RESPONSE), error_after=err))
    with pytest.raises(errors.ServerError, match="boom"):
        client.models.generate_content(model=MODEL, contents="x")


def test_streamed_script_read_by_invoke_has_whole_text_parts(server: GeminiTestServer) -> None:
    from langchain_gemini_codeexec import ChatGeminiCodeExecution

    whole = response(
        text("Let me compute this carefully.\n\n"),
        code("print(1 + 1)"),
        result("2\n"),
        text("The answer is two, as the code shows."),
    )
    server.enqueue(Reply.stream(stream_chunks(whole, text_pieces=3)))
    llm = ChatGeminiCodeExecution(api_key="k", base_url=server.base_url, max_retries=0)
    message = llm.invoke("1+1?")
    kinds = [block["type"] for block in message.content_blocks]
    assert kinds == ["text", "server_tool_call", "server_tool_result", "text"]
    assert message.content_blocks[-1]["text"] == "The answer is two, as the code shows."
