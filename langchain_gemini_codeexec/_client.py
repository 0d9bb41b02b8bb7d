"""Configuration and client: one google-genai client per model, raw JSON in and out.

Why raw JSON: the SDK's typed response models drop fields they do not know (so a new part
kind would be lost) and re-encode every base64 payload. We keep the SDK for what it does
well (auth, Vertex and Developer endpoints, aiohttp/httpx transports, SSE framing, typed
HTTP errors) and call its transport with the request body we built, reading the body it
got back. Retries are ours, so that they can honour the server's requested delay and never
repeat a stream that has already reached the caller.
"""

from __future__ import annotations

import asyncio
import email.utils
import importlib
import json
import logging
import math
import random
import re
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import timezone
from typing import TYPE_CHECKING, Any, TypeVar

from langchain_gemini_codeexec.errors import (
    GeminiAPIError,
    GeminiCodeExecutionError,
    GeminiConnectionError,
    GeminiTimeoutError,
    IncompleteResponseError,
)


class _LazyModule:
    """A module imported on first attribute access.

    `import google.genai` takes about as long as all of LangChain's chat model machinery
    (pydantic models, httpx, aiohttp): it is loaded when a client is built (or an SDK
    error is classified), not when this package is imported.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        module = sys.modules.get(self._name) or importlib.import_module(self._name)
        return getattr(module, attr)


if TYPE_CHECKING:
    from google.genai import Client, errors, types
else:
    errors = _LazyModule("google.genai.errors")
    types = _LazyModule("google.genai.types")

logger = logging.getLogger("langchain_gemini_codeexec")

RETRYABLE_CODES = frozenset({408, 429, 500, 502, 503, 504})
_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?)s\s*$")

T = TypeVar("T")


def build_client(
    *,
    api_key: str | None,
    vertexai: bool,
    project: str | None,
    location: str | None,
    credentials: Any,
    base_url: str | None,
    api_version: str | None,
    timeout: float | None = None,
    headers: dict[str, str] | None = None,
    client_args: dict[str, Any] | None = None,
    async_client_args: dict[str, Any] | None = None,
) -> Client:
    """A google-genai client configured the way the SDK documents it.

    `timeout` (seconds) becomes the client's own default; `ChatGeminiCodeExecution` leaves
    it unset and lets `Transport` apply its timeout per request instead. `client_args` /
    `async_client_args` go to the SDK's HTTP clients (an httpx transport in
    `async_client_args` makes async calls use httpx instead of aiohttp).
    """
    from google.genai import Client  # here, not at the top: see _LazyModule

    http_options = types.HttpOptions(
        base_url=base_url,
        # Code execution, thinking and JSON-schema answers are documented on v1beta; the
        # SDK 3.x default for the Developer API is v1, so pin v1beta unless told otherwise.
        api_version=api_version or (None if vertexai else "v1beta"),
        # The SDK wants milliseconds; round up so that a tiny timeout is not "none".
        timeout=max(1, math.ceil(timeout * 1000)) if timeout else None,
        headers=headers,
        client_args=client_args,
        async_client_args=async_client_args,
        # One attempt inside the SDK: retries are ours (see module docstring). Setting
        # retry_options also turns off the SDK's hidden 1-10 s aiohttp reconnect sleep.
        retry_options=types.HttpRetryOptions(attempts=1),
    )
    if vertexai:
        if api_key and not project:
            return Client(vertexai=True, api_key=api_key, http_options=http_options)
        return Client(
            vertexai=True,
            project=project,
            location=location,
            credentials=credentials,
            http_options=http_options,
        )
    # vertexai=False said outright: else the SDK reads GOOGLE_GENAI_USE_VERTEXAI itself.
    return Client(vertexai=False, api_key=api_key, http_options=http_options)


def check_api_key(key: str) -> None:
    """Refuse a key that cannot go into an HTTP header, without ever echoing it.

    httpx's error for such a header value quotes the value, so without this check a key
    pasted with a newline or a non-ASCII character would end up in an error message.
    """
    for position, char in enumerate(key):
        if not (0x21 <= ord(char) <= 0x7E):
            raise ValueError(
                f"api_key: character {position + 1} of {len(key)} is not allowed (a space, "
                "control character or non-ASCII character); an API key is printable ASCII "
                "only. The key itself is not shown."
            )


def model_path(client: Client, model: str) -> str:
    """The resource path of a model, as the SDK would build it."""
    if "/" in model and model.startswith(("models/", "tunedModels/", "projects/", "publishers/")):
        return model
    if client.vertexai:
        if "/" in model:
            publisher, name = model.split("/", 1)
            return f"publishers/{publisher}/models/{name}"
        return f"publishers/google/models/{model}"
    return f"models/{model}"


def files_base(client: Client) -> str:
    """Prefix that turns a Files API name (`files/abc`) into its URI."""
    options = client._api_client._http_options
    base = (options.base_url or "https://generativelanguage.googleapis.com/").rstrip("/")
    return f"{base}/{options.api_version or 'v1beta'}"


# --- errors ----------------------------------------------------------------------------
#
# The SDK surfaces transport failures as the exceptions of whichever HTTP library it runs
# on: httpx2 (its default since 3.6) or httpx for sync calls and for async calls given a
# transport, aiohttp for async calls otherwise. Each is looked up only if already imported.

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
_SDK_FRAME = re.compile(r"raise_for_(async_)?response$")


def _classes(names: tuple[tuple[str, str], ...]) -> tuple[type[BaseException], ...]:
    found = []
    for module_name, attr in names:
        module = sys.modules.get(module_name)
        cls = getattr(module, attr, None) if module is not None else None
        if isinstance(cls, type) and issubclass(cls, BaseException):
            found.append(cls)
    return tuple(found)


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, (asyncio.TimeoutError, TimeoutError, *_classes(_TIMEOUTS)))


def _is_connection_error(exc: BaseException) -> bool:
    return isinstance(exc, (ConnectionError, *_classes(_TRANSPORT_ERRORS)))


def _is_local_error(exc: BaseException) -> bool:
    return isinstance(exc, _classes(_LOCAL_ERRORS))


def _error_status(exc: BaseException) -> int | None:
    """HTTP status of an error answer whose body the SDK could not parse as JSON.

    aiohttp's path lets the JSONDecodeError of a malformed error body escape without the
    status; the SDK frame that raised it still holds the response.
    """
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if _SDK_FRAME.search(frame.f_code.co_name):
            for name in ("unwrapped_response", "response"):
                status = getattr(frame.f_locals.get(name), "status", None)
                if isinstance(status, int):
                    return status
        tb = tb.tb_next
    return None


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


def _server_delay(exc: errors.APIError) -> float | None:
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


def _tried(attempts: int) -> str:
    return f" (after {attempts} attempts)" if attempts > 1 else ""


def convert_error(exc: BaseException, attempts: int = 1) -> BaseException:
    """Our typed error for a failure inside the SDK or its transport (else `exc` itself)."""
    if isinstance(exc, GeminiCodeExecutionError):
        return exc
    if isinstance(exc, errors.APIError):
        error = exc.details.get("error") if isinstance(exc.details, dict) else None
        details = error.get("details") if isinstance(error, dict) else None
        return GeminiAPIError(exc.code, exc.status, exc.message, details=details, attempts=attempts)
    if _is_timeout(exc):
        return GeminiTimeoutError(
            f"Gemini did not answer within the timeout ({type(exc).__name__}){_tried(attempts)};"
            " raise `timeout` or retry later"
        )
    if _is_connection_error(exc):
        return GeminiConnectionError(
            f"could not talk to Gemini: {type(exc).__name__}: {exc}{_tried(attempts)}"
        )
    if isinstance(exc, json.JSONDecodeError):
        status = _error_status(exc)
        if status is not None:
            return GeminiAPIError(
                status,
                None,
                f"the error answer is not valid JSON: {exc.doc[:200]!r}",
                attempts=attempts,
            )
        return IncompleteResponseError(f"Gemini's answer is not valid JSON: {exc}")
    if isinstance(exc, errors.UnknownApiResponseError):
        return IncompleteResponseError(
            "an event of Gemini's streamed answer is not valid JSON (truncated or malformed): "
            f"{str(exc)[:300]}"
        )
    if isinstance(exc, UnicodeDecodeError):  # aiohttp's path decodes bodies strictly
        return IncompleteResponseError(
            f"Gemini's answer is not valid UTF-8 ({exc.reason} at byte {exc.start})"
        )
    return exc


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, errors.APIError):
        return exc.code in RETRYABLE_CODES
    if isinstance(exc, json.JSONDecodeError):
        return _error_status(exc) in RETRYABLE_CODES
    if _is_local_error(exc):
        return False
    return _is_timeout(exc) or _is_connection_error(exc)


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
        hint = _server_delay(exc) if isinstance(exc, errors.APIError) else None
        if hint is not None:
            return min(hint, self.max_delay)
        backoff = self.initial_delay * (2 ** min(retry, 62))
        return float(min(backoff * random.uniform(0.75, 1.25), self.max_delay))

    def _give_up(self, retry: int, exc: Exception) -> BaseException | None:
        """The error to raise now, or None to retry after `delay`."""
        if retry < self.max_retries and _retryable(exc):
            return None
        return convert_error(exc, retry + 1)

    def _log(self, retry: int, exc: BaseException, pause: float) -> None:
        logger.info(
            "Gemini request failed (%s); retry %d of %d in %.2fs",
            _name(exc),
            retry + 1,
            self.max_retries,
            pause,
            extra={"gemini_retry": retry + 1, "gemini_retry_delay": pause},
        )

    def run(self, call: Callable[[], T]) -> T:
        retry = 0
        while True:
            try:
                return call()
            except Exception as exc:
                final = self._give_up(retry, exc)
                if final is exc:
                    raise
                if final is not None:
                    raise final from exc
                pause = self.delay(retry, exc)
                self._log(retry, exc, pause)
                time.sleep(pause)
                retry += 1

    async def arun(self, call: Callable[[], Awaitable[T]]) -> T:
        retry = 0
        while True:
            try:
                return await call()
            except Exception as exc:
                final = self._give_up(retry, exc)
                if final is exc:
                    raise
                if final is not None:
                    raise final from exc
                pause = self.delay(retry, exc)
                self._log(retry, exc, pause)
                await asyncio.sleep(pause)
                retry += 1


def _name(exc: BaseException) -> str:
    if isinstance(exc, errors.APIError):
        return f"{exc.code} {exc.status}"
    return type(exc).__name__


# --- transport -------------------------------------------------------------------------


def _loads(body: str | None) -> dict[str, Any]:
    try:
        data = json.loads(body) if body else {}
    except json.JSONDecodeError as exc:
        raise IncompleteResponseError(f"Gemini's answer is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise IncompleteResponseError(f"Gemini's answer is not a JSON object: {body!r:.200}")
    return data


def _broken(exc: Exception, count: int) -> BaseException:
    """The error for a stream that failed after `count` chunks reached the caller."""
    converted = convert_error(exc)
    if converted is not exc and count:
        converted.args = (f"{converted} (the stream broke after {count} chunks)",)
    return converted


class Transport:
    """Sends one request body to one model method and returns the response JSON.

    `timeout` bounds every wait for the server: connecting, the whole answer of a
    non-streamed request, and each next chunk of a stream (a stream may run longer in
    total, as long as chunks keep coming). Sync calls give it to the SDK per request;
    async calls enforce it here, so that aiohttp and httpx behave the same (the SDK would
    give aiohttp a total deadline that cuts long streams).
    """

    def __init__(self, client: Client, retry: RetryPolicy, timeout: float | None = None) -> None:
        self.client = client
        self.retry = retry
        self.timeout = timeout
        self._sync_options: types.HttpOptions | None = None
        self._async_options: types.HttpOptions | None = None
        if timeout is not None:
            # HttpOptions.timeout is in milliseconds; round up so a tiny timeout stays one.
            self._sync_options = types.HttpOptions(timeout=max(1, math.ceil(timeout * 1000)))
            # Tells Google's frontend the deadline, as the SDK does for sync calls.
            self._async_options = types.HttpOptions(
                headers={"X-Server-Timeout": str(math.ceil(timeout))}
            )

    def _path(self, model: str, method: str) -> str:
        return f"{model_path(self.client, model)}:{method}"

    async def _bounded(self, awaitable: Awaitable[T]) -> T:
        if self.timeout is None:
            return await awaitable
        return await asyncio.wait_for(awaitable, self.timeout)

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        api = self.client._api_client
        response = self.retry.run(lambda: api.request("post", path, body, self._sync_options))
        return _loads(response.body)

    async def _apost(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        api = self.client._api_client
        response = await self.retry.arun(
            lambda: self._bounded(api.async_request("post", path, body, self._async_options))
        )
        return _loads(response.body)

    def generate(self, model: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._post(self._path(model, "generateContent"), body)

    async def agenerate(self, model: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._apost(self._path(model, "generateContent"), body)

    def count_tokens(self, model: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._post(self._path(model, "countTokens"), body)

    async def acount_tokens(self, model: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._apost(self._path(model, "countTokens"), body)

    def stream(self, model: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """SSE chunks as JSON. Retried only until the first chunk has reached the caller."""
        api = self.client._api_client
        path = self._path(model, "streamGenerateContent?alt=sse")

        def first() -> tuple[Iterator[Any], Any]:
            events = iter(api.request_streamed("post", path, body, self._sync_options))
            return events, next(events, None)

        events, item = self.retry.run(first)
        count = 0
        try:
            while item is not None:
                chunk = _loads(item.body)
                yield chunk
                count += 1
                item = next(events, None)
        except GeminiCodeExecutionError:
            raise
        except Exception as exc:
            converted = _broken(exc, count)
            if converted is exc:
                raise
            raise converted from exc
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()

    async def astream(self, model: str, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Async SSE chunks as JSON; retried only until the first chunk reached the caller."""
        api = self.client._api_client
        path = self._path(model, "streamGenerateContent?alt=sse")

        async def first() -> tuple[Any, Any]:
            events = await self._bounded(
                api.async_request_streamed("post", path, body, self._async_options)
            )
            try:
                return events, await self._bounded(anext(events, None))
            except BaseException:
                await events.aclose()
                raise

        events, item = await self.retry.arun(first)
        count = 0
        try:
            while item is not None:
                chunk = _loads(item.body)
                yield chunk
                count += 1
                item = await self._bounded(anext(events, None))
        except GeminiCodeExecutionError:
            raise
        except Exception as exc:
            converted = _broken(exc, count)
            if converted is exc:
                raise
            raise converted from exc
        finally:
            close = getattr(events, "aclose", None)
            if close is not None:
                await close()
