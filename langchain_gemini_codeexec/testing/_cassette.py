"""Record real Gemini exchanges into a cassette file, and replay them offline.

`GeminiTestServer(cassette=path, record=True, upstream=URL)` forwards every request to
``upstream`` and hands the answer back unchanged (a stream event by event), keeping the
exchange; the cassette is written when the server stops. `GeminiTestServer(cassette=path)`
answers each request with the recorded answer it matches, and refuses anything else with a
400 that names the nearest recorded request and how it differs. Nothing is forwarded in
replay.

The cassette is indented JSON, meant to be read and diffed in review::

    {"version": 1, "upstream": "...", "interactions": [
      {"request": {"method", "path", "query", "headers", "body" | "body_text" | "body_base64"},
       "response": {"status", "headers", "body" | "body_text" | "body_base64" | "events",
                    "truncated"?}}]}

JSON bodies and server-sent events are stored parsed (served again as compact JSON),
other text as text, binary as base64. Upload URLs (``x-goog-upload-url``) are stored as
paths on the server, so a replayed upload comes back to whichever port the server has.
A cassette is data anyone with write access to the repository may have edited: in replay
every URL-bearing header is served from the test server whatever host it names, and a
cassette whose headers or status could not be served so is refused at load, naming the
interaction. Credentials are neither recorded nor matched (see `_redact`).

Matching compares method, path, query, the ``x-goog-upload-*`` request headers and the
body. ``ignore`` lists dotted paths to leave out, relative to the JSON body unless they
start with ``query.``/``headers.`` (``generationConfig.seed``, ``contents[*].parts``,
``query.upload_id``), on top of `VOLATILE` (display names and upload file names, made
up per run); a recorded string holding ``REDACTED`` matches any value there (matched
piece by piece, in linear time: no regular expression is built from recorded text). A
``matcher(received, recorded)`` function (both in cassette form) replaces the comparison.
Each request takes the first matching interaction not yet used; once all are used, the
last one matched is served again.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ._redact import CREDENTIAL_HEADERS, CREDENTIAL_QUERY, PLACEHOLDER, Redactor, credentials_in
from ._replies import JSON, error_body
from ._upstream import Head, exchange, origin
from ._wire import CloseConnection, RecordedRequest, http_chunk, http_head

Matcher = Callable[[JSON, JSON], bool]
DEVELOPER_API = "https://generativelanguage.googleapis.com"
VERSION = 1
# Headers that point the client at a URL of the API: served as URLs on this server.
URL_HEADERS = frozenset({"x-goog-upload-url", "x-goog-upload-control-url", "location"})
_FOREIGN = re.compile(r"/_upstream/(?P<i>\d+)(?P<rest>/.*)")
# A header value that names a host: "scheme://..." or "//host/...".
_URLISH = re.compile(r"\s*(?:[A-Za-z][A-Za-z0-9+.-]*:)?//")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}
)
_MAX_DIFFS = 12
# Names made up per run (a timestamp, a random suffix): never matched. Batch jobs and their
# input files get display names like "langchain-gemini-codeexec-<time>-<random>", and the
# SDK sends the upload's temporary file name.
VOLATILE = (
    "batch.displayName",
    "file.displayName",
    "file.display_name",
    "headers.x-goog-upload-file-name",
)


def _kept_header(name: str) -> bool:
    """Response headers worth a line in the cassette."""
    name = name.lower()
    if name in CREDENTIAL_HEADERS or name == "set-cookie":
        return False
    return name in ("content-type", "retry-after") or name.startswith("x-goog-upload-")


def _body_form(raw: bytes, redactor: Redactor) -> JSON:
    if not raw:
        return {}
    try:
        return {"body": redactor.json_stream([json.loads(raw)])[0]}
    except ValueError:
        pass
    try:
        return {"body_text": redactor.text(raw.decode("utf-8"))}
    except UnicodeDecodeError:
        return {"body_base64": base64.b64encode(redactor.data(raw)).decode("ascii")}


def _body_bytes(form: Mapping[str, Any]) -> bytes:
    if "body" in form:
        return json.dumps(form["body"], separators=(",", ":"), ensure_ascii=False).encode()
    if "body_text" in form:
        return str(form["body_text"]).encode()
    if "body_base64" in form:
        return base64.b64decode(form["body_base64"])
    return b""


def request_form(req: RecordedRequest, redactor: Redactor) -> JSON:
    """A request as the cassette keeps it: no credentials, secrets replaced."""
    form: JSON = {
        "method": req.method,
        "path": redactor.text(req.path),
        "query": {
            redactor.text(k): redactor.text(v)
            for k, v in req.query.items()
            if k.lower() not in CREDENTIAL_QUERY
        },
        "headers": {
            k: redactor.text(v)
            for k, v in sorted(req.headers.items())
            if k.startswith("x-goog-upload-") and k not in CREDENTIAL_HEADERS
        },
    }
    form.update(_body_form(req.raw_body, redactor))
    return form


def _event_value(event: bytes) -> Any:
    """A JSON ``data:`` event parsed; anything else kept as its text (not redacted yet)."""
    text = event.decode("utf-8", errors="replace")
    lines = [line for line in text.splitlines() if line]
    if lines and all(line.startswith("data:") for line in lines):
        payload = "\n".join(line[5:].removeprefix(" ") for line in lines)
        with contextlib.suppress(ValueError):
            value = json.loads(payload)
            if not isinstance(value, str):
                return value
    return text


def _event_bytes(form: Any) -> bytes:
    if isinstance(form, str):
        return form.encode()
    return (
        b"data: "
        + json.dumps(form, separators=(",", ":"), ensure_ascii=False).encode()
        + (b"\r\n\r\n")
    )


# --- matching ------------------------------------------------------------------------------


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> dict[str, Any]:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list) and value:
        for i, item in enumerate(value):
            _flatten(item, f"{prefix}[{i}]", out)
    else:
        out[prefix] = value
    return out


def _ignore_pattern(spec: str) -> re.Pattern[str]:
    if not spec.startswith(("body.", "query.", "headers.", "body[")) and spec not in (
        "body",
        "query",
        "headers",
    ):
        spec = f"body.{spec}"
    regex = ""
    for token in re.split(r"(\[\*\]|\*)", spec):
        if token == "[*]":
            regex += r"\[\d+\]"
        elif token == "*":
            regex += r"[^.\[]+"
        else:
            regex += re.escape(token)
    return re.compile(regex + r"(?=$|[.\[])")


def wildcard_match(recorded: str, received: str) -> bool:
    """``received`` is ``recorded`` with any text (maybe none) for each ``REDACTED``.

    Literal pieces, in order, each found at the first place after the last: linear in the
    text for any number of wildcards (no regular expression is built from recorded text).
    """
    first, *middle, last = recorded.split(PLACEHOLDER)
    if len(received) < len(first) + len(last):
        return False
    if not (received.startswith(first) and received.endswith(last)):
        return False
    pos, stop = len(first), len(received) - len(last)
    for piece in middle:
        found = received.find(piece, pos, stop)
        if found < 0:
            return False
        pos = found + len(piece)
    return True


def _same(recorded: Any, received: Any) -> bool:
    if recorded == received:
        return True
    if isinstance(recorded, str) and isinstance(received, str) and PLACEHOLDER in recorded:
        return wildcard_match(recorded, received)
    return False


def differences(
    recorded: JSON, received: JSON, ignore: Sequence[re.Pattern[str]] = ()
) -> list[tuple[str, Any, Any]]:
    """``(field, recorded, received)`` for each field of two requests that differs."""
    a, b = _flatten(recorded, "", {}), _flatten(received, "", {})
    missing = object()
    out = []
    for key in [*a, *(k for k in b if k not in a)]:
        if any(p.match(key) for p in ignore):
            continue
        x, y = a.get(key, missing), b.get(key, missing)
        if not _same(x, y):
            out.append((key, "(absent)" if x is missing else x, "(absent)" if y is missing else y))
    return out


def _short(value: Any) -> str:
    text = value if value == "(absent)" else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 160 else f"{text[:150]}... ({len(text)} chars)"


# --- the session -------------------------------------------------------------------------


@dataclass
class _Exchange:
    """One recorded exchange as it happened (redacted only when written)."""

    request: RecordedRequest
    head: Head | None = None
    body: bytes = b""
    events: list[bytes] = field(default_factory=list)
    truncated: bool = False


class CassetteSession:
    """Record or replay for one `GeminiTestServer`; the server calls `serve` per request."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        record: bool = False,
        upstream: str | None = None,
        redact: Sequence[str] | Mapping[str, str] = (),
        ignore: Sequence[str] = (),
        matcher: Matcher | None = None,
        timeout: float = 600.0,
    ) -> None:
        self.path = Path(path)
        self.record = record
        self.upstream = (upstream or DEVELOPER_API).rstrip("/")
        if urlsplit(self.upstream).scheme not in ("http", "https"):
            raise ValueError(f"upstream must be an http(s) URL, got {self.upstream!r}")
        self.redactor = Redactor(redact)
        self.ignore = [_ignore_pattern(s) for s in (*VOLATILE, *ignore)]
        self.matcher = matcher
        self.timeout = timeout
        self.replayed = 0
        self._lock = threading.Lock()
        self._recorded: list[_Exchange] = []
        self._foreign: list[str] = []
        self.interactions: list[JSON] = []
        self._used: list[bool] = []
        self._last: dict[int, int] = {}
        if not record:
            self.interactions = load(self.path)
            self._used = [False] * len(self.interactions)

    @property
    def recorded(self) -> int:
        """How many exchanges were recorded so far."""
        with self._lock:
            return len(self._recorded)

    async def serve(
        self,
        req: RecordedRequest,
        target: str,
        writer: asyncio.StreamWriter,
        keep: bool,
        base_url: str,
    ) -> None:
        self.redactor.add_credentials(credentials_in(req.headers, req.query))
        if self.record:
            await self._forward(req, target, writer, keep, base_url)
        else:
            await self._replay(req, writer, keep, base_url)

    # --- record ---------------------------------------------------------------------------

    def _route(self, target: str) -> tuple[str, str]:
        m = _FOREIGN.fullmatch(urlsplit(target).path)
        if m:
            with self._lock:
                index = int(m.group("i"))
                known = self._foreign[index] if index < len(self._foreign) else None
            if known is None:  # no answer named such a host: the upstream answers it
                return self.upstream, target
            base = known
            query = urlsplit(target).query
            return base, m.group("rest") + (f"?{query}" if query else "")
        return self.upstream, target

    def _local(self, url: str) -> str:
        """An upstream URL as a path on this server (other hosts get a numbered prefix)."""
        parts = urlsplit(url)
        if not parts.scheme:
            return url
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        up = urlsplit(self.upstream)
        if origin(url) == origin(self.upstream):
            prefix = up.path.rstrip("/")
            return path[len(prefix) :] if prefix and path.startswith(prefix) else path
        with self._lock:
            base = origin(url)
            if base not in self._foreign:
                self._foreign.append(base)
            return f"/_upstream/{self._foreign.index(base)}{path}"

    async def _forward(
        self,
        req: RecordedRequest,
        target: str,
        writer: asyncio.StreamWriter,
        keep: bool,
        base_url: str,
    ) -> None:
        entry = _Exchange(req)
        with self._lock:
            self._recorded.append(entry)  # in arrival order, filled in as the answer comes
        base, upstream_target = self._route(target)
        items = exchange(
            base, req.method, upstream_target, req.headers, req.raw_body, timeout=self.timeout
        )
        try:
            _, head = await items.__anext__()
        except Exception as exc:
            with self._lock:
                self._recorded.remove(entry)
            body = json.dumps(
                error_body(502, f"GeminiTestServer could not reach {base}: {exc!r}")
            ).encode()
            writer.write(http_head(502, {}, len(body), keep) + body)
            return
        assert isinstance(head, Head)
        entry.head = head
        headers: dict[str, str] = {}
        for name, value in head.headers:
            if name.lower() in _HOP:
                continue
            if name.lower() in URL_HEADERS:
                value = base_url + self._local(value)
            headers[name] = value
        try:
            if not head.sse:
                async for _, data in items:
                    assert isinstance(data, bytes)
                    entry.body += data
                writer.write(http_head(head.status, headers, len(entry.body), keep) + entry.body)
                return
            writer.write(http_head(head.status, headers, None, keep, chunked=True))
            async for _, event in items:
                assert isinstance(event, bytes)
                entry.events.append(event)
                writer.write(http_chunk(event))
                await writer.drain()
        except BaseException as exc:
            # The upstream answer broke off (or the server is stopping): recorded so, and
            # the client sees it break too.
            entry.truncated = True
            writer.transport.abort()
            if isinstance(exc, Exception):
                raise CloseConnection from None
            raise
        finally:
            await items.aclose()
        writer.write(b"0\r\n\r\n")

    def _response_form(self, entry: _Exchange) -> JSON:
        head = entry.head
        assert head is not None
        headers = {
            name.lower(): self.redactor.text(
                self._local(value) if name.lower() in URL_HEADERS else value
            )
            for name, value in head.headers
            if _kept_header(name)
        }
        form: JSON = {"status": head.status, "headers": headers}
        if head.sse:
            # Redacted as one stream: a key cut across events is found whole.
            form["events"] = self.redactor.json_stream([_event_value(e) for e in entry.events])
        else:
            form.update(_body_form(entry.body, self.redactor))
        if entry.truncated:
            form["truncated"] = True
        return form

    def discard(self) -> None:
        """Do not write the cassette when the server stops (a test that skipped)."""
        self.record = False

    def save(self) -> None:
        """Write the recorded exchanges to the cassette path (record mode only)."""
        if not self.record:
            return
        with self._lock:
            done = [e for e in self._recorded if e.head is not None]
        data = {
            "version": VERSION,
            "upstream": self.redactor.text(self.upstream),
            "interactions": [
                {
                    "request": request_form(e.request, self.redactor),
                    "response": self._response_form(e),
                }
                for e in done
            ],
        }
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        # Every form was redacted, but with the credentials known at the end (a key first
        # seen in a later request is caught in the earlier ones here too).
        final = self.redactor.text(text, decoded=False)  # escapes here are JSON's own
        if final != text:
            json.loads(final)  # still a cassette (credentials are plain ASCII tokens)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(final)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    # --- replay ---------------------------------------------------------------------------

    def _matches(self, received: JSON, recorded: JSON) -> bool:
        if self.matcher is not None:
            return bool(self.matcher(received, recorded))
        return not differences(recorded, received, self.ignore)

    def find(self, received: JSON) -> int | None:
        """Index of the interaction that answers ``received`` (and mark it used)."""
        with self._lock:
            hits = [
                i
                for i, it in enumerate(self.interactions)
                if self._matches(received, it.get("request") or {})
            ]
            if not hits:
                return None
            fresh = [i for i in hits if not self._used[i]]
            index = fresh[0] if fresh else max(hits, key=lambda i: self._last.get(i, -1))
            self._used[index] = True
            self._last[index] = self.replayed
            self.replayed += 1
            return index

    def not_recorded(self, received: JSON) -> str:
        """The error text for a request that no interaction matches."""
        where = f"{received['method']} {received['path']}"
        lines = [f"GeminiTestServer replay: {where} was not recorded in the cassette {self.path}."]
        scored = []
        for i, it in enumerate(self.interactions):
            recorded = it.get("request") or {}
            diffs = differences(recorded, received, self.ignore)
            far = (recorded.get("method") != received["method"]) + (
                recorded.get("path") != received["path"]
            )
            scored.append((far, len(diffs), i, recorded, diffs))
        if not scored:
            lines.append("The cassette has no recorded requests.")
        else:
            _, _, i, recorded, diffs = min(scored, key=lambda s: s[:3])
            lines.append(
                f"Nearest recorded request: #{i} {recorded.get('method')} {recorded.get('path')}"
                + (", which differs in:" if diffs else " (it matches only by the matcher).")
            )
            for key, was, now in diffs[:_MAX_DIFFS]:
                lines.append(f"  {key}: recorded {_short(was)}, received {_short(now)}")
            if len(diffs) > _MAX_DIFFS:
                lines.append(f"  ... and {len(diffs) - _MAX_DIFFS} more")
        lines.append(
            "Record it again (record=True; pytest: --gemini-record-mode=all), or leave "
            "volatile fields out of matching with ignore=[...]."
        )
        return "\n".join(lines)

    async def _replay(
        self, req: RecordedRequest, writer: asyncio.StreamWriter, keep: bool, base_url: str
    ) -> None:
        received = request_form(req, self.redactor)
        index = self.find(received)
        if index is None:
            body = json.dumps(
                error_body(400, self.not_recorded(received), "FAILED_PRECONDITION")
            ).encode()
            writer.write(http_head(400, {}, len(body), keep) + body)
            return
        resp = self.interactions[index].get("response") or {}
        status = int(resp.get("status", 200))
        # Every URL the cassette holds points at this server, whatever host it names.
        headers = {
            name: base_url + str(_local_target(value)) if _url_header(name, value) else value
            for name, value in (resp.get("headers") or {}).items()
        }
        if "events" not in resp:
            body = _body_bytes(resp)
            cut = bool(resp.get("truncated"))  # announce more than there is, then stop
            writer.write(http_head(status, headers, len(body) + cut, keep) + body)
            if cut:
                await writer.drain()
                writer.transport.abort()
                raise CloseConnection
            return
        writer.write(http_head(status, headers, None, keep, chunked=True))
        for event in resp["events"]:
            writer.write(http_chunk(_event_bytes(event)))
            await writer.drain()
        if resp.get("truncated"):
            await writer.drain()
            writer.transport.abort()
            raise CloseConnection
        writer.write(b"0\r\n\r\n")


