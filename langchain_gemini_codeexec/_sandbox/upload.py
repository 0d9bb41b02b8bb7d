"""How a file reaches Gemini: small files inline; larger ones through the Files API on the
Developer API, uploaded once per (content hash, mime type) per client; Vertex AI has no
Files API, so files go inline there (give a `gs://` URI in `files` for large ones).
"""

from __future__ import annotations

import base64
import io
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.genai import Client, types
from langchain_core.tools import ToolException

from langchain_gemini_codeexec._sandbox.names import LoadedFile
from langchain_gemini_codeexec._transport.flow import Flow, sdk_call
from langchain_gemini_codeexec._transport.single_flight import SingleFlight

# Files API uploads expire after 48 hours; reuse an upload for a little less than that.
UPLOAD_LIFETIME = 47 * 3600.0

# --- sending --------------------------------------------------------------------------


@dataclass(frozen=True)
class Uploaded:
    uri: str
    mime_type: str
    expires_at: float


class UploadCache:
    """Files API uploads of one client by content hash, single-flight across threads and tasks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: dict[tuple[str, str], Uploaded] = {}
        self._flights: SingleFlight[tuple[str, str], Uploaded] = SingleFlight()

    def _hit(self, key: tuple[str, str]) -> Uploaded | None:
        with self._lock:
            hit = self._done.get(key)
        return hit if hit is not None and hit.expires_at > time.time() else None

    def _keep(self, key: tuple[str, str], value: Uploaded) -> Uploaded:
        with self._lock:
            self._done[key] = value
        return value

    def get(self, key: tuple[str, str], upload: Callable[[], Flow[Uploaded]]) -> Flow[Uploaded]:
        """The upload of `key`, made by the flow `upload()` unless a live one is kept."""
        hit = self._hit(key)
        if hit is not None:
            return hit

        def make() -> Flow[Uploaded]:
            # Checked again inside the flight: an upload that finished between our first
            # look and our claim is reused, not repeated.
            hit = self._hit(key)
            return hit if hit is not None else self._keep(key, (yield from upload()))

        return (yield from self._flights.run(key, make))


_CACHES: weakref.WeakKeyDictionary[Client, UploadCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def upload_cache(client: Client) -> UploadCache:
    """The upload cache of one google-genai client (created on first use)."""
    with _CACHES_LOCK:
        cache = _CACHES.get(client)
        if cache is None:
            cache = _CACHES[client] = UploadCache()
        return cache


def _uploaded(file: Any, mime_type: str) -> Uploaded:
    uri = getattr(file, "uri", None)
    if not uri:
        raise ToolException("the Files API upload returned no file URI")
    state = str(getattr(file, "state", "") or "")
    if state.endswith("FAILED"):
        raise ToolException(
            f"the Files API could not process the file ({getattr(file, 'error', '')})"
        )
    expiry = getattr(file, "expiration_time", None)
    expires_at = time.time() + UPLOAD_LIFETIME
    if expiry is not None and hasattr(expiry, "timestamp"):
        expires_at = min(expires_at, expiry.timestamp() - 3600.0)
    return Uploaded(
        uri=str(uri),
        mime_type=str(getattr(file, "mime_type", None) or mime_type),
        expires_at=expires_at,
    )


def _upload_config(file: LoadedFile) -> types.UploadFileConfigDict:
    return {"mime_type": file.mime_type, "display_name": file.name}


def needs_upload(file: LoadedFile, client: Client, inline_max_bytes: int) -> bool:
    return file.data is not None and len(file.data) > inline_max_bytes and not client.vertexai


def inline_block(file: LoadedFile) -> dict[str, Any]:
    """A standard LangChain media block for `file` (inline bytes or a URI)."""
    if file.uri is not None:
        return {"type": file.block_type, "url": file.uri, "mime_type": file.mime_type}
    data = base64.b64encode(file.data or b"").decode("ascii")
    return {"type": file.block_type, "base64": data, "mime_type": file.mime_type}


def _uri_block(file: LoadedFile, uploaded: Uploaded) -> dict[str, Any]:
    return {"type": file.block_type, "url": uploaded.uri, "mime_type": file.mime_type}


def file_block(file: LoadedFile, client: Client, inline_max_bytes: int) -> Flow[dict[str, Any]]:
    """The block for `file`, uploading it first when it is too big to go inline (once per
    content across threads and tasks; the upload retried and bounded as the model's calls)."""
    if not needs_upload(file, client, inline_max_bytes):
        return inline_block(file)

    def upload() -> Uploaded:
        sent = client.files.upload(file=io.BytesIO(file.data or b""), config=_upload_config(file))
        return _uploaded(sent, file.mime_type)

    async def aupload() -> Uploaded:
        sent = await client.aio.files.upload(
            file=io.BytesIO(file.data or b""), config=_upload_config(file)
        )
        return _uploaded(sent, file.mime_type)

    cache = upload_cache(client)
    key = (file.sha256, file.mime_type)
    uploaded = yield from cache.get(key, lambda: sdk_call(upload, aupload))
    return _uri_block(file, uploaded)
