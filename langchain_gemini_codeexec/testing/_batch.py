"""Gemini's Batch API for :class:`GeminiTestServer`: jobs that advance as they are polled.

Endpoints (the shapes of the Gemini Developer API and Vertex AI, see
``langchain_gemini_codeexec.batch``):

- ``POST /{v}/models/{model}:batchGenerateContent`` with inlined requests or an uploaded
  JSONL file (``inputConfig.fileName``), answering an Operation ``batches/{id}``;
- ``GET /{v}/batches/{id}`` (each GET advances the job), ``POST /{v}/batches/{id}:cancel``,
  ``DELETE /{v}/batches/{id}``;
- ``GET /download/{v}/files/{id}:download?alt=media`` (and ``/{v}/files/{id}:download``):
  the bytes of a stored file, e.g. a job's responses file;
- Vertex AI ``batchPredictionJobs`` (create, get, cancel) with gs:// / bq:// sources.

Each request inside a job is answered the way the server answers ``generateContent``:
queued replies (:meth:`GeminiTestServer.enqueue`) first, then the server's ``responder``
(e.g. :class:`ScriptedGemini`). A non-200 reply becomes that request's
``google.rpc.Status`` error (gRPC code). Script a job's life with
``server.batch.script = BatchScript(...)`` (polls per state, end state, job error,
malformed result lines, result order) and fail polls with ``server.batch.poll_faults``.
Downloads answer ``server.batch.download_faults`` first (e.g. ``Reply.trickle(...,
head_too=True)``); ``download_pace = (bytes, seconds)`` sends files steadily, that many
bytes at a time.
"""

from __future__ import annotations

import datetime
import itertools
import json
import re
import threading
from collections import deque
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ._replies import JSON, Reply, merge_chunks
from ._wire import RecordedRequest, UploadedFile

if TYPE_CHECKING:
    from ._server import GeminiTestServer

_VER = r"(?:v1|v1beta|v1alpha|v1beta1)"
_CREATE = re.compile(rf"/{_VER}/models/(?P<model>[^/:]+):batchGenerateContent")
_BATCH = re.compile(rf"/{_VER}/(?P<name>batches/[\w-]+)(?P<cancel>:cancel)?")
_LIST = re.compile(rf"/{_VER}/batches")
_DOWNLOAD = re.compile(rf"(?:/download)?/{_VER}/(?P<file>files/[\w-]+):download")
_VERTEX = re.compile(
    rf"/{_VER}/(?P<parent>projects/[^/]+/locations/[^/]+)/batchPredictionJobs"
    r"(?:/(?P<id>[\w-]+)(?P<cancel>:cancel)?)?"
)
_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta."

# HTTP status of a scripted error reply -> the gRPC code a batch result carries.
_GRPC = {
    400: 3,
    401: 16,
    403: 7,
    404: 5,
    409: 10,
    429: 8,
    499: 1,
    500: 13,
    501: 12,
    503: 14,
    504: 4,
}

DEV_STATES = ("BATCH_STATE_PENDING", "BATCH_STATE_RUNNING")
VERTEX_STATES = ("JOB_STATE_PENDING", "JOB_STATE_RUNNING")


@dataclass(frozen=True)
class BatchScript:
    """How the next jobs behave (snapshotted when a job is created).

    - ``pending_polls`` / ``running_polls``: GETs a job spends in each state; requests are
      answered over the running polls, so counts advance (both 0: the first GET finds the
      job done).
    - ``end_state``: e.g. ``"BATCH_STATE_FAILED"`` or ``"BATCH_STATE_EXPIRED"``; requests not
      yet answered then have no result. ``error_message`` is the job's error.
    - ``malformed_keys``: result lines of these keys are cut in half (file output).
    - ``reverse_output``: results listed last to first (Gemini does not promise order).
    - ``output``: ``"auto"`` (inline in, inline out; file in, file out), ``"inline"``,
      ``"file"``.
    """

    pending_polls: int = 1
    running_polls: int = 1
    end_state: str | None = None
    error_message: str | None = None
    malformed_keys: frozenset[str] = frozenset()
    reverse_output: bool = False
    output: str = "auto"


