"""Error classification: what failed in a call, as one of our typed errors.

The SDK surfaces transport failures as the exceptions of whichever HTTP library it runs
on: httpx2 (its default since 3.6) or httpx for sync calls and for async calls given a
transport, aiohttp for async calls otherwise. Each is looked up only if already imported,
so classifying an error never imports an HTTP library.
"""

from __future__ import annotations

import asyncio
import json
import sys

from langchain_gemini_codeexec._transport.sdk import errors
from langchain_gemini_codeexec.errors import (
    GeminiCodeExecutionError,
    GeminiConnectionError,
    GeminiRedirectError,
    GeminiTimeoutError,
    IncompleteResponseError,
    api_error,
)

RETRYABLE_CODES = frozenset({408, 429, 500, 502, 503, 504})

_TIMEOUTS = (
    ("httpx", "TimeoutException"),
    ("httpx2", "TimeoutException"),
    ("aiohttp", "ServerTimeoutError"),
)
_TRANSPORT_ERRORS = (
    ("httpx", "TransportError"),
    ("httpx2", "TransportError"),
    ("aiohttp", "ClientError"),
    ("google.auth.exceptions", "TransportError"),
)
# Failures of our own side of the connection: retrying cannot help.
_LOCAL_ERRORS = (
    ("httpx", "LocalProtocolError"),
    ("httpx2", "LocalProtocolError"),
    ("httpx", "UnsupportedProtocol"),
    ("httpx2", "UnsupportedProtocol"),
)
# A malformed answer head (classic httpx also raises one for a Location it cannot parse).
_PROTOCOL_ERRORS = (
    ("httpx", "RemoteProtocolError"),
    ("httpx2", "RemoteProtocolError"),
)
# The body arrived but cannot be decoded (a bad Content-Encoding, say).
_DECODING_ERRORS = (
    ("httpx", "DecodingError"),
    ("httpx2", "DecodingError"),
)
# Anything else an HTTP library raises for a request (too many redirects, stream
# consumed or closed, ...): a connection-level failure, not retried.
_OTHER_HTTP_ERRORS = (
    ("httpx", "HTTPError"),
    ("httpx2", "HTTPError"),
    ("httpx", "StreamError"),
    ("httpx2", "StreamError"),
)


def _classes(names: tuple[tuple[str, str], ...]) -> tuple[type[BaseException], ...]:
    found = []
    for module_name, attr in names:
        module = sys.modules.get(module_name)
        cls = getattr(module, attr, None) if module is not None else None
        if isinstance(cls, type) and issubclass(cls, BaseException):
            found.append(cls)
    return tuple(found)


def is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, (asyncio.TimeoutError, TimeoutError, *_classes(_TIMEOUTS)))


def _is_connection_error(exc: BaseException) -> bool:
    return isinstance(exc, (ConnectionError, *_classes(_TRANSPORT_ERRORS)))


def _tried(attempts: int) -> str:
    return f" (after {attempts} attempts)" if attempts > 1 else ""


def _location(exc: errors.APIError) -> str | None:
    headers = getattr(exc.response, "headers", None)
    value = headers.get("location") if headers is not None and hasattr(headers, "get") else None
    return str(value) if value is not None else None


def convert_error(exc: BaseException, attempts: int = 1) -> BaseException:
    """Our typed error for a failure inside the SDK or its transport (else `exc` itself)."""
    if isinstance(exc, GeminiCodeExecutionError):
        return exc
    if isinstance(exc, errors.APIError):
        if 300 <= (exc.code or 0) < 400:
            return GeminiRedirectError(exc.code, _location(exc), attempts=attempts)
        error = exc.details.get("error") if isinstance(exc.details, dict) else None
        details = error.get("details") if isinstance(error, dict) else None
        return api_error(exc.code, exc.status, exc.message, details=details, attempts=attempts)
    if _is_unparsable_redirect(exc):
        # Classic httpx builds the redirect request even when not following it, and
        # raises (without the status) on a Location it cannot parse: still a redirect.
        return GeminiRedirectError(None, "http://[", attempts=attempts)
    if is_timeout(exc):
        return GeminiTimeoutError(
            f"Gemini did not answer within the timeout ({type(exc).__name__}){_tried(attempts)};"
            " raise `timeout` or retry later (the timeout is per attempt)"
        )
    if isinstance(exc, _classes(_DECODING_ERRORS)):
        return IncompleteResponseError(
            f"Gemini's answer could not be decoded ({type(exc).__name__}: {str(exc)[:200]})"
        )
    if _is_connection_error(exc) or isinstance(exc, _classes(_OTHER_HTTP_ERRORS)):
        return GeminiConnectionError(
            f"could not talk to Gemini: {type(exc).__name__}: {str(exc)[:300]}{_tried(attempts)}"
        )
    if isinstance(exc, json.JSONDecodeError):
        # Only an error answer is parsed inside the SDK (we read 200 bodies ourselves), and
        # only on aiohttp's path does a JSON-typed error body that does not parse escape it,
        # without its status: a server failure (Google's own errors are valid JSON).
        return api_error(
            None,
            None,
            f"the error answer is not valid JSON: {exc.doc[:200]!r}",
            attempts=attempts,
        )
    if isinstance(exc, errors.UnknownApiResponseError):
        return IncompleteResponseError(
            "an event of Gemini's streamed answer is not valid JSON (truncated or malformed): "
            f"{str(exc)[:300]}"
        )
    if isinstance(exc, UnicodeDecodeError):
        return IncompleteResponseError(
            f"Gemini's answer is not valid UTF-8 ({exc.reason} at byte {exc.start})"
        )
    if isinstance(exc, RecursionError):
        return IncompleteResponseError(
            "Gemini's answer is nested too deeply to read (malformed or hostile JSON)"
        )
    return exc


def _is_unparsable_redirect(exc: BaseException) -> bool:
    return isinstance(exc, _classes(_PROTOCOL_ERRORS)) and str(exc).startswith(
        "Invalid URL in location header"
    )


def retryable(exc: BaseException) -> bool:
    """Whether another attempt may succeed: 408/429/5xx, timeouts, connection errors."""
    if _is_unparsable_redirect(exc):
        return False
    if isinstance(exc, errors.APIError):
        return exc.code in RETRYABLE_CODES
    if isinstance(exc, json.JSONDecodeError):
        return True  # an unparsable error answer: see convert_error
    if isinstance(exc, (*_classes(_LOCAL_ERRORS), *_classes(_DECODING_ERRORS))):
        return False
    return is_timeout(exc) or _is_connection_error(exc)


def error_name(exc: BaseException) -> str:
    if isinstance(exc, errors.APIError):
        return f"{exc.code} {exc.status}"
    return type(exc).__name__
