"""Record through `GeminiTestServer(cassette=..., record=True)`, replay with upstream gone.

A second loopback `GeminiTestServer` stands in for Gemini (scripted answers, its Files API
and countTokens). Everything goes through the real google-genai SDK over HTTP: the model
on every path (invoke, stream; ainvoke/astream on aiohttp, httpx2 and httpx), a raw
client's file upload and countTokens, and plain HTTP for endpoints of any shape.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from google import genai
from google.genai import types
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage

from langchain_gemini_codeexec import ChatGeminiCodeExecution, GeminiCodeExecutionTool
from langchain_gemini_codeexec.errors import GeminiAPIError, GeminiConnectionError
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    RecordedRequest,
    Reply,
    response,
    stream_chunks,
    text,
)
from langchain_gemini_codeexec.testing.demo import SUM_OF_PRIMES_PROMPT, sum_of_primes_chunks
from tests.support import (
    ASYNC_TRANSPORTS,
    PATHS,
    aclose_model,
    aggregate,
    as_message,
    check_path,
    force_transport,
    path_llm,
)

# Shaped like a real key (39 characters, AIza prefix); the test fails if any of it leaks.
KEY = "AIzaSyC7-rEaLlOoKiNg_SeCrEt-kEy9876543210"
TOKEN = "ya29.a0AfB_byC-SeCrEtBeArErToKeN-0123456789xyz"
PROJECT = "acme-secret-project-4711"
MODEL = "gemini-2.5-flash"
ECHO = "Repeat after me: "
ASYNC = ASYNC_TRANSPORTS
MODES = ("invoke", "stream", *(f"{m}-{t}" for m in ("ainvoke", "astream") for t in ASYNC))


def stand_in(req: RecordedRequest) -> Reply:
    """Gemini as scripted: echoes prompts that ask for it, else the sum-of-primes answer."""
    if ECHO in req.text:
        said = req.text.split(ECHO, 1)[1]
        return Reply.stream(stream_chunks(response(text(f"You said: {said}"))))
    return Reply.stream(sum_of_primes_chunks())


async def call(llm: ChatGeminiCodeExecution, mode: str, prompt: str) -> tuple[AIMessage, int]:
    """The message of one call in `mode`, and how many chunks a stream gave."""
    if mode == "invoke":
        return llm.invoke(prompt), 1
    if mode.startswith("ainvoke"):
        return await llm.ainvoke(prompt), 1
    if mode == "stream":
        chunks = list(llm.stream(prompt))
    else:
        chunks = [c async for c in llm.astream(prompt)]
    return as_message(aggregate(chunks)), len(chunks)


def llm_at(base_url: str, key: str = KEY, **kwargs: Any) -> ChatGeminiCodeExecution:
    settings: dict[str, Any] = {"model": MODEL, "api_key": key, "base_url": base_url}
    return ChatGeminiCodeExecution(**{**settings, "max_retries": 0, **kwargs})


def same(a: AIMessage, b: AIMessage) -> bool:
    """Equal but for the id (LangChain's run id when Gemini sends none is new per run)."""
    return bool(a.model_dump(exclude={"id"}) == b.model_dump(exclude={"id"}))


def prompt_for(mode: str) -> str:
    return f"{SUM_OF_PRIMES_PROMPT} ({mode})"


@dataclass
class Recording:
    path: Path
    messages: dict[str, AIMessage] = field(default_factory=dict)
    chunk_counts: dict[str, int] = field(default_factory=dict)
    upstream_requests: list[RecordedRequest] = field(default_factory=list)
    recorder_requests: list[RecordedRequest] = field(default_factory=list)
    upload: types.File | None = None
    tokens: int | None = None
    tool_content: str = ""
    generic: list[tuple[int, bytes]] = field(default_factory=list)


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recording]:
    """One cassette recorded through every path; the stand-in upstream is stopped after."""
    mp = pytest.MonkeyPatch()
    for name in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI"):
        mp.delenv(name, raising=False)
    tmp = tmp_path_factory.mktemp("recorded")
    rec = Recording(tmp / "nested" / "session.json")
    files_dir = tmp / "files"
    files_dir.mkdir()
    (files_dir / "values.csv").write_text("value\n" + "\n".join(map(str, range(1, 101))))
    try:
        with GeminiTestServer(responder=stand_in) as upstream:
            with GeminiTestServer(
                cassette=rec.path, record=True, upstream=upstream.base_url, redact=[PROJECT]
            ) as recorder:
                for mode in MODES:
                    if "-" in mode:
                        force_transport(mp, mode.split("-")[1])
                    llm = llm_at(recorder.base_url)
                    message, n = asyncio.run(call(llm, mode, prompt_for(mode)))
                    rec.messages[mode], rec.chunk_counts[mode] = message, n
                # The key inside a prompt, echoed back by "Gemini".
                rec.messages["echo"] = llm_at(recorder.base_url).invoke(f"{ECHO}{KEY}")
                # The key inside a file sent inline (base64 in the request body).
                for shift in range(3):  # at each of the three base64 alignments
                    data = b"x" * shift + b"key=" + KEY.encode() + b"\n"
                    block = {
                        "type": "file",
                        "base64": base64.b64encode(data).decode(),
                        "mime_type": "text/plain",
                    }
                    llm_at(recorder.base_url).invoke(
                        [HumanMessage([{"type": "text", "text": "Read it."}, block])]
                    )
                # Streamed, the echoed key arrives cut into pieces, one per event.
                pieces = list(llm_at(recorder.base_url).stream(f"{ECHO}{KEY} again"))
                rec.messages["echo-stream"] = as_message(aggregate(pieces))
                client = genai.Client(
                    api_key=KEY, http_options=types.HttpOptions(base_url=recorder.base_url)
                )
                # The key inside an uploaded file, and countTokens.
                rec.upload = client.files.upload(
                    file=io.BytesIO(b"id,secret\n1," + KEY.encode() + b"\n"),
                    config={"mime_type": "text/csv", "display_name": "keys.csv"},
                )
                rec.tokens = client.models.count_tokens(
                    model=MODEL, contents="How many tokens is this?"
                ).total_tokens
                # The tool attaching a file through the Files API (upload, then the call).
                tool = GeminiCodeExecutionTool(
                    llm=llm_at(recorder.base_url), files_dir=files_dir, inline_max_bytes=0
                )
                rec.tool_content = tool.invoke(
                    {"task": "Sum the value column.", "files": ["values.csv"]}
                )
                # The key in the query string, and endpoints of any shape (the stand-in
                # answers these with a 404: recorded and replayed like any answer).
                with httpx.Client(base_url=recorder.base_url) as http:
                    for method, url, body in (
                        ("GET", f"/v1beta/models?key={KEY}&pageSize=5", None),
                        ("POST", "/v1beta/cachedContents", {"model": f"models/{MODEL}"}),
                        ("GET", "/v1beta/batches/123", None),
                    ):
                        r = http.request(method, url, json=body)
                        rec.generic.append((r.status_code, r.content))
                # Vertex AI: bearer token and project id in the path.
                vertex = genai.Client(
                    vertexai=True,
                    project=PROJECT,
                    location="us-central1",
                    credentials=_token_credentials(TOKEN),
                    http_options=types.HttpOptions(base_url=recorder.base_url),
                )
                vertex.models.generate_content(model=MODEL, contents=f"{ECHO}vertex")
                assert not rec.path.exists(), "written when the with block exits, not before"
                rec.recorder_requests = list(recorder.requests)
            rec.upstream_requests = list(upstream.requests)
    finally:
        mp.undo()  # the transport forced last must not leak into the replay tests
    yield rec