@dataclass
class FakeBatch:
    """One job of the fake Batch API, with what it was sent."""

    name: str
    model: str
    display_name: str
    requests: list[tuple[str | None, JSON]]
    input_file: str | None
    script: BatchScript
    vertex: JSON | None = None  # the Vertex AI job resource, for Vertex jobs
    state: str = ""
    polls: int = 0
    results: list[JSON] = field(default_factory=list)
    cancel_requested: bool = False
    responses_file: str | None = None
    created: str = ""


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _status(reply: Reply) -> JSON:
    """The google.rpc.Status for a non-200 scripted reply."""
    error = (reply.body or {}).get("error") if reply.kind == "json" else None
    error = error if isinstance(error, dict) else {}
    status: JSON = {
        "code": _GRPC.get(reply.status, 2),
        "message": error.get("message") or f"request failed (HTTP {reply.status})",
    }
    if error.get("details"):
        status["details"] = error["details"]
    return status


class BatchEndpoints:
    """The Batch API of one :class:`GeminiTestServer` (``server.batch``)."""

    def __init__(self, server: GeminiTestServer) -> None:
        self.server = server
        self.script = BatchScript()
        self.jobs: dict[str, FakeBatch] = {}
        self.poll_faults: deque[Reply] = deque()
        self.download_faults: deque[Reply] = deque()
        self.download_pace: tuple[int, float] | None = None
        self.cancels: list[str] = []
        self._ids = itertools.count(1)
        self._lock = threading.RLock()

    def fail_next_polls(self, *replies: Reply) -> None:
        """Answer the next job GETs with these replies (e.g. ``Reply.reset()``) first."""
        with self._lock:
            self.poll_faults.extend(replies)

    # --- dispatch --------------------------------------------------------------------------

    def answer(self, req: RecordedRequest) -> Reply | None:
        """The reply for a Batch API request, or None if ``req`` is not one."""
        path = req.path
        if req.method == "POST" and (m := _CREATE.fullmatch(path)):
            return self._create(req, m.group("model"))
        if req.method == "GET" and _LIST.fullmatch(path):
            return self._list(req)
        if m := _BATCH.fullmatch(path):
            return self._job_request(req, m.group("name"), bool(m.group("cancel")))
        if req.method == "GET" and (m := _DOWNLOAD.fullmatch(path)):
            with self._lock:
                if self.download_faults:
                    return self.download_faults.popleft()
            stored = self.server.files.get(m.group("file"))
            if stored is None:
                return Reply.error(404, f"File {m.group('file')} does not exist.")
            kind = {"Content-Type": "application/octet-stream"}
            if self.download_pace is not None:
                return Reply.paced(stored.data, *self.download_pace, headers=kind)
            return Reply.raw(200, stored.data, kind)
        if m := _VERTEX.fullmatch(path):
            return self._vertex(req, m.group("parent"), m.group("id"), bool(m.group("cancel")))
        return None

    # --- Developer API -----------------------------------------------------------------------

    def _create(self, req: RecordedRequest, model: str) -> Reply:
        body = req.body if isinstance(req.body, dict) else {}
        batch = body.get("batch")
        if not isinstance(batch, dict):
            return Reply.error(400, "Invalid JSON payload: missing 'batch'.")
        if not batch.get("displayName"):
            return Reply.error(400, "batch.display_name is required.")
        config = batch.get("inputConfig") or {}
        requests: list[tuple[str | None, JSON]] = []
        input_file = None
        if isinstance(config.get("requests"), dict):
            for item in config["requests"].get("requests") or []:
                key = (item.get("metadata") or {}).get("key")
                requests.append((key, item.get("request") or {}))
        elif config.get("fileName"):
            input_file = str(config["fileName"])
            stored = self.server.files.get(input_file)
            if stored is None:
                return Reply.error(400, f"File {input_file} does not exist.")
            for line in stored.data.splitlines():
                if line.strip():
                    item = json.loads(line)
                    requests.append((item.get("key"), item.get("request") or {}))
        else:
            return Reply.error(400, "batch.input_config: requests or file_name is required.")
        if not requests:
            return Reply.error(400, "batch.input_config has no requests.")
        with self._lock:
            name = f"batches/batch-{next(self._ids):04d}"
            job = FakeBatch(
                name, model, str(batch["displayName"]), requests, input_file, self.script
            )
            job.state, job.created = DEV_STATES[0], _now()
            self.jobs[name] = job
            return Reply.json(self._operation(job))

    def _list(self, req: RecordedRequest) -> Reply:
        """`GET batches`: Operations, newest first, `pageSize` per page (no state change)."""
        with self._lock:
            jobs = [j for j in self.jobs.values() if j.vertex is None][::-1]
            start = int(req.query.get("pageToken") or 0)
            size = max(1, int(req.query.get("pageSize") or 50))
            page = jobs[start : start + size]
            answer: JSON = {"operations": [self._operation(j) for j in page]}
            if start + size < len(jobs):
                answer["nextPageToken"] = str(start + size)
            return Reply.json(answer)

    def _job_request(self, req: RecordedRequest, name: str, cancel: bool) -> Reply:
        with self._lock:
            job = self.jobs.get(name)
            if job is None:
                return Reply.error(404, "Requested entity was not found.")
            if cancel:
                if req.method != "POST":
                    return Reply.error(405, "Method not allowed.")
                self.cancels.append(name)
                job.cancel_requested = True
                return Reply.json({})
            if req.method == "DELETE":
                del self.jobs[name]
                return Reply.json({})
            if self.poll_faults:
                return self.poll_faults.popleft()
            self._advance(job, req)
            return Reply.json(self._operation(job))

    def _answer_one(self, job: FakeBatch, key: str | None, request: JSON, outer: Any) -> JSON:

        inner = RecordedRequest(
            method="POST",
            path=f"/v1beta/models/{job.model}:generateContent",
            query={},
            headers=dict(outer.headers),
            body=request,
            raw_body=json.dumps(request).encode(),
            api="developer",
            model=job.model,
            action="generateContent",
            stream=False,
        )
        reply = self.server._next_reply(inner)
        if reply.kind == "json" and reply.status == 200:
            return {"key": key, "response": reply.body or {}}
        if reply.kind == "stream" and reply.error_after is None:
            return {"key": key, "response": merge_chunks(reply.chunks)}
        if reply.kind == "stream" and reply.error_after is not None:
            code = int(reply.error_after.get("error", {}).get("code", 500))
            return {"key": key, "error": _status(Reply.json(reply.error_after, code))}
        if reply.kind in ("json", "raw"):
            return {"key": key, "error": _status(reply)}
        return {"key": key, "error": {"code": 13, "message": "Internal error encountered."}}

    def _advance(self, job: FakeBatch, req: RecordedRequest) -> None:
        """One GET's worth of progress."""
        pending, running = VERTEX_STATES if job.vertex is not None else DEV_STATES
        done_state = "JOB_STATE_SUCCEEDED" if job.vertex is not None else "BATCH_STATE_SUCCEEDED"
        if job.state not in (pending, running):
            return
        job.polls += 1
        if job.cancel_requested:
            self._end(job, job.state.split("_STATE_")[0] + "_STATE_CANCELLED")
            return
        script = job.script
        if job.state == pending and job.polls >= script.pending_polls:
            job.state, job.polls = running, 0
            if script.pending_polls:  # pending_polls=0: running from the first GET on
                return
        if job.state != running:
            return
        total = len(job.requests)
        share = -(-total // max(1, script.running_polls))
        todo = job.requests[len(job.results) : len(job.results) + share]
        if script.end_state is not None and job.polls >= script.running_polls:
            todo = []  # a job that fails stops where it is
        for key, request in todo:
            job.results.append(self._answer_one(job, key, request, req))
        if job.polls >= script.running_polls:
            self._end(job, script.end_state or done_state)

    def _end(self, job: FakeBatch, state: str) -> None:
        job.state = state
        if job.vertex is not None:
            return
        script = job.script
        output = script.output
        if output == "auto":
            output = "file" if job.input_file else "inline"
        if output == "file" and job.results:
            self._write_responses(job)

    def _write_responses(self, job: FakeBatch) -> None:

        lines = []
        results = list(reversed(job.results)) if job.script.reverse_output else job.results
        for result in results:
            line = json.dumps(
                {k: v for k, v in result.items() if v is not None}, separators=(",", ":")
            ).encode()
            if result.get("key") in job.script.malformed_keys:
                line = line[: len(line) // 2]
            lines.append(line)
        ident = f"batch-{job.name.rsplit('-', 1)[-1]}-responses"
        stored = UploadedFile(
            name=f"files/{ident}",
            uri=f"{self.server.base_url}/v1beta/files/{ident}",
            mime_type="application/jsonl",
            data=b"\n".join(lines) + b"\n",
        )
        with self.server._lock:
            self.server.files[stored.name] = stored
        job.responses_file = stored.name

    def _stats(self, job: FakeBatch) -> JSON:
        failed = sum(1 for r in job.results if "error" in r)
        return {
            "requestCount": str(len(job.requests)),
            "successfulRequestCount": str(len(job.results) - failed),
            "failedRequestCount": str(failed),
            "pendingRequestCount": str(len(job.requests) - len(job.results)),
        }

    def _operation(self, job: FakeBatch) -> JSON:
        metadata: JSON = {
            "@type": _TYPE + "GenerateContentBatch",
            "model": f"models/{job.model}",
            "displayName": job.display_name,
            "createTime": job.created,
            "updateTime": _now(),
            "batchStats": self._stats(job),
            "state": job.state,
            "name": job.name,
        }
        if job.input_file:
            metadata["inputConfig"] = {"fileName": job.input_file}
        op: JSON = {"name": job.name, "metadata": metadata}
        if job.state in DEV_STATES:
            return op
        output: JSON = {"@type": _TYPE + "GenerateContentBatchOutput"}
        if job.responses_file:
            output["responsesFile"] = job.responses_file
        elif job.results:
            results = list(reversed(job.results)) if job.script.reverse_output else job.results
            output["inlinedResponses"] = {
                "inlinedResponses": [
                    {
                        **{k: v for k, v in r.items() if k != "key"},
                        "metadata": {"key": r.get("key")},
                    }
                    for r in results
                ]
            }
        metadata["endTime"] = _now()
        metadata["output"] = {k: v for k, v in output.items() if k != "@type"}
        op["done"] = True
        op["response"] = output
        if job.state == "BATCH_STATE_FAILED":
            op["error"] = {"code": 13, "message": job.script.error_message or "Batch failed."}
        elif job.state == "BATCH_STATE_EXPIRED":
            op["error"] = {
                "code": 4,
                "message": job.script.error_message or "Batch expired after 48 hours.",
            }
        return op

    # --- Vertex AI ---------------------------------------------------------------------------

    def _vertex(self, req: RecordedRequest, parent: str, ident: str | None, cancel: bool) -> Reply:
        with self._lock:
            if ident is None:
                if req.method != "POST":
                    return Reply.json(
                        {"batchPredictionJobs": [j.vertex for j in self.jobs.values() if j.vertex]}
                    )
                return self._vertex_create(req, parent)
            name = f"{parent}/batchPredictionJobs/{ident}"
            job = self.jobs.get(name)
            if job is None:
                return Reply.error(404, f"The BatchPredictionJob {ident} does not exist.")
            if cancel:
                self.cancels.append(name)
                job.cancel_requested = True
                return Reply.json({})
            if self.poll_faults:
                return self.poll_faults.popleft()
            self._advance(job, req)
            return Reply.json(self._vertex_resource(job))

    def _vertex_create(self, req: RecordedRequest, parent: str) -> Reply:
        body = req.body if isinstance(req.body, dict) else {}
        source, dest = body.get("inputConfig") or {}, body.get("outputConfig") or {}
        uris = (source.get("gcsSource") or {}).get("uris") or []
        if not (uris or (source.get("bigquerySource") or {}).get("inputUri")):
            return Reply.error(400, "inputConfig: gcsSource or bigquerySource is required.")
        if not (
            (dest.get("gcsDestination") or {}).get("outputUriPrefix")
            or (dest.get("bigqueryDestination") or {}).get("outputUri")
        ):
            return Reply.error(400, "outputConfig: a destination is required.")
        if not body.get("displayName") or not body.get("model"):
            return Reply.error(400, "displayName and model are required.")
        name = f"{parent}/batchPredictionJobs/{next(self._ids) + 1000}"
        job = FakeBatch(
            name,
            str(body["model"]).rsplit("/", 1)[-1],
            str(body["displayName"]),
            [],
            None,
            replace(self.script),
            vertex=dict(body),
        )
        job.state, job.created = VERTEX_STATES[0], _now()
        self.jobs[name] = job
        return Reply.json(self._vertex_resource(job))

    def _vertex_resource(self, job: FakeBatch) -> JSON:
        assert job.vertex is not None
        resource: JSON = {
            **job.vertex,
            "name": job.name,
            "state": job.state,
            "createTime": job.created,
            "updateTime": _now(),
            "completionStats": {"successfulCount": "0", "failedCount": "0", "incompleteCount": "0"},
        }
        if job.state == "JOB_STATE_SUCCEEDED":
            dest = job.vertex.get("outputConfig") or {}
            prefix = (dest.get("gcsDestination") or {}).get("outputUriPrefix")
            if prefix:
                resource["outputInfo"] = {
                    "gcsOutputDirectory": f"{prefix.rstrip('/')}/prediction-model-1"
                }
            else:
                table = (dest.get("bigqueryDestination") or {}).get("outputUri")
                resource["outputInfo"] = {"bigqueryOutputTable": table}
        if job.state == "JOB_STATE_FAILED":
            resource["error"] = {"code": 13, "message": job.script.error_message or "Job failed."}
        return resource


__all__ = ["BatchEndpoints", "BatchScript", "FakeBatch"]
