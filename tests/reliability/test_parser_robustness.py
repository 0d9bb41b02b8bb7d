"""Parser robustness: hypothesis-generated Gemini responses and stream chunk sequences.

Random part kinds, missing and extra fields, wrong types, unknown part kinds, empty or
missing candidates, missing or odd usage: the mapping never crashes. Each response maps
to a message of plain JSON with one block per part, or raises a typed
`GeminiCodeExecutionError`; unknown parts are kept whole and sent back as they came.
The last test pushes generated responses through the real SDK and the loopback server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage

from langchain_gemini_codeexec import ChatGeminiCodeExecution
from langchain_gemini_codeexec._mapping.from_gemini import REFUSAL_FINISH_REASONS
from langchain_gemini_codeexec._mapping.streaming import StreamState
from langchain_gemini_codeexec._mapping.to_gemini import messages_to_contents
from langchain_gemini_codeexec.errors import GeminiCodeExecutionError, IncompleteResponseError
from langchain_gemini_codeexec.testing import GeminiTestServer, Reply
from tests.support import path_llm, property_test
from tests.unit.strategies import parts as good_parts

KNOWN = ("text", "executableCode", "codeExecutionResult", "inlineData", "fileData", "functionCall")

junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
field_names = st.sampled_from(
    [
        "code", "language", "id", "outcome", "output", "mimeType", "data", "fileUri",
        "name", "args", "thought", "thoughtSignature", "displayName", "partMetadata",
    ]
)  # fmt: skip
odd_payloads = st.dictionaries(field_names, junk, max_size=4)
# Keys no Gemini version sends today: they stand for part kinds of the future.
unknown_keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ", min_size=1, max_size=14)
unknown_parts = st.builds(
    lambda key, value, extra: {key: value, **extra},
    unknown_keys.filter(lambda k: k not in KNOWN and k != "thoughtSignature"),
    junk,
    st.dictionaries(st.sampled_from(["thoughtSignature", "partMetadata"]), junk, max_size=1),
)
odd_parts = st.one_of(
    good_parts,
    unknown_parts,
    st.builds(lambda kind, payload: {kind: payload}, st.sampled_from(KNOWN), junk | odd_payloads),
    st.builds(
        lambda kind, payload, extra: {kind: payload, **extra},
        st.sampled_from(KNOWN),
        odd_payloads,
        st.dictionaries(st.sampled_from(["thought", "thoughtSignature", "x"]), junk, max_size=2),
    ),
    junk,  # not even a dict
)
usage_values = st.integers(0, 10**6) | st.sampled_from(["12", "", "-1", None, 1.5, True])
usages = st.dictionaries(
    st.sampled_from(
        [
            "promptTokenCount", "candidatesTokenCount", "toolUsePromptTokenCount",
            "thoughtsTokenCount", "cachedContentTokenCount", "totalTokenCount", "newCount",
        ]
    ),
    usage_values,
    max_size=5,
)  # fmt: skip


@st.composite
def candidates(draw: st.DrawFn) -> Any:
    candidate: dict[str, Any] = {}
    content = draw(st.sampled_from(["parts", "empty", "missing", "junk", "no-parts-key"]))
    if content == "parts":
        candidate["content"] = {"role": "model", "parts": draw(st.lists(odd_parts, max_size=6))}
    elif content == "empty":
        candidate["content"] = {"role": "model", "parts": []}
    elif content == "junk":
        candidate["content"] = draw(junk)
    elif content == "no-parts-key":
        candidate["content"] = {"role": "model"}
    finish = draw(st.sampled_from(["STOP", "MAX_TOKENS", "SAFETY", None, "junk"]))
    if finish == "junk":
        candidate["finishReason"] = draw(junk)
    elif finish is not None:
        candidate["finishReason"] = finish
    if draw(st.booleans()):
        candidate["safetyRatings"] = draw(junk)
    candidate.update(draw(st.dictionaries(st.sampled_from(["index", "futureField"]), junk)))
    return candidate


@st.composite
def responses(draw: st.DrawFn) -> dict[str, Any]:
    response: dict[str, Any] = {}
    kind = draw(st.sampled_from(["one", "one", "several", "empty", "missing", "junk"]))
    if kind in ("one", "several"):
        response["candidates"] = draw(st.lists(candidates(), min_size=1, max_size=2))
    elif kind == "empty":
        response["candidates"] = []
    elif kind == "junk":
        response["candidates"] = draw(junk)
    if draw(st.booleans()):
        response["usageMetadata"] = draw(usages | junk)
    if draw(st.integers(0, 4)) == 0:
        response["promptFeedback"] = draw(
            st.fixed_dictionaries({"blockReason": st.sampled_from(["SAFETY", "OTHER", ""])}) | junk
        )
    for key in ("modelVersion", "responseId"):
        if draw(st.booleans()):
            response[key] = draw(st.text(min_size=1, max_size=10) | junk)
    response.update(draw(st.dictionaries(st.sampled_from(["createTime", "futureTop"]), junk)))
    return response


def _parts_of(response: dict[str, Any]) -> list[Any] | None:
    candidates = response.get("candidates")
    if not isinstance(candidates, list) or not candidates or not isinstance(candidates[0], dict):
        return None
    content = candidates[0].get("content")
    if not isinstance(content, dict) or not isinstance(content.get("parts"), list):
        return None
    return list(content["parts"])


def _plain_json(value: Any) -> None:
    assert json.loads(json.dumps(value)) == value


def _map(response: dict[str, Any]) -> AIMessage | None:
    """The invoke mapping; None when it raised a typed error."""
    try:
        result = ChatGeminiCodeExecution._result(response, "gemini-test")
    except GeminiCodeExecutionError:
        return None
    message = result.generations[0].message
    assert isinstance(message, AIMessage)
    return message


@property_test(150, responses())
def test_any_response_maps_or_raises_a_typed_error(response: dict[str, Any]) -> None:
    message = _map(response)
    parts = _parts_of(response)
    if message is None:
        # Only a prompt without candidates is refused (blocked); all else is an answer.
        assert parts is None
        return
    content = list(message.content)
    # A refusal-like finish reason adds the standard refusal block last (no part).
    finish = message.response_metadata.get("finish_reason")
    if isinstance(finish, str) and finish in REFUSAL_FINISH_REASONS:
        last = content.pop()
        assert isinstance(last, dict) and last["type"] == "refusal"
        assert last["extras"]["finish_reason"] == finish
    assert len(content) == len(parts or [])
    _plain_json(message.content)
    _plain_json(message.response_metadata)
    _plain_json(message.tool_calls)
    assert message.response_metadata["output_version"] == "v1"
    for block, part in zip(content, parts or [], strict=True):
        assert isinstance(block, dict) and isinstance(block.get("type"), str)
        if block["type"] == "non_standard":
            assert block["value"] == part  # kept whole


@property_test(150, st.lists(odd_parts, min_size=1, max_size=8))
def test_unknown_parts_are_kept_and_sent_back(parts: list[Any]) -> None:
    response = {"candidates": [{"content": {"role": "model", "parts": parts}}], "responseId": "r"}
    message = _map(response)
    assert message is not None
    unknown = [p for p in parts if isinstance(p, dict) and not set(p) & {*KNOWN}]
    for block, part in zip(message.content, parts, strict=True):
        if not isinstance(part, dict) or part in unknown:
            assert block == {"type": "non_standard", "value": part}
    try:
        _, contents = messages_to_contents([HumanMessage("q"), message, HumanMessage("and?")])
    except GeminiCodeExecutionError:
        return  # refused before any request, with a typed error
    sent = contents[1]["parts"] if contents[1]["role"] == "model" else []
    for part in unknown:
        assert part in sent  # sent back exactly as it came


@property_test(
    150, st.lists(st.lists(good_parts | unknown_parts, max_size=3), min_size=1, max_size=5)
)
def test_well_formed_and_unknown_parts_round_trip_exactly(chunks: list[list[Any]]) -> None:
    parts = [p for chunk in chunks for p in chunk]
    response = {"candidates": [{"content": {"role": "model", "parts": parts}}], "responseId": "r"}
    message = _map(response)
    assert message is not None
    if not parts:
        return
    _, contents = messages_to_contents([HumanMessage("q"), message])
    assert contents[1] == {"role": "model", "parts": parts}


@property_test(150, st.lists(responses(), min_size=1, max_size=6))
def test_any_chunk_sequence_streams_or_raises_a_typed_error(chunks: list[dict[str, Any]]) -> None:
    state = StreamState("gemini-test")
    received: list[AIMessageChunk] = []
    try:
        for chunk in chunks:
            received.append(state.chunk(chunk))
        state.check_complete()
    except IncompleteResponseError as exc:
        # Raised exactly when no finishReason came, or when a candidate's content or parts
        # have the wrong JSON type (a malformed answer never passes as an empty one).
        assert not state.finished or "malformed" in str(exc)
    except GeminiCodeExecutionError:
        pass
    else:
        assert state.finished
        assert sum(c.chunk_position == "last" for c in received) == 1
    for chunk in received:
        _plain_json(chunk.content)
        _plain_json(chunk.response_metadata)
    if received:
        total = received[0]
        for chunk in received[1:]:
            total = total + chunk  # LangChain's merge of our chunks must not fail
        assert isinstance(total, AIMessageChunk)


@pytest.fixture(scope="module")
def sdk_server() -> Iterator[GeminiTestServer]:
    with GeminiTestServer() as server:
        yield server


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(responses(), st.sampled_from(["invoke", "stream"]))
def test_generated_responses_through_the_real_sdk(
    sdk_server: GeminiTestServer, response: dict[str, Any], mode: str
) -> None:
    sdk_server.clear()
    llm = path_llm(sdk_server.base_url, max_retries=0)
    sdk_server.enqueue(Reply.json(response) if mode == "invoke" else Reply.stream([response]))
    try:
        if mode == "invoke":
            message = llm.invoke("hi")
            _plain_json(message.content)
        else:
            for chunk in llm.stream("hi"):
                _plain_json(chunk.content)
    except GeminiCodeExecutionError:
        pass
    assert len(sdk_server.model_requests) == 1
