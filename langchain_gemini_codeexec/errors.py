"""Typed errors: each names what went wrong and what to do instead.

They all derive from `GeminiCodeExecutionError`, so one `except` catches every failure of
this package, while `InvalidMessageError` is also a `ValueError` (bad input).

Failures of a call also derive from LangChain's standard errors
(`langchain_core.exceptions`), so LangChain's retry middleware (`is_retryable`) and its
context-overflow handling work with this model: a blocked prompt is a
`ModelRefusalError`, a 429 is a `ModelRateLimitError`, a 401
a `ModelAuthenticationError`, 403 `ModelPermissionDeniedError`, 404 `ModelNotFoundError`,
another 4xx `ModelInvalidRequestError` (or `ContextOverflowError` when the input is too
long), a 5xx `ModelAPIError`, a timeout `ModelTimeoutError` and a connection failure
`ModelConnectionError`. `GeminiAPIError` (with `code`, `status`, `message`) stays the
class to catch for any HTTP error answer.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelRefusalError,
    ModelTimeoutError,
)

__all__ = [
    "BatchJobError",
    "BatchRequestError",
    "BatchTimeoutError",
    "BlockedPromptError",
    "CacheGoneError",
    "GeminiAPIError",
    "GeminiAuthenticationError",
    "GeminiCodeExecutionError",
    "GeminiConnectionError",
    "GeminiContextOverflowError",
    "GeminiInvalidRequestError",
    "GeminiNotFoundError",
    "GeminiPermissionDeniedError",
    "GeminiRateLimitError",
    "GeminiRedirectError",
    "GeminiRequestTimeoutError",
    "GeminiServerError",
    "GeminiTimeoutError",
    "IncompleteResponseError",
    "InvalidMessageError",
]


class GeminiCodeExecutionError(Exception):
    """Base class of every error raised by langchain-gemini-codeexec."""


class InvalidMessageError(GeminiCodeExecutionError, ValueError):
    """A message, block or argument cannot be sent to Gemini; raised before any request."""


class CacheGoneError(InvalidMessageError):
    """The context cache a call names does not exist (any more); raised before generating."""


class BlockedPromptError(GeminiCodeExecutionError, ModelRefusalError):
    """Gemini refused the prompt (no candidates, `promptFeedback.blockReason`).

    A LangChain `ModelRefusalError`, so refusals are caught the same way for every
    provider; `raw_message` is an `AIMessage` whose one `refusal` block carries the
    block reason and safety ratings in `extras`.
    """

    def __init__(
        self,
        reason: str,
        prompt_feedback: dict[str, Any] | None = None,
        *,
        raw_message: Any = None,
    ) -> None:
        self.reason = reason
        self.prompt_feedback = prompt_feedback or {}
        super().__init__(
            f"Gemini blocked the prompt (blockReason={reason}); no answer was generated. "
            "Rephrase the request or adjust safety_settings.",
            raw_message=raw_message,
        )


class GeminiAPIError(GeminiCodeExecutionError, ModelError):
    """An HTTP error from Gemini, with its status code, status name and message.

    The google-genai error is chained as `__cause__`. Raised as the subclass that names
    the kind of failure (see `api_error`); catch `GeminiAPIError` for all of them.
    """

    def __init__(
        self,
        code: int | None,
        status: str | None,
        message: str | None,
        *,
        details: Any = None,
        attempts: int = 1,
    ) -> None:
        self.code = code
        self.status = status
        self.message = message
        self.details = details
        self.attempts = attempts
        tried = f" (after {attempts} attempts)" if attempts > 1 else ""
        super().__init__(f"Gemini API error {code} {status}: {message}{tried}")


class GeminiInvalidRequestError(GeminiAPIError, ModelInvalidRequestError):
    """Gemini rejected the request (400 and other 4xx without a class of their own)."""


class GeminiContextOverflowError(GeminiInvalidRequestError, ContextOverflowError):
    """The input is longer than the model's context window (a 400 saying so)."""


class GeminiAuthenticationError(GeminiAPIError, ModelAuthenticationError):
    """401: the API key or credentials were not accepted."""


class GeminiPermissionDeniedError(GeminiAPIError, ModelPermissionDeniedError):
    """403: the credentials lack permission (or the key is not valid for this API)."""


class GeminiNotFoundError(GeminiAPIError, ModelNotFoundError):
    """404: the model (or file, or resource) does not exist."""


class GeminiRateLimitError(GeminiAPIError, ModelRateLimitError):
    """429: rate limited or out of quota; retrying later may succeed."""


