"""Load on one model instance: 500 concurrent `ainvoke`, 100 concurrent `astream`.

The server tags each answer with the tag of the request it answers (and varies its
latency a little, so answers finish out of order); every caller must get the answer to
its own request, with no error. Memory is measured with tracemalloc over repeated rounds
after a warm-up round: Python-allocated memory (ours, LangChain's, the SDK's, aiohttp's
and the in-process server's) must stay flat.
"""

from __future__ import annotations

import asyncio
import gc
import re
import tracemalloc
from typing import Any

import pytest

from langchain_gemini_codeexec import ChatGeminiCodeExecution
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
from tests.support import path_llm

TAG = re.compile(r"request #(\d+)")
# Memory growth allowed between the first measured round and the last one. A leak of one
# small object per request (a message, a response, a task) would show as 100s of KB.
MEMORY_BOUND = 512 * 1024


def _answer(req: RecordedRequest) -> Reply:
    """The answer to one request: its tag in text, code, output and response id."""
    match = TAG.search(req.text)
    tag = match.group(1) if match else "?"
    body = response(
        text(f"Answer for #{tag}: "),
        code(f"print({tag} * 2)"),
        result(f"{int(tag) * 2 if tag != '?' else '?'}\n"),
        text(f"twice {tag} is {int(tag) * 2 if tag != '?' else '?'}."),
        response_id=f"resp-{tag}",
        usage=usage(prompt=10, candidates=int(tag) % 50 + 1),
    )
    delay = (int(tag) % 7) / 1000 if tag != "?" else 0
    if req.stream:
        return Reply.stream(stream_chunks(body), delay=delay)
    return Reply.json(body, delay=delay)


def _check(message: Any, tag: int) -> None:
    assert message.response_metadata["response_id"] == f"resp-{tag}"
    assert message.text == f"Answer for #{tag}: twice {tag} is {tag * 2}."
    blocks = {b["type"]: b for b in message.content if isinstance(b, dict)}
    assert blocks["server_tool_call"]["args"]["code"] == f"print({tag} * 2)"
    assert blocks["server_tool_result"]["output"] == f"{tag * 2}\n"
    assert message.usage_metadata["output_tokens"] == tag % 50 + 1


async def _ainvoke_all(llm: ChatGeminiCodeExecution, tags: range) -> list[Any]:
    return await asyncio.gather(
        *(llm.ainvoke(f"Please answer request #{t}.") for t in tags), return_exceptions=True
    )


async def _astream_one(llm: ChatGeminiCodeExecution, tag: int) -> Any:
    total = None
    async for chunk in llm.astream(f"Please answer request #{tag}."):
        total = chunk if total is None else total + chunk
    return total


@pytest.fixture
def loaded() -> Any:
    with GeminiTestServer(responder=_answer) as server:
        yield server


@pytest.mark.parametrize("path", ["async-aiohttp", "async-httpx2"])
async def test_concurrent_calls_each_get_their_own_answer(
    loaded: GeminiTestServer, path: str
) -> None:
    """The fast suite's smaller load (the 500 and 100 below are in the slow set): 50
    `ainvoke` and 20 `astream` at once, answers finishing out of order."""
    llm = path_llm(loaded.base_url, path, max_retries=0)
    answers = await _ainvoke_all(llm, range(50))
    streams = await asyncio.gather(*(_astream_one(llm, t) for t in range(20)))
    assert [a for a in answers if isinstance(a, BaseException)] == []
    for tag, message in enumerate(answers):
        _check(message, tag)
    for tag, total in enumerate(streams):
        _check(total, tag)
        assert total.chunk_position == "last"
    assert len(loaded.model_requests) == 70


@pytest.mark.slow  # CPU-bound: ~1.5 s a path
@pytest.mark.parametrize("path", ["async-aiohttp", "async-httpx2"])
async def test_500_concurrent_ainvoke_each_get_their_own_answer(
    loaded: GeminiTestServer, path: str
) -> None:
    llm = path_llm(loaded.base_url, path, max_retries=0)
    answers = await _ainvoke_all(llm, range(500))
    errors = [a for a in answers if isinstance(a, BaseException)]
    assert errors == []
    for tag, message in enumerate(answers):
        _check(message, tag)
    assert len(loaded.model_requests) == 500


@pytest.mark.slow
@pytest.mark.parametrize("path", ["async-aiohttp", "async-httpx2"])
async def test_100_concurrent_astream_each_get_their_own_answer(
    loaded: GeminiTestServer, path: str
) -> None:
    llm = path_llm(loaded.base_url, path, max_retries=0)
    results = await asyncio.gather(
        *(_astream_one(llm, t) for t in range(100)), return_exceptions=True
    )
    assert [r for r in results if isinstance(r, BaseException)] == []
    for tag, total in enumerate(results):
        _check(total, tag)
        assert total.chunk_position == "last"
    assert len(loaded.model_requests) == 100
    assert all(r.stream for r in loaded.model_requests)


@pytest.mark.slow
async def test_memory_stays_flat_across_rounds(loaded: GeminiTestServer) -> None:
    """5 rounds of 150 concurrent ainvoke + 40 astream on one instance; the first round
    warms caches (connections, pydantic and LangChain internals) and is not measured."""
    llm = path_llm(loaded.base_url, "async-aiohttp", max_retries=0)
    sizes: list[int] = []
    tracemalloc.start()
    try:
        for _round in range(5):
            answers = await _ainvoke_all(llm, range(150))
            streams = await asyncio.gather(*(_astream_one(llm, t) for t in range(40)))
            assert not [a for a in answers if isinstance(a, BaseException)]
            for tag, total in enumerate(streams):
                _check(total, tag)
            del answers, streams
            loaded.clear()  # the server's own log of requests is not ours to measure
            gc.collect()
            sizes.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    growth = sizes[-1] - sizes[1]
    print(f"traced memory after each round (bytes): {sizes}; growth rounds 2-5: {growth}")
    assert growth < MEMORY_BOUND, sizes
