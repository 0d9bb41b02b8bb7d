"""Submitting: each input becomes the body `invoke` would send, inline or as a JSONL file."""

from __future__ import annotations

import datetime
import json
import os
import secrets
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from langchain_gemini_codeexec._core import options as _options
from langchain_gemini_codeexec._core import request as _request
from langchain_gemini_codeexec._core.binding import unwrap
from langchain_gemini_codeexec._transport.config import model_path
from langchain_gemini_codeexec._transport.flow import Flow, offload
from langchain_gemini_codeexec.batch._http import BatchHTTP
from langchain_gemini_codeexec.batch._job import GeminiBatchJob
from langchain_gemini_codeexec.chat_models import ChatGeminiCodeExecution
from langchain_gemini_codeexec.errors import (
    IncompleteResponseError,
    InvalidMessageError,
)

# Google: "suitable for smaller batches that keep the total request size under 20MB".
INLINE_LIMIT_BYTES = 20_000_000
InputMode = Literal["auto", "inline", "file"]

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
    vertexai, files_base = bool(llm.vertexai), llm._get_transport().files_base
    resolved: _options.CallOptions | None = None
    for i, value in enumerate(inputs):
        try:
            messages = _request.to_messages(value)
            if resolved is None:  # the same options for every input
                resolved = _options.resolve(llm, options, stop)
            model, body = _request.build(
                resolved, messages, vertexai=vertexai, files_base=files_base
            )
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
    return plan.llm._get_transport().drive(_submission(plan))


async def asubmit_batch(
    llm: Any,
    inputs: Sequence[Any] | None,
    keys: Sequence[str] | None = None,
    display_name: str | None = None,
    **call_options: Any,
) -> GeminiBatchJob:
    """Async `submit_batch`."""
    plan = _plan(llm, inputs, keys, display_name, call_options)
    return await plan.llm._get_transport().adrive(_submission(plan))


def _submission(plan: _Plan) -> Flow[GeminiBatchJob]:
    """Create the job `plan` describes (its JSONL uploaded first when it goes as a file)."""
    http = BatchHTTP(plan.llm._get_transport())
    if plan.llm.vertexai:
        return _job(plan, (yield from http.post(_create_path(plan), _vertex_body(plan))))
    if plan.mode == "inline":
        return _job(plan, (yield from http.post(_create_path(plan), _inline_body(plan))))
    path = yield from offload(_write_jsonl, plan)
    try:
        file_name = yield from http.upload_jsonl(path, plan.display_name)
    finally:
        path.unlink(missing_ok=True)
    body = {"batch": _batch_fields(plan, {"fileName": file_name})}
    return _job(plan, (yield from http.post(_create_path(plan), body)))


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
