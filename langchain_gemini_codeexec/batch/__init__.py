"""Gemini's Batch API: thousands of code-execution requests at half the price.

`ChatGeminiCodeExecution.submit_batch(inputs)` sends one job whose requests are exactly the
bodies `invoke` would send; `GeminiBatchJob` follows it (`refresh`, `poll_until_done`,
`cancel`) and maps its answers back (`results()`), one `BatchResult` per input, in input
order, under the same content contract as `invoke`. A job outlives the process that
submitted it: `GeminiBatchJob.attach(name, llm=llm)` picks it up again.

Facts this relies on (Google's Batch Mode guide, https://ai.google.dev/gemini-api/docs/batch-mode,
the API reference https://ai.google.dev/api/batch-api, and google-genai 3.6 `batches.py`):
- Batch jobs cost 50% of the standard price; Google's target turnaround is 24 hours (most
  finish much sooner). Jobs that do not finish within 48 hours expire (`BATCH_STATE_EXPIRED`).
- Inline requests suit jobs whose whole create request stays under 20 MB; larger jobs go
  as a JSONL file (`{"key", "request"}` per line) uploaded with the Files API.
- `metadata.state` is one of `BATCH_STATE_PENDING`, `_RUNNING`, `_SUCCEEDED`, `_FAILED`,
  `_CANCELLED`, `_EXPIRED`; `metadata.batchStats` counts requests (int64 as strings).
- Results come inline (`inlinedResponses.inlinedResponses[]`, each `{"response" | "error",
  "metadata": {"key"}}`) or as a responses file (`responsesFile`, one `{"key", "response" |
  "error"}` line each), where an error is a `google.rpc.Status` with a gRPC code.
- Vertex AI runs `batchPredictionJobs` (states `JOB_STATE_*`) reading requests from Cloud
  Storage (`gs://`, JSONL) or BigQuery (`bq://`) and writing results there.

Command line: `python -m langchain_gemini_codeexec.batch --help` (see `_batch_cli`).
"""

from __future__ import annotations

import asyncio
import datetime
import importlib
import json
import logging
import os
import re
import secrets
import tempfile
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from langchain_core.messages import AIMessage

from langchain_gemini_codeexec._core.binding import unwrap
from langchain_gemini_codeexec._transport.classify import RETRYABLE_CODES
from langchain_gemini_codeexec._transport.config import model_path
from langchain_gemini_codeexec.batch._http import BatchHTTP, split_lines
from langchain_gemini_codeexec.chat_models import ChatGeminiCodeExecution
from langchain_gemini_codeexec.errors import (
    BatchJobError,
    BatchRequestError,
    BatchTimeoutError,
    GeminiAPIError,
    GeminiCodeExecutionError,
    GeminiConnectionError,
    IncompleteResponseError,
    InvalidMessageError,
)

logger = logging.getLogger("langchain_gemini_codeexec.batch")

# Google: "suitable for smaller batches that keep the total request size under 20MB".
INLINE_LIMIT_BYTES = 20_000_000
InputMode = Literal["auto", "inline", "file"]

SUCCEEDED_STATES = frozenset({"BATCH_STATE_SUCCEEDED", "JOB_STATE_SUCCEEDED"})
UNSUCCESSFUL_STATES = frozenset(
    {
        "BATCH_STATE_FAILED",
        "BATCH_STATE_CANCELLED",
        "BATCH_STATE_EXPIRED",
        "JOB_STATE_FAILED",
        "JOB_STATE_CANCELLED",
        "JOB_STATE_EXPIRED",
    }
)
# Vertex: some requests failed, the others have results.
_PARTIAL_STATES = frozenset({"JOB_STATE_PARTIALLY_SUCCEEDED"})
END_STATES = SUCCEEDED_STATES | UNSUCCESSFUL_STATES | _PARTIAL_STATES

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
_DEV_NAME = re.compile(r"^batches/[\w-]+$")
_VERTEX_NAME = re.compile(r"^projects/[^/]+/locations/[^/]+/batchPredictionJobs/[\w-]+$")
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


def _request_error(key: str | None, status: Any) -> BatchRequestError:
    if isinstance(status, str):  # Vertex predictions: a non-empty "status" string
        return BatchRequestError(key, None, None, status)
    status = status if isinstance(status, dict) else {}
    code = status.get("code")
    code = code if isinstance(code, int) else None
    name = status.get("status") or _GRPC_STATUS.get(code or -1)
    return BatchRequestError(key, code, name, status.get("message"))


