"""Sans-IO flows: a feature's decisions written once, as a generator of the I/O it needs.

A flow yields a step (`Call` an API path, `Open` a download, `Sleep`, an SDK call, blocking
work to `Offload`, a LangChain `invoke`, `Wait` for another caller's result) and gets the
step's result back from `send()`; a failed step is thrown in at its `yield`, so the flow's
own `try`/`except` sees it. `Transport.drive` runs a flow with blocking I/O and
`Transport.adrive` with asyncio: they are the only places that know which. This is httpx's
auth flow (one generator, driven by `Client` and `AsyncClient`), used for every request
sequence: generate and count tokens, caches, the tool's files and file cache, batch jobs,
and the decisions under them: retries (`RetryPolicy.retried`) and single-flight gates
(`SingleFlight.run`).

A step with `retry=True` is retried by the model's policy: the driver runs
`RetryPolicy.retried(step)`, itself a flow yielding the step with `retry=False` (one
attempt) and a `Sleep` between attempts.

Flows use the helpers below (`answer = yield from call(...)`) rather than bare `yield`,
so every result has its precise type although one flow mixes several kinds of steps.
"""

from __future__ import annotations

import concurrent.futures
import functools
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Generic, ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")


@dataclass(frozen=True, slots=True)
class Call:
    """One API request: `method` ("get", "post", "patch", "delete") on `path`, relative to
    the versioned base (`batches/123`, `cachedContents`; on Vertex AI the SDK adds
    `projects/.../locations/...`); the answer's JSON object is sent back.

    Retried by the model's policy and bounded by its timeout, failures thrown in as our
    typed errors. `retry=False`: one attempt, its failure thrown in as the SDK / HTTP
    library raised it (the flow decides what to resend; `classify.convert_error` types
    it). `timeout` bounds this one attempt (sync: instead of the model's timeout).
    """

    method: str
    path: str
    body: dict[str, Any] | None = None
    retry: bool = True
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait `seconds` (`time.sleep` or `asyncio.sleep`); None is sent back."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Open:
    """One GET-style request whose answer is returned unread (the HTTP library's response;
    the caller reads and closes it): a download. The head is bounded by the model's
    timeout, each later read by the per-read timeout. `base_url` replaces the client's
    (with the model's per-mode timeout options kept); `retry` as for `Call`."""

    method: str
    path: str
    base_url: str | None = None
    retry: bool = True


@dataclass(frozen=True, slots=True)
class SdkCall(Generic[T]):
    """A google-genai call (e.g. a Files API upload) as its sync and its async form; the
    driver runs the one of its mode (the other may be None), bounded like a `Call` and
    retried unless `retry=False`."""

    sync: Callable[[], T] | None
    async_: Callable[[], Awaitable[T]] | None
    retry: bool = True


@dataclass(frozen=True, slots=True)
class Attempt(Generic[T]):
    """One attempt the caller wrote for one mode (a stream's opening), run as is by the
    driver of that mode (the other form may be None); retried unless `retry=False`."""

    sync: Callable[[], T] | None = None
    async_: Callable[[], Awaitable[T]] | None = None
    retry: bool = True


@dataclass(frozen=True, slots=True)
class Offload(Generic[T]):
    """Blocking local work (e.g. writing a file): called as is with blocking I/O, on a
    worker thread under asyncio (`asyncio.to_thread`), so the event loop keeps running."""

    work: Callable[[], T]


@dataclass(frozen=True, slots=True)
class Invoke:
    """`runnable.invoke(*args, **kwargs)` or `await runnable.ainvoke(...)` (LangChain)."""

    runnable: Any
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Wait:
    """Until `future` (another thread's or task's work) is done, however it ended; None is
    sent back and the flow reads the future. A blocking wait, or awaited under asyncio
    (cancelling the waiter leaves the future alone)."""

    future: concurrent.futures.Future[Any]


Step = Call | Open | Sleep | SdkCall[Any] | Attempt[Any] | Offload[Any] | Invoke | Wait

Flow = Generator[Step, Any, T]
"""A flow returning T. The send type is Any because each kind of step answers its own
type; the helpers below restore it."""


def call(
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    retry: bool = True,
    timeout: float | None = None,
) -> Flow[dict[str, Any]]:
    answer: dict[str, Any] = yield Call(method, path, body, retry, timeout)
    return answer


def sleep(seconds: float) -> Flow[None]:
    yield Sleep(seconds)


def open_response(method: str, path: str, base_url: str | None = None) -> Flow[Any]:
    response: Any = yield Open(method, path, base_url)
    return response


def sdk_call(sync: Callable[[], T] | None, async_: Callable[[], Awaitable[T]] | None) -> Flow[T]:
    result: T = yield SdkCall(sync, async_)
    return result


def attempt(
    sync: Callable[[], T] | None = None, async_: Callable[[], Awaitable[T]] | None = None
) -> Flow[T]:
    result: T = yield Attempt(sync, async_)
    return result


def offload(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Flow[T]:
    result: T = yield Offload(functools.partial(work, *args, **kwargs))
    return result


def invoke(runnable: Any, *args: Any, **kwargs: Any) -> Flow[Any]:
    return (yield Invoke(runnable, args, kwargs))


def wait(future: concurrent.futures.Future[Any]) -> Flow[None]:
    yield Wait(future)
