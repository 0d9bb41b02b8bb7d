"""One result per request of a batch job, read inline or line by line from its responses file.

Records are put back in input order (`Orderer`) with bounded look-ahead.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage

from langchain_gemini_codeexec.batch._http import OversizedLine
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


def _line_key(quoted: bytes) -> str | None:
    try:
        return str(json.loads(b'"' + quoted + b'"'))
    except ValueError:
        return None


def line_record(number: int, line: bytes) -> tuple[str | None, dict[str, Any] | Exception]:
    """(key, item or the error for this line) of one line of a responses file."""
    if isinstance(line, OversizedLine):
        found = _KEY_IN_LINE.search(line)
        key = _line_key(found.group(1)) if found else None
        return key, IncompleteResponseError(
            f"line {number} of the batch responses file is {line.size} bytes, over the "
            f"{line.limit}-byte limit of one result; starts {line[:120]!r}"
        )
    try:
        # Decoded here: json.loads(bytes) would first guess the encoding in pure Python.
        item = json.loads(line.decode("utf-8"))
        if not isinstance(item, dict):
            raise ValueError(f"a JSON {type(item).__name__}, not an object")
    except ValueError as exc:
        found = _KEY_IN_LINE.search(line)
        key = _line_key(found.group(1)) if found else None
        return key, IncompleteResponseError(
            f"line {number} of the batch responses file is not valid JSON ({exc}); "
            f"starts {line[:120]!r}"
        )
    return record_key(item), item


def file_records(lines: Iterable[bytes]) -> Iterator[tuple[str | None, Any, bytes]]:
    """(key, item or error, the raw line) of each non-blank line of a responses file."""
    number = 0
    for line in lines:
        if line.strip():
            number += 1
            key, item = line_record(number, line)
            yield key, item, line


@dataclass(frozen=True, slots=True)
class _Spilled:
    offset: int
    length: int


class Orderer:
    """Puts records back in input order, holding only those that arrive early.

    Gemini usually lists results in input order: then nothing is held and no index of the
    keys is built (memory stays flat in the number of results). A result that arrives
    early with its raw line is held on disk (a temporary file, deleted when done), not in
    memory: results far out of order cost memory for an offset per key only.
    """

    def __init__(self, keys: Sequence[str] | None) -> None:
        self.keys = keys
        self._index: dict[str, int] | None = None
        self.next = 0
        self.early: dict[str, Any] = {}
        self.unknown: list[tuple[str | None, Any]] = []
        self._spill: Any = None

    def _position(self, key: str) -> int | None:
        if self._index is None:  # the first result out of order: index the keys once
            assert self.keys is not None
            self._index = {k: i for i, k in enumerate(self.keys)}
        return self._index.get(key)

    def _hold(self, key: str, item: Any, raw: bytes | None) -> None:
        if raw is None or not isinstance(item, dict):
            self.early[key] = item
            return
        if self._spill is None:
            self._spill = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        spill = self._spill
        spill.seek(0, os.SEEK_END)
        self.early[key] = _Spilled(spill.tell(), len(raw))
        spill.write(raw)

    def _take(self, key: str) -> Any:
        item = self.early.pop(key)
        if isinstance(item, _Spilled):
            self._spill.seek(item.offset)
            return json.loads(self._spill.read(item.length).decode("utf-8"))
        return item

    def close(self) -> None:
        if self._spill is not None:
            self._spill.close()
            self._spill = None

    def push(
        self, key: str | None, item: Any, raw: bytes | None = None
    ) -> Iterator[tuple[str | None, Any, int | None]]:
        """The records ready now, one at a time (a long run of held ones is not loaded at
        once)."""
        keys = self.keys
        if keys is None:
            yield key, item, None
            return
        if self.next < len(keys) and key == keys[self.next]:
            position: int | None = self.next
        else:
            position = self._position(key) if key is not None else None
        if position is None:
            self.unknown.append((key, item))
            return
        if position < self.next or key in self.early:
            logger.warning("batch results: a second result for key %r was ignored", key)
            return
        if position != self.next:
            assert key is not None
            self._hold(key, item, raw)
            return
        self.next += 1
        yield key, item, position
        while self.early and self.next < len(keys) and keys[self.next] in self.early:
            k, at = keys[self.next], self.next
            self.next += 1
            yield k, self._take(k), at

    def finish(self, missing: Any) -> Iterator[tuple[str | None, Any, int | None]]:
        """The rest, one at a time: early arrivals, then an error for each key without a
        result."""
        try:
            if self.keys is not None:
                while self.next < len(self.keys):
                    k, position = self.keys[self.next], self.next
                    self.next += 1
                    yield k, self._take(k) if k in self.early else missing(k), position
            unknown, self.unknown = self.unknown, []
            for name, item in unknown:
                yield name, item, None
        finally:
            self.close()
