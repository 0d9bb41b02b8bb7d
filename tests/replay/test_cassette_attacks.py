"""A cassette is data someone else may write; a recording may meet a hostile upstream.

- Replay sends nothing off the machine: every URL a cassette holds is served from the
  test server, whatever host it names (or the cassette is refused, naming the header).
- Matching is linear: `REDACTED` wildcards are matched piece by piece, never by a
  regular expression built from recorded text.
- No recoverable form of the key reaches the file: cut across stream events, escaped as
  ``%XX``, in base64 wrapped at 76 columns, as hex, as ``\\uXXXX``.

Through the real google-genai SDK over HTTP on every path (sync httpx2/httpx, async
aiohttp/httpx2/httpx).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import html
import io
import json
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from google.genai import types

from langchain_gemini_codeexec.errors import GeminiAPIError
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    RecordedRequest,
    Reply,
    response,
    text,
)
from langchain_gemini_codeexec.testing._cassette import wildcard_match
from tests.support import PATHS, check_path, path_llm

KEY = "AIzaSyC7-rEaLlOoKiNg_SeCrEt-kEy9876543210"
DATA = b"id,value\n1,42\n"
UPLOAD = types.UploadFileConfig(mime_type="text/csv", display_name="values.csv")


def _upload(base_url: str, path: str) -> types.File:
    llm = path_llm(base_url, path, max_retries=0)
    check_path(llm, path)
    client = llm.genai_client
    if path.startswith("sync"):
        return client.files.upload(file=io.BytesIO(DATA), config=UPLOAD)
    return asyncio.run(client.aio.files.upload(file=io.BytesIO(DATA), config=UPLOAD))


@pytest.fixture(scope="module")
def upload_cassette(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A recorded Files API upload: its start answer names the upload URL."""
    path = tmp_path_factory.mktemp("upload") / "upload.json"
    with (
        GeminiTestServer() as upstream,
        GeminiTestServer(cassette=path, record=True, upstream=upstream.base_url) as rec,
    ):
        _upload(rec.base_url, "sync-httpx2")
    return path


def _with_upload_url(cassette: Path, tmp: Path, url: str) -> tuple[Path, str]:
    data = json.loads(cassette.read_text())
    (start,) = [i for i in data["interactions"] if "x-goog-upload-url" in i["response"]["headers"]]
    recorded = start["response"]["headers"]["x-goog-upload-url"]
    assert recorded.startswith("/upload-session/")  # stored as a path on the server
    start["response"]["headers"]["x-goog-upload-url"] = url + recorded
    out = tmp / "edited.json"
    out.write_text(json.dumps(data))
    return out, recorded


# --- 1. replay never sends anything off this machine -------------------------------------


@pytest.mark.parametrize("path", PATHS)
def test_an_upload_url_naming_another_host_is_served_here(
    upload_cassette: Path, tmp_path: Path, path: str
) -> None:
    with GeminiTestServer() as elsewhere:
        edited, session = _with_upload_url(upload_cassette, tmp_path, elsewhere.base_url)
        with GeminiTestServer(cassette=edited) as replay:
            uploaded = _upload(replay.base_url, path)
        assert elsewhere.connections_accepted == 0, "the file bytes went to another host"
    assert uploaded.name and uploaded.name.startswith("files/")
    assert [r.path for r in replay.requests][-1] == session
    assert replay.requests[-1].raw_body == DATA


@pytest.mark.parametrize(
    "prefix",
    [
        "HTTPS://{host}",
        "//{host}",
        "http://user:pw@{host}",
        "https://{host}:443",
        "http://[::1]:9",
        "  http://{host}",
    ],
)
def test_every_spelling_of_another_host_is_served_here(
    upload_cassette: Path, tmp_path: Path, prefix: str
) -> None:
    with GeminiTestServer() as elsewhere:
        host = elsewhere.base_url.split("//", 1)[1]
        url = prefix.format(host=host)
        if url.startswith("  "):  # a value with spaces is refused, not guessed at
            with pytest.raises(ValueError, match="x-goog-upload-url"):
                _with_upload_url_server(upload_cassette, tmp_path, url)
            return
        edited, session = _with_upload_url(upload_cassette, tmp_path, url)
        with GeminiTestServer(cassette=edited) as replay:
            _upload(replay.base_url, "sync-httpx2")
        assert elsewhere.connections_accepted == 0
    assert replay.requests[-1].path == session


