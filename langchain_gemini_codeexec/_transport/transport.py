"""Transport: one request body to one API path, the answer's JSON back, retried and bounded.

`Transport` owns the google-genai client of a model, the Files API base URL, the retry
policy and the timeout. It is the I/O edge: `drive` / `adrive` run a sans-IO flow
(`_transport.flow`: generate, count tokens, caches, the tool's files, batch jobs, and the
retries and single-flight waits under them), each step with blocking I/O or awaited, with
the same timeout and typed errors: a `Call` to any API path, an `Open` download, any other
SDK call (the Files API upload); `stream` / `astream` read an SSE answer.

`timeout` bounds each attempt as a whole: connecting, and the whole answer of a request
(for a stream: the first chunk, then each next chunk). The HTTP libraries only bound each
socket read (a server trickling a byte at a time would hold a sync call forever), so sync
calls with a timeout run their attempt on a worker thread and the caller stops waiting at
the deadline; the worker then drops the connection. Async calls use `asyncio.wait_for`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import math
import queue
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from langchain_gemini_codeexec._transport import sdk as _sdk
from langchain_gemini_codeexec._transport.classify import convert_error
from langchain_gemini_codeexec._transport.config import model_path
from langchain_gemini_codeexec._transport.flow import (
    Attempt,
    Call,
    Flow,
    Invoke,
    Offload,
    Open,
    SdkCall,
    Sleep,
    attempt,
)
from langchain_gemini_codeexec._transport.retry import RETRYABLE, RetryPolicy
from langchain_gemini_codeexec._transport.sdk import errors, types
from langchain_gemini_codeexec.errors import IncompleteResponseError

if TYPE_CHECKING:
    from google.genai import Client

T = TypeVar("T")

# Longer timeouts are clamped to this (a year): 1e10 s overflows socket and thread waits.
MAX_TIMEOUT = 365 * 24 * 3600.0


def _loads(body: str | None) -> dict[str, Any]:
    try:
        data = json.loads(body) if body else {}
    except json.JSONDecodeError as exc:
        raise IncompleteResponseError(f"Gemini's answer is not valid JSON: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise IncompleteResponseError(
            f"Gemini's answer is not valid UTF-8 ({exc.reason} at byte {exc.start})"
        ) from exc
    except RecursionError as exc:
        raise IncompleteResponseError(
            "Gemini's answer is nested too deeply to read (malformed or hostile JSON)"
        ) from exc
    except ValueError as exc:  # e.g. an integer over Python's 4300-digit conversion limit
        raise IncompleteResponseError(f"Gemini's answer cannot be read: {str(exc)[:200]}") from exc
    if not isinstance(data, dict):
        raise IncompleteResponseError(f"Gemini's answer is not a JSON object: {body!r:.200}")
    return data


# What the SDK's own calls (Files API upload) raise on an answer they cannot read: a
# create answer without an upload URL is a KeyError inside the SDK.
_SDK_PARSE_ERRORS = (KeyError,)


def _unreadable(exc: BaseException) -> IncompleteResponseError:
    return IncompleteResponseError(
        f"Gemini's answer could not be read ({type(exc).__name__}: {str(exc)[:200]})"
    )


@contextlib.contextmanager
def _readable() -> Iterator[None]:
    """An SDK call's parse failure (sync or awaited inside) as IncompleteResponseError."""
    try:
        yield
    except _SDK_PARSE_ERRORS as exc:
        raise _unreadable(exc) from exc


def _call_options(timeout: float | None) -> types.HttpOptions | None:
    """A `Call`'s own timeout as the SDK's per-read timeout (milliseconds, at least one)."""
    if timeout is None:
        return None
    return types.HttpOptions(timeout=max(1, math.ceil(max(timeout, 0.001) * 1000)))


def _form(function: Callable[[], T] | None, mode: str) -> Callable[[], T]:
    if function is None:
        raise TypeError(f"this step has no {mode} form")
    return function