class GeminiServerError(GeminiAPIError, ModelAPIError):
    """5xx: Gemini failed; retrying may succeed."""


class GeminiRequestTimeoutError(GeminiAPIError, ModelTimeoutError):
    """408: the server gave up waiting; retrying may succeed."""


class GeminiRedirectError(GeminiAPIError):
    """The endpoint answered with a redirect (3xx), which is never followed.

    Following it would send the API key (and for 307/308 the whole request) to wherever
    the server points. `location_origin` names the target's origin (scheme, host, port),
    never more of the URL.
    """

    def __init__(self, code: int | None, location: str | None, *, attempts: int = 1) -> None:
        self.location_origin = _origin(location)
        super().__init__(
            code,
            "REDIRECT",
            f"the endpoint redirects to {self.location_origin}; redirects are not followed "
            "so that the API key goes only to the configured endpoint. Set base_url to the "
            "endpoint you mean to use.",
            attempts=attempts,
        )


class GeminiConnectionError(GeminiCodeExecutionError, ModelConnectionError):
    """Gemini could not be reached, or the connection broke before the answer was whole."""


class GeminiTimeoutError(GeminiConnectionError, ModelTimeoutError, TimeoutError):
    """A request took longer than the configured `timeout` (per attempt)."""


class IncompleteResponseError(GeminiCodeExecutionError):
    """The answer stopped before Gemini said it was finished (truncated or malformed).

    Chunks already yielded by a stream stay valid; the error says how far it got.
    """


class BatchRequestError(GeminiAPIError):
    """One request of a batch job failed; the others are unaffected.

    Gemini reports it as a `google.rpc.Status`: `code` is the gRPC code (3 is
    INVALID_ARGUMENT), not an HTTP status; `message` is Gemini's text, kept as sent.
    """

    def __init__(
        self, key: str | None, code: int | None, status: str | None, message: str | None
    ) -> None:
        super().__init__(code, status, message)
        self.key = key
        self.args = (f"batch request {key!r} failed: {status} (gRPC code {code}): {message}",)


class BatchJobError(GeminiCodeExecutionError):
    """A batch job ended without succeeding: failed, cancelled or expired.

    `job` is the `GeminiBatchJob`: `job.results()` still yields whatever results exist
    (requests without one get an error naming the job's state).
    """

    def __init__(self, message: str, job: Any, state: str, error: Any = None) -> None:
        super().__init__(message)
        self.job = job
        self.state = state
        self.error = error


class BatchTimeoutError(GeminiTimeoutError):
    """`poll_until_done` gave up waiting; the job itself keeps running at Google.

    Resume later with `GeminiBatchJob.attach(error.job_name, llm=llm)`.
    """

    def __init__(self, message: str, job: Any) -> None:
        super().__init__(message)
        self.job = job
        self.job_name: str = job.name


# Gemini's 400 for an over-long input: "The input token count (N) exceeds the maximum
# number of tokens allowed (M)."; other wordings seen from Google APIs are matched too.
_CONTEXT_OVERFLOW = re.compile(
    r"input token count.*exceeds|exceeds the maximum number of tokens|"
    r"context (?:window|length)|prompt is too long|input is too long",
    re.IGNORECASE | re.DOTALL,
)
_BY_CODE: dict[int, type[GeminiAPIError]] = {
    400: GeminiInvalidRequestError,
    401: GeminiAuthenticationError,
    403: GeminiPermissionDeniedError,
    404: GeminiNotFoundError,
    408: GeminiRequestTimeoutError,
    429: GeminiRateLimitError,
}


def api_error(
    code: int | None,
    status: str | None,
    message: str | None,
    *,
    details: Any = None,
    attempts: int = 1,
) -> GeminiAPIError:
    """The `GeminiAPIError` subclass for an HTTP error answer."""
    cls: type[GeminiAPIError] = GeminiAPIError
    if code is not None:
        if code in _BY_CODE:
            cls = _BY_CODE[code]
        elif 500 <= code < 600:
            cls = GeminiServerError
        elif 400 <= code < 500:
            cls = GeminiInvalidRequestError
        if cls is GeminiInvalidRequestError and _CONTEXT_OVERFLOW.search(message or ""):
            cls = GeminiContextOverflowError
    return cls(code, status, message, details=details, attempts=attempts)


def _origin(url: str | None) -> str:
    """`scheme://host[:port]` of a URL, or a placeholder when there is none."""
    if not url:
        return "(no Location header)"
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(an unparsable Location)"
    if not host:
        return "(a relative Location on the same endpoint)"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme or 'http'}://{host}{port}"