def _with_upload_url_server(cassette: Path, tmp: Path, url: str) -> None:
    edited, _ = _with_upload_url(cassette, tmp, url)
    GeminiTestServer(cassette=edited)


@pytest.mark.parametrize(
    ("header", "value", "why"),
    [
        ("x-goog-upload-url", "ftp://files.example/x", "not an http"),
        ("x-goog-upload-url", "file:///etc/passwd", "not an http"),
        ("x-goog-upload-url", "relative/path", "not an http"),
        ("location", "javascript:alert(1)", "not an http"),
        ("x-goog-upload-status", "active\r\nx-evil: 1", "line break"),
        ("bad header", "x", "header name"),
    ],
)
def test_a_cassette_url_that_cannot_be_served_here_is_refused(
    upload_cassette: Path, tmp_path: Path, header: str, value: str, why: str
) -> None:
    data = json.loads(upload_cassette.read_text())
    data["interactions"][0]["response"]["headers"][header] = value
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=re.escape(why)) as caught:
        GeminiTestServer(cassette=bad)
    assert "interaction #0" in str(caught.value)


@pytest.mark.parametrize("status", ["200", 99, 600, True, None])
def test_a_cassette_status_that_is_not_one_is_refused(
    upload_cassette: Path, tmp_path: Path, status: Any
) -> None:
    data = json.loads(upload_cassette.read_text())
    data["interactions"][0]["response"]["status"] = status
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="status must be an HTTP status code"):
        GeminiTestServer(cassette=bad)


@pytest.mark.parametrize("depth", [300, 100_000])
def test_a_cassette_nested_too_deeply_is_refused_at_load(tmp_path: Path, depth: int) -> None:
    body = "[" * depth + "]" * depth
    bad = tmp_path / "deep.json"
    bad.write_text(
        '{"version": 1, "interactions": [{"request": {"body": ' + body + '}, "response": {}}]}'
    )
    with pytest.raises(ValueError, match="nested"):
        GeminiTestServer(cassette=bad)


def test_recording_a_request_for_an_unknown_foreign_host_is_forwarded_upstream(
    tmp_path: Path,
) -> None:
    """`/_upstream/N/...` names the N-th other host an answer handed out; with none, the
    request goes to the upstream (which answers it), not to a crash of the recorder."""
    with (
        GeminiTestServer() as upstream,
        GeminiTestServer(
            cassette=tmp_path / "c.json", record=True, upstream=upstream.base_url
        ) as rec,
        httpx.Client(base_url=rec.base_url) as http,
    ):
        answer = http.get("/_upstream/99/v1beta/files/x")
    assert answer.status_code == 404
    assert [r.path for r in upstream.requests] == ["/_upstream/99/v1beta/files/x"]


# --- 2. matching is linear ---------------------------------------------------------------


