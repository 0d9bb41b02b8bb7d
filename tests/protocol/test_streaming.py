"""docs/contract.md section 3: streaming, through the real SDK's SSE path (sync, aiohttp, httpx).

Indexes, usage deltas, metadata once, the last chunk, and the rule that adding all
chunks gives the message `invoke` gives on the same response, ids included.
"""

from __future__ import annotations

import base64
import copy
from collections import Counter
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessageChunk

from langchain_gemini_codeexec import ChatGeminiCodeExecution, IncompleteResponseError
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    Reply,
    code,
    function_call,
    image,
    response,
    result,
    stream_chunks,
    text,
    usage,
)
from langchain_gemini_codeexec.testing.demo import SUM_OF_PRIMES_PROMPT, sum_of_primes_chunks
from tests.support import aggregate, as_message, assert_plain_json, strip_index

# Streaming and errors are where the HTTP library matters: `ask` on every path.
pytestmark = pytest.mark.every_http_path

STREAM_MODES = ["stream", "astream-aiohttp", "astream-httpx2", "astream-httpx"]
streaming = pytest.mark.parametrize("ask", STREAM_MODES, indirect=True)

SIG = base64.b64encode(b"sig-one").decode()
SIG2 = base64.b64encode(b"sig-two").decode()
PNG = b"\x89PNG\r\n\x1a\nchart"

RICH = response(
    text("Thinking about the ", thought=True),
    text("problem.", thought=True, signature=SIG),
    text("Let me compute the sum. "),
    code("print(sum(range(10)))"),
    result("45\n"),
    result("", outcome="OUTCOME_DEADLINE_EXCEEDED"),
    image(PNG),
    code("print('again')", id="gem-2"),
    result("again\n", id="gem-2"),
    function_call("save", {"value": 45}),
    text("The sum is 45. It was computed\nwith code.  "),
    text("", signature=SIG2),
    usage=usage(prompt=40, candidates=60, thoughts=25, tool_use_prompt=120, cached=8),
    response_id="resp-stream",
)


def chunks_of(answer: Any) -> list[AIMessageChunk]:
    assert answer.streamed and answer.chunks
    return list(answer.chunks)


@streaming
async def test_every_chunk_is_plain_json_v1(server: GeminiTestServer, ask: Any) -> None:
    server.enqueue(Reply.stream(stream_chunks(RICH)))
    answer = await ask(ask.model())
    for chunk in chunks_of(answer):
        assert isinstance(chunk, AIMessageChunk)
        assert_plain_json(chunk)
        assert chunk.response_metadata["output_version"] == "v1"
        assert chunk.content_blocks == chunk.content


@streaming
async def test_indexes(server: GeminiTestServer, ask: Any) -> None:
    """Unsigned text deltas of one part share an index; every other block has its own."""
    chunks = stream_chunks(RICH, text_pieces=4)
    server.enqueue(Reply.stream(chunks))
    answer = await ask(ask.model())
    blocks = [b for c in chunks_of(answer) for b in c.content if isinstance(b, dict)]
    assert all(isinstance(b.get("index"), int) for b in blocks)
    by_index: dict[int, list[dict[str, Any]]] = {}
    for block in blocks:
        by_index.setdefault(block["index"], []).append(block)
    groups = [(group[0]["type"], len(group)) for _, group in sorted(by_index.items())]
    assert groups == [
        ("reasoning", 4),  # "Thinking about the " in four deltas
        ("reasoning", 1),  # signed: its own part
        ("text", 4),
        ("server_tool_call", 1),
        ("server_tool_result", 1),
        ("server_tool_result", 1),
        ("image", 1),
        ("server_tool_call", 1),
        ("server_tool_result", 1),
        ("tool_call_chunk", 1),
        ("text", 4),
        ("text", 1),  # the signature alone on an empty last text part
    ]
    # Indexes grow with the parts, so the added-up content keeps the response's order.
    order = [b["index"] for b in blocks]
    assert order == sorted(order)


