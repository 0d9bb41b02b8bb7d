"""Every answer's price, and totals for a block of work, through the real SDK.

The record in `response_metadata["cost"]` is checked against genai-prices on the usage
the loopback server sent; streamed chunks carry it once, so adding them up gives the
record `invoke` gives. `get_gemini_cost_callback()` adds calls up across threads,
`batch`/`abatch`, async tasks and nested blocks.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import genai_prices
import pytest
from langchain_core.messages import AIMessage

from langchain_gemini_codeexec import ChatGeminiCodeExecution, CodeExecutionReport
from langchain_gemini_codeexec._core import pricing
from langchain_gemini_codeexec.cost import get_gemini_cost_callback, sum_costs
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    RecordedRequest,
    Reply,
    code,
    response,
    result,
    stream_chunks,
    text,
    usage,
)
from tests.support import Caller, MakeLLM, aggregate, as_message

USAGE = usage(prompt=1200, candidates=50, thoughts=30, tool_use_prompt=40, cached=1000)


def answer(model_version: str = "gemini-2.5-flash", meta: dict[str, Any] = USAGE) -> Any:
    return response(
        code("print(6 * 7)"), result("42\n"), text("42"), usage=meta, model_version=model_version
    )


def library_total(meta: dict[str, Any], model: str) -> float:
    extracted = genai_prices.extract_usage({"usageMetadata": meta}, provider_id="google")
    return float(genai_prices.calc_price(extracted.usage, model, provider_id="google").total_price)


async def test_every_answer_carries_its_price(server: GeminiTestServer, ask: Caller) -> None:
    server.enqueue(answer())
    got = await ask(ask.model(), "6 * 7?")
    record = got.message.response_metadata["cost"]
    assert record == pricing.price(USAGE, "gemini-2.5-flash")
    assert record["total"] == library_total(USAGE, "gemini-2.5-flash")
    assert record["parts"]["tool_use_input"] > 0 and record["parts"]["thoughts"] > 0
    if got.streamed:
        priced = [c for c in got.chunks if "cost" in c.response_metadata]
        assert priced == [got.chunks[-1]], "the cost goes on the last chunk only"
        assert got.chunks[-1].chunk_position == "last"


@pytest.mark.parametrize("ask", ["stream", "astream-httpx"], indirect=True)
async def test_adding_streamed_chunks_gives_invokes_record_not_a_double(
    server: GeminiTestServer, ask: Caller
) -> None:
    """The stream's usage grows chunk by chunk (running totals); the price is that of the
    final counts, once."""
    server.enqueue(Reply.stream(stream_chunks(answer(), text_pieces=4)))
    server.enqueue(answer())
    llm = ask.model()
    streamed = await ask(llm, "6 * 7?")
    invoked = llm.invoke("6 * 7?")
    assert len(streamed.chunks) > 3
    total = aggregate(streamed.chunks)
    assert total.response_metadata["cost"] == invoked.response_metadata["cost"]
    assert total.usage_metadata == invoked.usage_metadata
    assert sum_costs([as_message(total)]).total_cost == invoked.response_metadata["cost"]["total"]


def test_invoke_that_streams_under_the_hood_has_the_record_once(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    server.enqueue(Reply.stream(stream_chunks(answer(), text_pieces=4)))
    message = make_llm(streaming=True).invoke("6 * 7?")
    assert message.response_metadata["cost"] == pricing.price(USAGE, "gemini-2.5-flash")


async def test_unknown_model_has_no_number_and_says_why(
    server: GeminiTestServer, ask: Caller
) -> None:
    server.enqueue(answer(model_version="gemini-99-imaginary"))
    got = await ask(ask.model(), "q")
    record = got.message.response_metadata["cost"]
    assert record["total"] is None and "gemini-99-imaginary" in record["reason"]
    report = CodeExecutionReport.from_message(got.message)
    assert report.cost_usd is None and "no price" in report.cost_summary()


def test_report_shows_the_cost_and_what_caching_saved(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    server.enqueue(answer())
    message = make_llm().invoke("q")
    report = CodeExecutionReport.from_message(message)
    assert report.cost == message.response_metadata["cost"]
    assert report.cost_usd == library_total(USAGE, "gemini-2.5-flash")
    summary = report.cost_summary()
    assert f"${report.cost_usd:.6f}" in summary and "tool use input" in summary
    assert summary in report.to_markdown() and "Cost: $" in report._repr_html_()
    saved = report.cost["saved_by_cache"]
    assert saved > 0 and f"Caching saved ${saved:.6f}" in report.cache_summary()
    assert "no storage price" in report.cache_summary()
    restored = CodeExecutionReport.model_validate_json(report.model_dump_json())
    assert restored.cost == report.cost


# --- totals for a block of work ------------------------------------------------------------


def by_model(request: RecordedRequest) -> dict[str, Any]:
    """Answers as the model asked for, so that totals split by model."""
    return answer(model_version=str(request.model))


def test_block_totals_by_model_sync_stream_and_batch(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    server.responder = by_model
    flash, pro = make_llm(model="gemini-2.5-flash"), make_llm(model="gemini-2.5-pro")
    with get_gemini_cost_callback() as cost:
        messages = [flash.invoke("a"), pro.invoke("b")]
        messages.append(as_message(aggregate(list(flash.stream("c")))))
        messages += flash.batch(["d", "e", "f"])  # runs in a thread pool
    flash.invoke("after the block: not counted")
    assert cost.calls == 6
    assert set(cost.by_model) == {"gemini-2.5-flash", "gemini-2.5-pro"}
    assert cost.by_model["gemini-2.5-flash"].calls == 5
    expected = sum(m.response_metadata["cost"]["total"] for m in messages)
    assert cost.total_cost == pytest.approx(expected, rel=1e-12)
    pro_total = cost.by_model["gemini-2.5-pro"]
    assert pro_total.cost == library_total(USAGE, "gemini-2.5-pro")
    assert pro_total.input_tokens == 1240 and pro_total.cached_input_tokens == 1000
    assert pro_total.parts["thoughts"] == messages[1].response_metadata["cost"]["parts"]["thoughts"]
    assert cost.to_dict()["calls"] == 6 and "gemini-2.5-pro" in repr(cost)


async def test_async_block_counts_abatch_astream_and_tasks(
    server: GeminiTestServer, make_llm: MakeLLM, close_async: list[ChatGeminiCodeExecution]
) -> None:
    server.responder = by_model
    llm = make_llm()
    close_async.append(llm)
    async with get_gemini_cost_callback() as cost:
        await llm.abatch(["a", "b", "c"])
        [c async for c in llm.astream("d")]
        await asyncio.gather(llm.ainvoke("e"), llm.ainvoke("f"))
    one = library_total(USAGE, "gemini-2.5-flash")
    assert cost.calls == 6
    assert cost.total_cost == pytest.approx(6 * one, rel=1e-12)


def test_threads_count_with_a_copied_context_or_the_handler_passed(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    server.responder = by_model
    llm = make_llm()
    with get_gemini_cost_callback() as cost:
        context = contextvars.copy_context()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda q: context.copy().run(llm.invoke, q), ["a", "b", "c", "d"]))
        # A bare thread does not see the block, unless it is handed the handler.
        bare = threading.Thread(target=llm.invoke, args=("uncounted",))
        bare.start()
        bare.join()
        handed = threading.Thread(
            target=llm.invoke, args=("counted",), kwargs={"config": {"callbacks": [cost]}}
        )
        handed.start()
        handed.join()
    assert cost.calls == 5
    assert len(server.model_requests) == 6


def test_blocks_nest_and_unpriced_calls_are_listed(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    server.responder = by_model
    known = make_llm()
    with pytest.warns(UserWarning, match="not a Gemini model"):  # a name of no known shape
        unknown = make_llm(model="gemini-99-imaginary")
    with get_gemini_cost_callback() as outer:
        known.invoke("a")
        with get_gemini_cost_callback() as inner:
            known.invoke("b")
            unknown.invoke("c")
    assert (outer.calls, inner.calls) == (3, 2)
    assert outer.total_cost == pytest.approx(2 * inner.total_cost, rel=1e-12)
    assert inner.by_model["gemini-99-imaginary"].unpriced_calls == 1
    assert inner.by_model["gemini-99-imaginary"].cost == 0
    (why,) = inner.unpriced
    assert "gemini-99-imaginary" in why and "no price" in why
    assert outer.unpriced == inner.unpriced


def test_a_block_is_entered_once(server: GeminiTestServer) -> None:
    block = get_gemini_cost_callback()
    with block, pytest.raises(RuntimeError, match="already open"):
        block.__enter__()


def test_sum_costs_skips_what_is_not_a_gemini_answer() -> None:
    assert sum_costs([None, AIMessage("no record")]).calls == 0
