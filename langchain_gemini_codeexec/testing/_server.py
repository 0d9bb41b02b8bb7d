"""A loopback HTTP/1.1 server speaking Gemini's REST API, for offline tests.

It runs an asyncio loop on a daemon thread so sync and async clients (httpx, aiohttp)
can both talk to it, and it only uses the standard library.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import socket
import struct
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from ._batch import BatchEndpoints
from ._caches import CachedContentStore, cache_action
from ._replies import JSON, Reply, merge_chunks, sse_event
from ._wire import (
    Api,
    CloseConnection,
    RecordedRequest,
    UploadedFile,
    b64decode_any,
    http_chunk,
    http_head,
)

if TYPE_CHECKING:
    from ._cassette import CassetteSession, Matcher

Responder = Callable[["RecordedRequest"], "Reply | JSON | None"]
TokenCounter = Callable[["RecordedRequest"], int]

_VER = r"(?:v1|v1beta|v1alpha|v1beta1)"
_MODEL = r"models/(?P<model>[^/:]+):(?P<action>\w+)"
_CACHE_PREFIX = r"(?P<prefix>projects/[^/]+/locations/[^/]+/)?"
_ROUTES: list[tuple[Api, re.Pattern[str]]] = [
    ("developer", re.compile(rf"/{_VER}/{_MODEL}")),
    ("vertex", re.compile(rf"/{_VER}/projects/[^/]+/locations/[^/]+/publishers/[^/]+/{_MODEL}")),
    ("vertex_express", re.compile(rf"/{_VER}/publishers/[^/]+/{_MODEL}")),
    ("caches", re.compile(rf"/{_VER}/{_CACHE_PREFIX}cachedContents(?:/(?P<cache>[\w-]+))?")),
    ("files", re.compile(rf"/upload/{_VER}/files")),
    ("files", re.compile(r"/upload-session/(?P<session>[\w-]+)")),
    ("files", re.compile(rf"/{_VER}/files(?:/(?P<file>[\w-]+))?")),
]


@dataclass
class _Session:
    file: UploadedFile
    buf: bytearray = field(default_factory=bytearray)


class GeminiTestServer:
    """Loopback Gemini API: scripted replies in, recorded requests out.

    Model requests take replies from :meth:`enqueue` first, then from ``responder``;
    with neither, they get an immediate 400 (``FAILED_PRECONDITION``, not retried)
    saying nothing was scripted. ``countTokens`` never
    takes from the queue: it uses ``count_tokens`` or the rule of ``testing._caches``
    (text characters plus file bytes, divided by 4). ``caches`` is the fake
    ``cachedContents`` API; ``count_usage=True`` also fills ``promptTokenCount`` of
    uncached answers with that count.

    With ``cassette=path`` every request is answered from that recorded file instead
    (nothing is forwarded; an unrecorded request gets a 400 saying so), and with
    ``record=True`` it is forwarded to ``upstream`` (real Gemini by default) and the
    exchanges are written to ``path`` when the server stops. ``redact`` lists more values
    to keep out of the file, ``ignore``/``matcher`` loosen matching: see ``_cassette``.
    """

    def __init__(
        self,
        responder: Responder | None = None,
        *,
        count_tokens: TokenCounter | None = None,
        count_usage: bool = False,
        cassette: str | PathLike[str] | None = None,
        record: bool = False,
        upstream: str | None = None,
        redact: Sequence[str] | Mapping[str, str] = (),
        ignore: Sequence[str] = (),
        matcher: Matcher | None = None,
    ) -> None:
        self.cassette: CassetteSession | None = None
        if cassette is not None:
            from ._cassette import CassetteSession  # only cassette users need it

            if responder is not None:
                raise ValueError("a cassette answers every request: pass responder or cassette")
            self.cassette = CassetteSession(
                cassette,
                record=record,
                upstream=upstream,
                redact=redact,
                ignore=ignore,
                matcher=matcher,
            )
        elif record or upstream is not None:
            raise ValueError("record=True and upstream need cassette=PATH to record into")
        self.responder = responder
        self.count_tokens = count_tokens
        self.count_usage = count_usage
        self.caches = CachedContentStore(self._file_sizes)
        self.requests: list[RecordedRequest] = []
        self.files: dict[str, UploadedFile] = {}
        self._queue: deque[Reply | JSON] = deque()
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._conns: dict[asyncio.Task[Any], tuple[asyncio.StreamReader, asyncio.StreamWriter]] = {}
        self.connections_accepted = 0
        """How many TCP connections the server has accepted so far."""
        self.files_delay = 0.0
        """Seconds the Files API waits before each answer (to trip upload timeouts)."""
        self._port = 0
        self.batch = BatchEndpoints(self)  # Batch API endpoints, see _batch.py

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``; pass it as ``HttpOptions(base_url=...)``."""
        if not self._port:
            raise RuntimeError("GeminiTestServer is not started")
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> GeminiTestServer:
        """Start serving on a background daemon thread; returns self."""
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=4096, limit=1 << 20)
                )
                self._port = self._server.sockets[0].getsockname()[1]
            except BaseException as exc:  # pragma: no cover - bind failure
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="gemini-test-server", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        """Close the listener and every connection, cancel handlers, join the thread."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        self._thread = None
        if loop.is_running():
            fut = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
            with contextlib.suppress(Exception):
                fut.result(timeout=5)
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        if self.cassette is not None:
            self.cassette.save()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def __enter__(self) -> GeminiTestServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> GeminiTestServer:
        return self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)

    # ------------------------------------------------------------------ scripting

    def enqueue(self, *replies: Reply | JSON) -> None:
        """Queue replies (FIFO); a plain dict is a 200 GenerateContentResponse."""
        with self._lock:
            self._queue.extend(replies)

    @property
    def open_connections(self) -> int:
        """Connections that neither side has closed yet (a client's idle pool included)."""
        with self._lock:
            conns = list(self._conns.values())
        return sum(1 for reader, writer in conns if not reader.at_eof() and not writer.is_closing())

    @property
    def pending(self) -> int:
        """How many queued replies have not been used yet."""
        with self._lock:
            return len(self._queue)

    @property
    def last_request(self) -> RecordedRequest:
        """The most recent request (raises IndexError if none)."""
        with self._lock:
            return self.requests[-1]

    @property
    def model_requests(self) -> list[RecordedRequest]:
        """Recorded requests that went to a model (not the Files API)."""
        with self._lock:
            return [r for r in self.requests if r.model is not None]

    def clear(self) -> None:
        """Forget recorded requests and queued replies."""
        with self._lock:
            self.requests.clear()
            self._queue.clear()

    def _next_reply(self, req: RecordedRequest) -> Reply:
        with self._lock:
            item = self._queue.popleft() if self._queue else None
        if item is None and self.responder is not None:
            try:
                item = self.responder(req)
            except Exception as exc:
                return Reply.error(500, f"GeminiTestServer responder raised {exc!r}")
        if item is None:
            # A 4xx, so no client retries it with back-off: the test script is short.
            return Reply.error(
                400,
                f"GeminiTestServer: nothing was scripted for {req.method} {req.path} (no "
                "scripted reply left: enqueue() one more, or pass a responder). This is "
                "not a Gemini error; retrying will not help.",
                "FAILED_PRECONDITION",
            )
        return item if isinstance(item, Reply) else Reply.json(item)

    # ------------------------------------------------------------------ HTTP

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        with self._lock:
            self._conns[task] = (reader, writer)
            self.connections_accepted += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    break
                lines = head.decode("latin-1").split("\r\n")
                method, target, version = [*lines[0].split(" ", 2), "", ""][:3]
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        k = k.strip().lower()
                        headers[k] = f"{headers[k]}, {v.strip()}" if k in headers else v.strip()
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                keep = headers.get("connection", "").lower() != "close" and version == "HTTP/1.1"
                try:
                    await self._dispatch(method, target, headers, body, writer, keep)
                except CloseConnection:
                    break
                if not keep:
                    break
        except asyncio.CancelledError:
            writer.transport.abort()  # stop(): drop the connection at once
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away
        finally:
            self._tasks.discard(task)
            with self._lock:
                self._conns.pop(task, None)
            writer.close()

    async def _dispatch(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
        writer: asyncio.StreamWriter,
        keep: bool,
    ) -> None:
        url = urlsplit(target)
        api: Api = "unknown"
        groups: dict[str, str] = {}
        for route_api, pattern in _ROUTES:
            m = pattern.fullmatch(url.path)
            if m:
                api, groups = route_api, {k: v for k, v in m.groupdict().items() if v}
                break
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        action = _files_action(method, groups) if api == "files" else groups.get("action", "")
        if api == "caches":
            action = cache_action(method, groups)
        req = RecordedRequest(
            method=method,
            path=url.path,
            query=dict(parse_qsl(url.query)),
            headers=headers,
            body=parsed,
            raw_body=body,
            api=api,
            model=groups.get("model"),
            action=action,
            stream=action == "streamGenerateContent",
        )
        with self._lock:
            self.requests.append(req)
        if self.cassette is not None:
            await self.cassette.serve(req, target, writer, keep, self.base_url)
            await writer.drain()
            return
        batch_reply = self.batch.answer(req)
        if batch_reply is not None:
            reply = batch_reply
        elif api == "unknown":
            reply = Reply.error(404, f"GeminiTestServer: no route for {method} {url.path}")
        elif api == "files":
            if self.files_delay:
                await asyncio.sleep(self.files_delay)
            reply = self._files(req, groups)
        elif api == "caches":
            prefix = groups.get("prefix", "")
            reply = self.caches.handle(method, prefix, groups.get("cache"), parsed)
        elif action == "countTokens":
            n = self.count_tokens(req) if self.count_tokens else self.caches.count(parsed)
            reply = Reply.json({"totalTokens": n})
        else:
            refused = self.caches.check_generate(parsed, req.model)
            reply = refused or self.caches.annotate(self._next_reply(req), parsed, self.count_usage)
        await self._send(reply, req, writer, keep)
        await writer.drain()

    def _file_sizes(self) -> dict[str, int]:
        with self._lock:
            return {name: len(f.data) for name, f in self.files.items()}

    def _files(self, req: RecordedRequest, groups: Mapping[str, str]) -> Reply:
        if req.action == "upload":
            meta = (req.body or {}).get("file") or {}
            ident = (meta.get("name") or "").removeprefix("files/") or f"file-{next(self._ids)}"
            f = UploadedFile(
                name=f"files/{ident}",
                uri=f"{self.base_url}/v1beta/files/{ident}",
                mime_type=meta.get("mimeType") or meta.get("mime_type") or "",
                display_name=meta.get("displayName") or meta.get("display_name"),
            )
            self._sessions[ident] = _Session(f)
            url = f"{self.base_url}/upload-session/{ident}"
            return Reply.json(
                {}, headers={"x-goog-upload-url": url, "x-goog-upload-status": "active"}
            )
        if req.action == "upload_data":
            session = self._sessions.get(groups["session"])
            if session is None:
                return Reply.error(404, "GeminiTestServer: unknown upload session")
            session.buf += req.raw_body
            command = req.headers.get("x-goog-upload-command", "")
            if "finalize" not in command:
                return Reply.json({}, headers={"x-goog-upload-status": "active"})
            del self._sessions[groups["session"]]
            session.file.data = bytes(session.buf)
            with self._lock:
                self.files[session.file.name] = session.file
            return Reply.json(
                {"file": session.file.resource()}, headers={"x-goog-upload-status": "final"}
            )
        if req.action == "list":
            return Reply.json({"files": [f.resource() for f in self.files.values()]})
        name = f"files/{groups.get('file')}"
        if name not in self.files:
            return Reply.error(404, f"File {name} does not exist.")
        if req.action == "delete":
            with self._lock:
                del self.files[name]
            return Reply.json({})
        return Reply.json(self.files[name].resource())

    async def _send(
        self, reply: Reply, req: RecordedRequest, writer: asyncio.StreamWriter, keep: bool
    ) -> None:
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.kind in ("close", "reset"):
            _abort(writer, reset=reply.kind == "reset")
            raise CloseConnection
        if reply.kind == "trickle":
            await _trickle(reply, writer, keep)
            return
        if reply.kind == "paced":
            writer.write(http_head(reply.status, reply.headers, len(reply.raw_body), keep))
            for i in range(0, len(reply.raw_body), reply.piece):
                if i:
                    await asyncio.sleep(reply.chunk_delay)
                writer.write(reply.raw_body[i : i + reply.piece])
                await writer.drain()
            return
        if reply.kind == "raw":
            writer.write(
                http_head(reply.status, reply.headers, len(reply.raw_body), keep) + reply.raw_body
            )
            return
        chunks = list(reply.chunks) if reply.kind == "stream" else [reply.body or {}]
        if not req.stream or (reply.kind == "json" and reply.status != 200):
            body = reply.body if reply.kind == "json" else merge_chunks(chunks)
            status = reply.status
            if reply.kind == "stream" and reply.error_after is not None:
                body = reply.error_after
                status = int(body.get("error", {}).get("code", 500))
            data = json.dumps(body, separators=(",", ":")).encode()
            if reply.truncate_last or reply.reset_after is not None:
                head = http_head(status, reply.headers, len(data), keep)
                writer.write(head + data[: len(data) // 2])
                await writer.drain()
                _abort(writer, reset=reply.reset_after is not None)
                raise CloseConnection
            writer.write(http_head(status, reply.headers, len(data), keep) + data)
            return
        await self._send_sse(reply, chunks, writer, keep)

    async def _send_sse(
        self, reply: Reply, chunks: list[JSON], writer: asyncio.StreamWriter, keep: bool
    ) -> None:
        events = [sse_event(c, reply.crlf) for c in chunks]
        if reply.error_after is not None:
            events.append(sse_event(reply.error_after, reply.crlf))
        reset, truncate = reply.reset_after is not None, reply.truncate_last
        if reset:
            events = events[: reply.reset_after]
        elif truncate and events:
            last = events[-1].rstrip(b"\r\n")
            events[-1] = last[: len(last) // 2]
        # A truncated stream is close-delimited, so the client's SSE parser (not its HTTP
        # layer) meets the half event; a reset one stays chunked so HTTP sees a cut body.
        chunked = not (truncate and not reset)
        cut = reset or truncate
        headers = {"Content-Type": "text/event-stream", **reply.headers}
        head = http_head(reply.status, headers, None, keep and not cut, chunked=chunked)
        frames = [http_chunk(e) for e in events] if chunked else events
        end = b"" if cut else b"0\r\n\r\n"
        if not reply.chunk_delay:
            writer.write(head + b"".join(frames) + end)
        else:
            writer.write(head)
            for i, frame in enumerate(frames):
                if i:
                    await asyncio.sleep(reply.chunk_delay)
                writer.write(frame)
                await writer.drain()
            writer.write(end)
        if cut:
            await writer.drain()
            _abort(writer, reset=reset)
            raise CloseConnection


async def _trickle(reply: Reply, writer: asyncio.StreamWriter, keep: bool) -> None:
    head = http_head(reply.status, reply.headers, len(reply.raw_body), keep)
    if not reply.truncate_last:  # head_too
        writer.write(head)
        head = b""
    data = head + reply.raw_body
    for i in range(len(data)):
        if i or not head:
            await asyncio.sleep(reply.chunk_delay)
        writer.write(data[i : i + 1])
        await writer.drain()


def _abort(writer: asyncio.StreamWriter, *, reset: bool) -> None:
    """Close now; with ``reset`` send an RST (SO_LINGER 0) instead of a FIN."""
    sock = writer.get_extra_info("socket")
    if reset and sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
    else:
        writer.close()


def _files_action(method: str, groups: Mapping[str, str]) -> str:
    if "session" in groups:
        return "upload_data"
    if method == "POST":
        return "upload"
    if method == "DELETE":
        return "delete"
    return "get" if "file" in groups else "list"


__all__ = ["GeminiTestServer", "RecordedRequest", "UploadedFile", "b64decode_any"]
