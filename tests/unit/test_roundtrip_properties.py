"""Property tests of the pure mapping: parts -> blocks -> parts, and stream == whole."""

from __future__ import annotations

import itertools
import json
import random
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage

from langchain_gemini_codeexec._mapping.from_gemini import (
    REFUSAL_FINISH_REASONS,
    Linker,
    parts_to_blocks,
    response_to_message_fields,
)
from langchain_gemini_codeexec._mapping.streaming import StreamState
from langchain_gemini_codeexec._mapping.to_gemini import messages_to_contents
from tests.support import property_test
from tests.unit.strategies import parts, usages

MODEL = "gemini-2.5-flash"
# Every finish reason of the REST enum, refusals included.
FINISH_REASONS = st.sampled_from(
    sorted(
        {"STOP", "MAX_TOKENS", "SAFETY", "RECITATION", "LANGUAGE", "OTHER", "BLOCKLIST"}
        | {"PROHIBITED_CONTENT", "SPII", "MALFORMED_FUNCTION_CALL", "IMAGE_SAFETY", "NO_IMAGE"}
        | {"IMAGE_PROHIBITED_CONTENT", "IMAGE_OTHER", "IMAGE_RECITATION", "MODEL_ARMOR"}
        | {"UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS", "ESCALATION", "CONTINUATION"}
    )
)


def _response(
    part_list: list[dict[str, Any]],
    usage: dict[str, Any] | None,
    rid: str | None,
    finish: str = "STOP",
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "candidates": [
            {"content": {"role": "model", "parts": part_list}, "finishReason": finish, "index": 0}
        ],
        "modelVersion": "gemini-2.5-flash-001",
    }
    if usage is not None:
        response["usageMetadata"] = usage
    if rid is not None:
        response["responseId"] = rid
    return response


def _sent_back(message: AIMessage) -> list[dict[str, Any]]:
    _, contents = messages_to_contents([HumanMessage("q"), message, HumanMessage("next")])
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    model_parts: list[dict[str, Any]] = contents[1]["parts"]
    return model_parts


@property_test(
    300, st.lists(parts, min_size=1, max_size=8), st.none() | st.just("resp-7"), FINISH_REASONS
)
def test_any_part_sequence_goes_back_byte_for_byte(
    part_list: list[dict[str, Any]], rid: str | None, finish: str
) -> None:
    fields = response_to_message_fields(_response(part_list, None, rid, finish), MODEL)
    message = AIMessage(**fields)
    refusal = finish in REFUSAL_FINISH_REASONS
    assert len(message.content) == len(part_list) + refusal, "one block per part, nothing dropped"
    if refusal:
        # The refusal comes last and stands for no part.
        assert message.content[-1] == {
            "type": "refusal",
            "refusal": "",
            "extras": {"finish_reason": finish},
        }
    assert json.loads(json.dumps(message.content)) == message.content, "plain JSON only"
    assert message.content_blocks == message.content
    assert _sent_back(message) == part_list


@property_test(300, st.lists(parts, min_size=1, max_size=8))
def test_every_code_result_is_linked_to_a_call(part_list: list[dict[str, Any]]) -> None:
    blocks = parts_to_blocks(part_list, Linker(response_id="r"))
    call_ids: list[str] = []
    for block in blocks:
        if block["type"] == "server_tool_call":
            call_ids.append(block["id"])
        if block["type"] == "server_tool_result":
            assert block["tool_call_id"]
            if not block.get("extras", {}).get("synthetic_id") or call_ids:
                # A result without its own id belongs to the latest code call before it.
                own = part_list[blocks.index(block)]["codeExecutionResult"].get("id")
                assert block["tool_call_id"] == (own or call_ids[-1])


def _mergeable(part: dict[str, Any]) -> str | None:
    """The kind of run a part continues when streamed (unsigned text), else None.

    Text deltas with the same unmapped part keys (e.g. `thought: false`) are one run too.
    """
    if "thoughtSignature" in part or not isinstance(part.get("text"), str):
        return None
    kind = "reasoning" if part.get("thought") is True else "text"
    rest = {k: v for k, v in part.items() if k != "text" and (k, v) != ("thought", True)}
    return kind + json.dumps(rest, sort_keys=True)


def _split(response: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
    """Cut a whole response into SSE chunks the way Gemini streams: text in deltas,
    every other part whole, usage cumulative, finishReason on the last chunk."""
    chunks: list[dict[str, Any]] = []
    for part in response["candidates"][0]["content"]["parts"]:
        if _mergeable(part) and len(part["text"]) > 1:
            cut = rng.randrange(1, len(part["text"]))
            pieces = [{**part, "text": part["text"][:cut]}, {**part, "text": part["text"][cut:]}]
        else:
            pieces = [part]
        for piece in pieces:
            chunks.append(
                {"candidates": [{"content": {"role": "model", "parts": [piece]}, "index": 0}]}
            )
    chunks.append({"candidates": [{"content": {"role": "model", "parts": []}, "index": 0}]})
    chunks[-1]["candidates"][0]["finishReason"] = response["candidates"][0]["finishReason"]
    usage = response.get("usageMetadata")
    for i, chunk in enumerate(chunks):
        chunk["modelVersion"] = response["modelVersion"]
        if "responseId" in response:
            chunk["responseId"] = response["responseId"]
        if usage is not None:
            # Running totals: the prompt count first, output growing to the final total.
            share = (i + 1) / len(chunks)
            chunk["usageMetadata"] = {
                k: (v if k == "promptTokenCount" or i == len(chunks) - 1 else int(v * share))
                for k, v in usage.items()
            }
    return chunks


def _strip_index(content: list[Any]) -> list[Any]:
    return [{k: v for k, v in b.items() if k != "index"} for b in content]


@property_test(
    300,
    st.lists(parts, min_size=1, max_size=8),
    st.none() | usages(),
    st.none() | st.just("resp-3"),
    st.randoms(use_true_random=False),
    FINISH_REASONS,
)
def test_stream_aggregate_equals_whole(
    part_list: list[dict[str, Any]],
    usage: dict[str, Any] | None,
    rid: str | None,
    rng: random.Random,
    finish: str,
) -> None:
    # Two adjacent unsigned text parts of one kind are one part once streamed (by design).
    kinds = [_mergeable(p) for p in part_list]
    assume(all(a is None or a != b for a, b in itertools.pairwise(kinds)))
    # Gemini never repeats a function call id within one answer.
    call_ids = [p["functionCall"].get("id") for p in part_list if "functionCall" in p]
    assume(len([i for i in call_ids if i]) == len({i for i in call_ids if i}))
    # Streamed text deltas are never empty except a signature-only part.
    assume(all(p.get("text") != "" for p in part_list if _mergeable(p)))
    response = _response(part_list, usage, rid, finish)
    whole = AIMessage(**response_to_message_fields(response, MODEL))
    assert (whole.content[-1]["type"] == "refusal") == (finish in REFUSAL_FINISH_REASONS)

    state = StreamState(MODEL)
    chunks = [state.chunk(c) for c in _split(response, rng)]
    state.check_complete()
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert isinstance(total, AIMessageChunk)
    assert total.chunk_position == "last"
    assert _strip_index(total.content) == whole.content
    assert total.tool_calls == whole.tool_calls
    assert total.usage_metadata == whole.usage_metadata
    assert total.response_metadata == whole.response_metadata
    # And the aggregate goes back exactly like the whole message.
    aggregated = AIMessage(
        content=_strip_index(total.content),
        response_metadata=total.response_metadata,
        tool_calls=total.tool_calls,
    )
    assert _sent_back(aggregated) == part_list
