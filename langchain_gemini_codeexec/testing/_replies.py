"""Scripted replies for :class:`GeminiTestServer` and builders for Gemini response JSON.

Everything here produces the camelCase JSON the real API sends, so tests exercise the
same parsing paths as production traffic.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

JSON = dict[str, Any]
ReplyKind = Literal["json", "stream", "raw", "close", "reset", "trickle", "paced"]

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def error_body(
    code: int, message: str, status: str | None = None, details: list[Any] | None = None
) -> JSON:
    """Build a Google API error body: ``{"error": {code, message, status, details}}``."""
    err: JSON = {"code": code, "message": message, "status": status or _status_name(code)}
    if details is not None:
        err["details"] = details
    return {"error": err}


def _status_name(code: int) -> str:
    if code in _STATUS_NAMES:
        return _STATUS_NAMES[code]
    return "FAILED_PRECONDITION" if 400 <= code < 500 else "UNKNOWN"


@dataclass(frozen=True)
class Reply:
    """One scripted answer to one model request; build it with the classmethods."""

    kind: ReplyKind
    status: int = 200
    body: JSON | None = None
    raw_body: bytes = b""
    chunks: tuple[JSON, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    chunk_delay: float = 0.0
    error_after: JSON | None = None
    reset_after: int | None = None
    truncate_last: bool = False
    crlf: bool = True
    piece: int = 0

    @classmethod
    def json(
        cls,
        body: JSON,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
    ) -> Reply:
        """A whole JSON answer; a streaming request gets it as one SSE event (if 200)."""
        return cls("json", status=status, body=body, headers=dict(headers or {}), delay=delay)

    @classmethod
    def stream(
        cls,
        chunks: Sequence[JSON],
        delay: float = 0.0,
        chunk_delay: float = 0.0,
        error_after: JSON | None = None,
        reset_after: int | None = None,
        truncate_last: bool = False,
        crlf: bool = True,
    ) -> Reply:
        """SSE events; a non-streaming request gets the chunks merged into one response.

        ``error_after`` is sent as a final ``data:`` event, ``reset_after=N`` resets the
        TCP connection after N events, ``truncate_last`` cuts the last event in half.
        """
        return cls(
            "stream",
            chunks=tuple(chunks),
            delay=delay,
            chunk_delay=chunk_delay,
            error_after=error_after,
            reset_after=reset_after,
            truncate_last=truncate_last,
            crlf=crlf,
        )

    @classmethod
    def error(
        cls,
        code: int,
        message: str,
        status: str | None = None,
        details: list[Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """A Google-shaped error with HTTP status ``code``."""
        return cls.json(error_body(code, message, status, details), code, headers)

    @classmethod
    def rate_limited(
        cls, retry_after: float | None = None, retry_delay: str | None = None
    ) -> Reply:
        """A 429 with a ``Retry-After`` header and/or a ``google.rpc.RetryInfo`` detail."""
        headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
        details = None
        if retry_delay is not None:
            details = [
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay}
            ]
        return cls.error(
            429, "Resource has been exhausted (e.g. check quota).", None, details, headers
        )

    @classmethod
    def raw(cls, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> Reply:
        """Exact bytes as the body (for malformed-JSON tests)."""
        return cls("raw", status=status, raw_body=body, headers=dict(headers or {}))

    @classmethod
    def trickle(
        cls,
        body: bytes,
        interval: float = 0.5,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        head_too: bool = False,
    ) -> Reply:
        """Send ``body`` one byte every ``interval`` seconds (a slow-loris answer).

        With ``head_too`` the status line and headers are trickled as well. Every single
        read gets a byte in time, so only a deadline on the whole call stops it.
        """
        return cls(
            "trickle",
            status=status,
            raw_body=body,
            headers=dict(headers or {}),
            chunk_delay=interval,
            truncate_last=head_too,
        )

    @classmethod
    def paced(
        cls,
        body: bytes,
        piece: int,
        interval: float,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """The head at once, then ``body`` ``piece`` bytes every ``interval`` seconds: a
        healthy answer arriving steadily (each read is quick, the whole takes a while)."""
        return cls(
            "paced",
            status=status,
            raw_body=body,
            headers=dict(headers or {}),
            chunk_delay=interval,
            piece=max(1, piece),
        )

    @classmethod
    def close(cls, delay: float = 0.0) -> Reply:
        """Close the connection without answering."""
        return cls("close", delay=delay)

    @classmethod
    def reset(cls, delay: float = 0.0) -> Reply:
        """Reset the TCP connection (RST) without answering."""
        return cls("reset", delay=delay)

    @classmethod
    def hang(cls, seconds: float = 3600.0) -> Reply:
        """Say nothing for ``seconds`` (to trip client timeouts), then close."""
        return cls("close", delay=seconds)


def sse_event(obj: JSON, crlf: bool = True) -> bytes:
    """One server-sent event: ``data: <json>`` and a blank line."""
    end = b"\r\n\r\n" if crlf else b"\n\n"
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + end


# ---------------------------------------------------------------------------- parts


def _signed(part: JSON, signature: str | None) -> JSON:
    if signature is not None:
        part["thoughtSignature"] = signature
    return part


def text(t: str, *, thought: bool = False, signature: str | None = None) -> JSON:
    """A text part (``thought=True`` marks reasoning)."""
    part: JSON = {"text": t}
    if thought:
        part["thought"] = True
    return _signed(part, signature)


def code(
    code: str, *, id: str | None = None, language: str = "PYTHON", signature: str | None = None
) -> JSON:
    """An ``executableCode`` part."""
    inner: JSON = {"language": language, "code": code}
    if id is not None:
        inner["id"] = id
    return _signed({"executableCode": inner}, signature)


def result(
    output: str | None = None,
    *,
    outcome: str = "OUTCOME_OK",
    id: str | None = None,
    signature: str | None = None,
) -> JSON:
    """A ``codeExecutionResult`` part; ``output`` is left out when None."""
    inner: JSON = {"outcome": outcome}
    if output is not None:
        inner["output"] = output
    if id is not None:
        inner["id"] = id
    return _signed({"codeExecutionResult": inner}, signature)


def image(data: bytes | str, mime_type: str = "image/png", *, signature: str | None = None) -> JSON:
    """An ``inlineData`` part; bytes are base64-encoded, a str is taken as base64 already."""
    b64 = base64.b64encode(data).decode() if isinstance(data, bytes) else data
    return _signed({"inlineData": {"mimeType": mime_type, "data": b64}}, signature)


def function_call(
    name: str, args: JSON, *, id: str | None = None, signature: str | None = None
) -> JSON:
    """A ``functionCall`` part."""
    inner: JSON = {"name": name, "args": args}
    if id is not None:
        inner["id"] = id
    return _signed({"functionCall": inner}, signature)


# ------------------------------------------------------------------------ responses


def usage(
    prompt: int = 10,
    candidates: int = 20,
    thoughts: int = 0,
    tool_use_prompt: int = 0,
    cached: int = 0,
) -> JSON:
    """A ``usageMetadata`` dict; zero optional counts are left out.

    ``totalTokenCount`` = prompt + candidates + thoughts + tool_use_prompt: as in the real
    API, cached tokens are a part of ``promptTokenCount``, not added on top.
    """
    meta: JSON = {"promptTokenCount": prompt, "candidatesTokenCount": candidates}
    for key, value in (
        ("thoughtsTokenCount", thoughts),
        ("toolUsePromptTokenCount", tool_use_prompt),
        ("cachedContentTokenCount", cached),
    ):
        if value:
            meta[key] = value
    meta["totalTokenCount"] = prompt + candidates + thoughts + tool_use_prompt
    return meta


def response(
    *parts: JSON,
    finish_reason: str | None = "STOP",
    usage: JSON | None = None,
    model_version: str = "gemini-2.5-flash",
    response_id: str = "resp-1",
    prompt_feedback: JSON | None = None,
    extra: JSON | None = None,
) -> JSON:
    """A whole GenerateContentResponse; ``usage=None`` gives default counts, ``{}`` none."""
    candidate: JSON = {"content": {"role": "model", "parts": list(parts)}}
    if finish_reason is not None:
        candidate["finishReason"] = finish_reason
    candidate["index"] = 0
    resp: JSON = {"candidates": [candidate]}
    if prompt_feedback is not None:
        resp["promptFeedback"] = prompt_feedback
    meta = _default_usage() if usage is None else usage
    if meta:
        resp["usageMetadata"] = meta
    resp["modelVersion"] = model_version
    resp["responseId"] = response_id
    resp.update(extra or {})
    return resp


def _default_usage() -> JSON:
    return usage()  # reached via a helper: ``response``'s ``usage`` parameter shadows it


def blocked(
    reason: str = "SAFETY",
    *,
    message: str | None = None,
    safety_ratings: Sequence[JSON] | None = None,
) -> JSON:
    """A response for a blocked prompt: HTTP 200, no candidates, ``promptFeedback``.

    ``message`` is ``blockReasonMessage`` (Vertex AI sends one), ``safety_ratings`` the
    prompt's ``safetyRatings``.
    """
    feedback: JSON = {"blockReason": reason}
    if message is not None:
        feedback["blockReasonMessage"] = message
    if safety_ratings is not None:
        feedback["safetyRatings"] = [dict(r) for r in safety_ratings]
    return {
        "promptFeedback": feedback,
        "usageMetadata": {"promptTokenCount": 10, "totalTokenCount": 10},
        "modelVersion": "gemini-2.5-flash",
        "responseId": "resp-1",
    }


def safety_rating(
    category: str = "HARM_CATEGORY_DANGEROUS_CONTENT",
    probability: str = "HIGH",
    *,
    blocked: bool = True,
) -> JSON:
    """One ``safetyRatings`` entry, as Gemini rates a candidate or a prompt."""
    rating: JSON = {"category": category, "probability": probability}
    if blocked:
        rating["blocked"] = True
    return rating


def refused(
    *parts: JSON,
    reason: str = "SAFETY",
    message: str | None = None,
    safety_ratings: Sequence[JSON] | None = None,
    **kwargs: Any,
) -> JSON:
    """A candidate Gemini stopped as a refusal (``SAFETY``, ``RECITATION``, ...).

    ``parts`` are what arrived before the stop (often none); ``message`` is the
    candidate's ``finishMessage``. Safety stops get a blocking rating unless
    ``safety_ratings`` says otherwise. Other keywords go to :func:`response`.
    """
    resp = response(*parts, finish_reason=reason, **kwargs)
    candidate = resp["candidates"][0]
    if not parts:
        candidate["content"] = {"role": "model"}  # Gemini sends no parts at all then
    if message is not None:
        candidate["finishMessage"] = message
    if safety_ratings is None and "SAFETY" in reason:
        safety_ratings = [safety_rating()]
    if safety_ratings is not None:
        candidate["safetyRatings"] = [dict(r) for r in safety_ratings]
    return resp


def web_source(uri: str, title: str | None = None, **fields: Any) -> JSON:
    """A ``groundingChunks`` entry for a web page (Google Search, URL context)."""
    web: JSON = {"uri": uri}
    if title is not None:
        web["title"] = title
    web.update(fields)
    return {"web": web}


def grounding_metadata(
    parts: Sequence[JSON],
    supports: Sequence[tuple[str, Sequence[int]]],
    sources: Sequence[JSON],
    *,
    queries: Sequence[str] = (),
    entry_point: str | None = None,
    confidence: float | None = None,
) -> JSON:
    """A ``groundingMetadata`` as Gemini computes it for ``parts``.

    Each support is (the cited words, indexes into ``sources``): the words are found in
    the first text part holding them, and the segment names that part (``partIndex``) and
    UTF-8 byte offsets into it, as Gemini documents; zero values are left out, as proto
    JSON leaves them.
    """
    found: list[JSON] = []
    for words, indices in supports:
        for number, part in enumerate(parts):
            at = part.get("text", "").find(words) if not part.get("thought") else -1
            if at >= 0:
                start = len(part["text"][:at].encode("utf-8"))
                segment: JSON = {}
                if number:
                    segment["partIndex"] = number
                if start:
                    segment["startIndex"] = start
                segment["endIndex"] = start + len(words.encode("utf-8"))
                segment["text"] = words
                support: JSON = {"segment": segment, "groundingChunkIndices": list(indices)}
                if confidence is not None:
                    support["confidenceScores"] = [confidence] * len(indices)
                found.append(support)
                break
        else:
            raise ValueError(f"no text part holds {words!r}")
    meta: JSON = {"groundingChunks": [dict(s) for s in sources], "groundingSupports": found}
    if queries:
        meta["webSearchQueries"] = list(queries)
    if entry_point is not None:
        meta["searchEntryPoint"] = {"renderedContent": entry_point}
    return meta


def url_context_metadata(*urls: str, status: str = "URL_RETRIEVAL_STATUS_SUCCESS") -> JSON:
    """A ``urlContextMetadata``: the URLs the URL context tool read, with one status."""
    return {"urlMetadata": [{"retrievedUrl": u, "urlRetrievalStatus": status} for u in urls]}


def grounded(
    *parts: JSON,
    supports: Sequence[tuple[str, Sequence[int]]] = (),
    sources: Sequence[JSON] = (),
    queries: Sequence[str] = (),
    entry_point: str | None = None,
    url_context: JSON | None = None,
    **kwargs: Any,
) -> JSON:
    """A response grounded in ``sources`` (Google Search, URL context), with its metadata.

    See :func:`grounding_metadata` for ``supports``; other keywords go to :func:`response`.
    """
    resp = response(*parts, **kwargs)
    candidate = resp["candidates"][0]
    candidate["groundingMetadata"] = grounding_metadata(
        parts, supports, sources, queries=queries, entry_point=entry_point
    )
    if url_context is not None:
        candidate["urlContextMetadata"] = url_context
    return resp


def _split(t: str, pieces: int) -> list[str]:
    n = max(1, min(pieces, len(t)))
    step = -(-len(t) // n) if t else 1
    return [t[i : i + step] for i in range(0, len(t), step)] or [t]


def _partial_usage(final: JSON, frac: float) -> JSON:
    """Running totals part-way through a stream: output counts grow, input ones do not."""
    meta = dict(final)
    shrink = 0
    for key in ("candidatesTokenCount", "thoughtsTokenCount"):
        if isinstance(final.get(key), int):
            meta[key] = int(final[key] * frac)
            shrink += final[key] - meta[key]
    if isinstance(final.get("totalTokenCount"), int):
        meta["totalTokenCount"] = final["totalTokenCount"] - shrink
    return meta


def stream_chunks(resp: JSON, *, text_pieces: int = 3) -> list[JSON]:
    """Split a whole response into SSE chunks the way Gemini streams it.

    Unsigned text parts arrive as up to ``text_pieces`` deltas, every other part whole
    in its own chunk; usage is cumulative, ``finishReason`` comes last.
    """
    cands = resp.get("candidates") or []
    if not cands:
        return [copy.deepcopy(resp)]
    cand = cands[0]
    content = cand.get("content") or {}
    pieces: list[JSON] = []
    for part in content.get("parts") or []:
        if set(part) <= {"text", "thought"} and isinstance(part.get("text"), str):
            pieces += [{**part, "text": t} for t in _split(part["text"], text_pieces)]
        else:
            pieces.append(copy.deepcopy(part))
    head: JSON = {k: resp[k] for k in ("modelVersion", "responseId") if k in resp}
    final_usage = resp.get("usageMetadata")
    rest = {k: v for k, v in resp.items() if k not in {"candidates", "usageMetadata", *head}}
    chunks: list[JSON] = []
    n = max(1, len(pieces))
    for i in range(n):
        chunk_content: JSON = {"role": content.get("role", "model")}
        if pieces:
            chunk_content["parts"] = [pieces[i]]
        chunk_cand: JSON = {"content": chunk_content}
        if i == n - 1:
            chunk_cand.update({k: v for k, v in cand.items() if k != "content"})
        else:
            chunk_cand["index"] = cand.get("index", 0)
        chunk: JSON = {"candidates": [chunk_cand]}
        if final_usage is not None:
            last = i == n - 1
            chunk["usageMetadata"] = (
                dict(final_usage) if last else _partial_usage(final_usage, (i + 1) / n)
            )
        chunk.update(head)
        if i == n - 1:
            chunk.update(copy.deepcopy(rest))
        chunks.append(chunk)
    return chunks


def _is_delta(part: Any) -> bool:
    return (
        isinstance(part, dict)
        and set(part) <= {"text", "thought"}
        and isinstance(part.get("text"), str)
    )


def merge_chunks(chunks: Sequence[JSON]) -> JSON:
    """Merge SSE chunks into one response, as ``generateContent`` would have answered.

    Consecutive unsigned text deltas of one kind (thought or not) become one text part,
    as Gemini's non-streaming answer has them; every other part is kept as it came. The
    last usage and finish reason win.
    """
    merged: JSON = {}
    parts: list[JSON] = []
    cand: JSON | None = None
    role = "model"
    for chunk in chunks:
        for key, value in chunk.items():
            if key == "candidates":
                if not value:
                    continue
                c = value[0]
                cand = cand or {}
                content = c.get("content") or {}
                role = content.get("role", role)
                for part in copy.deepcopy(content.get("parts") or []):
                    if (
                        parts
                        and _is_delta(part)
                        and _is_delta(parts[-1])
                        and (bool(part.get("thought")) == bool(parts[-1].get("thought")))
                    ):
                        parts[-1]["text"] += part["text"]
                    else:
                        parts.append(part)
                cand.update({k: v for k, v in c.items() if k != "content"})
            elif key in ("responseId", "modelVersion", "createTime"):
                merged.setdefault(key, value)
            else:
                merged[key] = copy.deepcopy(value)
    if cand is not None:
        content_out: JSON = {"role": role}
        if parts:
            content_out["parts"] = parts
        merged["candidates"] = [{"content": content_out, **cand}]
    return merged
