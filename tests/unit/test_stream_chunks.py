"""Stream chunks are built without `json.dumps` of run keys and with a flat usage
difference, yet byte-identical to the general algorithm.

The reference below is that general algorithm (run keys as the JSON of the part's
unmapped keys, usage differences by recursion over any shape). Each stream is turned into
chunks twice, once by `StreamState` as it is and once with the reference swapped in, and
the chunk sequences must serialize to the same bytes; their sum must also equal the
message `invoke` builds from the same answer in one piece.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, AIMessageChunk

from benchmarks._data import stream_response_chunks
from langchain_gemini_codeexec._mapping import streaming
from langchain_gemini_codeexec._mapping.from_gemini import Block, response_to_message_fields
from langchain_gemini_codeexec.testing import (
    code,
    function_call,
    merge_chunks,
    response,
    result,
    stream_chunks,
    text,
    usage,
)
from tests.support import property_test
from tests.unit.strategies import parts, usages
from tests.unit.test_roundtrip_properties import _response, _split

MODEL = "gemini-2.5-flash"


def reference_usage_delta(
    current: dict[str, Any], previous: dict[str, Any] | None
) -> dict[str, Any]:
    if previous is None:
        return current
    delta: dict[str, Any] = {}
    for key, value in current.items():
        before = previous.get(key)
        if isinstance(value, dict):
            delta[key] = reference_usage_delta(value, before if isinstance(before, dict) else None)
        else:
            delta[key] = value - (before if isinstance(before, int) else 0)
    return delta


def reference_run_key(block: Block) -> str | None:
    extras = block.get("extras") or {}
    if block["type"] not in ("text", "reasoning") or set(extras) - {"part"}:
        return None
    return str(block["type"]) + json.dumps(extras.get("part"), sort_keys=True)


def _chunks(stream: list[dict[str, Any]], reference: bool) -> list[AIMessageChunk]:
    with pytest.MonkeyPatch.context() as patch:
        if reference:
            patch.setattr(streaming, "_run_key", reference_run_key)
            patch.setattr(streaming, "_usage_delta", reference_usage_delta)
        state = streaming.StreamState(MODEL)
        chunks = [state.chunk(json.loads(json.dumps(c))) for c in stream]
        state.check_complete()
    return chunks


def _as_built(chunk: AIMessageChunk) -> str:
    """The chunk's fields as JSON in their own key order (`model_dump_json` would put
    typed dicts such as `usage_metadata` in their declared order)."""
    return json.dumps([getattr(chunk, name) for name in type(chunk).model_fields])


def _same_as_reference(stream: list[dict[str, Any]]) -> list[AIMessageChunk]:
    chunks = _chunks(stream, reference=False)
    expected = _chunks(stream, reference=True)
    assert [_as_built(c) for c in chunks] == [_as_built(c) for c in expected]
    assert [c.model_dump_json() for c in chunks] == [c.model_dump_json() for c in expected]
    return chunks


def _total(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


def _with_thought(part: dict[str, Any], thought: Any) -> dict[str, Any]:
    return {**part, "thought": thought}


FULL_USAGE = usage(prompt=30, candidates=50, thoughts=12, cached=7, tool_use_prompt=4)

STREAMS: dict[str, list[dict[str, Any]]] = {
    "benchmark answer": stream_response_chunks(40),
    "thoughts then text": stream_chunks(
        response(
            text("Let me think about it step by step.", thought=True),
            text("The answer, computed below, is four."),
            code("print(2 + 2)"),
            result("4\n"),
            text("So it is 4."),
            usage=FULL_USAGE,
        ),
        text_pieces=4,
    ),
    "deltas marked thought false": stream_chunks(
        response(
            _with_thought(text("one two three four five"), False),
            _with_thought(text("six seven"), True),
            usage=FULL_USAGE,
        ),
        text_pieces=3,
    ),
    "signed and annotated text": stream_chunks(
        response(
            text("signed reasoning", thought=True, signature="c2lnMQ=="),
            {"text": "with metadata", "partMetadata": {"a": 1}},
            text("plain tail text"),
            usage=FULL_USAGE,
        ),
        text_pieces=2,
    ),
    "function calls": stream_chunks(
        response(
            text("Calling the tools."),
            function_call("weather", {"city": "Paris"}, id="c1"),
            function_call("weather", {"city": "Rome"}, id="c2"),
            usage=FULL_USAGE,
        ),
    ),
}


@pytest.mark.parametrize("name", list(STREAMS))
def test_chunks_are_byte_identical_to_the_reference(name: str) -> None:
    stream = STREAMS[name]
    chunks = _same_as_reference(stream)
    whole = AIMessage(**response_to_message_fields(merge_chunks(stream), MODEL))
    total = _total(chunks)
    assert [{k: v for k, v in b.items() if k != "index"} for b in total.content] == (whole.content)
    assert total.usage_metadata == whole.usage_metadata
    assert total.response_metadata == whole.response_metadata
    assert total.tool_calls == whole.tool_calls


def test_usage_arriving_late_or_shrinking_is_differenced_like_the_reference() -> None:
    stream = stream_chunks(response(text("a b c d e f"), usage=FULL_USAGE), text_pieces=3)
    del stream[0]["usageMetadata"]  # no usage on the first chunk
    stream[1]["usageMetadata"] = {**stream[1]["usageMetadata"], "cachedContentTokenCount": 99}
    _same_as_reference(stream)


@property_test(
    300,
    st.lists(parts, min_size=1, max_size=8),
    st.none() | usages(),
    st.randoms(use_true_random=False),
)
def test_any_stream_gives_the_references_chunks(
    part_list: list[dict[str, Any]], usage_metadata: dict[str, Any] | None, rng: random.Random
) -> None:
    _same_as_reference(_split(_response(part_list, usage_metadata, "resp-1"), rng))
