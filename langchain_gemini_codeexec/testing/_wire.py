"""What the loopback server and its endpoints share: the recorded request, the uploaded file,
and HTTP/1.1 framing. The server, batch, cassette and scripted modules all import it; it
imports none of them (so the testing package has no import cycle).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal

from ._replies import JSON

Api = Literal["developer", "vertex", "vertex_express", "files", "caches", "unknown"]

def b64decode_any(data: str) -> bytes:
    """Decode standard or URL-safe base64, padded or not (the SDK sends URL-safe)."""
    s = data.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(s + "=" * (-len(s) % 4))


@dataclass(frozen=True)
class RecordedRequest:
    """What the server saw of one request, for assertions."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    raw_body: bytes
    api: Api
    model: str | None
    action: str
    stream: bool

    @property
    def contents(self) -> list[JSON]:
        """``body["contents"]``, or ``[]``."""
        body = self.body if isinstance(self.body, dict) else {}
        return list(body.get("contents") or [])

    def parts(self, i: int) -> list[JSON]:
        """Parts of ``contents[i]``."""
        return list(self.contents[i].get("parts") or [])

    def model_parts(self, i: int = -1) -> list[JSON]:
        """Parts of the i-th ``model`` turn in ``contents`` (last by default)."""
        turns = [c for c in self.contents if c.get("role") == "model"]
        return list(turns[i].get("parts") or [])

    @property
    def text(self) -> str:
        """All text of all contents, joined by newlines."""
        return "\n".join(
            p["text"] for c in self.contents for p in c.get("parts") or [] if "text" in p
        )

    def inline_data(self) -> list[bytes]:
        """Decoded ``inlineData`` bytes of all contents, in order."""
        out = []
        for c in self.contents:
            for p in c.get("parts") or []:
                blob = p.get("inlineData") or p.get("inline_data")
                if blob and "data" in blob:
                    out.append(b64decode_any(blob["data"]))
        return out


@dataclass
class UploadedFile:
    """A file stored by the fake Files API."""

    name: str
    uri: str
    mime_type: str
    display_name: str | None = None
    data: bytes = b""

    def resource(self) -> JSON:
        """The ``File`` resource JSON the API returns."""
        res: JSON = {
            "name": self.name,
            "uri": self.uri,
            "mimeType": self.mime_type,
            "sizeBytes": str(len(self.data)),
            "state": "ACTIVE",
        }
        if self.display_name is not None:
            res["displayName"] = self.display_name
        return res


class CloseConnection(Exception):
    """Raised inside a handler to drop the connection after replying."""



def http_head(
    status: int,
    headers: Mapping[str, str],
    length: int | None,
    keep: bool,
    *,
    chunked: bool = False,
) -> bytes:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    out = {"Content-Type": "application/json; charset=UTF-8"}
    for key, value in headers.items():  # scripted headers win, whatever their case
        out = {k: v for k, v in out.items() if k.lower() != key.lower()}
        out[key] = value
    if length is not None:
        out["Content-Length"] = str(length)
    elif chunked:
        out["Transfer-Encoding"] = "chunked"
    out["Connection"] = "keep-alive" if keep else "close"
    lines = "".join(f"{k}: {v}\r\n" for k, v in out.items())
    return f"HTTP/1.1 {status} {reason}\r\n{lines}\r\n".encode("latin-1")



def http_chunk(data: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(data), data)



__all__ = [
    "Api",
    "CloseConnection",
    "RecordedRequest",
    "UploadedFile",
    "b64decode_any",
    "http_chunk",
    "http_head",
]