def _wildcard_cassette(tmp: Path, wildcards: int, size: int) -> Path:
    """One recorded call whose prompt is `wildcards` REDACTED pieces, `size` chars in all."""
    piece = "a" * max(1, size // wildcards - len("REDACTED"))
    prompt = "REDACTED".join([""] + [piece] * wildcards) + "!"
    body = {
        "contents": [{"role": "user", "parts": [{"text": prompt}]}],
        "tools": [{"codeExecution": {}}],
    }
    interaction = {
        "request": {
            "method": "POST",
            "path": "/v1beta/models/gemini-2.5-flash:generateContent",
            "query": {},
            "headers": {},
            "body": body,
        },
        "response": {"status": 200, "headers": {}, "body": response(text("recorded"))},
    }
    path = tmp / f"wild-{wildcards}-{size}.json"
    path.write_text(json.dumps({"version": 1, "upstream": "x", "interactions": [interaction]}))
    return path


@pytest.mark.parametrize("path", PATHS)
def test_an_unmatched_request_gets_its_400_at_once_whatever_the_wildcards(
    tmp_path: Path, path: str
) -> None:
    """12 wildcards on 1 KB: a regular expression built from it backtracks for ages."""
    cassette = _wildcard_cassette(tmp_path, 12, 1024)
    with GeminiTestServer(cassette=cassette) as replay:
        llm = path_llm(replay.base_url, path, max_retries=0, timeout=30)
        check_path(llm, path)
        unmatched = "a" * 5000  # no "!": cannot match, but every piece of "a" can
        # One that does match: each wildcard standing for other text.
        matched = "REDACTED".join([""] + ["a" * 77] * 12).replace("REDACTED", "xyz") + "!"

        async def both() -> tuple[Exception | None, Any]:
            try:
                await llm.ainvoke(unmatched)
            except GeminiAPIError as exc:
                return exc, await llm.ainvoke(matched)
            return None, None

        if path.startswith("sync"):
            with pytest.raises(GeminiAPIError) as caught:
                llm.invoke(unmatched)
            error, answer = caught.value, llm.invoke(matched)
        else:
            error, answer = asyncio.run(both())
        assert isinstance(error, GeminiAPIError) and error.code == 400
        assert "was not recorded" in error.message
        assert answer.text == "recorded"


def _slowest(call: Any, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def test_wildcard_matching_time_grows_linearly() -> None:
    """Eight times the text takes well under 64 times as long (linear: about 8)."""

    def case(n: int) -> tuple[str, str]:
        recorded = "REDACTED".join([""] + ["a"] * 20) + "b"
        return recorded, "a" * n

    small, large = case(20_000), case(160_000)
    t_small = _slowest(lambda: wildcard_match(*small))
    t_large = _slowest(lambda: wildcard_match(*large))
    assert t_large < 64 * max(t_small, 1e-5)


@pytest.mark.parametrize(
    ("recorded", "received", "same"),
    [
        ("aREDACTEDb", "ab", True),
        ("aREDACTEDb", "axxb", True),
        ("aREDACTEDb", "axxbc", False),
        ("REDACTED", "", True),
        ("REDACTEDREDACTED", "anything", True),
        ("abREDACTEDba", "aba", False),  # head and tail may not share characters
        ("xREDACTEDyREDACTEDz", "xyyz", True),
        ("xREDACTEDyREDACTEDz", "xzyz", True),
        ("xREDACTEDyREDACTEDz", "xzz", False),
        ("a.REDACTED*", "a.b*", True),  # regex characters are text
        ("a.REDACTED*", "abbc", False),
    ],
)
def test_wildcard_matching_means_what_it_did(recorded: str, received: str, same: bool) -> None:
    assert wildcard_match(recorded, received) is same
    pattern = ".*".join(re.escape(p) for p in recorded.split("REDACTED"))
    assert (re.fullmatch(pattern, received, re.DOTALL) is not None) is same


# --- 3. no recoverable form of the key reaches the file ----------------------------------


def _wrapped_base64(shift: int) -> str:
    # The key sits across a 76-column line break of MIME base64.
    return base64.encodebytes(b"x" * (40 + shift) + KEY.encode() + b"y" * 40).decode()


FORMS = {
    "plain": KEY,
    "percent": "".join(f"%{b:02X}" for b in KEY.encode()),
    "percent-lower": "".join(f"%{b:02x}" for b in KEY.encode()),
    "percent-twice": "".join(f"%25{b:02X}" for b in KEY.encode()),
    "base64-wrapped-0": _wrapped_base64(0),
    "base64-wrapped-1": _wrapped_base64(1),
    "base64-wrapped-2": _wrapped_base64(2),
    "hex": KEY.encode().hex(),
    "HEX": KEY.encode().hex().upper(),
    "backslash-x": "".join(f"\\x{b:02x}" for b in KEY.encode()),
    "unicode-escapes": "".join(f"\\u{b:04x}" for b in KEY.encode()),
    "html-entities": "".join(f"&#{b};" for b in KEY.encode()),
    "html-hex-entities": "".join(f"&#x{b:X};" for b in KEY.encode()),
}


def hostile(req: RecordedRequest) -> Reply:
    """An upstream that echoes the key in the form the prompt names, 5 characters per event."""
    form = FORMS[req.text.rsplit(" ", 1)[-1]]
    pieces = [form[i : i + 5] for i in range(0, len(form), 5)]
    return Reply.stream([response(text(p)) for p in pieces])


def _strings(value: Any, out: list[str]) -> list[str]:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, list):
        for v in value:
            _strings(v, out)
    elif isinstance(value, dict):
        for k, v in value.items():
            _strings(k, out)
            _strings(v, out)
    return out


def _recoverable(data: Any) -> list[str]:
    """Everything someone could read back from the cassette: each string, each stream's
    text joined, and their decodings (percent twice, JSON/Python escapes, base64, hex)."""
    texts = _strings(data, [])
    for it in data["interactions"]:
        events = it["response"].get("events") or []
        texts.append("".join(_strings(events, [])))
    out: list[str] = []
    for t in texts:
        views = {t, unquote(t), unquote(unquote(t)), html.unescape(t)}
        for v in list(views):
            with contextlib.suppress(UnicodeDecodeError):
                views.add(v.encode("latin-1", "ignore").decode("unicode_escape"))
        for v in list(views):
            flat = re.sub(r"\s+", "", v)
            for start in range(4):
                chunk = flat[start:]
                chunk = chunk[: len(chunk) // 4 * 4]
                with contextlib.suppress(binascii.Error, ValueError):
                    views.add(base64.b64decode(chunk).decode("latin-1"))
            for run in re.findall(r"[0-9a-fA-F]{12,}", flat):
                views.add(bytes.fromhex(run[: len(run) // 2 * 2]).decode("latin-1"))
        out.extend(views)
    return out


def _stream_all(llm: Any, path: str, names: list[str]) -> dict[str, str]:
    """Each form streamed on `path` (async ones on one event loop: one client session)."""
    prompts = {name: f"Echo the key as {name}" for name in names}
    if path.startswith("sync"):
        return {n: "".join(str(c.text) for c in llm.stream(p)) for n, p in prompts.items()}

    async def run() -> dict[str, str]:
        out = {}
        for n, p in prompts.items():
            out[n] = "".join([str(c.text) async for c in llm.astream(p)])
        return out

    return asyncio.run(run())


@pytest.mark.parametrize("path", PATHS)
def test_no_form_of_the_key_can_be_read_back_from_the_cassette(tmp_path: Path, path: str) -> None:
    cassette = tmp_path / "hostile.json"
    with (
        GeminiTestServer(responder=hostile) as upstream,
        GeminiTestServer(cassette=cassette, record=True, upstream=upstream.base_url) as rec,
    ):
        llm = path_llm(rec.base_url, path, api_key=KEY, max_retries=0)
        check_path(llm, path)
        received = _stream_all(llm, path, list(FORMS))
    # The stream really carried each form to the client, in pieces.
    assert received == FORMS
    data = json.loads(cassette.read_text())
    assert len(data["interactions"]) == len(FORMS)
    heads_and_tails = (KEY, KEY[:12], KEY[-12:], KEY[10:22])
    leaks = [
        (piece, view[:80])
        for view in _recoverable(data)
        for piece in heads_and_tails
        if piece in view
    ]
    assert not leaks
    # The redacted cassette still replays (answers carry the placeholder).
    with GeminiTestServer(cassette=cassette) as replay:
        llm = path_llm(replay.base_url, path, max_retries=0)
        assert "REDACTED" in _stream_all(llm, path, ["percent"])["percent"]
