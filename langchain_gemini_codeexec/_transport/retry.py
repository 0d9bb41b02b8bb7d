"""Retries: exponential backoff with jitter, the server's requested delay honoured.

The loop (`RetryPolicy.retried`, a sans-IO flow) is our own rather than tenacity's (already
installed with langchain-core): it is a dozen lines, it runs on every call (tenacity's
per-call objects cost more than the whole loop), and it needs what tenacity would have to
be wrapped for anyway: the delay a
429 asks for (`Retry-After` or `RetryInfo`), the attempt count in the final error, and
converting the last failure into our typed error.
"""

from __future__ import annotations

import dataclasses
import email.utils
import logging
import math
import random
import re
import time
from dataclasses import dataclass
from datetime import timezone
from typing import Any

from langchain_gemini_codeexec._transport.classify import convert_error, error_name, retryable
from langchain_gemini_codeexec._transport.flow import Attempt, Call, Flow, Open, SdkCall, Sleep
from langchain_gemini_codeexec._transport.sdk import errors

logger = logging.getLogger("langchain_gemini_codeexec")

_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?)s\s*$")

Retryable = Call | Open | SdkCall[Any] | Attempt[Any]
"""The steps a driver retries by this policy (when their `retry` is True)."""
RETRYABLE = (Call, Open, SdkCall, Attempt)  # the same, for isinstance


def _header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    value = headers.get(name) if hasattr(headers, "get") else None
    if value is None and isinstance(headers, dict):
        value = next((v for k, v in headers.items() if str(k).lower() == name), None)
    return str(value) if value is not None else None


def _retry_after(value: str) -> float | None:
    """`Retry-After`: seconds, or an HTTP date."""
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = when.timestamp() - time.time()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def server_delay(exc: errors.APIError) -> float | None:
    """The delay the server asked for: `Retry-After`, else Gemini's `RetryInfo` detail."""
    value = _header(getattr(exc.response, "headers", None), "retry-after")
    if value:
        delay = _retry_after(value.strip())
        if delay is not None:
            return delay
    details = exc.details.get("error", exc.details) if isinstance(exc.details, dict) else None
    if not isinstance(details, dict):
        return None
    for detail in details.get("details") or []:
        if isinstance(detail, dict) and detail.get("@type") == _RETRY_INFO:
            match = _DURATION.match(str(detail.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, capped; the server's requested delay wins.

    Retries 408/429/500/502/503/504 answers, timeouts and connection errors; never another
    4xx. `max_retries` counts retries, so a call makes at most `max_retries + 1` requests.
    """

    max_retries: int = 2
    initial_delay: float = 1.0
    max_delay: float = 60.0

    def delay(self, retry: int, exc: BaseException) -> float:
        """Seconds to wait before retry number `retry + 1`."""
        hint = server_delay(exc) if isinstance(exc, errors.APIError) else None
        if hint is not None:
            return min(hint, self.max_delay)
        backoff = self.initial_delay * (2 ** min(retry, 62))
        return float(min(backoff * random.uniform(0.75, 1.25), self.max_delay))

    def _give_up(self, retry: int, exc: Exception) -> BaseException | None:
        """The error to raise now, or None to retry after `delay`."""
        if retry < self.max_retries and retryable(exc):
            return None
        return convert_error(exc, retry + 1)

    def _log(self, retry: int, exc: BaseException, pause: float) -> None:
        logger.info(
            "Gemini request failed (%s); retry %d of %d in %.2fs",
            error_name(exc),
            retry + 1,
            self.max_retries,
            pause,
            extra={"gemini_retry": retry + 1, "gemini_retry_delay": pause},
        )

    def retried(self, step: Retryable) -> Flow[Any]:
        """`step` until it succeeds or the policy gives up, with a `Sleep` between attempts.

        The loop as a flow, so that one body serves both drivers: each attempt is `step`
        with `retry=False`, its failure thrown in here; the last failure leaves as our typed
        error, with the number of attempts.
        """
        once = dataclasses.replace(step, retry=False)
        retry = 0
        while True:
            try:
                return (yield once)
            except Exception as exc:
                final = self._give_up(retry, exc)
                if final is exc:
                    raise
                if final is not None:
                    raise final from exc
                pause = self.delay(retry, exc)
                self._log(retry, exc, pause)
                yield Sleep(pause)
                retry += 1