_MAX_DEPTH = 200


def _depth(value: Any) -> int:
    """How deeply JSON containers nest in `value` (without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            inner = item.values() if isinstance(item, dict) else item
            stack.extend((v, level + 1) for v in inner)
    return deepest


def _url_header(name: str, value: str) -> bool:
    return name.lower() in URL_HEADERS or _URLISH.match(value) is not None


def _local_target(value: str) -> str | None:
    """A recorded URL as a path on the replay server (its host dropped, whatever it is);
    None when it is not an http(s) URL or path."""
    if any(c.isspace() or not c.isprintable() for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("", "http", "https"):
        return None
    path = parts.path or ("/" if parts.netloc else "")
    if not path.startswith("/"):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def _check_response(where: str, resp: Any) -> None:
    """Refuse what replay could not serve as recorded, or could serve elsewhere."""
    if not isinstance(resp, dict):
        raise ValueError(f"{where}: 'response' must be an object")
    status = resp.get("status", 200)
    if type(status) is not int or not 100 <= status <= 599:
        raise ValueError(f"{where}: status must be an HTTP status code, got {status!r}")
    headers = resp.get("headers") or {}
    if not isinstance(headers, dict):
        raise ValueError(f"{where}: 'headers' must be an object")
    for name, value in headers.items():
        if not _HEADER_NAME.fullmatch(name) or not isinstance(value, str):
            raise ValueError(f"{where}: header {name!r} is not a header name with a text value")
        if any(c in value for c in "\r\n\0"):
            raise ValueError(f"{where}: header {name!r} holds a line break")
        if _url_header(name, value) and _local_target(value) is None:
            raise ValueError(
                f"{where}: header {name!r} is not an http(s) URL or path ({value[:100]!r}); "
                "replay serves every URL of a cassette from the test server"
            )
    if "events" in resp and not isinstance(resp["events"], list):
        raise ValueError(f"{where}: 'events' must be a list")
    if "body_text" in resp and not isinstance(resp["body_text"], str):
        raise ValueError(f"{where}: 'body_text' must be a string")
    if "body_base64" in resp:
        try:
            base64.b64decode(resp["body_base64"], validate=True)
        except (TypeError, ValueError):
            raise ValueError(f"{where}: 'body_base64' is not base64") from None


def load(path: str | os.PathLike[str]) -> list[JSON]:
    """The interactions of a cassette file, checked enough to give a clear error."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(
            f"no cassette at {p}: record one first (GeminiTestServer(cassette=..., "
            "record=True) with credentials; pytest: --gemini-record-mode=once)"
        )
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(f"cassette {p} is not valid JSON: {exc}") from None
    except RecursionError:
        raise ValueError(f"cassette {p} is nested too deeply to read") from None
    if _depth(data) > _MAX_DEPTH:  # matching walks it recursively, per request
        raise ValueError(f"cassette {p} is nested more than {_MAX_DEPTH} levels deep")
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise ValueError(f"cassette {p} has no 'interactions' list")
    if data.get("version") != VERSION:
        raise ValueError(f"cassette {p} has version {data.get('version')!r}; expected {VERSION}")
    interactions = [it for it in data["interactions"] if isinstance(it, dict)]
    for i, it in enumerate(interactions):
        if "request" in it and not isinstance(it["request"], dict):
            raise ValueError(f"cassette {p}, interaction #{i}: 'request' must be an object")
        _check_response(f"cassette {p}, interaction #{i}", it.get("response") or {})
    return interactions


__all__ = ["DEVELOPER_API", "CassetteSession", "Matcher", "differences", "load", "request_form"]
