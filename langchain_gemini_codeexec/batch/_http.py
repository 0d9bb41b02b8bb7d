"""The HTTP calls of batch jobs, in one place: JSON requests, a JSONL upload, a line stream.

Like `Transport`, this sends bodies we built ourselves through the google-genai client (its
auth, endpoints and HTTP libraries) and reads the raw JSON back: the SDK's typed
`batches.create`/`get` would rewrite request bodies and translate `BATCH_STATE_*` into
`JOB_STATE_*`. Everything that touches SDK internals for batches lives here, so that a
change of the transport seam is a change of this one module.

Wire facts (google-genai 3.6 `batches.py`/`files.py`, and Google's Batch Mode guide,
https://ai.google.dev/gemini-api/docs/batch-mode and https://ai.google.dev/api/batch-api):
- create: `POST {version}/models/{model}:batchGenerateContent` with
  `{"batch": {"displayName", "model", "inputConfig": {"requests": {"requests": [...]}}}}`
  or `"inputConfig": {"fileName": "files/..."}`; the answer is an Operation named
  `batches/{id}` whose `metadata` holds `state` and `batchStats`.
- get: `GET {version}/batches/{id}`; cancel: `POST {version}/batches/{id}:cancel`.
- results file: `GET /download/{version}/files/{id}:download?alt=media` (the REST guide's
  URL); the SDK's `files.download` uses `{version}/files/{id}:download?alt=media`, which
  is tried when the first answers 404.
- Vertex AI: `POST .../locations/{loc}/batchPredictionJobs`, `GET .../batchPredictionJobs/{id}`,
  `POST .../batchPredictionJobs/{id}:cancel` (the SDK adds the project/location prefix).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from langchain_gemini_codeexec._transport import sdk as _sdk
from langchain_gemini_codeexec._transport.classify import convert_error
from langchain_gemini_codeexec._transport.flow import Flow, call, open_response, sdk_call, sleep
from langchain_gemini_codeexec._transport.sdk import _LazyModule
from langchain_gemini_codeexec._transport.transport import Transport, aclose_response
from langchain_gemini_codeexec.errors import GeminiAPIError

if TYPE_CHECKING:
    from google.genai import errors, types
else:
    errors = _LazyModule("google.genai.errors")
    types = _LazyModule("google.genai.types")

# Answers that say the server did not act on the request: the only failures after which
# creating a job is sent again (a timeout or a dropped connection may have created it).
_NOT_DONE = frozenset({429, 503})
_CHUNK = 1 << 16
Json = dict[str, Any]
# A poll's request gets at least this long (seconds), even when the poller's deadline is
# nearer: a request given a few milliseconds could not be answered.
MIN_POLL_WAIT = 0.5


# A results line longer than this is that result's error, not held in memory: a line is one
# answer (Gemini caps its output; charts are a few MB), 64 MiB is far above any real one.
MAX_LINE_BYTES = 64 << 20
_HEAD = 4096  # what is kept of an oversized line (its key is near the start)


class OversizedLine(bytes):
    """The start of a line over the cap (its bytes), with the line's whole size and the cap."""

    size: int
    limit: int

    def __new__(cls, head: bytes, size: int, limit: int) -> OversizedLine:
        line = super().__new__(cls, head)
        line.size, line.limit = size, limit
        return line


def _start(pieces: list[bytes]) -> bytes:
    """The first 4 KiB of the pieces of a line (without joining it whole)."""
    head: list[bytes] = []
    size = 0
    for piece in pieces:
        head.append(piece[: _HEAD - size])
        size += len(head[-1])
        if size >= _HEAD:
            break
    return b"".join(head)


class LineBuffer:
    """Bytes in, whole lines out without their line ends (for the sync and async streams);
    memory holds one chunk's lines and the partial line after them.

    Linear in the bytes: each chunk is searched for line ends once, and a partial line is
    kept as a list of pieces joined once when its end comes. A line over `max_line`
    bytes comes out as an `OversizedLine` (its first 4 KiB); the rest of it is skipped,
    not held.
    """

    def __init__(self, max_line: int | None = None) -> None:
        self._pending: list[bytes] = []
        self._size = 0  # bytes in _pending
        self._max = MAX_LINE_BYTES if max_line is None else max_line
        self._skipped: int | None = None  # bytes of an oversized line dropped so far
        self._head = b""

    def _line(self, piece: bytes) -> bytes:
        if self._pending:
            piece = b"".join([*self._pending, piece])
            self._pending, self._size = [], 0
        if self._skipped is not None:
            line = OversizedLine(self._head, self._skipped + len(piece), self._max)
            self._skipped = None
            return line
        if len(piece) > self._max:
            return OversizedLine(piece[:_HEAD], len(piece), self._max)
        return piece.rstrip(b"\r")

    def feed(self, chunk: bytes) -> list[bytes]:
        chunk = bytes(chunk)
        lines: list[bytes] = []
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            lines.append(self._line(chunk[start:end]))
            start = end + 1
        rest = chunk[start:]
        if not rest:
            return lines
        if self._skipped is not None:
            self._skipped += len(rest)
            return lines
        self._pending.append(rest)
        self._size += len(rest)
        if self._size > self._max:  # too long to be a result: keep its start only
            self._head = _start(self._pending)
            self._skipped, self._pending, self._size = self._size, [], 0
        return lines

    def rest(self) -> list[bytes]:
        """The last line if the stream did not end with a line end (blank: none)."""
        if self._skipped is not None or self._size:
            last = self._line(b"")
            return [last] if last.strip() or isinstance(last, OversizedLine) else []
        return []


