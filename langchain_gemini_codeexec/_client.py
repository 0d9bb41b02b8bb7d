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
import json
import logging
import random
import re
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from google.genai import Client, errors, types

from langchain_gemini_codeexec.errors import (
    GeminiAPIError,
    GeminiCodeExecutionError,
    GeminiConnectionError,
    GeminiTimeoutError,
    IncompleteResponseError,
)

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
    timeout: float | None,
    headers: dict[str, str] | None = None,
) -> Client:
    """A google-genai client configured the way the SDK documents it."""
    http_options = types.HttpOptions(
        base_url=base_url,
        # Code execution, thinking and JSON-schema answers are documented on v1beta; the
        # SDK 3.x default for the Developer API is v1, so pin v1beta unless told otherwise.
        api_version=api_version or (None if vertexai else "v1beta"),
        timeout=int(timeout * 1000) if timeout else None,  # the SDK wants milliseconds
        headers=headers,
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
    return Client(api_key=api_key, http_options=http_options)


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


def _is_timeout(exc: BaseException) -> bool:
    import httpx

    if isinstance(exc, (httpx.TimeoutException, asyncio.TimeoutError, TimeoutError)):
        return True
    aiohttp = sys.modules.get("aiohttp")
    return aiohttp is not None and isinstance(exc, aiohttp.ServerTimeoutError)


def _is_connection_error(exc: BaseException) -> bool:
    import httpx

    if isinstance(exc, (httpx.TransportError, ConnectionError)):
        return True
    aiohttp = sys.modules.get("aiohttp")
    return aiohttp is not None and isinstance(exc, aiohttp.ClientError)


def _server_delay(exc: errors.APIError) -> float | None:
    """The delay the server asked for: `Retry-After`, else Gemini's `RetryInfo`."""
    headers = getattr(exc.response, "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            if when is not None:
                return max(0.0, when.timestamp() - time.time())
    details = exc.details.get("error", exc.details) if isinstance(exc.details, dict) else None
    for detail in (details or {}).get("details") or []:
        if isinstance(detail, dict) and detail.get("@type") == _RETRY_INFO:
            match = _DURATION.match(str(detail.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


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
            f"Gemini did not answer within the timeout ({type(exc).__name__}); raise `timeout` "
            "or retry later"
        )
    if _is_connection_error(exc):
        return GeminiConnectionError(f"could not talk to Gemini: {type(exc).__name__}: {exc}")
    if isinstance(exc, json.JSONDecodeError):
        return IncompleteResponseError(f"Gemini's answer is not valid JSON: {exc}")
    return exc


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, errors.APIError):
        return exc.code in RETRYABLE_CODES
    return _is_timeout(exc) or _is_connection_error(exc)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, capped; the server's requested delay wins."""

    max_retries: int = 2
    initial_delay: float = 1.0
    max_delay: float = 60.0

    def delay(self, retry: int, exc: BaseException) -> float:
        hint = _server_delay(exc) if isinstance(exc, errors.APIError) else None
        if hint is not None:
            return min(hint, self.max_delay)
        backoff = self.initial_delay * (2**retry)
        return float(min(backoff * random.uniform(0.75, 1.25), self.max_delay))

    def run(self, call: Callable[[], T]) -> T:
        retry = 0
        while True:
            try:
                return call()
            except Exception as exc:
                if retry >= self.max_retries or not _retryable(exc):
                    converted = convert_error(exc, retry + 1)
                    if converted is exc:
                        raise
                    raise converted from exc
                pause = self.delay(retry, exc)
                logger.info(
                    "Gemini request failed (%s); retry %d in %.2fs", _name(exc), retry + 1, pause
                )
                time.sleep(pause)
                retry += 1

    async def arun(self, call: Callable[[], Awaitable[T]]) -> T:
        retry = 0
        while True:
            try:
                return await call()
            except Exception as exc:
                if retry >= self.max_retries or not _retryable(exc):
                    converted = convert_error(exc, retry + 1)
                    if converted is exc:
                        raise
                    raise converted from exc
                pause = self.delay(retry, exc)
                logger.info(
                    "Gemini request failed (%s); retry %d in %.2fs", _name(exc), retry + 1, pause
                )
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


class Transport:
    """Sends one request body to one model method and returns the response JSON."""

    def __init__(self, client: Client, retry: RetryPolicy) -> None:
        self.client = client
        self.retry = retry

    def _path(self, model: str, method: str) -> str:
        return f"{model_path(self.client, model)}:{method}"

    def generate(self, model: str, body: dict[str, Any]) -> dict[str, Any]:
        api = self.client._api_client
        path = self._path(model, "generateContent")
        response = self.retry.run(lambda: api.request("post", path, body))
        return _loads(response.body)

    async def agenerate(self, model: str, body: dict[str, Any]) -> dict[str, Any]:
        api = self.client._api_client
        path = self._path(model, "generateContent")
        response = await self.retry.arun(lambda: api.async_request("post", path, body))
        return _loads(response.body)

    def count_tokens(self, model: str, body: dict[str, Any]) -> dict[str, Any]:
        api = self.client._api_client
        path = self._path(model, "countTokens")
        return _loads(self.retry.run(lambda: api.request("post", path, body)).body)

    def stream(self, model: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """SSE chunks as JSON. Retried only until the first chunk has reached the caller."""
        api = self.client._api_client
        path = self._path(model, "streamGenerateContent?alt=sse")

        def first() -> tuple[Iterator[Any], Any]:
            events = iter(api.request_streamed("post", path, body))
            return events, next(events, None)

        events, head = self.retry.run(first)
        count = 0
        try:
            item = head
            while item is not None:
                yield _loads(item.body)
                count += 1
                item = next(events, None)
        except GeminiCodeExecutionError:
            raise
        except Exception as exc:
            converted = convert_error(exc)
            if converted is exc:
                raise
            converted.args = (f"{converted} (the stream broke after {count} chunks)",)
            raise converted from exc

    async def astream(self, model: str, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        api = self.client._api_client
        path = self._path(model, "streamGenerateContent?alt=sse")

        async def first() -> tuple[Any, Any]:
            events = await api.async_request_streamed("post", path, body)
            return events, await anext(events, None)

        events, head = await self.retry.arun(first)
        count = 0
        try:
            item = head
            while item is not None:
                yield _loads(item.body)
                count += 1
                item = await anext(events, None)
        except GeminiCodeExecutionError:
            raise
        except Exception as exc:
            converted = convert_error(exc)
            if converted is exc:
                raise
            converted.args = (f"{converted} (the stream broke after {count} chunks)",)
            raise converted from exc
        finally:
            close = getattr(events, "aclose", None)
            if close is not None:
                await close()
