"""Input checks: each names the field and what is allowed, and runs before any request.

Small pure functions, used by field validators (the model's connection settings, and the
generation options in `_options`, which validate both the constructor and each call), so
a value is judged the same way wherever it comes from. They raise `ValueError` (pydantic
makes it a `ValidationError` at construction; `_options.resolve` an `InvalidMessageError`).
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

from langchain_gemini_codeexec.errors import (
    GeminiCodeExecutionError,
    IncompleteResponseError,
    InvalidMessageError,
)

# The longest `timeout` we take: a day. A Gemini call that has not answered in a day has
# failed; larger values overflow the HTTP libraries' timers (1e10 s raises on sync paths).
MAX_TIMEOUT = 86_400.0
# Durations (seconds) other than `timeout`: a poll interval up to a day; a wait for a batch
# job up to a year (jobs expire after 48 hours); a cache TTL from a second up to the
# largest google.protobuf.Duration (10,000 years).
MAX_POLL_INTERVAL = 86_400.0
MAX_WAIT = 366 * 86_400.0
MIN_TTL = 1.0
MAX_TTL = 315_576_000_000.0
# Gemini's `seed` is an int32.
_INT32 = (-(2**31), 2**31 - 1)

# A model name is a URL path: letters, digits and `-_.@/` only, so that it cannot leave
# the models path (`..`, `%2e%2e`, `?`, `#`, `\`, spaces, control or non-ASCII characters).
_MODEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@/-]*")
# Path segments built from settings: `api_version` (`v1beta`), Vertex `project`
# (`my-proj`, legacy `example.com:my-proj`) and `location` (`us-central1`, which the SDK
# also puts in the host name `{location}-aiplatform.googleapis.com`).
_SEGMENTS = {
    "api_version": (re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*"), "e.g. 'v1beta' or 'v1'"),
    "project": (re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*"), "a Google Cloud project id"),
    "location": (re.compile(r"[a-z0-9][a-z0-9-]*"), "e.g. 'us-central1' or 'global'"),
}
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_VALUE_BAD = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def model_problem(model: Any) -> str | None:
    """Why `model` is not a model name, or None when it is one."""
    if not isinstance(model, str) or not model:
        return "must be a non-empty model name"
    segments = model.split("/")
    if (
        not _MODEL.fullmatch(model)
        or ".." in model
        or any(segment in ("", ".") for segment in segments)
    ):
        return (
            f"{model!r:.200} is not a model name (letters, digits and '-_.@/' only; no '..', "
            "'%', '?', '#', '&', spaces or control characters); e.g. 'gemini-2.5-flash'"
        )
    return None


def check_model(model: Any) -> str:
    problem = model_problem(model)
    if problem is not None:
        raise ValueError(f"model: {problem}")
    return str(model)


def reject_bool(name: str, value: Any) -> Any:
    """`True` is an int to Python; as a temperature or token count it is a mistake."""
    if isinstance(value, bool):
        raise ValueError(f"{name}: must be a number, not the boolean {value!r}")
    return value


def _span(seconds: float) -> str:
    for unit, size in (("years", 365 * 86_400), ("days", 86_400), ("hours", 3600)):
        if seconds >= size:
            return f"{seconds / size:.4g} {unit}"
    return f"{seconds:g} s"


def _shown_number(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else f"{text[:12]}... (a {len(text)}-digit number)"


def check_duration(
    name: str, value: Any, *, maximum: float, minimum: float = 0.0, zero: bool = False
) -> float:
    """Seconds of a duration: a finite number above `minimum` (or equal to it with
    `zero`) and at most `maximum`. An int too large for a float, NaN or infinity is
    refused naming `name` (`InvalidMessageError`, a `ValueError`), never an
    `OverflowError` later in a timer or on the wire."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidMessageError(f"{name}: must be a number of seconds, got {value!r:.80}")
    try:
        seconds = float(value)
    except OverflowError:
        seconds = math.inf
    low_ok = seconds >= minimum if zero else seconds > minimum
    if not math.isfinite(seconds) or not low_ok or seconds > maximum:
        relation = "at least" if zero else "above"
        raise InvalidMessageError(
            f"{name}: must be a finite number of seconds {relation} {minimum:g} and at most "
            f"{maximum:g} ({_span(maximum)}), got {_shown_number(value)}"
        )
    return seconds


