"""Typed errors: each names what went wrong and what to do instead.

They all derive from `GeminiCodeExecutionError`, so one `except` catches every failure of
this package, while `InvalidMessageError` is also a `ValueError` (bad input).
"""

from __future__ import annotations

from typing import Any


class GeminiCodeExecutionError(Exception):
    """Base class of every error raised by langchain-gemini-codeexec."""


class InvalidMessageError(GeminiCodeExecutionError, ValueError):
    """A message, block or argument cannot be sent to Gemini; raised before any request."""


class BlockedPromptError(GeminiCodeExecutionError):
    """Gemini refused the prompt (no candidates, `promptFeedback.blockReason`)."""

    def __init__(self, reason: str, prompt_feedback: dict[str, Any] | None = None) -> None:
        self.reason = reason
        self.prompt_feedback = prompt_feedback or {}
        super().__init__(
            f"Gemini blocked the prompt (blockReason={reason}); no answer was generated. "
            "Rephrase the request or adjust safety_settings."
        )


class GeminiAPIError(GeminiCodeExecutionError):
    """An HTTP error from Gemini, with its status code, status name and message.

    The google-genai error is chained as `__cause__`.
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


class GeminiConnectionError(GeminiCodeExecutionError):
    """Gemini could not be reached, or the connection broke before the answer was whole."""


class GeminiTimeoutError(GeminiConnectionError, TimeoutError):
    """A request took longer than the configured `timeout`."""


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