def _token_credentials(token: str) -> Any:
    from google.oauth2.credentials import Credentials

    return Credentials(token=token)


@pytest.fixture
def replay(recording: Recording) -> Iterator[GeminiTestServer]:
    with GeminiTestServer(cassette=recording.path) as server:
        yield server


# --- recording -------------------------------------------------------------------------


def test_recording_forwards_everything_and_writes_the_cassette(recording: Recording) -> None:
    assert recording.path.is_file()
    data = json.loads(recording.path.read_text())
    interactions = data["interactions"]
    # Every request reached the stand-in once, and every one is in the cassette, in order.
    assert len(recording.upstream_requests) == len(recording.recorder_requests)
    assert len(interactions) == len(recording.recorder_requests)
    assert [i["request"]["path"] for i in interactions] == [
        r.path.replace(PROJECT, "REDACTED") for r in recording.recorder_requests
    ]
    # What the client got through the recorder is what the stand-in answered.
    message = recording.messages["invoke"]
    assert "5117" in message.text
    kinds = [b["type"] for b in message.content_blocks]
    assert {"text", "server_tool_call", "server_tool_result"} == set(kinds)
    assert recording.tokens is not None and recording.tokens > 0
    assert recording.upload is not None and recording.upload.name
    assert "5117" in recording.tool_content