def check_timeout(value: Any) -> Any:
    reject_bool("timeout", value)
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return value  # pydantic reports the type
    try:
        check_duration("timeout", value, maximum=MAX_TIMEOUT)
    except InvalidMessageError as exc:
        raise ValueError(f"{exc}; None waits without a limit") from None
    return value


@contextlib.contextmanager
def answer_shape(what: str) -> Iterator[None]:
    """Reading Gemini's answer in this block: a wrong JSON shape (a list where an object
    was, a string where a number was) raises `IncompleteResponseError` naming `what`,
    never a bare `AttributeError`/`KeyError`/`TypeError`/`ValueError`."""
    try:
        yield
    except GeminiCodeExecutionError:
        raise
    except (AttributeError, KeyError, IndexError, TypeError, ValueError, OverflowError) as exc:
        raise IncompleteResponseError(
            f"Gemini's answer to {what} has an unexpected shape "
            f"({type(exc).__name__}: {str(exc)[:200]})"
        ) from exc


def _shown(url: str) -> str:
    """`url` for an error message: no user:password@, no query (a key may sit there)."""
    shown = re.sub(r"//[^/@]*@", "//***@", re.split(r"[?#]", url, maxsplit=1)[0])
    return repr(shown[:200])


def check_base_url(url: Any) -> Any:
    """A URL the SDK can send to: http(s), a host, a valid port, nothing after the path."""
    if url is None:
        return None
    if not isinstance(url, str):
        raise ValueError(f"base_url: must be a URL string, not {type(url).__name__}")
    example = "e.g. 'https://generativelanguage.googleapis.com' or 'http://127.0.0.1:8080'"
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"base_url: {_shown(url)} is not a valid URL ({exc}); {example}") from None
    if parts.username is not None or parts.password is not None:
        # Not echoed: it holds a password. In the URL it would show in repr and logs.
        raise ValueError(
            "base_url: must not hold credentials (user:password@); send them in "
            "default_headers instead"
        )
    if _CONTROL.search(url) or not url.isascii():
        raise ValueError(
            f"base_url: {_shown(url)} holds spaces, control or non-ASCII characters; "
            "percent-encode them or punycode the host"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base_url: {_shown(url)} must be an http:// or https:// URL; {example}")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise ValueError(
            f"base_url: {_shown(url)} must not have a query or fragment (the SDK appends the "
            f"API path; an API key goes in api_key); {example}"
        )
    return url


def check_segment(name: str, value: Any) -> Any:
    """`api_version`, `project`, `location`: one URL path segment (or host label)."""
    if value is None:
        return None
    pattern, example = _SEGMENTS[name]
    if not isinstance(value, str) or not pattern.fullmatch(value) or ".." in value:
        raise ValueError(
            f"{name}: {value!r:.200} is not valid here (it becomes part of the request URL); "
            f"{example}"
        )
    return value


def stop_sequences(value: Any, name: str = "stop") -> list[str] | None:
    """A list of non-empty strings; a single string is one stop sequence (as ChatOpenAI)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(item, str) and item for item in value
    ):
        raise ValueError(f"{name}: must be a list of non-empty strings, got {value!r:.200}")
    return list(value)


def check_seed(value: Any) -> Any:
    reject_bool("seed", value)
    if value is None:
        return None
    if not isinstance(value, int) or not _INT32[0] <= value <= _INT32[1]:
        raise ValueError(f"seed: must be an integer (32-bit), got {value!r:.200}")
    return value


def check_json(name: str, value: Any) -> Any:
    """Plain JSON (dicts with string keys, lists, strings, finite numbers, bools, None)."""
    if value is None:
        return None
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValueError(f"{name}: must be plain JSON ({exc})") from None
    return value


def check_headers(value: Any) -> Any:
    """HTTP header names (tokens) and values without line breaks or control characters."""
    if value is None:
        return None
    for key, item in value.items():
        if not isinstance(key, str) or not _HEADER_NAME.fullmatch(key):
            raise ValueError(f"default_headers: {key!r:.100} is not an HTTP header name")
        if not isinstance(item, str) or _HEADER_VALUE_BAD.search(item):
            # The value is not echoed: it may be a credential.
            raise ValueError(
                f"default_headers[{key!r}]: the value must be a string without line breaks "
                "or control characters"
            )
    return value
