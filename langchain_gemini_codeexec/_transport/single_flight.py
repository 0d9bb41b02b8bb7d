"""One running `make` per key, shared by every thread and asyncio task that asks meanwhile.

Used for work that must happen once however many calls need it at the same moment: a
Files API upload per content hash (`_sandbox.upload.UploadCache`) and a context cache per
key (`_file_cache.FileCacheStore`). A `concurrent.futures.Future` carries the result, so
threads wait on it directly and tasks await it through `asyncio.wrap_future`. An owner
that is cancelled (or interrupted) cancels the future and a waiter takes over; any other
failure is shared with the waiters and the next call tries again.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

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
        elif isinstance(error, (asyncio.CancelledError, KeyboardInterrupt)):
            future.cancel()  # waiters try again themselves
        else:
            future.set_exception(error)

    def run(self, key: K, make: Callable[[], V]) -> V:
        while True:
            future, owner = self._claim(key)
            if not owner:
                try:
                    return future.result()
                except concurrent.futures.CancelledError:
                    continue
            try:
                value = make()
            except BaseException as exc:
                self._settle(key, future, None, exc)
                raise
            self._settle(key, future, value, None)
            return value

    async def arun(self, key: K, make: Callable[[], Awaitable[V]]) -> V:
        while True:
            future, owner = self._claim(key)
            if not owner:
                try:
                    # shield: our own cancellation must not cancel the shared work.
                    return await asyncio.shield(asyncio.wrap_future(future))
                except asyncio.CancelledError:
                    if future.cancelled():
                        continue
                    raise
            try:
                value = await make()
            except BaseException as exc:
                self._settle(key, future, None, exc)
                raise
            self._settle(key, future, value, None)
            return value
