"""One result per request of a batch job, read inline or line by line from its responses file.

Records are put back in input order (`Orderer`) with bounded look-ahead.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage

from langchain_gemini_codeexec.errors import (
    BatchRequestError,
    GeminiCodeExecutionError,
    IncompleteResponseError,
)

logger = logging.getLogger("langchain_gemini_codeexec.batch")


# gRPC code -> status name (google.rpc.Code), for per-request errors.
_GRPC_STATUS = {
    0: "OK",
    1: "CANCELLED",
    2: "UNKNOWN",
    3: "INVALID_ARGUMENT",
    4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND",
    6: "ALREADY_EXISTS",
    7: "PERMISSION_DENIED",
    8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION",
    10: "ABORTED",
    11: "OUT_OF_RANGE",
    12: "UNIMPLEMENTED",
    13: "INTERNAL",
    14: "UNAVAILABLE",
    15: "DATA_LOSS",
    16: "UNAUTHENTICATED",
}
_KEY_IN_LINE = re.compile(rb'"key"\s*:\s*"((?:[^"\\]|\\.)*)"')

# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchResult:
    """The outcome of one request of a batch job.

    `message` is the `AIMessage` `invoke` would have returned; when the request failed it is
    `None` and `error` says why (a `BatchRequestError` carries Gemini's code and message).
    `index` is the input's position when the job's keys are known.
    """

    key: str | None
    message: AIMessage | None
    error: GeminiCodeExecutionError | None = None
    index: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def request_error(key: str | None, status: Any) -> BatchRequestError:
    if isinstance(status, str):  # Vertex predictions: a non-empty "status" string
        return BatchRequestError(key, None, None, status)
    status = status if isinstance(status, dict) else {}
    code = status.get("code")
    code = code if isinstance(code, int) else None
    name = status.get("status") or _GRPC_STATUS.get(code or -1)
    return BatchRequestError(key, code, name, status.get("message"))


def record_key(item: dict[str, Any]) -> str | None:
    metadata = item.get("metadata")
    key = metadata.get("key") if isinstance(metadata, dict) else None
    key = key if key is not None else item.get("key")
    return None if key is None else str(key)


def line_record(number: int, line: bytes) -> tuple[str | None, dict[str, Any] | Exception]:
    """(key, item or the error for this line) of one line of a responses file."""
    try:
        # Decoded here: json.loads(bytes) would first guess the encoding in pure Python.
        item = json.loads(line.decode("utf-8"))
        if not isinstance(item, dict):
            raise ValueError(f"a JSON {type(item).__name__}, not an object")
    except ValueError as exc:
        found = _KEY_IN_LINE.search(line)
        key = None
        if found:
            try:
                key = str(json.loads(b'"' + found.group(1) + b'"'))
            except ValueError:
                key = None
        return key, IncompleteResponseError(
            f"line {number} of the batch responses file is not valid JSON ({exc}); "
            f"starts {line[:120]!r}"
        )
    return record_key(item), item


class Orderer:
    """Puts records back in input order, holding only those that arrive early.

    Gemini usually lists results in input order: then nothing is held and no index of the
    keys is built (memory stays flat in the number of results).
    """

    def __init__(self, keys: Sequence[str] | None) -> None:
        self.keys = keys
        self._index: dict[str, int] | None = None
        self.next = 0
        self.early: dict[str, Any] = {}
        self.unknown: list[tuple[str | None, Any]] = []

    def _position(self, key: str) -> int | None:
        if self._index is None:  # the first result out of order: index the keys once
            assert self.keys is not None
            self._index = {k: i for i, k in enumerate(self.keys)}
        return self._index.get(key)

    def push(self, key: str | None, item: Any) -> list[tuple[str | None, Any, int | None]]:
        keys = self.keys
        if keys is None:
            return [(key, item, None)]
        if self.next < len(keys) and key == keys[self.next]:
            position: int | None = self.next
        else:
            position = self._position(key) if key is not None else None
        if position is None:
            self.unknown.append((key, item))
            return []
        if position < self.next or key in self.early:
            logger.warning("batch results: a second result for key %r was ignored", key)
            return []
        if position != self.next:
            self.early[key] = item  # type: ignore[index]
            return []
        ready: list[tuple[str | None, Any, int | None]] = [(key, item, position)]
        self.next += 1
        while self.early and self.next < len(keys) and keys[self.next] in self.early:
            k = keys[self.next]
            ready.append((k, self.early.pop(k), self.next))
            self.next += 1
        return ready

    def finish(self, missing: Any) -> list[tuple[str | None, Any, int | None]]:
        """The rest: early arrivals, then an error for each key without a result."""
        ready: list[tuple[str | None, Any, int | None]] = []
        if self.keys is not None:
            for position in range(self.next, len(self.keys)):
                k = self.keys[position]
                ready.append((k, self.early.pop(k) if k in self.early else missing(k), position))
            self.next = len(self.keys)
        ready.extend((k, item, None) for k, item in self.unknown)
        self.unknown = []
        return ready