def split_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Lines of a byte stream without their line ends."""
    lines = LineBuffer()
    for chunk in chunks:
        yield from lines.feed(chunk)
    yield from lines.rest()


class BatchHTTP:
    """Batch requests through one model's google-genai client and retry policy."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    @property
    def vertexai(self) -> bool:
        return bool(self.transport.client.vertexai)

    # --- JSON requests and the upload: flows (Transport.drive / adrive send them) -----------

    def get(self, path: str, *, retry: bool = True, timeout: float | None = None) -> Flow[Json]:
        """A GET, retried like every idempotent request (unless `retry=False`).

        `timeout` (seconds) bounds this one request, e.g. to a poller's deadline.
        """
        if retry:
            return (yield from call("get", path, timeout=timeout))
        try:
            wait = None if timeout is None else max(timeout, MIN_POLL_WAIT)
            return (yield from call("get", path, retry=False, timeout=wait))
        except Exception as exc:
            _fail(exc, 0)

    def post(self, path: str, body: Json) -> Flow[Json]:
        """A POST sent again only after an answer saying it was not acted on (429/503)."""
        retry = self.transport.retry
        attempt = 0
        while True:
            try:
                return (yield from call("post", path, body, retry=False))
            except Exception as exc:
                if not _may_resend(exc, attempt, retry.max_retries):
                    _fail(exc, attempt)
                yield from sleep(retry.delay(attempt, exc))
                attempt += 1

    def upload_jsonl(self, path: Path, display_name: str) -> Flow[str]:
        """Resumable Files API upload of a JSONL file; returns its name (`files/...`)."""
        config = types.UploadFileConfig(mime_type="application/jsonl", display_name=display_name)
        client = self.transport.client
        # An SdkCall: bounded by the model's timeout (per attempt), retried, failures typed.
        uploaded = yield from sdk_call(
            lambda: client.files.upload(file=str(path), config=config),
            lambda: client.aio.files.upload(file=str(path), config=config),
        )
        return str(uploaded.name)

    def open_download(self, file_name: str) -> Flow[Any]:
        """The response of a file's bytes, unread (a flow: `download_lines` and
        `adownload_lines` drive it). The REST guide's URL first, the SDK's on a 404.

        The timeout means the same on every path: the head within it, then each read
        within it. Sync: the SDK's per-read timeout (the head bounded by the driver).
        Async: no timeout for the SDK (it gives aiohttp a deadline for the whole body,
        which cuts a healthy download), each read bounded by `adownload_lines`.
        """
        base = (_sdk.http_options(self.transport.client).base_url or "").rstrip("/")
        path = f"{file_name}:download?alt=media"
        try:
            return (yield from open_response("get", path, base_url=f"{base}/download/"))
        except GeminiAPIError as exc:
            if exc.code != 404:
                raise
        return (yield from open_response("get", path))

    def download_lines(self, file_name: str) -> Iterator[bytes]:
        """The lines of a file, streamed: never the whole file in memory."""
        stream = self.transport.drive(self.open_download(file_name))
        try:
            if hasattr(stream, "iter_bytes"):  # httpx / httpx2: as the reads arrive
                chunks: Iterable[bytes] = stream.iter_bytes()
            else:  # requests (google-auth sessions)
                chunks = stream.iter_content(_CHUNK)
            yield from split_lines(chunks)
        except Exception as exc:
            converted = convert_error(exc)
            if converted is exc:
                raise
            raise converted from exc
        finally:
            stream.close()

    async def adownload_lines(self, file_name: str) -> AsyncIterator[bytes]:
        stream = await self.transport.adrive(self.open_download(file_name))
        # Each read as it arrives (httpx would gather 64 KiB first), so that the deadline
        # below is per read, as the sync path's socket timeout is.
        if hasattr(stream, "aiter_bytes"):  # httpx / httpx2
            chunks: Any = stream.aiter_bytes()
        else:  # aiohttp: its readline caps a line at 128 KiB, so split ourselves
            chunks = stream.content.iter_any()
        lines = LineBuffer()
        try:
            while True:
                try:
                    chunk = await self.transport.bounded(anext(chunks, None))
                except Exception as exc:
                    converted = convert_error(exc)
                    if converted is exc:
                        raise
                    raise converted from exc
                if chunk is None:
                    break
                for line in lines.feed(chunk):
                    yield line
            for line in lines.rest():
                yield line
        finally:
            await aclose_response(stream)


def _may_resend(exc: BaseException, attempt: int, max_retries: int) -> bool:
    return attempt < max_retries and isinstance(exc, errors.APIError) and exc.code in _NOT_DONE


def _fail(exc: Exception, attempt: int) -> NoReturn:
    converted = convert_error(exc, attempt + 1)
    if converted is exc:
        raise exc
    raise converted from exc
