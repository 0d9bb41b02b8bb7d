"""Sans-IO flows: a feature's decisions written once, as a generator of the I/O it needs.

A flow yields a step (`Call` an API path, `Sleep`, an SDK call, blocking work to
`Offload`, a LangChain `invoke`, a single-flight `Once`) and gets the step's result back
from `send()`; a failed step is thrown in at its `yield`, so the flow's own `try`/`except`
sees it. `Transport.drive` runs a flow with blocking I/O and `Transport.adrive` with
asyncio: they are the only places that know which. This is httpx's auth flow (one
generator, driven by `Client` and `AsyncClient`), used for every request sequence: generate
and count tokens, caches, the tool's files and file cache, batch jobs.

Flows use the helpers below (`answer = yield from call(...)`) rather than bare `yield`,
so every result has its precise type although one flow mixes several kinds of steps.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

if TYPE_CHECKING:
    from langchain_gemini_codeexec._transport.single_flight import SingleFlight

T = TypeVar("T")
P = ParamSpec("P")
K = TypeVar("K")
V = TypeVar("V")


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
class SdkCall(Generic[T]):
    """A google-genai call (e.g. a Files API upload) as its sync and its async form; the
    driver runs the one it can, retried and bounded like a `Call`."""

    sync: Callable[[], T]
    async_: Callable[[], Awaitable[T]]


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
class Once(Generic[K, V]):
    """The flow `make()` run through a single-flight gate, at most one at a time per `key`
    across threads and tasks: `sync(key, make)` on blocking I/O, `async_(key, amake)`
    under asyncio (`SingleFlight.run` / `arun`, `UploadCache.get` / `aget`)."""

    sync: Callable[[K, Callable[[], V]], V]
    async_: Callable[[K, Callable[[], Awaitable[V]]], Awaitable[V]]
    key: K
    make: Callable[[], Generator[Step, Any, V]]


Step = Call | Sleep | SdkCall[Any] | Offload[Any] | Invoke | Once[Any, Any]

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


def sdk_call(sync: Callable[[], T], async_: Callable[[], Awaitable[T]]) -> Flow[T]:
    result: T = yield SdkCall(sync, async_)
    return result


def offload(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Flow[T]:
    result: T = yield Offload(functools.partial(work, *args, **kwargs))
    return result


def invoke(runnable: Any, *args: Any, **kwargs: Any) -> Flow[Any]:
    return (yield Invoke(runnable, args, kwargs))


def once(flight: SingleFlight[K, V], key: K, make: Callable[[], Flow[V]]) -> Flow[V]:
    return (yield from gated(flight.run, flight.arun, key, make))


def gated(
    sync: Callable[[K, Callable[[], V]], V],
    async_: Callable[[K, Callable[[], Awaitable[V]]], Awaitable[V]],
    key: K,
    make: Callable[[], Flow[V]],
) -> Flow[V]:
    result: V = yield Once(sync, async_, key, make)
    return result
