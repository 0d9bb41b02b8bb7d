"""The two flow drivers: one flow body, the same outcome with blocking I/O and with asyncio.

The request steps (`Call`, `SdkCall`) are exercised over real HTTP by the caching, file
cache and tool tests; these check the drivers' own contract on steps that need no server.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from langchain_gemini_codeexec._transport.flow import Flow, invoke, sleep
from langchain_gemini_codeexec._transport.retry import RetryPolicy
from langchain_gemini_codeexec._transport.single_flight import SingleFlight
from langchain_gemini_codeexec._transport.transport import Transport
from tests.support import offline_transport


class Echo:
    """A runnable-shaped object: `invoke` / `ainvoke`, failing the first `failures` calls."""

    def __init__(self, failures: int = 0, error: BaseException | None = None) -> None:
        self.failures = failures
        self.error = error or ValueError("boom")
        self.calls: list[str] = []

    def _answer(self, how: str, value: Any) -> Any:
        self.calls.append(how)
        if len(self.calls) <= self.failures:
            raise self.error
        return f"{how}:{value}"

    def invoke(self, value: Any) -> Any:
        return self._answer("sync", value)

    async def ainvoke(self, value: Any) -> Any:
        return self._answer("async", value)


@pytest.fixture(scope="module")
def transport() -> Transport:
    return offline_transport()


def run(transport: Transport, flow: Flow[Any], mode: str) -> Any:
    if mode == "sync":
        return transport.drive(flow)
    return asyncio.run(transport.adrive(flow))


MODES = ["sync", "async"]


@pytest.mark.parametrize("mode", MODES)
def test_a_failed_step_is_thrown_into_the_flow_which_may_recover(
    transport: Transport, mode: str
) -> None:
    echo = Echo(failures=1)

    def flow() -> Flow[list[str]]:
        seen = []
        for attempt in (1, 2):
            try:
                seen.append((yield from invoke(echo, attempt)))
            except ValueError as exc:
                seen.append(f"caught {exc} on {attempt}")
        yield from sleep(0)
        return seen

    assert run(transport, flow(), mode) == ["caught boom on 1", f"{mode}:2"]
    assert echo.calls == [mode, mode]


@pytest.mark.parametrize("mode", MODES)
def test_an_error_the_flow_does_not_catch_reaches_the_caller_unchanged(
    transport: Transport, mode: str
) -> None:
    error = ValueError("not for the flow")

    def flow() -> Flow[Any]:
        return (yield from invoke(Echo(failures=1, error=error), "x"))

    with pytest.raises(ValueError) as raised:
        run(transport, flow(), mode)
    assert raised.value is error


@pytest.mark.parametrize("mode", MODES)
def test_an_interrupt_is_not_thrown_in_but_the_flow_is_closed(
    transport: Transport, mode: str
) -> None:
    closed: list[str] = []

    def flow() -> Flow[Any]:
        try:
            yield from invoke(Echo(failures=1, error=KeyboardInterrupt()), "x")
        except BaseException as exc:  # only the close's GeneratorExit, not the interrupt
            closed.append(f"thrown {type(exc).__name__}")
            raise
        finally:
            closed.append("closed")

    with pytest.raises(KeyboardInterrupt):
        run(transport, flow(), mode)
    assert closed == ["thrown GeneratorExit", "closed"]


@pytest.mark.parametrize("mode", MODES)
def test_single_flight_runs_the_made_flow_through_the_gate_per_key(
    transport: Transport, mode: str
) -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    echo = Echo()

    def made() -> Flow[str]:
        answer: str = yield from invoke(echo, "made")
        return answer

    def flow() -> Flow[tuple[str, str]]:
        first = yield from flight.run("k", made)
        second = yield from flight.run("k", made)
        return first, second

    assert run(transport, flow(), mode) == (f"{mode}:made", f"{mode}:made")
    assert echo.calls == [mode, mode]  # not shared when not concurrent: each runs


# --- flows are decisions without I/O: stepped by hand, no server, no sleeping ----------------


def step_through(flow: Flow[Any], answers: list[Any]) -> tuple[list[Any], Any]:
    """Run `flow` by hand: every step it yields is recorded and answered with the next of
    `answers` (an exception is thrown in at the step); returns (steps, result)."""
    steps: list[Any] = []
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = flow.throw(error) if error is not None else flow.send(value)
        except StopIteration as stop:
            return steps, stop.value
        steps.append(step)
        answer = answers.pop(0)
        value, error = (None, answer) if isinstance(answer, BaseException) else (answer, None)


def test_a_cache_flow_asks_gemini_once_then_sends_the_trimmed_body(transport: Transport) -> None:
    from langchain_gemini_codeexec._core import caches
    from langchain_gemini_codeexec._transport.flow import Call

    name = "cachedContents/flow-unit-test"
    body = {"contents": [{"role": "user", "parts": [{"text": "q"}]}], "cachedContent": name}
    resource = {
        "name": name,
        "model": "models/gemini-2.5-flash",
        "expireTime": "2999-01-01T00:00:00Z",
    }
    try:
        steps, sent = step_through(
            caches.apply(transport.client, "gemini-2.5-flash", body), [resource]
        )
        assert steps == [Call("get", name, {})]
        assert sent == {"contents": body["contents"], "cachedContent": name}
        # Known now: the next request with this cache needs no step at all.
        steps, _ = step_through(caches.apply(transport.client, "gemini-2.5-flash", body), [])
        assert steps == []
    finally:
        caches.forget(name)


def test_a_cache_gemini_says_is_gone_fails_before_generating(transport: Transport) -> None:
    from langchain_gemini_codeexec._core import caches
    from langchain_gemini_codeexec.errors import CacheGoneError, GeminiAPIError

    name = "cachedContents/flow-unit-gone"
    body = {"contents": [{"role": "user", "parts": [{"text": "q"}]}], "cachedContent": name}
    gone = GeminiAPIError(404, "NOT_FOUND", "CachedContent not found")
    with pytest.raises(CacheGoneError, match="flow-unit-gone"):
        step_through(caches.apply(transport.client, "gemini-2.5-flash", body), [gone])


def test_a_batch_create_is_resent_only_after_an_answer_saying_it_was_not_acted_on(
    transport: Transport,
) -> None:
    from google.genai import errors

    from langchain_gemini_codeexec._transport.flow import Call, Sleep
    from langchain_gemini_codeexec.batch._http import BatchHTTP
    from langchain_gemini_codeexec.errors import GeminiAPIError

    http = BatchHTTP(Transport(transport.client, RetryPolicy(max_retries=2, initial_delay=30.0)))
    busy = errors.APIError(429, {"error": {"code": 429, "message": "busy", "status": "x"}})
    steps, answer = step_through(http.post("batches", {"b": 1}), [busy, None, {"name": "b/1"}])
    attempt = Call("post", "batches", {"b": 1}, retry=False)
    assert answer == {"name": "b/1"}
    assert steps[0] == attempt and steps[2] == attempt
    assert isinstance(steps[1], Sleep) and steps[1].seconds >= 20  # asked for, not slept here

    broken = errors.APIError(500, {"error": {"code": 500, "message": "oops", "status": "x"}})
    with pytest.raises(GeminiAPIError) as raised:
        step_through(http.post("batches", {"b": 1}), [broken])  # may have created it
    assert raised.value.code == 500


def test_retries_are_a_flow_one_attempt_a_step_and_a_sleep_between() -> None:
    from google.genai import errors

    from langchain_gemini_codeexec._transport.flow import Call, Sleep
    from langchain_gemini_codeexec.errors import GeminiAPIError

    policy = RetryPolicy(max_retries=2, initial_delay=10.0, max_delay=10.0)
    busy = errors.APIError(503, {"error": {"code": 503, "message": "busy", "status": "x"}})
    once = Call("get", "batches/1", retry=False)
    steps, answer = step_through(policy.retried(Call("get", "batches/1")), [busy, None, {"a": 1}])
    assert answer == {"a": 1}
    assert steps[0] == once and steps[2] == once
    assert isinstance(steps[1], Sleep) and 7.5 <= steps[1].seconds <= 10.0  # asked, not slept

    with pytest.raises(GeminiAPIError) as raised:
        step_through(policy.retried(Call("get", "batches/1")), [busy, None, busy, None, busy])
    assert raised.value.code == 503 and "3 attempts" in str(raised.value)


@pytest.mark.parametrize("mode", MODES)
def test_an_attempt_runs_the_form_of_the_drivers_mode(transport: Transport, mode: str) -> None:
    from langchain_gemini_codeexec._transport.flow import attempt

    async def in_async() -> str:
        return "async"

    def flow() -> Flow[tuple[str, str]]:
        ran = yield from attempt(lambda: "sync", in_async)
        try:
            yield from attempt(lambda: "sync") if mode == "async" else attempt(async_=in_async)
        except TypeError as exc:  # no form for this driver: thrown in, not retried
            return ran, str(exc)
        return ran, "ran"

    ran, missing = run(transport, flow(), mode)
    assert ran == mode and "no" in missing and "form" in missing