def test_a_stream_is_recorded_as_its_events(recording: Recording) -> None:
    data = json.loads(recording.path.read_text())
    streams = [
        i
        for i in data["interactions"]
        if "events" in i["response"] and ECHO not in json.dumps(i["request"]["body"])
    ]
    assert len(streams) == 1 + len(ASYNC)  # stream and astream on each async transport
    for interaction in streams:
        assert interaction["request"]["query"] == {"alt": "sse"}
        assert interaction["response"]["events"] == sum_of_primes_chunks()


def test_a_stream_is_forwarded_event_by_event(tmp_path: Path) -> None:
    """The first chunk reaches the client while the stand-in is still holding the second."""
    chunks = sum_of_primes_chunks()[:2]
    with GeminiTestServer() as upstream:
        upstream.enqueue(Reply.stream(chunks, chunk_delay=60))
        with GeminiTestServer(
            cassette=tmp_path / "c.json", record=True, upstream=upstream.base_url
        ) as recorder:
            started = time.monotonic()
            stream = llm_at(recorder.base_url).stream("go")
            first = next(iter(stream))
            # A recorder that waited for the whole answer would take the 60 s of the stand-in.
            assert time.monotonic() - started < 30
            assert first.text == chunks[0]["candidates"][0]["content"]["parts"][0]["text"]
            stream.close()


# --- replay --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_replay_gives_the_same_messages(
    recording: Recording, replay: GeminiTestServer, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if "-" in mode:
        force_transport(monkeypatch, mode.split("-")[1])
    llm = llm_at(replay.base_url, key="dummy-key-for-replay")
    message, n = await call(llm, mode, prompt_for(mode))
    assert same(message, recording.messages[mode])
    assert n == recording.chunk_counts[mode]  # a stream has as many chunks as recorded
    assert len(replay.requests) == 1
    assert replay.requests[0].stream == mode.startswith(("stream", "astream"))