@streaming
async def test_signed_text_deltas_are_never_merged(server: GeminiTestServer, ask: Any) -> None:
    chunks = [
        response(text("one "), finish_reason=None, usage={}),
        response(text("two", signature=SIG), finish_reason=None, usage={}),
        response(text(" three"), finish_reason=None, usage={}),
        response(text(" four"), finish_reason="STOP"),
    ]
    server.enqueue(Reply.stream(chunks))
    answer = await ask(ask.model())
    assert answer.message.content == [
        {"type": "text", "text": "one "},
        {"type": "text", "text": "two", "extras": {"signature": SIG}},
        {"type": "text", "text": " three four"},
    ]


@streaming
async def test_usage_deltas_sum_to_totals(server: GeminiTestServer, ask: Any) -> None:
    server.enqueue(Reply.stream(stream_chunks(RICH, text_pieces=3)))
    answer = await ask(ask.model())
    deltas = [c.usage_metadata for c in chunks_of(answer) if c.usage_metadata]
    assert len(deltas) > 1
    totals: Counter[str] = Counter()
    for delta in deltas:
        for key in ("input_tokens", "output_tokens", "total_tokens"):
            assert delta[key] >= 0
            totals[key] += delta[key]
    assert dict(totals) == {
        "input_tokens": 40 + 120,
        "output_tokens": 60 + 25,
        "total_tokens": 40 + 60 + 25 + 120,
    }
    assert answer.message.usage_metadata == {
        "input_tokens": 160,
        "output_tokens": 85,
        "total_tokens": 245,
        "input_token_details": {"cache_read": 8},
        "output_token_details": {"reasoning": 25},
    }


@streaming
async def test_metadata_once_and_last_chunk(server: GeminiTestServer, ask: Any) -> None:
    resp = copy.deepcopy(RICH)
    resp["candidates"][0]["safetyRatings"] = [
        {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "NEGLIGIBLE"}
    ]
    server.enqueue(Reply.stream(stream_chunks(resp)))
    answer = await ask(ask.model())
    chunks = chunks_of(answer)
    for key in ("model_name", "finish_reason", "model_provider", "response_id"):
        assert sum(key in c.response_metadata for c in chunks) == 1, key
    assert "model_name" in chunks[0].response_metadata
    assert "finish_reason" in chunks[-1].response_metadata
    assert [c.chunk_position for c in chunks].count("last") == 1
    assert chunks[-1].chunk_position == "last"
    meta = answer.message.response_metadata
    assert meta["model_name"] == "gemini-2.5-flash"
    assert meta["finish_reason"] == "STOP"
    assert meta["response_id"] == "resp-stream"
    assert meta["safety_ratings"] == resp["candidates"][0]["safetyRatings"]


SAME_AS_INVOKE = {
    "rich": RICH,
    "no-response-id": {k: v for k, v in RICH.items() if k != "responseId"},
    "code-only": response(code("1"), result("1"), code("2"), result("2"), usage={}),
}


@streaming
@pytest.mark.parametrize("name", sorted(SAME_AS_INVOKE))
async def test_aggregate_equals_invoke(server: GeminiTestServer, ask: Any, name: str) -> None:
    """The same response, whole and streamed: same message, ids included."""
    resp = SAME_AS_INVOKE[name]
    llm = ask.model()
    server.enqueue(copy.deepcopy(resp))
    whole = llm.invoke("q")
    server.enqueue(Reply.stream(stream_chunks(resp, text_pieces=3)))
    streamed = (await ask(llm, "q")).message
    assert streamed.content == whole.content
    assert streamed.tool_calls == whole.tool_calls
    assert streamed.usage_metadata == whole.usage_metadata
    assert streamed.response_metadata == whole.response_metadata
    linked = ("server_tool_call", "server_tool_result", "tool_call")
    ids = [b.get("id", b.get("tool_call_id")) for b in whole.content if b["type"] in linked]
    assert ids and all(isinstance(i, str) and i for i in ids)  # derived ones too


@streaming
async def test_recorded_sum_of_primes(server: GeminiTestServer, ask: Any) -> None:
    server.enqueue(Reply.stream(sum_of_primes_chunks()))
    answer = await ask(ask.model(), SUM_OF_PRIMES_PROMPT)
    msg = answer.message
    assert "5117" in msg.text
    (call,) = [b for b in msg.content if b["type"] == "server_tool_call"]
    (res,) = [b for b in msg.content if b["type"] == "server_tool_result"]
    assert "is_prime" in call["args"]["code"]
    assert res["tool_call_id"] == call["id"]
    assert res["extras"]["outcome"] == "OUTCOME_OK"
    assert "sum=5117" in res["output"]
    assert server.last_request.stream
    assert server.last_request.query.get("alt") == "sse"


