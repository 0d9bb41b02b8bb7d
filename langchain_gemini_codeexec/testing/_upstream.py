"""Forwarding one request to the real API (or a stand-in), with the standard library only.

`http.client` runs on a worker thread per exchange and hands what it reads to the server's
event loop as it arrives: the head, then either the whole body or one server-sent event
at a time, so a stream reaches the client chunk by chunk while it is being recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import socket
import ssl
import threading
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

# Hop-by-hop headers and ones the forwarder sets itself.
_DROP_REQUEST = frozenset(
    {
        "host",
        "connection",
        "keep-alive",
        "content-length",
        "transfer-encoding",
        "accept-encoding",
        "te",
        "upgrade",
        "proxy-connection",
    }
)


@dataclass(frozen=True)
class Head:
    """Status and headers of the upstream answer."""

    status: int
    headers: list[tuple[str, str]]
    sse: bool


Item = tuple[Literal["head"], Head] | tuple[Literal["event", "body"], bytes]


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _read_events(resp: http.client.HTTPResponse) -> list[bytes] | None:
    """Read one SSE event (lines up to a blank line); None at the end of the body."""
    lines: list[bytes] = []
    while True:
        line = resp.readline()
        if not line:
            return lines or None
        lines.append(line)
        if line in (b"\r\n", b"\n") and len(lines) > 1:
            return lines
        if line in (b"\r\n", b"\n"):
            lines.clear()  # stray blank line between events


async def exchange(
    base: str,
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    timeout: float,
) -> AsyncGenerator[Item, None]:
    """Send the request to ``base`` + ``target``; yield the head, then body or SSE events.

    Transport failures propagate as the worker thread's exception.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, object]] = asyncio.Queue()
    parts = urlsplit(base)
    prefix = parts.path.rstrip("/")

    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(
            parts.netloc, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(parts.netloc, timeout=timeout)
    gone = threading.Event()  # the client or the server went away: stop reading

    def put(kind: str, value: object) -> None:
        if not gone.is_set():
            with contextlib.suppress(RuntimeError):  # the server's loop has closed
                loop.call_soon_threadsafe(queue.put_nowait, (kind, value))

    def work() -> None:
        try:
            out = {k: v for k, v in headers.items() if k.lower() not in _DROP_REQUEST}
            out["Accept-Encoding"] = "identity"  # bodies are recorded as sent, not gzipped
            conn.request(method, prefix + target, body=body or None, headers=out)
            resp = conn.getresponse()
            kind = resp.getheader("content-type", "") or ""
            sse = kind.split(";")[0].strip().lower() == "text/event-stream"
            put("head", Head(resp.status, resp.getheaders(), sse))
            if sse:
                while not gone.is_set() and (event := _read_events(resp)) is not None:
                    put("event", b"".join(event))
            else:
                put("body", resp.read())
            put("end", None)
        except BaseException as exc:
            put("error", exc)
        finally:
            conn.close()

    threading.Thread(target=work, name="gemini-test-server-upstream", daemon=True).start()
    try:
        while True:
            kind, value = await queue.get()
            if kind == "end":
                return
            if kind == "error":
                assert isinstance(value, BaseException)
                raise value
            if kind == "head":
                assert isinstance(value, Head)
                yield ("head", value)
            else:
                assert isinstance(value, bytes)
                yield ("event" if kind == "event" else "body", value)
    finally:
        gone.set()
        sock = conn.sock
        if sock is not None:  # wake the worker if it is blocked reading
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


__all__ = ["Head", "Item", "exchange", "origin"]