@pytest.mark.parametrize("transport", ASYNC)
async def test_replay_on_another_transport_than_recorded(
    recording: Recording, replay: GeminiTestServer, transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recorded on the sync path, replayed on each async one: the same request, the same answer."""
    force_transport(monkeypatch, transport)
    message, n = await call(llm_at(replay.base_url), f"astream-{transport}", prompt_for("stream"))
    assert same(message, recording.messages["stream"])
    assert n == recording.chunk_counts["stream"]


@pytest.mark.parametrize("path", PATHS)
async def test_replay_on_every_http_path(
    recording: Recording, replay: GeminiTestServer, path: str
) -> None:
    """Sync httpx2/httpx and async aiohttp/httpx2/httpx: each gets the recorded answers."""
    llm = path_llm(replay.base_url, path, model=MODEL, max_retries=0)
    check_path(llm, path)
    sync = path.startswith("sync")
    invoke_mode, stream_mode = ("invoke", "stream") if sync else ("ainvoke", "astream")
    for mode in (invoke_mode, stream_mode):
        recorded = "stream" if "stream" in mode else "invoke"
        message, n = await call(llm, mode, prompt_for(recorded))
        assert same(message, recording.messages[recorded])
        assert n == recording.chunk_counts[recorded]
    if not sync:
        await aclose_model(llm)


def test_a_stream_replays_as_a_stream(recording: Recording, replay: GeminiTestServer) -> None:
    """At the HTTP level: chunked, one SSE event per chunk, as many as were recorded."""
    body = {"contents": [{"role": "user", "parts": [{"text": prompt_for("stream")}]}]}
    events = []
    with (
        httpx.Client(base_url=replay.base_url) as http,
        http.stream(
            "POST",
            f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse",
            content=recorded_request_body(recording, "stream"),
        ) as r,
    ):
        assert r.headers["content-type"] == "text/event-stream"
        assert r.headers["transfer-encoding"] == "chunked"
        for line in r.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    assert body["contents"][0]["parts"][0]["text"] in json.dumps(replay.requests[0].body)
    assert events == sum_of_primes_chunks()


def recorded_request_body(recording: Recording, mode: str) -> bytes:
    (raw,) = [r.raw_body for r in recording.recorder_requests if prompt_for(mode) in r.text]
    return raw


def test_files_upload_count_tokens_and_the_tool_replay(
    recording: Recording, replay: GeminiTestServer, tmp_path: Path
) -> None:
    client = genai.Client(
        api_key="another-dummy", http_options=types.HttpOptions(base_url=replay.base_url)
    )
    uploaded = client.files.upload(
        file=io.BytesIO(b"id,secret\n1," + KEY.encode() + b"\n"),
        config={"mime_type": "text/csv", "display_name": "keys.csv"},
    )
    assert recording.upload is not None
    assert (uploaded.name, uploaded.uri) == (recording.upload.name, recording.upload.uri)
    # The upload went to this server's upload URL (rewritten from the stand-in's).
    upload_paths = [r.path for r in replay.requests]
    assert upload_paths[0].startswith("/upload/") and upload_paths[1].startswith("/upload-")
    tokens = client.models.count_tokens(model=MODEL, contents="How many tokens is this?")
    assert tokens.total_tokens == recording.tokens
    (tmp_path / "values.csv").write_text("value\n" + "\n".join(map(str, range(1, 101))))
    tool = GeminiCodeExecutionTool(
        llm=llm_at(replay.base_url, key="dummy"), files_dir=tmp_path, inline_max_bytes=0
    )
    assert tool.invoke({"task": "Sum the value column.", "files": ["values.csv"]}) == (
        recording.tool_content
    )


def test_generic_endpoints_replay_status_and_body(
    recording: Recording, replay: GeminiTestServer
) -> None:
    got = []
    with httpx.Client(base_url=replay.base_url) as http:
        for method, url, body in (
            ("GET", "/v1beta/models?key=other&pageSize=5", None),
            ("POST", "/v1beta/cachedContents", {"model": f"models/{MODEL}"}),
            ("GET", "/v1beta/batches/123", None),
        ):
            r = http.request(method, url, json=body)
            got.append((r.status_code, r.content))
    assert [s for s, _ in got] == [s for s, _ in recording.generic]
    assert [json.loads(b) for _, b in got] == [json.loads(b) for _, b in recording.generic]


def test_vertex_replays_with_another_project_and_no_token(
    recording: Recording, replay: GeminiTestServer
) -> None:
    """The redacted project id matches any project; the bearer token is not matched."""
    vertex = genai.Client(
        vertexai=True,
        project="ci-project",
        location="us-central1",
        credentials=_token_credentials("replay-token"),
        http_options=types.HttpOptions(base_url=replay.base_url),
    )
    answer = vertex.models.generate_content(model=MODEL, contents=f"{ECHO}vertex")
    assert answer.text == "You said: vertex"
    assert "/projects/ci-project/" in replay.requests[0].path


def test_nothing_is_forwarded_in_replay(recording: Recording, replay: GeminiTestServer) -> None:
    """The stand-in is gone: a recorded request is answered, an unrecorded one is refused."""
    llm = llm_at(replay.base_url)
    assert same(llm.invoke(prompt_for("invoke")), recording.messages["invoke"])
    with pytest.raises(GeminiAPIError):
        llm.invoke("not recorded")
    assert json.loads(recording.path.read_text())["upstream"].startswith("http://127.0.0.1:")


def test_an_unrecorded_request_fails_at_once_naming_the_nearest(
    recording: Recording, replay: GeminiTestServer
) -> None:
    llm = ChatGeminiCodeExecution(
        model=MODEL, api_key="dummy", base_url=replay.base_url, max_retries=3
    )
    prompt = prompt_for("invoke").replace("50", "60")
    with pytest.raises(GeminiAPIError) as info:
        llm.invoke(prompt)
    message = str(info.value)
    assert info.value.code == 400
    assert "was not recorded" in message
    assert f"POST /v1beta/models/{MODEL}:generateContent" in message
    assert "Nearest recorded request" in message
    assert "body.contents[0].parts[0].text" in message
    assert "first 60 prime" in message and "first 50 prime" in message
    assert len(replay.requests) == 1  # not retried


def test_an_unrecorded_path_names_the_nearest_and_the_difference(
    recording: Recording, replay: GeminiTestServer
) -> None:
    with httpx.Client(base_url=replay.base_url) as http:
        r = http.get("/v1beta/batches/456")
    assert r.status_code == 400
    error = r.json()["error"]["message"]
    assert "GET /v1beta/batches/456 was not recorded" in error
    assert "#" in error and 'path: recorded "/v1beta/batches/123"' in error


def test_repeats_take_the_next_recorded_answer_then_the_last_again(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    with GeminiTestServer() as upstream:
        upstream.enqueue(
            Reply.error(503, "overloaded"), response(text("first")), response(text("second"))
        )
        with GeminiTestServer(cassette=path, record=True, upstream=upstream.base_url) as rec:
            llm = llm_at(rec.base_url, max_retries=1, retry_initial_delay=0.0)
            assert llm.invoke("hi").text == "first"  # after one retry of the 503
            assert llm.invoke("hi").text == "second"
    with GeminiTestServer(cassette=path) as server:
        llm = llm_at(server.base_url, max_retries=1, retry_initial_delay=0.0)
        assert [llm.invoke("hi").text for _ in range(3)] == ["first", "second", "second"]
        assert len(server.requests) == 4  # the 503, its retry, and two more


def test_a_broken_stream_replays_broken(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    chunks = sum_of_primes_chunks()
    with GeminiTestServer() as upstream:
        upstream.enqueue(Reply.stream(chunks, reset_after=2))
        with GeminiTestServer(cassette=path, record=True, upstream=upstream.base_url) as rec:
            got: list[AIMessageChunk] = []
            with pytest.raises(GeminiConnectionError, match="after 2 chunks") as live:
                got.extend(llm_at(rec.base_url).stream("go"))
    recorded = json.loads(path.read_text())["interactions"][0]["response"]
    assert recorded["truncated"] is True and len(recorded["events"]) == 2
    with GeminiTestServer(cassette=path) as server:
        again: list[AIMessageChunk] = []
        with pytest.raises(GeminiConnectionError, match="after 2 chunks") as replayed:
            again.extend(llm_at(server.base_url).stream("go"))
    assert [c.text for c in again] == [c.text for c in got]
    assert type(replayed.value) is type(live.value)


# --- matching ------------------------------------------------------------------------------


def _record_seeded(path: Path, seed: int) -> None:
    with GeminiTestServer() as upstream:
        upstream.enqueue(response(text("seeded")))
        with GeminiTestServer(cassette=path, record=True, upstream=upstream.base_url) as rec:
            llm_at(rec.base_url, seed=seed).invoke("hi")


def test_ignore_leaves_volatile_fields_out_of_matching(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    _record_seeded(path, 1)
    with (
        GeminiTestServer(cassette=path) as strict,
        pytest.raises(GeminiAPIError, match=r"body\.generationConfig\.seed: recorded 1"),
    ):
        llm_at(strict.base_url, seed=2).invoke("hi")
    with GeminiTestServer(cassette=path, ignore=["generationConfig.seed"]) as loose:
        assert llm_at(loose.base_url, seed=2).invoke("hi").text == "seeded"


def test_a_matcher_function_decides(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    _record_seeded(path, 1)
    seen: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def same_path(received: dict[str, Any], recorded: dict[str, Any]) -> bool:
        seen.append((received, recorded))
        return bool(received["path"] == recorded["path"])

    with GeminiTestServer(cassette=path, matcher=same_path) as server:
        assert llm_at(server.base_url).invoke("something else").text == "seeded"
    received, recorded = seen[0]
    assert received["body"]["contents"][0]["parts"][0]["text"] == "something else"
    assert recorded["body"]["generationConfig"]["seed"] == 1


# --- secrets -------------------------------------------------------------------------------


def _forms(secret: str, pieces: bool) -> set[str]:
    """Ways a secret could sit in a file: whole, encoded, base64 at any alignment, pieces."""
    raw = secret.encode()
    forms = {secret, quote(secret, safe=""), json.dumps(secret)[1:-1]}
    for pad in range(3):
        for enc in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = enc(bytes(pad) + raw).decode()
            forms.add(encoded[4 if pad else 0 : -4])  # the part fixed by the secret alone
    if pieces:  # any 6 characters of a credential (a recognisable head or tail)
        forms.update(secret[i : i + 6] for i in range(len(secret) - 5))
    return forms


@pytest.mark.parametrize("secret", [KEY, TOKEN, PROJECT])
def test_no_secret_in_any_byte_of_the_cassette(recording: Recording, secret: str) -> None:
    data = recording.path.read_bytes()
    # The secrets were really on the wire: in headers, the query, bodies, answers, a file.
    sent = b"".join(
        r.raw_body + json.dumps([r.headers, r.query, r.path]).encode()
        for r in recording.recorder_requests
    )
    assert secret.encode() in sent
    # Credentials go in every form; a listed value (the project id) as a whole string.
    for form in _forms(secret, pieces=secret != PROJECT):
        assert form.encode() not in data, f"{form!r} (from {secret[:4]}...) is in the cassette"
        assert form.lower().encode() not in data.lower() or len(form) < 8
    assert b"REDACTED" in data
    if secret == KEY:  # the streamed echo really was cut: no event held the whole key
        events = [
            json.dumps(e)
            for i in json.loads(data)["interactions"]
            for e in i["response"].get("events", [])
        ]
        assert len([e for e in events if "You said" in e or "again" in e]) >= 2


def test_the_echoed_key_replays_as_redacted(recording: Recording, replay: GeminiTestServer) -> None:
    """The prompt held the key: in replay a prompt with the replay's own key matches it."""
    assert KEY in recording.messages["echo"].text  # the live answer echoed it
    llm = llm_at(replay.base_url, key="the-replay-key-0000")
    message = llm.invoke(f"{ECHO}the-replay-key-0000")
    # The echo came in pieces (text parts): each piece lost every 6 characters of the key.
    assert message.text.startswith("You said: REDACTED")
    assert not any(KEY[i : i + 6] in message.text for i in range(len(KEY) - 5))


def test_the_cassette_is_indented_json_for_review(recording: Recording) -> None:
    text = recording.path.read_text()
    assert text.startswith('{\n  "version": 1,')
    first = json.loads(text)["interactions"][0]
    assert set(first) == {"request", "response"}
    assert set(first["request"]) >= {"method", "path", "query", "headers", "body"}
    assert "x-goog-api-key" not in text and "authorization" not in text.lower()


# --- construction ----------------------------------------------------------------------------


def test_replay_without_a_cassette_file_says_how_to_record(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="record one first"):
        GeminiTestServer(cassette=tmp_path / "missing.json")


def test_record_needs_a_cassette_path() -> None:
    with pytest.raises(ValueError, match="cassette=PATH"):
        GeminiTestServer(record=True)


def test_an_unreachable_upstream_is_a_502_and_not_recorded(tmp_path: Path) -> None:
    with GeminiTestServer() as gone:
        url = gone.base_url
    path = tmp_path / "c.json"
    with GeminiTestServer(cassette=path, record=True, upstream=url) as rec:
        with pytest.raises(GeminiAPIError) as info:
            llm_at(rec.base_url).invoke("hi")
        assert info.value.code == 502
        assert len(rec.requests) == 1
    assert json.loads(path.read_text())["interactions"] == []


def test_ignore_paths_reach_query_and_list_items() -> None:
    from langchain_gemini_codeexec.testing._cassette import _ignore_pattern, differences

    def req(n: int) -> dict[str, Any]:
        return {
            "method": "POST",
            "path": "/upload/v1beta/files",
            "query": {"upload_id": str(n)},
            "headers": {},
            "body": {"contents": [{"parts": [{"text": str(n)}]}], "generationConfig": {"seed": n}},
        }

    assert [d[0] for d in differences(req(1), req(2))] == [
        "query.upload_id",
        "body.contents[0].parts[0].text",
        "body.generationConfig.seed",
    ]
    ignore = [
        _ignore_pattern(p) for p in ("query.upload_id", "contents[*].parts", "generationConfig")
    ]
    assert differences(req(1), req(2), ignore) == []
    # A pattern names whole fields: "generation" is not a prefix match of generationConfig.
    assert len(differences(req(1), req(2), [_ignore_pattern("generation")])) == 3


def test_a_key_only_in_the_environment_is_kept_out_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GOOGLE_API_KEY / GEMINI_API_KEY are secrets even when the client sends another key."""
    env_key = "AIzaSyEnv7Only-s3cret_kEy-x9Q2wL5mN8pR4tV"
    monkeypatch.setenv("GEMINI_API_KEY", env_key)
    path = tmp_path / "c.json"
    with (
        GeminiTestServer(responder=stand_in) as upstream,
        GeminiTestServer(cassette=path, record=True, upstream=upstream.base_url) as rec,
    ):
        answer = llm_at(rec.base_url, key=KEY).invoke(f"{ECHO}{env_key}")
    assert env_key in answer.text
    data = path.read_bytes()
    assert not any(env_key[i : i + 6].encode() in data for i in range(len(env_key) - 5))


def echo_whole(req: RecordedRequest) -> Reply:
    """The echo in one part (a listed value split across parts is not caught: see
    docs/testing.md)."""
    return Reply.json(response(text(f"You said: {req.text.split(ECHO, 1)[1]}")))


def test_redact_with_chosen_replacements(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    names = {"Alice Example": "PERSON", "alice@example.com": "EMAIL"}
    prompt = f"{ECHO}Alice Example <alice@example.com>"
    with (
        GeminiTestServer(responder=echo_whole) as upstream,
        GeminiTestServer(
            cassette=path, record=True, upstream=upstream.base_url, redact=names
        ) as rec,
    ):
        llm_at(rec.base_url).invoke(prompt)
    text = path.read_text()
    assert "Alice" not in text and "alice@" not in text
    assert "PERSON <EMAIL>" in text
    with GeminiTestServer(cassette=path, redact=names) as server:  # the same list in replay
        assert llm_at(server.base_url).invoke(prompt).text == "You said: PERSON <EMAIL>"


@pytest.mark.parametrize("key", ["test", "test-key-not-a-secret-0123456789", KEY])
def test_redaction_leaves_ordinary_answers_alone(tmp_path: Path, key: str) -> None:
    """Words and numbers that a key happens to contain survive in what Gemini said."""
    said = "This test keeps its secret: the key-not-a-secret number is 0123 or 2048."
    path = tmp_path / "c.json"
    with GeminiTestServer() as upstream:
        upstream.enqueue(response(text(said)))
        with GeminiTestServer(cassette=path, record=True, upstream=upstream.base_url) as rec:
            assert llm_at(rec.base_url, key=key).invoke("hi").text == said
    assert said in path.read_text()
    assert key not in path.read_text() or len(key) < 8
    with GeminiTestServer(cassette=path) as server:
        assert llm_at(server.base_url, key="dummy-key").invoke("hi").text == said


def test_the_demo_names_moved_to_testing_demo_and_the_old_ones_warn() -> None:
    import langchain_gemini_codeexec.testing as testing
    from langchain_gemini_codeexec.testing import demo

    assert "SUM_OF_PRIMES_PROMPT" not in testing.__all__
    assert "recorded_sum_of_primes" not in testing.__all__
    with pytest.warns(DeprecationWarning, match=r"testing\.demo\.SUM_OF_PRIMES_PROMPT"):
        assert testing.SUM_OF_PRIMES_PROMPT == demo.SUM_OF_PRIMES_PROMPT
    with pytest.warns(DeprecationWarning, match=r"testing\.demo\.sum_of_primes_chunks"):
        assert testing.recorded_sum_of_primes() == demo.sum_of_primes_chunks()
    with pytest.raises(AttributeError):
        testing.no_such_name  # noqa: B018