@streaming
async def test_signature_alone_on_last_empty_part_goes_back_alone(
    server: GeminiTestServer, ask: Any
) -> None:
    resp = response(text("The answer is 42."), text("", signature=SIG), response_id="r-sig")
    llm = ask.model()
    server.enqueue(Reply.stream(stream_chunks(resp, text_pieces=4)))
    answer = await ask(llm, "q")
    assert answer.message.content == [
        {"type": "text", "text": "The answer is 42."},
        {"type": "text", "text": "", "extras": {"signature": SIG}},
    ]
    assert answer.chunks[-1].content == [
        {"type": "text", "text": "", "extras": {"signature": SIG}, "index": 1}
    ]
    for history_message in (answer.message, aggregate(chunks_of(answer))):
        server.enqueue(response(text("ok")))
        await ask(llm, ["q", history_message, "next"])
        assert server.last_request.model_parts() == [
            {"text": "The answer is 42."},
            {"text": "", "thoughtSignature": SIG},
        ]


@streaming
async def test_final_chunk_without_parts(server: GeminiTestServer, ask: Any) -> None:
    """Gemini often ends with a chunk that has only finishReason and usage."""
    chunks = [
        response(text("Hello"), finish_reason=None, usage=usage(5, 1)),
        response(text(" world"), finish_reason=None, usage=usage(5, 2)),
        response(finish_reason="STOP", usage=usage(5, 3)),
    ]
    chunks[-1]["candidates"][0]["content"] = {"role": "model"}
    server.enqueue(Reply.stream(chunks))
    answer = await ask(ask.model())
    assert answer.message.content == [{"type": "text", "text": "Hello world"}]
    assert answer.message.response_metadata["finish_reason"] == "STOP"
    assert answer.message.usage_metadata is not None
    assert answer.message.usage_metadata["total_tokens"] == 8
    assert answer.chunks[-1].chunk_position == "last"


@streaming
async def test_stream_without_finish_reason_is_incomplete(
    server: GeminiTestServer, ask: Any
) -> None:
    chunks = [response(text("Hel"), finish_reason=None), response(text("lo"), finish_reason=None)]
    server.enqueue(Reply.stream(chunks))
    llm = ask.model()
    with pytest.raises(IncompleteResponseError, match="finishReason"):
        await ask.raises(llm)


@pytest.mark.parametrize("ask", ["invoke", "ainvoke-aiohttp", "ainvoke-httpx"], indirect=True)
async def test_streaming_flag_makes_invoke_stream(server: GeminiTestServer, ask: Any) -> None:
    """`streaming=True`: invoke streams under the hood and returns the same message."""
    llm = ask.model(streaming=True)
    server.enqueue(Reply.stream(stream_chunks(RICH)))
    streamed = (await ask(llm)).message
    assert server.last_request.stream
    plain = ask.model()
    server.enqueue(copy.deepcopy(RICH))
    whole = (await ask(plain)).message
    assert server.last_request.stream is False
    assert strip_index(streamed.content) == whole.content
    assert streamed.usage_metadata == whole.usage_metadata
    assert streamed.response_metadata == whole.response_metadata


class _Tokens(BaseCallbackHandler):
    def __init__(self) -> None:
        self.chunks: list[Any] = []

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        self.chunks.append(kwargs.get("chunk"))


def test_callbacks_see_every_chunk(server: GeminiTestServer, llm: ChatGeminiCodeExecution) -> None:
    handler = _Tokens()
    server.enqueue(Reply.stream(stream_chunks(RICH)))
    chunks = list(llm.stream("q", config={"callbacks": [handler]}))
    assert len(handler.chunks) == len(chunks)
    assert [c.message.content for c in handler.chunks] == [c.content for c in chunks]
    assert as_message(aggregate(chunks)).content == strip_index(aggregate(chunks).content)
