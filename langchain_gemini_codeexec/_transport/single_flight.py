"""One running `make` per key, shared by every thread and asyncio task that asks meanwhile.

Used for work that must happen once however many calls need it at the same moment: a
Files API upload per content hash (`_sandbox.upload.UploadCache`) and a context cache per
key (`_file_cache.FileCacheStore`). `run` is a flow: a `concurrent.futures.Future` carries
the result and the waiters `Wait` for it, so threads block on it and tasks await it. An
owner that is cancelled (or interrupted: its flow is closed) cancels the future and a
waiter takes over; any other failure is shared with the waiters and the next call tries
again.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from langchain_gemini_codeexec._transport.flow import Flow, wait

K = TypeVar("K")
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    """At most one running `make` per key; concurrent callers (threads or tasks) share it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[K, concurrent.futures.Future[V]] = {}

    def _claim(self, key: K) -> tuple[concurrent.futures.Future[V], bool]:
        with self._lock:
            future = self._pending.get(key)
            if future is not None:
                return future, False
            future = self._pending[key] = concurrent.futures.Future()
            return future, True

    def _settle(
        self, key: K, future: concurrent.futures.Future[V], value: Any, error: BaseException | None
    ) -> None:
        with self._lock:
            self._pending.pop(key, None)
        if error is None:
            future.set_result(value)
        elif isinstance(error, (asyncio.CancelledError, KeyboardInterrupt, GeneratorExit)):
            # GeneratorExit: the driver closed the owner's flow (its task was cancelled,
            # or it was interrupted); waiters try again themselves.
            future.cancel()
        else:
            future.set_exception(error)

    def run(self, key: K, make: Callable[[], Flow[V]]) -> Flow[V]:
        """The flow `make()`, run by one caller per key at a time; the others `Wait` for
        its result (a flow: the waits block or are awaited as the driver does)."""
        while True:
            future, owner = self._claim(key)
            if not owner:
                yield from wait(future)
                if future.cancelled():
                    continue  # the owner was cancelled: try again ourselves
                return future.result()
            try:
                value = yield from make()
            except BaseException as exc:
                self._settle(key, future, None, exc)
                raise
            self._settle(key, future, value, None)
            return value