def _event(data: str) -> dict[str, Any]:
    """One SSE event's JSON, parsed once; an error event raises the SDK's APIError."""
    try:
        chunk = json.loads(data)
    except (ValueError, RecursionError) as exc:  # ValueError: also a 4300+ digit number
        raise IncompleteResponseError(
            "an event of Gemini's streamed answer is not valid JSON (truncated or malformed): "
            f"{data[:300]!r}"
        ) from exc
    if not isinstance(chunk, dict):
        raise IncompleteResponseError(f"a streamed event is not a JSON object: {data[:200]!r}")
    error = chunk.get("error")
    if isinstance(error, dict) and "candidates" not in chunk:
        code = error.get("code")
        errors.APIError.raise_error(code if isinstance(code, int) else 500, chunk, None)
    return chunk


def _chunk(item: str | None) -> dict[str, Any] | None:
    """The next chunk, None at the end of the stream."""
    return None if item is None else _event(item)


NextItem = Callable[[], "str | None"]
"""The next SSE event of an open stream, None at its end (a blocking read)."""


def _broken(exc: Exception, count: int) -> BaseException:
    """The error for a stream that failed after `count` chunks reached the caller."""
    converted = convert_error(exc)
    if count and isinstance(converted, Exception) and converted.args:
        converted.args = (f"{converted} (the stream broke after {count} chunks)",)
    return converted


# --- reading what the HTTP library returns ----------------------------------------------


def _abort(raw: Any) -> None:
    """Cut a sync response's connection from another thread (wakes a blocked read)."""
    stream = getattr(raw, "extensions", {}).get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


async def aclose_response(raw: Any) -> None:
    """Release an async response now: a body not read to the end closes its connection."""
    if hasattr(raw, "aclose"):  # httpx / httpx2
        await raw.aclose()
    else:  # aiohttp: close() drops the connection unless the body was read to its end
        if raw.content.at_eof():
            raw.release()
        else:
            raw.close()