def _record_key(item: dict[str, Any]) -> str | None:
    metadata = item.get("metadata")
    key = metadata.get("key") if isinstance(metadata, dict) else None
    key = key if key is not None else item.get("key")
    return None if key is None else str(key)


def _line_record(number: int, line: bytes) -> tuple[str | None, dict[str, Any] | Exception]:
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
    return _record_key(item), item


class _Orderer:
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


# --- the job -------------------------------------------------------------------------------


def _count(stats: dict[str, Any], name: str) -> int:
    try:
        return int(stats.get(name) or 0)
    except (TypeError, ValueError):
        return 0


def _short_model(name: str | None) -> str | None:
    return name.rsplit("/", 1)[-1] if name else None


class _Progress:
    """A tqdm bar when tqdm is installed (it is optional), else a log line per poll."""

    def __init__(self, enabled: bool) -> None:
        self.bar: Any = None
        self.enabled = enabled
        if enabled:
            try:  # optional: not a dependency
                tqdm = importlib.import_module("tqdm.auto").tqdm
            except ImportError:
                return
            self.bar = tqdm(total=0, unit="req", desc="batch", leave=True)

    def update(self, job: GeminiBatchJob) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.total = job.request_count or None
            self.bar.n = job.done_count
            self.bar.set_postfix_str(f"{job.state} failed={job.failed_count}", refresh=False)
            self.bar.refresh()
            return
        logger.info(
            "batch %s: %s, %d of %d requests done (%d failed)",
            job.name,
            job.state,
            job.done_count,
            job.request_count,
            job.failed_count,
            extra={"gemini_batch": job.name, "gemini_batch_state": job.state},
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _transient(exc: BaseException) -> bool:
    """A polling failure the next poll may not meet (never a missing job)."""
    if isinstance(exc, GeminiAPIError):
        return exc.code in RETRYABLE_CODES
    return isinstance(exc, (GeminiConnectionError, IncompleteResponseError))


class GeminiBatchJob:
    """A batch job at Gemini (or Vertex AI): its state, its counts, its results.

    `state` is Gemini's `metadata.state` verbatim (`BATCH_STATE_*`; Vertex AI's job
    `state`, `JOB_STATE_*`, there). Counts come from `batchStats` (Vertex AI:
    `completionStats`) and are as fresh as the last `refresh()`.
    """

    def __init__(
        self,
        name: str,
        llm: ChatGeminiCodeExecution,
        *,
        keys: Sequence[str] | None = None,
        model: str | None = None,
        raw: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.llm = llm
        self.keys: list[str] | None = list(keys) if keys is not None else None
        self.model = model or llm.model
        self.raw: dict[str, Any] = {}
        self._http = BatchHTTP(llm._get_transport())
        if raw is not None:
            self._update(raw)

    # --- state -----------------------------------------------------------------------------

    @property
    def vertexai(self) -> bool:
        return self._http.vertexai

    @property
    def _meta(self) -> dict[str, Any]:
        meta = self.raw.get("metadata")
        return meta if isinstance(meta, dict) and not self.vertexai else self.raw

    @property
    def state(self) -> str:
        """Gemini's state, verbatim (e.g. `BATCH_STATE_RUNNING`)."""
        return str(self._meta.get("state") or self.raw.get("state") or "STATE_UNSPECIFIED")

    @property
    def display_name(self) -> str | None:
        value = self._meta.get("displayName")
        return str(value) if value is not None else None

    @property
    def done(self) -> bool:
        """The job has ended (succeeded, failed, cancelled or expired)."""
        return self.state in END_STATES or bool(self.raw.get("done"))

    @property
    def succeeded(self) -> bool:
        return self.state in SUCCEEDED_STATES

    @property
    def _stats(self) -> dict[str, Any]:
        key = "completionStats" if self.vertexai else "batchStats"
        stats = self._meta.get(key)
        return stats if isinstance(stats, dict) else {}

    @property
    def request_count(self) -> int:
        if self.vertexai:
            return self.succeeded_count + self.failed_count + self.pending_count
        return _count(self._stats, "requestCount") or (len(self.keys) if self.keys else 0)

    @property
    def succeeded_count(self) -> int:
        name = "successfulCount" if self.vertexai else "successfulRequestCount"
        return _count(self._stats, name)

    @property
    def failed_count(self) -> int:
        return _count(self._stats, "failedCount" if self.vertexai else "failedRequestCount")

    @property
    def pending_count(self) -> int:
        name = "incompleteCount" if self.vertexai else "pendingRequestCount"
        return _count(self._stats, name)

    @property
    def done_count(self) -> int:
        """Requests finished so far, successfully or not."""
        return self.succeeded_count + self.failed_count

    @property
    def error(self) -> dict[str, Any] | None:
        """The job's own error (a `google.rpc.Status`) when it failed as a whole."""
        error = self.raw.get("error") or self._meta.get("error")
        return error if isinstance(error, dict) else None

    @property
    def _output(self) -> dict[str, Any]:
        output = self.raw.get("response") or self._meta.get("output")
        return output if isinstance(output, dict) else {}

    @property
    def responses_file(self) -> str | None:
        """The results file (`files/...`) of a file-input job, once it has ended."""
        value = self._output.get("responsesFile")
        return str(value) if value else None

    def _update(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        name = raw.get("name")
        if isinstance(name, str) and name:
            self.name = name
        model = _short_model(self._meta.get("model"))
        if model:
            self.model = model

    def __repr__(self) -> str:
        return (
            f"GeminiBatchJob(name={self.name!r}, state={self.state!r}, "
            f"succeeded={self.succeeded_count}, failed={self.failed_count}, "
            f"requests={self.request_count})"
        )

    __str__ = __repr__

    # --- attach ----------------------------------------------------------------------------

    @classmethod
    def _named(
        cls, name: str, llm: ChatGeminiCodeExecution | None, keys: Sequence[str] | None
    ) -> GeminiBatchJob:
        from langchain_gemini_codeexec.chat_models import ChatGeminiCodeExecution

        llm = llm if llm is not None else ChatGeminiCodeExecution()
        if not isinstance(name, str) or not name.strip():
            raise InvalidMessageError("name: a batch job name, e.g. 'batches/abc123'")
        name = name.strip()
        if llm.vertexai:
            if name.isdigit():
                name = f"projects/{llm.project}/locations/{llm.location}/batchPredictionJobs/{name}"
            if not _VERTEX_NAME.match(name):
                raise InvalidMessageError(
                    f"name: {name!r} is not a Vertex AI batch prediction job name "
                    "('projects/P/locations/L/batchPredictionJobs/ID' or the numeric ID)"
                )
        else:
            if "/" not in name:
                name = f"batches/{name}"
            if not _DEV_NAME.match(name):
                raise InvalidMessageError(
                    f"name: {name!r} is not a batch job name ('batches/ID', as `job.name` gives it)"
                )
        return cls(name, llm, keys=keys)

    @classmethod
    def attach(
        cls,
        name: str,
        *,
        llm: ChatGeminiCodeExecution | None = None,
        keys: Sequence[str] | None = None,
    ) -> GeminiBatchJob:
        """Follow an existing job, e.g. after the process that submitted it has gone.

        `keys` (the job's `keys` when it was submitted) restore input order and an error
        result for each request without an answer; without them, results come in the
        order Gemini lists them.
        """
        job = cls._named(name, llm, keys)
        job._refresh_or_missing(job._http.get)
        return job

    @classmethod
    async def aattach(
        cls,
        name: str,
        *,
        llm: ChatGeminiCodeExecution | None = None,
        keys: Sequence[str] | None = None,
    ) -> GeminiBatchJob:
        """Async `attach`."""
        job = cls._named(name, llm, keys)
        try:
            job._update(await job._http.aget(job.name))
        except GeminiAPIError as exc:
            raise job._missing(exc) from exc
        return job

    @classmethod
    def find(
        cls,
        display_name: str,
        *,
        llm: ChatGeminiCodeExecution | None = None,
        keys: Sequence[str] | None = None,
        max_pages: int = 20,
    ) -> GeminiBatchJob | None:
        """The newest job with this display name (listing the account's jobs), or None.

        For a submitter that lost the answer to its create request: the job may exist
        anyway, and finding it by a display name recorded beforehand avoids a second one.
        """
        from langchain_gemini_codeexec.chat_models import ChatGeminiCodeExecution

        llm = llm if llm is not None else ChatGeminiCodeExecution()
        http = BatchHTTP(llm._get_transport())
        collection = "batchPredictionJobs" if http.vertexai else "batches"
        token = ""
        for _ in range(max_pages):
            query = "pageSize=100" + (f"&pageToken={token}" if token else "")
            page = http.get(f"{collection}?{query}")
            for raw in page.get(collection if http.vertexai else "operations") or []:
                meta = raw if http.vertexai else raw.get("metadata") or {}
                if isinstance(raw, dict) and meta.get("displayName") == display_name:
                    return cls(str(raw["name"]), llm, keys=keys, raw=raw)
            token = str(page.get("nextPageToken") or "")
            if not token:
                break
        return None

    def _refresh_or_missing(self, get: Any) -> None:
        try:
            self._update(get(self.name))
        except GeminiAPIError as exc:
            raise self._missing(exc) from exc

    def _fatal(self, exc: BaseException) -> BaseException:
        return self._missing(exc) if isinstance(exc, GeminiAPIError) else exc

    def _missing(self, exc: GeminiAPIError) -> GeminiAPIError:
        if exc.code != 404:
            return exc
        return GeminiAPIError(
            404,
            exc.status,
            f"batch job {self.name!r} does not exist (or this key cannot see it): {exc.message}",
        )

    # --- refresh, poll, cancel -------------------------------------------------------------

    def refresh(self) -> GeminiBatchJob:
        """Fetch the job's current state and counts (one GET, retried on failures)."""
        self._refresh_or_missing(self._http.get)
        return self

    async def arefresh(self) -> GeminiBatchJob:
        """Async `refresh`."""
        try:
            self._update(await self._http.aget(self.name))
        except GeminiAPIError as exc:
            raise self._missing(exc) from exc
        return self

    def cancel(self) -> None:
        """Ask Gemini to cancel the job (one `:cancel`); `refresh()` shows when it stopped."""
        self._http.post(f"{self.name}:cancel", {})

    async def acancel(self) -> None:
        """Async `cancel`."""
        await self._http.apost(f"{self.name}:cancel", {})

    def poll_until_done(
        self,
        poll_interval: float = 30.0,
        timeout: float | None = None,
        progress: bool = True,
    ) -> GeminiBatchJob:
        """Poll until the job ends; returns the job when it succeeded.

        A poll that fails on the network or with a 408/429/5xx is logged and tried again
        at the next interval (the job is never submitted again). A job that ends failed,
        cancelled or expired raises `BatchJobError` (its `job.results()` still gives the
        partial results). Past `timeout` seconds it raises `BatchTimeoutError`, and the job
        keeps running at Google: `GeminiBatchJob.attach(job.name, llm=llm)` resumes it.
        """
        _check_poll_args(poll_interval, timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        bar = _Progress(progress)
        try:
            while True:
                wait = _remaining(deadline)
                try:
                    self._update(self._http.get(self.name, retry=False, timeout=wait))
                except GeminiCodeExecutionError as exc:
                    if not _transient(exc):
                        raise self._fatal(exc) from exc
                    logger.warning("batch %s: poll failed (%s); polling on", self.name, exc)
                bar.update(self)
                if self.done:
                    break
                wait = _remaining(deadline)
                if wait is not None and wait <= 0:
                    raise self._timeout(timeout)
                time.sleep(poll_interval if wait is None else min(poll_interval, wait))
        finally:
            bar.close()
        self._raise_if_unsuccessful()
        return self

    async def apoll_until_done(
        self,
        poll_interval: float = 30.0,
        timeout: float | None = None,
        progress: bool = True,
    ) -> GeminiBatchJob:
        """Async `poll_until_done`."""
        _check_poll_args(poll_interval, timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        bar = _Progress(progress)
        try:
            while True:
                wait = _remaining(deadline)
                try:
                    get = self._http.aget(self.name, retry=False)
                    self._update(
                        await (get if wait is None else asyncio.wait_for(get, max(wait, 0.5)))
                    )
                except (GeminiCodeExecutionError, asyncio.TimeoutError) as exc:
                    if not isinstance(exc, asyncio.TimeoutError) and not _transient(exc):
                        raise self._fatal(exc) from exc
                    logger.warning("batch %s: poll failed (%r); polling on", self.name, exc)
                bar.update(self)
                if self.done:
                    break
                wait = _remaining(deadline)
                if wait is not None and wait <= 0:
                    raise self._timeout(timeout)
                await asyncio.sleep(poll_interval if wait is None else min(poll_interval, wait))
        finally:
            bar.close()
        self._raise_if_unsuccessful()
        return self

    def _timeout(self, timeout: float | None) -> BatchTimeoutError:
        return BatchTimeoutError(
            f"batch job {self.name} is still {self.state} after {timeout}s "
            f"({self.done_count} of {self.request_count} requests done). It keeps running at "
            f"Google: resume with GeminiBatchJob.attach({self.name!r}, llm=llm), then "
            "poll_until_done() or results().",
            self,
        )

    def _end_message(self) -> str:
        error = self.error or {}
        why = f": {error.get('message')}" if error.get("message") else ""
        return f"batch job {self.name} ended {self.state}{why}"

    def _raise_if_unsuccessful(self) -> None:
        if self.state in UNSUCCESSFUL_STATES:
            raise BatchJobError(
                f"{self._end_message()}. Results that exist: job.results().",
                self,
                self.state,
                self.error,
            )

    # --- results ---------------------------------------------------------------------------

    def _check_ended(self) -> None:
        if not self.done:
            raise GeminiCodeExecutionError(
                f"batch job {self.name} is {self.state}: it has no results yet; call "
                "poll_until_done() first"
            )
        if self.vertexai:
            info = self.raw.get("outputInfo") or {}
            where = info.get("gcsOutputDirectory") or info.get("bigqueryOutputTable") or "?"
            raise GeminiCodeExecutionError(
                f"Vertex AI wrote the results of {self.name} to {where}; this package does "
                "not read Cloud Storage or BigQuery. Copy the predictions JSONL file(s) "
                "locally and map them with job.read_results(path)."
            )

    def _missing_result(self, key: str) -> GeminiCodeExecutionError:
        if self.state in UNSUCCESSFUL_STATES:
            return BatchJobError(
                f"no result for request {key!r}: {self._end_message()}",
                self,
                self.state,
                self.error,
            )
        return IncompleteResponseError(
            f"no result for request {key!r} in batch job {self.name} ({self.state})"
        )

    def _result(self, key: str | None, item: Any, index: int | None) -> BatchResult:
        if isinstance(item, GeminiCodeExecutionError):
            return BatchResult(key, None, item, index)
        error = item.get("error")
        status = item.get("status")
        if error or (isinstance(status, str) and status):
            return BatchResult(key, None, _request_error(key, error or status), index)
        response = item.get("response")
        if not isinstance(response, dict):
            missing = IncompleteResponseError(
                f"batch result {key!r} has neither a response nor an error (keys: {sorted(item)})"
            )
            return BatchResult(key, None, missing, index)
        try:
            message = type(self.llm)._result(response, self.model).generations[0].message
        except GeminiCodeExecutionError as exc:
            return BatchResult(key, None, exc, index)
        assert isinstance(message, AIMessage)
        return BatchResult(key, message, None, index)

    def _inline_records(self) -> Iterator[tuple[str | None, Any]]:
        holder = self._output.get("inlinedResponses")
        items = holder.get("inlinedResponses") if isinstance(holder, dict) else holder
        keys = self.keys or []
        for number, item in enumerate(items or []):
            # Inline results come in request order: one without `metadata.key` is placed
            # by its position (Gemini echoes the key; this is for endpoints that do not).
            fallback = keys[number] if number < len(keys) else None
            if isinstance(item, dict):
                yield _record_key(item) or fallback, item
            else:
                message = f"inline result {number} is not an object"
                yield fallback, IncompleteResponseError(message)

    def _finish(
        self, orderer: _Orderer, records: Iterable[tuple[str | None, Any]]
    ) -> Iterator[BatchResult]:
        for key, item in records:
            for k, it, index in orderer.push(key, item):
                yield self._result(k, it, index)
        for k, it, index in orderer.finish(self._missing_result):
            yield self._result(k, it, index)

    def results(self) -> Iterator[BatchResult]:
        """One `BatchResult` per input, in input order (when the keys are known).

        Results of a file job are streamed from the responses file line by line, never
        loaded whole. A line that is not valid JSON becomes that request's error.
        """
        if not self.done:
            self.refresh()
        self._check_ended()
        orderer = _Orderer(self.keys)
        file = self.responses_file
        if file is None:
            yield from self._finish(orderer, self._inline_records())
            return
        lines = self._http.download_lines(file)
        yield from self._finish(
            orderer, (_line_record(n, line) for n, line in enumerate(lines, 1) if line.strip())
        )

    async def aresults(self) -> AsyncIterator[BatchResult]:
        """Async `results`."""
        if not self.done:
            await self.arefresh()
        self._check_ended()
        orderer = _Orderer(self.keys)
        file = self.responses_file
        if file is None:
            for result in self._finish(orderer, self._inline_records()):
                yield result
            return
        number = 0
        async for line in self._http.adownload_lines(file):
            if not line.strip():
                continue
            number += 1
            key, item = _line_record(number, line)
            for k, it, index in orderer.push(key, item):
                yield self._result(k, it, index)
        for k, it, index in orderer.finish(self._missing_result):
            yield self._result(k, it, index)

    def read_results(self, path: str | os.PathLike[str]) -> Iterator[BatchResult]:
        """Map a results JSONL file you fetched yourself (e.g. Vertex AI's predictions).

        Lines are `{"key"?, "response" | "error" | "status"}` objects, read one at a time.
        """
        orderer = _Orderer(self.keys)
        with open(path, "rb") as handle:
            chunks = iter(lambda: handle.read(1 << 16), b"")
            lines = split_lines(chunks)
            yield from self._finish(
                orderer,
                (_line_record(n, line) for n, line in enumerate(lines, 1) if line.strip()),
            )


def _check_poll_args(poll_interval: float, timeout: float | None) -> None:
    if not poll_interval > 0:
        raise InvalidMessageError(f"poll_interval: must be > 0 seconds, got {poll_interval!r}")
    if timeout is not None and not timeout >= 0:
        raise InvalidMessageError(f"timeout: must be >= 0 seconds or None, got {timeout!r}")


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else deadline - time.monotonic()


# --- submitting ----------------------------------------------------------------------------


@dataclass
class _Plan:
    """Everything a job needs, validated, before any request is sent."""

    llm: ChatGeminiCodeExecution
    model: str
    keys: list[str]
    display_name: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    mode: InputMode = "inline"
    vertex_source: str | None = None
    vertex_destination: str | None = None


def _unwrap(runnable: Any) -> tuple[ChatGeminiCodeExecution, dict[str, Any]]:
    return unwrap(runnable, ChatGeminiCodeExecution, "submit_batch")


def _check_keys(keys: Sequence[str] | None, count: int) -> list[str]:
    if keys is None:
        return [f"request-{i:06d}" for i in range(count)]
    if isinstance(keys, (str, bytes)) or not isinstance(keys, Sequence):
        raise InvalidMessageError("keys: a list of strings, one per input")
    keys = list(keys)
    if len(keys) != count:
        raise InvalidMessageError(f"keys: {len(keys)} keys for {count} inputs; give one per input")
    seen: dict[str, int] = {}
    for i, key in enumerate(keys):
        if not isinstance(key, str) or not key:
            raise InvalidMessageError(f"keys[{i}]: must be a non-empty string, got {key!r}")
        if key in seen:
            raise InvalidMessageError(f"keys[{i}]: {key!r} repeats keys[{seen[key]}]")
        seen[key] = i
    return keys


def _default_display_name() -> str:
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"langchain-gemini-codeexec-{stamp}-{secrets.token_hex(3)}"


def build_requests(
    runnable: Any, inputs: Sequence[Any], call_options: dict[str, Any]
) -> tuple[ChatGeminiCodeExecution, str, list[dict[str, Any]]]:
    """(model, name, request bodies): for each input the body `invoke` would send.

    Every input is checked before anything is sent; an error names its index.
    """
    llm, bound = _unwrap(runnable)
    call_options = dict(call_options)
    if call_options.get("tools"):  # raw tools: normalized and checked as bind_tools does
        tools = call_options.pop("tools")
        choice = call_options.pop("tool_choice", None)
        call_options = {**_unwrap(llm.bind_tools(tools, tool_choice=choice))[1], **call_options}
    options = {**bound, **call_options}
    stop = options.pop("stop", None)
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Sequence):
        raise InvalidMessageError(
            "inputs: a list of inputs (each anything invoke takes: a string, messages, ...)"
        )
    if not inputs:
        raise InvalidMessageError("inputs: empty; a batch job needs at least one input")
    model = ""
    bodies = []
    for i, value in enumerate(inputs):
        try:
            messages = llm._convert_input(value).to_messages()
            model, body = llm._build_request(messages, stop, dict(options))
        except Exception as exc:
            raise InvalidMessageError(f"inputs[{i}]: {exc}") from exc
        bodies.append(body)
    return llm, model, bodies


def _plan(
    runnable: Any,
    inputs: Sequence[Any] | None,
    keys: Sequence[str] | None,
    display_name: str | None,
    call_options: dict[str, Any],
) -> _Plan:
    options = dict(call_options)
    mode = options.pop("input_mode", "auto")
    source = options.pop("source", None)
    destination = options.pop("destination", None)
    if mode not in ("auto", "inline", "file"):
        raise InvalidMessageError(f"input_mode: {mode!r} is not 'auto', 'inline' or 'file'")
    if display_name is not None and (not isinstance(display_name, str) or not display_name):
        raise InvalidMessageError("display_name: a non-empty string (or None for a default)")
    name = display_name or _default_display_name()
    llm, bound = _unwrap(runnable)
    if llm.vertexai:
        return _vertex_plan(llm, bound, inputs, keys, name, source, destination, options)
    if source is not None or destination is not None:
        raise InvalidMessageError(
            "source/destination: only for Vertex AI batch jobs (gs:// or bq://); the Gemini "
            "Developer API takes the inputs themselves"
        )
    llm, model, bodies = build_requests(runnable, inputs or [], options)
    plan = _Plan(llm, model, _check_keys(keys, len(bodies)), name, bodies)
    if mode == "auto":
        size = len(json.dumps(_inline_body(plan), separators=(",", ":")))
        mode = "inline" if size <= INLINE_LIMIT_BYTES else "file"
    plan.mode = mode
    return plan


def _vertex_plan(
    llm: ChatGeminiCodeExecution,
    bound: dict[str, Any],
    inputs: Sequence[Any] | None,
    keys: Sequence[str] | None,
    name: str,
    source: Any,
    destination: Any,
    options: dict[str, Any],
) -> _Plan:
    if inputs:
        raise InvalidMessageError(
            "Vertex AI batch jobs read their requests from Cloud Storage or BigQuery: write "
            "them with langchain_gemini_codeexec.batch.write_batch_requests(llm, inputs, "
            "'requests.jsonl'), copy the file to gs://..., then call "
            "submit_batch(None, source='gs://.../requests.jsonl', destination='gs://.../out/')"
        )
    for what, value in (("source", source), ("destination", destination)):
        if not isinstance(value, str) or not value.startswith(("gs://", "bq://")):
            raise InvalidMessageError(
                f"{what}: Vertex AI batch jobs need a gs:// or bq:// {what}, got {value!r}"
            )
    model = str({**bound, **options}.get("model") or llm.model)
    return _Plan(llm, model, list(keys) if keys else [], name, [], "file", source, destination)


def _inline_body(plan: _Plan) -> dict[str, Any]:
    requests = [
        {"request": body, "metadata": {"key": key}}
        for key, body in zip(plan.keys, plan.requests, strict=True)
    ]
    return {"batch": _batch_fields(plan, {"requests": {"requests": requests}})}


def _batch_fields(plan: _Plan, input_config: dict[str, Any]) -> dict[str, Any]:
    return {
        "displayName": plan.display_name,
        "model": model_path(plan.llm.genai_client, plan.model),
        "inputConfig": input_config,
    }


def _vertex_body(plan: _Plan) -> dict[str, Any]:
    source, destination = plan.vertex_source or "", plan.vertex_destination or ""
    if source.startswith("gs://"):
        input_config: dict[str, Any] = {"instancesFormat": "jsonl", "gcsSource": {"uris": [source]}}
    else:
        input_config = {"instancesFormat": "bigquery", "bigquerySource": {"inputUri": source}}
    if destination.startswith("gs://"):
        output_config: dict[str, Any] = {
            "predictionsFormat": "jsonl",
            "gcsDestination": {"outputUriPrefix": destination},
        }
    else:
        output_config = {
            "predictionsFormat": "bigquery",
            "bigqueryDestination": {"outputUri": destination},
        }
    return {
        "displayName": plan.display_name,
        "model": model_path(plan.llm.genai_client, plan.model),
        "inputConfig": input_config,
        "outputConfig": output_config,
    }


def _write_jsonl(plan: _Plan) -> Path:
    handle, name = tempfile.mkstemp(prefix="gemini-batch-", suffix=".jsonl")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        for key, body in zip(plan.keys, plan.requests, strict=True):
            out.write(json.dumps({"key": key, "request": body}, separators=(",", ":")))
            out.write("\n")
    return Path(name)


def _create_path(plan: _Plan) -> str:
    if plan.llm.vertexai:
        return "batchPredictionJobs"
    return f"{model_path(plan.llm.genai_client, plan.model)}:batchGenerateContent"


def _job(plan: _Plan, answer: dict[str, Any]) -> GeminiBatchJob:
    name = answer.get("name")
    if not isinstance(name, str) or not name:
        raise IncompleteResponseError(
            f"Gemini's answer to creating a batch job has no name (keys: {sorted(answer)})"
        )
    return GeminiBatchJob(name, plan.llm, keys=plan.keys or None, model=plan.model, raw=answer)


def submit_batch(
    llm: Any,
    inputs: Sequence[Any] | None,
    keys: Sequence[str] | None = None,
    display_name: str | None = None,
    **call_options: Any,
) -> GeminiBatchJob:
    """Create a batch job; see `ChatGeminiCodeExecution.submit_batch`.

    `llm` may carry bound tools or options (`llm.bind_tools(...)`, `llm.bind(...)`).
    """
    plan = _plan(llm, inputs, keys, display_name, call_options)
    http = BatchHTTP(plan.llm._get_transport())
    if plan.llm.vertexai:
        return _job(plan, http.post(_create_path(plan), _vertex_body(plan)))
    if plan.mode == "inline":
        return _job(plan, http.post(_create_path(plan), _inline_body(plan)))
    path = _write_jsonl(plan)
    try:
        file_name = http.upload_jsonl(path, plan.display_name)
    finally:
        path.unlink(missing_ok=True)
    body = {"batch": _batch_fields(plan, {"fileName": file_name})}
    return _job(plan, http.post(_create_path(plan), body))


async def asubmit_batch(
    llm: Any,
    inputs: Sequence[Any] | None,
    keys: Sequence[str] | None = None,
    display_name: str | None = None,
    **call_options: Any,
) -> GeminiBatchJob:
    """Async `submit_batch`."""
    plan = _plan(llm, inputs, keys, display_name, call_options)
    http = BatchHTTP(plan.llm._get_transport())
    if plan.llm.vertexai:
        return _job(plan, await http.apost(_create_path(plan), _vertex_body(plan)))
    if plan.mode == "inline":
        return _job(plan, await http.apost(_create_path(plan), _inline_body(plan)))
    path = await asyncio.to_thread(_write_jsonl, plan)
    try:
        file_name = await http.aupload_jsonl(path, plan.display_name)
    finally:
        path.unlink(missing_ok=True)
    body = {"batch": _batch_fields(plan, {"fileName": file_name})}
    return _job(plan, await http.apost(_create_path(plan), body))


def write_batch_requests(
    llm: Any,
    inputs: Sequence[Any],
    path: str | os.PathLike[str],
    keys: Sequence[str] | None = None,
    **call_options: Any,
) -> list[str]:
    """Write the JSONL request file of a job (`{"key", "request"}` lines); returns the keys.

    For Vertex AI (copy it to Cloud Storage, then `submit_batch(None, source=...)`) or to
    inspect what a job would send. Each request is the body `invoke` would send.
    """
    model_llm, model, bodies = build_requests(llm, inputs, call_options)
    plan = _Plan(model_llm, model, _check_keys(keys, len(bodies)), "", bodies)
    with open(path, "w", encoding="utf-8") as out:
        for key, body in zip(plan.keys, plan.requests, strict=True):
            out.write(json.dumps({"key": key, "request": body}, separators=(",", ":")) + "\n")
    return plan.keys


__all__ = [
    "INLINE_LIMIT_BYTES",
    "BatchJobError",
    "BatchRequestError",
    "BatchResult",
    "BatchTimeoutError",
    "GeminiBatchJob",
    "asubmit_batch",
    "build_requests",
    "submit_batch",
    "write_batch_requests",
]

