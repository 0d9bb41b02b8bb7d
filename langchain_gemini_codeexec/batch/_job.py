"""`GeminiBatchJob`: a batch job's state, counts, polling, cancelling and results."""

from __future__ import annotations

import importlib
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import quote

from langchain_core.messages import AIMessage

from langchain_gemini_codeexec._core.checks import (
    MAX_POLL_INTERVAL,
    MAX_WAIT,
    answer_shape,
    check_duration,
)
from langchain_gemini_codeexec._transport.classify import RETRYABLE_CODES
from langchain_gemini_codeexec._transport.flow import Flow, sleep
from langchain_gemini_codeexec.batch._http import BatchHTTP, split_lines
from langchain_gemini_codeexec.batch._results import (
    BatchResult,
    Orderer,
    file_records,
    line_record,
    record_key,
    request_error,
)
from langchain_gemini_codeexec.chat_models import ChatGeminiCodeExecution
from langchain_gemini_codeexec.errors import (
    BatchJobError,
    BatchTimeoutError,
    GeminiAPIError,
    GeminiCodeExecutionError,
    GeminiConnectionError,
    IncompleteResponseError,
    InvalidMessageError,
)

logger = logging.getLogger("langchain_gemini_codeexec.batch")

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

_DEV_NAME = re.compile(r"^batches/[\w-]+$")
_VERTEX_NAME = re.compile(r"^projects/[^/]+/locations/[^/]+/batchPredictionJobs/[\w-]+$")
_FILE_NAME = re.compile(r"^files/[\w-]+$")

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
        self._transport = llm._get_transport()
        self._http = BatchHTTP(self._transport)
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
        if not value:
            return None
        if not isinstance(value, str) or not _FILE_NAME.match(value):
            # It becomes a URL path: only a Files API name may (same endpoint, key included).
            raise IncompleteResponseError(
                f"batch job {self.name}: its responsesFile {value!r:.120} is not a file name "
                "('files/ID')"
            )
        return value

    def _update(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        name = raw.get("name")
        # The name goes into later URL paths: only a job name is taken from an answer.
        if isinstance(name, str) and (_DEV_NAME.match(name) or _VERTEX_NAME.match(name)):
            self.name = name
        model = self._meta.get("model")
        if isinstance(model, str) and model:  # an answer of another shape keeps ours
            self.model = _short_model(model) or self.model

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
        return job._transport.drive(job._refreshed())

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
        return await job._transport.adrive(job._refreshed())

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
        transport = llm._get_transport()
        http = BatchHTTP(transport)
        collection = "batchPredictionJobs" if http.vertexai else "batches"
        token = ""
        field = collection if http.vertexai else "operations"
        for _ in range(max_pages):
            # The token is Gemini's: quoted, so that it can only be the token.
            query = "pageSize=100" + (f"&pageToken={quote(token, safe='')}" if token else "")
            page = transport.drive(http.get(f"{collection}?{query}"))
            jobs = page.get(field) or []
            if not isinstance(jobs, list):
                raise IncompleteResponseError(
                    f"Gemini's list of batch jobs has {field!r} of type {type(jobs).__name__}, "
                    "not a list"
                )
            for raw in jobs:
                meta = raw if http.vertexai or not isinstance(raw, dict) else raw.get("metadata")
                if not isinstance(meta, dict) or meta.get("displayName") != display_name:
                    continue  # not an object, or another job
                name = raw.get("name")
                if not isinstance(name, str) or not (
                    _DEV_NAME.match(name) or _VERTEX_NAME.match(name)
                ):
                    raise IncompleteResponseError(
                        f"Gemini listed the batch job {display_name!r} with the name "
                        f"{name!r:.120}, not a job name"
                    )
                return cls(name, llm, keys=keys, raw=raw)
            token = page.get("nextPageToken") or ""
            if not isinstance(token, str) or not token:
                break
        return None

    def _refreshed(self) -> Flow[GeminiBatchJob]:
        try:
            self._update((yield from self._http.get(self.name)))
        except GeminiAPIError as exc:
            raise self._missing(exc) from exc
        return self

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
        return self._transport.drive(self._refreshed())

    async def arefresh(self) -> GeminiBatchJob:
        """Async `refresh`."""
        return await self._transport.adrive(self._refreshed())

    def cancel(self) -> None:
        """Ask Gemini to cancel the job (one `:cancel`); `refresh()` shows when it stopped."""
        self._transport.drive(self._http.post(f"{self.name}:cancel", {}))

    async def acancel(self) -> None:
        """Async `cancel`."""
        await self._transport.adrive(self._http.post(f"{self.name}:cancel", {}))

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
        return self._transport.drive(self._polled(poll_interval, timeout, progress))

    async def apoll_until_done(
        self,
        poll_interval: float = 30.0,
        timeout: float | None = None,
        progress: bool = True,
    ) -> GeminiBatchJob:
        """Async `poll_until_done`."""
        return await self._transport.adrive(self._polled(poll_interval, timeout, progress))

    def _polled(
        self, poll_interval: float, timeout: float | None, progress: bool
    ) -> Flow[GeminiBatchJob]:
        """The polling loop, written once (a poll's own deadline: the time left)."""
        _check_poll_args(poll_interval, timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        bar = _Progress(progress)
        try:
            while True:
                wait = _remaining(deadline)
                try:
                    self._update((yield from self._http.get(self.name, retry=False, timeout=wait)))
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
                yield from sleep(poll_interval if wait is None else min(poll_interval, wait))
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
            info = self.raw.get("outputInfo")
            info = info if isinstance(info, dict) else {}
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
        try:
            with answer_shape(f"batch request {key!r}"):
                return self._mapped(key, item, index)
        except IncompleteResponseError as exc:  # that result's error, the others go on
            return BatchResult(key, None, exc, index)

    def _mapped(self, key: str | None, item: Any, index: int | None) -> BatchResult:
        error = item.get("error")
        status = item.get("status")
        if error or (isinstance(status, str) and status):
            return BatchResult(key, None, request_error(key, error or status), index)
        response = item.get("response")
        if not isinstance(response, dict):
            missing = IncompleteResponseError(
                f"batch result {key!r} has neither a response nor an error (keys: {sorted(item)})"
            )
            return BatchResult(key, None, missing, index)
        try:
            answer = type(self.llm)._result(response, self.model, batch=True)
            message = answer.generations[0].message
        except GeminiCodeExecutionError as exc:
            return BatchResult(key, None, exc, index)
        assert isinstance(message, AIMessage)
        return BatchResult(key, message, None, index)

    def _inline_records(self) -> Iterator[tuple[str | None, Any]]:
        holder = self._output.get("inlinedResponses")
        items = holder.get("inlinedResponses") if isinstance(holder, dict) else holder
        if not isinstance(items, (list, type(None))):
            raise IncompleteResponseError(
                f"batch job {self.name}: its inline results are a JSON "
                f"{type(items).__name__}, not a list"
            )
        keys = self.keys or []
        for number, item in enumerate(items or []):
            # Inline results come in request order: one without `metadata.key` is placed
            # by its position (Gemini echoes the key; this is for endpoints that do not).
            fallback = keys[number] if number < len(keys) else None
            if isinstance(item, dict):
                yield record_key(item) or fallback, item
            else:
                message = f"inline result {number} is not an object"
                yield fallback, IncompleteResponseError(message)

    def _finish(
        self, orderer: Orderer, records: Iterable[tuple[str | None, Any, bytes | None]]
    ) -> Iterator[BatchResult]:
        try:
            for key, item, raw in records:
                for k, it, index in orderer.push(key, item, raw):
                    yield self._result(k, it, index)
            for k, it, index in orderer.finish(self._missing_result):
                yield self._result(k, it, index)
        finally:
            orderer.close()

    def results(self) -> Iterator[BatchResult]:
        """One `BatchResult` per input, in input order (when the keys are known).

        Results of a file job are streamed from the responses file line by line, never
        loaded whole. A line that is not valid JSON, or longer than 64 MiB, becomes that
        request's error. Results Gemini lists out of input order wait in a temporary file
        until their turn (memory: an offset per waiting result). The model's `timeout`
        bounds the download's head and then each read, on every HTTP path; a download
        that keeps arriving is never cut for its total time.
        """
        if not self.done:
            self.refresh()
        self._check_ended()
        orderer = Orderer(self.keys)
        file = self.responses_file
        if file is None:
            inline = ((k, it, None) for k, it in self._inline_records())
            yield from self._finish(orderer, inline)
            return
        lines = self._http.download_lines(file)
        yield from self._finish(orderer, file_records(lines))

    async def aresults(self) -> AsyncIterator[BatchResult]:
        """Async `results`."""
        if not self.done:
            await self.arefresh()
        self._check_ended()
        orderer = Orderer(self.keys)
        file = self.responses_file
        if file is None:
            inline = ((k, it, None) for k, it in self._inline_records())
            for result in self._finish(orderer, inline):
                yield result
            return
        number = 0
        try:
            async for line in self._http.adownload_lines(file):
                if not line.strip():
                    continue
                number += 1
                key, item = line_record(number, line)
                for k, it, index in orderer.push(key, item, line):
                    yield self._result(k, it, index)
            for k, it, index in orderer.finish(self._missing_result):
                yield self._result(k, it, index)
        finally:
            orderer.close()

    def read_results(self, path: str | os.PathLike[str]) -> Iterator[BatchResult]:
        """Map a results JSONL file you fetched yourself (e.g. Vertex AI's predictions).

        Lines are `{"key"?, "response" | "error" | "status"}` objects, read one at a time.
        """
        orderer = Orderer(self.keys)
        with open(path, "rb") as handle:
            chunks = iter(lambda: handle.read(1 << 16), b"")
            yield from self._finish(orderer, file_records(split_lines(chunks)))


def _check_poll_args(poll_interval: float, timeout: float | None) -> None:
    check_duration("poll_interval", poll_interval, maximum=MAX_POLL_INTERVAL)
    if timeout is not None:
        check_duration("timeout", timeout, maximum=MAX_WAIT, zero=True)


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else deadline - time.monotonic()