class _Worker:
    """One sync attempt on a daemon thread, so that the caller can stop at a deadline.

    The thread holds the response once it has one, so that the caller can cut the
    connection at the deadline; a worker still waiting for headers ends by itself when a
    socket read times out (the SDK's per-read timeout is the same `timeout`).
    """

    def __init__(self) -> None:
        self.cancel = threading.Event()
        self.raw: Any = None
        self.results: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=8)

    def start(self, target: Callable[[_Worker], None]) -> None:
        def run() -> None:
            try:
                target(self)
            except BaseException as exc:  # handed to the caller
                self.put(False, exc)

        threading.Thread(target=run, name="gemini-call", daemon=True).start()

    def put(self, ok: bool, value: Any) -> bool:
        """Hand a result to the caller; False once the caller gave up."""
        while not self.cancel.is_set():
            try:
                self.results.put((ok, value), timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def get(self, timeout: float) -> Any:
        try:
            ok, value = self.results.get(timeout=timeout)
        except queue.Empty:
            self.stop()
            raise TimeoutError(f"no answer within {timeout:g} s") from None
        if not ok:
            raise value
        return value

    def stop(self) -> None:
        self.cancel.set()
        if self.raw is not None:
            _abort(self.raw)


class Transport:
    """Sends request bodies for one model's client; see the module docstring."""

    def __init__(self, client: Client, retry: RetryPolicy, timeout: float | None = None) -> None:
        self.client = client
        self.retry = retry
        self.timeout = None if timeout is None else min(float(timeout), MAX_TIMEOUT)
        _sdk.forbid_redirects(client)
        self.files_base = _sdk.files_base(client)
        self._sync_options: types.HttpOptions | None = None
        self._async_options: types.HttpOptions | None = None
        if self.timeout is not None:
            # Per socket read on sync paths (HttpOptions.timeout is in milliseconds; round
            # up so a tiny timeout stays one); the whole attempt is bounded by _Worker.
            self._sync_options = types.HttpOptions(timeout=max(1, math.ceil(self.timeout * 1000)))
            # Async: asyncio bounds the attempt; the header tells Google's frontend the
            # deadline, as the SDK does for sync calls. (The SDK would give aiohttp a total
            # deadline that cuts long streams.)
            self._async_options = types.HttpOptions(
                headers={"X-Server-Timeout": str(math.ceil(self.timeout))}
            )

    def model_path(self, model: str, method: str) -> str:
        return f"{model_path(self.client, model)}:{method}"

    # --- one attempt ----------------------------------------------------------------
    # Bodies decode as the HTTP libraries' own `.text` does: httpx replaces bytes that are
    # not UTF-8 with U+FFFD, aiohttp refuses them (IncompleteResponseError).

    def _attempt(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        options: types.HttpOptions | None = None,
        timeout: float | None = None,
    ) -> str:
        timeout = self.timeout if timeout is None else min(timeout, MAX_TIMEOUT)
        if timeout is None:
            return self._fetch(method, path, body, None, options)

        def work(w: _Worker) -> None:
            w.put(True, self._fetch(method, path, body, w, options))

        return str(_on_worker(work, timeout))

    def _fetch(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        worker: _Worker | None,
        options: types.HttpOptions | None = None,
    ) -> str:
        options = options or self._sync_options
        request = _sdk.build_request(self.client, method, path, body, options)
        raw = _sdk.raw_response(_sdk.send(self.client, request))
        try:
            if worker is not None:
                worker.raw = raw
                if worker.cancel.is_set():
                    raise TimeoutError("the deadline passed")
            # Read here, not by the HTTP library, so that a deadline stops a trickling body.
            pieces = raw.iter_bytes() if hasattr(raw, "iter_bytes") else raw.iter_content(65536)
            body_bytes = bytearray()
            for piece in pieces:
                if worker is not None and worker.cancel.is_set():
                    raise TimeoutError("the deadline passed while the answer was arriving")
                body_bytes += piece
            return body_bytes.decode("utf-8", errors="replace")
        finally:
            raw.close()

    async def bounded(self, awaitable: Awaitable[T]) -> T:
        """`awaitable`, cut at the timeout (async paths bound each step this way)."""
        if self.timeout is None:
            return await awaitable
        return await asyncio.wait_for(awaitable, self.timeout)

    async def _afetch(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        options: types.HttpOptions | None = None,
    ) -> str:
        options = options or self._async_options
        request = _sdk.build_request(self.client, method, path, body, options)
        raw = _sdk.raw_response(await _sdk.asend(self.client, request))
        try:
            if hasattr(raw, "aread"):  # httpx / httpx2
                return bytes(await raw.aread()).decode("utf-8", errors="replace")
            return bytes(await raw.read()).decode("utf-8")  # aiohttp
        finally:
            await aclose_response(raw)

    def _options(self, base_url: str | None, *, sync: bool) -> types.HttpOptions | None:
        """The model's options of one mode (sync: the per-read timeout; async: the
        deadline header), for another base URL when `base_url` is given."""
        options = self._sync_options if sync else self._async_options
        if base_url is None:
            return options
        if sync:
            return types.HttpOptions(base_url=base_url, timeout=getattr(options, "timeout", None))
        return types.HttpOptions(base_url=base_url, headers=getattr(options, "headers", None))

    # --- flows (see _transport.flow): one body per feature, two drivers -----------------
    # Each driver is the one place that runs each kind of step in its mode; a step with
    # `retry=True` runs as the policy's own flow (`RetryPolicy.retried`), one attempt a step.

    def drive(self, flow: Flow[T]) -> T:
        """Run `flow` to its result, each step with blocking I/O."""
        value: Any = None
        error: Exception | None = None
        try:
            while True:
                try:
                    step = flow.send(value) if error is None else flow.throw(error)
                except StopIteration as stop:
                    result: T = stop.value
                    return result
                error = None
                try:
                    if isinstance(step, RETRYABLE) and step.retry:
                        value = self.drive(self.retry.retried(step))
                    elif isinstance(step, Call):
                        options = _call_options(step.timeout)
                        text = self._attempt(
                            step.method, step.path, step.body, options, step.timeout
                        )
                        value = _loads(text)
                    elif isinstance(step, Open):
                        value = self._open(
                            step.method, step.path, self._options(step.base_url, sync=True)
                        )
                    elif isinstance(step, SdkCall):
                        with _readable():
                            value = self._sdk_attempt(_form(step.sync, "blocking"))
                    elif isinstance(step, Attempt):
                        value = _form(step.sync, "blocking")()
                    elif isinstance(step, Invoke):
                        value = step.runnable.invoke(*step.args, **step.kwargs)
                    elif isinstance(step, Sleep):
                        time.sleep(step.seconds)
                        value = None
                    elif isinstance(step, Offload):
                        value = step.work()
                    else:  # Wait
                        concurrent.futures.wait([step.future])
                        value = None
                except Exception as exc:  # thrown into the flow at its yield
                    value, error = None, exc
        finally:
            flow.close()

    async def adrive(self, flow: Flow[T]) -> T:
        """Run `flow` to its result, each step awaited."""
        value: Any = None
        error: Exception | None = None
        try:
            while True:
                try:
                    step = flow.send(value) if error is None else flow.throw(error)
                except StopIteration as stop:
                    result: T = stop.value
                    return result
                error = None
                try:
                    if isinstance(step, RETRYABLE) and step.retry:
                        value = await self.adrive(self.retry.retried(step))
                    elif isinstance(step, Call):
                        # bounded by the model's timeout and, besides, by the call's own
                        fetch = self.bounded(self._afetch(step.method, step.path, step.body))
                        if step.timeout is not None:
                            fetch = asyncio.wait_for(fetch, step.timeout)
                        value = _loads(await fetch)
                    elif isinstance(step, Open):
                        options = self._options(step.base_url, sync=False)
                        request = _sdk.build_request(
                            self.client, step.method, step.path, None, options
                        )
                        value = _sdk.raw_response(
                            await self.bounded(_sdk.asend(self.client, request))
                        )
                    elif isinstance(step, SdkCall):
                        with _readable():
                            value = await self.bounded(_form(step.async_, "async")())
                    elif isinstance(step, Attempt):
                        value = await _form(step.async_, "async")()
                    elif isinstance(step, Invoke):
                        value = await step.runnable.ainvoke(*step.args, **step.kwargs)
                    elif isinstance(step, Sleep):
                        await asyncio.sleep(step.seconds)
                        value = None
                    elif isinstance(step, Offload):
                        value = await asyncio.to_thread(step.work)
                    else:  # Wait: cancelling us leaves the future (another caller's) alone
                        await asyncio.wait([asyncio.wrap_future(step.future)])
                        value = None
                except Exception as exc:
                    value, error = None, exc
        finally:
            flow.close()

    # --- blocking attempts on a worker thread, cut at the deadline ---------------------

    def _open(self, method: str, path: str, options: types.HttpOptions | None) -> Any:
        """One attempt; the HTTP library's response, its body not read yet (close it).

        With a timeout the head must arrive within it: a socket-read timeout alone never
        fires on a head trickled a byte at a time. Each later read has the per-read timeout.
        (Async: `adrive` sends an `Open` bounded by `bounded`; close with `aclose_response`.)
        """
        request = _sdk.build_request(self.client, method, path, None, options)
        if self.timeout is None:
            return _sdk.raw_response(_sdk.send(self.client, request))

        def work(w: _Worker) -> None:
            raw = _sdk.raw_response(_sdk.send(self.client, request))
            if not w.put(True, raw):  # the caller gave up meanwhile
                raw.close()

        return _on_worker(work, self.timeout)

    def _sdk_attempt(self, call: Callable[[], T]) -> T:
        """Any other sync SDK call (e.g. a Files API upload), bounded by the timeout."""
        if self.timeout is None:
            return call()

        def work(w: _Worker) -> None:
            w.put(True, call())

        result: T = _on_worker(work, self.timeout)
        return result

    # --- streams --------------------------------------------------------------------

    def _open_events(self, model: str, body: dict[str, Any]) -> tuple[NextItem, Callable[[], None]]:
        """One attempt at a stream: (next event or None at the end, close)."""
        path = self.model_path(model, "streamGenerateContent?alt=sse")
        if self.timeout is None:
            request = _sdk.build_request(self.client, "post", path, body, self._sync_options)
            response = _sdk.send(self.client, request)
            raw, events = _sdk.raw_response(response), _sdk.events(response)

            def close() -> None:
                getattr(events, "close", lambda: None)()
                raw.close()

            return lambda: next(events, None), close
        # With a timeout a worker thread reads, and each next event has a deadline.
        timeout = self.timeout

        def pump(w: _Worker) -> None:
            request = _sdk.build_request(self.client, "post", path, body, self._sync_options)
            response = _sdk.send(self.client, request)
            raw, events = _sdk.raw_response(response), _sdk.events(response)
            w.raw = raw
            try:
                for item in events:
                    if not w.put(True, item):
                        return
                w.put(True, None)
            finally:
                getattr(events, "close", lambda: None)()
                raw.close()

        worker = _Worker()
        worker.start(pump)
        return lambda: worker.get(timeout), worker.stop

    def stream(self, model: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """SSE chunks as JSON. Retried only until the first chunk has reached the caller."""

        def first() -> tuple[NextItem, Callable[[], None], dict[str, Any] | None]:
            next_item, close = self._open_events(model, body)
            try:
                return next_item, close, _chunk(next_item())
            except BaseException:
                close()
                raise

        next_item, close, chunk = self.drive(attempt(first))
        count = 0
        try:
            while chunk is not None:
                yield chunk
                count += 1
                chunk = _chunk(next_item())
        except Exception as exc:
            converted = _broken(exc, count)
            if converted is exc:
                raise
            raise converted from exc
        finally:
            close()

    async def astream(self, model: str, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Async SSE chunks as JSON; retried only until the first chunk reached the caller.

        The connection is released as soon as the stream ends, however it ends (a
        `break`, `aclose()`, an error event): not when the garbage collector gets to it.
        """
        path = self.model_path(model, "streamGenerateContent?alt=sse")

        async def first() -> tuple[Any, AsyncIterator[str], dict[str, Any] | None]:
            request = _sdk.build_request(self.client, "post", path, body, self._async_options)
            response = await self.bounded(_sdk.asend(self.client, request))
            raw, events = _sdk.raw_response(response), _sdk.aevents(response)
            try:
                return raw, events, _chunk(await self.bounded(anext(events, None)))
            except BaseException:
                await _aclose_all(raw, events)
                raise

        raw, events, chunk = await self.adrive(attempt(async_=first))
        count = 0
        try:
            while chunk is not None:
                yield chunk
                count += 1
                chunk = _chunk(await self.bounded(anext(events, None)))
        except Exception as exc:
            converted = _broken(exc, count)
            if converted is exc:
                raise
            raise converted from exc
        finally:
            await _aclose_all(raw, events)


def _on_worker(work: Callable[[_Worker], None], timeout: float) -> Any:
    """Run `work` on a worker thread; the first result it puts, within `timeout`."""
    worker = _Worker()
    worker.start(work)
    return worker.get(timeout)


async def _aclose_all(raw: Any, events: AsyncIterator[str]) -> None:
    try:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()
    finally:
        await aclose_response(raw)
