"""Batch API, async: the same promises on each async HTTP path (aiohttp, httpx2, httpx)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from langchain_gemini_codeexec import (
    BatchJobError,
    BatchRequestError,
    BatchTimeoutError,
    ChatGeminiCodeExecution,
    GeminiAPIError,
    GeminiBatchJob,
    IncompleteResponseError,
    InvalidMessageError,
)
from langchain_gemini_codeexec.batch import _http as batch_http
from langchain_gemini_codeexec.batch import asubmit_batch
from langchain_gemini_codeexec.testing import BatchScript, GeminiTestServer, Reply, response, text
from tests.support import transport_in_use

from .test_batch_sync import rich_answer

FAST = {"poll_interval": 0.01, "timeout": 10.0, "progress": False}
# Polling that cannot succeed in time: the timeout only has to elapse. A poll's request
# gets at least `MIN_POLL_WAIT` (0.5 s), lowered here so that a hung poll ends at the
# timeout (test_batch_sync.py keeps the real floor).
POLL_TIMEOUT = 0.1


async def test_inline_job_end_to_end(
    async_transport: str,
    server: GeminiTestServer,
    make_llm: Callable[..., ChatGeminiCodeExecution],
) -> None:
    llm = make_llm()
    inputs = ["q0", "q1", "q2"]
    job = await asubmit_batch(llm, inputs, temperature=0.1)
    assert transport_in_use(llm) == async_transport
    sent = server.last_request.body["batch"]["inputConfig"]["requests"]["requests"]
    server.clear()
    for value, item in zip(inputs, sent, strict=True):
        server.enqueue(response(text("x")))
        await llm.ainvoke(value, temperature=0.1)
        assert item["request"] == server.last_request.body
    server.clear()
    answers = [rich_answer(n) for n in range(3)]
    server.enqueue(answers[0], Reply.error(400, "invalid argument here"), answers[2])
    await job.apoll_until_done(**FAST)
    results = [r async for r in job.aresults()]
    server.enqueue(answers[0])
    want = await llm.ainvoke("q0")
    assert results[0].message is not None and results[0].message.content == want.content
    assert results[0].message.usage_metadata == want.usage_metadata
    got_cost = results[0].message.response_metadata["cost"]
    assert (got_cost["rate"], want.response_metadata["cost"]["rate"]) == ("batch", "standard")
    assert got_cost["total"] < want.response_metadata["cost"]["total"]
    assert isinstance(results[1].error, BatchRequestError) and results[1].message is None
    assert results[1].error.message == "invalid argument here"
    assert [r.key for r in results] == job.keys
    await llm.genai_client.aio.aclose()


async def test_file_job_streams_results_and_reports_a_malformed_line(
    async_transport: str,
    server: GeminiTestServer,
    make_llm: Callable[..., ChatGeminiCodeExecution],
) -> None:
    llm = make_llm()
    server.responder = lambda req: response(text(req.text))
    server.batch.script = BatchScript(malformed_keys=frozenset({"b"}), reverse_output=True)
    job = await asubmit_batch(llm, ["A", "B", "C"], keys=["a", "b", "c"], input_mode="file")
    assert "fileName" in server.last_request.body["batch"]["inputConfig"]
    await job.apoll_until_done(**FAST)
    results = [r async for r in job.aresults()]
    assert [r.key for r in results] == ["a", "b", "c"]
    assert [r.message.text if r.message else None for r in results] == ["A", None, "C"]
    assert isinstance(results[1].error, IncompleteResponseError)
    await llm.genai_client.aio.aclose()


async def test_polling_survives_network_failures_and_honours_timeout(
    async_transport: str,
    server: GeminiTestServer,
    make_llm: Callable[..., ChatGeminiCodeExecution],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(batch_http, "MIN_POLL_WAIT", POLL_TIMEOUT / 2)
    llm = make_llm()
    server.responder = lambda req: response(text("ok"))
    job = await asubmit_batch(llm, ["a"])
    server.batch.fail_next_polls(Reply.reset(), Reply.error(503, "unavailable"), Reply.close())
    await job.apoll_until_done(**FAST)
    assert job.state == "BATCH_STATE_SUCCEEDED"
    assert len([r for r in server.requests if "batchGenerateContent" in r.path]) == 1

    server.batch.script = BatchScript(pending_polls=10_000)
    slow = await asubmit_batch(llm, ["b"])
    server.batch.fail_next_polls(Reply.hang(30))  # the first poll hangs past the timeout
    start = time.monotonic()
    with pytest.raises(BatchTimeoutError, match=r"GeminiBatchJob\.attach"):
        await slow.apoll_until_done(poll_interval=0.05, timeout=POLL_TIMEOUT, progress=False)
    assert POLL_TIMEOUT * 0.9 <= time.monotonic() - start < POLL_TIMEOUT + 2.5
    assert server.batch.jobs[slow.name].state == "BATCH_STATE_PENDING"
    await llm.genai_client.aio.aclose()


async def test_attach_cancel_and_missing_jobs(
    async_transport: str,
    server: GeminiTestServer,
    make_llm: Callable[..., ChatGeminiCodeExecution],
) -> None:
    llm = make_llm()
    server.batch.script = BatchScript(pending_polls=3)
    job = await asubmit_batch(llm, ["a", "b"])
    again = await GeminiBatchJob.aattach(job.name, llm=make_llm(), keys=job.keys)
    await again.acancel()
    assert server.batch.cancels == [job.name]
    with pytest.raises(BatchJobError, match="BATCH_STATE_CANCELLED"):
        await again.apoll_until_done(**FAST)
    assert [type(r.error).__name__ async for r in again.aresults()] == ["BatchJobError"] * 2
    with pytest.raises(GeminiAPIError, match="does not exist") as info:
        await GeminiBatchJob.aattach("batches/nope", llm=llm)
    assert info.value.code == 404
    with pytest.raises(InvalidMessageError):
        await asubmit_batch(llm, [])
    await llm.genai_client.aio.aclose()
    await again.llm.genai_client.aio.aclose()


async def test_async_polls_do_not_block_the_loop(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    llm = make_llm()
    server.responder = lambda req: response(text("ok"))
    server.batch.script = BatchScript(pending_polls=5)
    job = await asubmit_batch(llm, ["a"])
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while not job.done:
            ticks += 1
            await asyncio.sleep(0.005)

    await asyncio.gather(
        job.apoll_until_done(poll_interval=0.05, timeout=10, progress=False), tick()
    )
    assert ticks > 5
    await llm.genai_client.aio.aclose()
