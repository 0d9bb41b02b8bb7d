"""Refusals are LangChain's standard refusal (docs/contract.md, sections 1, 2.2 and 5).

A candidate Gemini stopped as a refusal ends with a `refusal` block after the parts that
arrived, in every call mode; a blocked prompt raises `BlockedPromptError`, a
`ModelRefusalError`; structured output raises `ModelRefusalError` instead of a parsing
error; the refusal goes back to Gemini as exactly the parts Gemini sent.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from langchain_core.exceptions import ModelRefusalError, OutputParserException
from langchain_core.messages import AIMessage, HumanMessage
from pydantic import BaseModel

from langchain_gemini_codeexec import BlockedPromptError, GeminiCodeExecutionError
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    Reply,
    blocked,
    code,
    refused,
    result,
    safety_rating,
    stream_chunks,
    text,
)
from tests.support import CALL_MODES, call_in_mode, strip_index

RATING = safety_rating("HARM_CATEGORY_HARASSMENT", "HIGH")
PARTIAL = refused(
    text("Here is the start of "),
    code("print('half')", id="h1"),
    result("half\n", id="h1"),
    text("the answer ü"),
    reason="SAFETY",
    message="Stopped: the answer may be unsafe.",
    safety_ratings=[RATING],
    response_id="resp-refused",
)


class Stats(BaseModel):
    mean: float
    count: int


def script(server: GeminiTestServer, streamed: bool, resp: dict[str, Any]) -> None:
    server.enqueue(Reply.stream(stream_chunks(resp)) if streamed else resp)


@pytest.mark.parametrize(
    ("reason", "ratings"),
    [
        ("SAFETY", [RATING]),
        ("RECITATION", None),
        ("PROHIBITED_CONTENT", None),
        ("BLOCKLIST", None),
        ("SPII", None),
        ("IMAGE_SAFETY", [safety_rating("HARM_CATEGORY_SEXUALLY_EXPLICIT")]),
    ],
)
async def test_refusal_block_after_the_partial_parts(
    server: GeminiTestServer, ask: Any, reason: str, ratings: Any
) -> None:
    resp = copy.deepcopy(PARTIAL)
    candidate = resp["candidates"][0]
    candidate["finishReason"] = reason
    candidate.pop("safetyRatings")
    if ratings is not None:
        candidate["safetyRatings"] = ratings
    script(server, ask.streamed, resp)
    msg = (await ask(ask.model(), "q")).message
    content = strip_index(msg.content)
    extras: dict[str, Any] = {"finish_reason": reason}
    if ratings is not None:
        extras["safety_ratings"] = ratings
    # The partial answer stays as it came, the refusal follows it: invoke and the added-up
    # stream give the same blocks.
    assert [b["type"] for b in content] == [
        "text",
        "server_tool_call",
        "server_tool_result",
        "text",
        "refusal",
    ]
    assert content[-1] == {
        "type": "refusal",
        "refusal": "Stopped: the answer may be unsafe.",
        "extras": extras,
    }
    assert msg.text == "Here is the start of the answer ü"
    assert msg.content_blocks[-1]["type"] == "refusal"
    assert msg.response_metadata["finish_reason"] == reason


@pytest.mark.parametrize("reason", ["STOP", "MAX_TOKENS", "OTHER", "MALFORMED_FUNCTION_CALL"])
async def test_other_stops_are_not_refusals(
    server: GeminiTestServer, ask: Any, reason: str
) -> None:
    resp = copy.deepcopy(PARTIAL)
    resp["candidates"][0]["finishReason"] = reason
    script(server, ask.streamed, resp)
    msg = (await ask(ask.model(), "q")).message
    assert "refusal" not in [b["type"] for b in msg.content_blocks]


async def test_streamed_refusal_comes_on_the_last_chunk(server: GeminiTestServer, ask: Any) -> None:
    if not ask.streamed:
        pytest.skip("streaming only")
    script(server, True, PARTIAL)
    answer = await ask(ask.model(), "q")
    *before, last = answer.chunks
    assert all(b["type"] != "refusal" for c in before for b in c.content_blocks)
    assert last.chunk_position == "last"
    assert last.content_blocks[-1]["type"] == "refusal"
    indexes = [b["index"] for c in answer.chunks for b in c.content]
    assert last.content[-1]["index"] == max(indexes)


async def test_refusal_round_trip_sends_exactly_what_gemini_sent(
    server: GeminiTestServer, ask: Any
) -> None:
    script(server, ask.streamed, PARTIAL)
    llm = ask.model()
    msg = (await ask(llm, "q")).message
    server.enqueue(Reply.json(refused(text("fine"), reason="STOP")))
    llm.invoke([HumanMessage("q"), msg, HumanMessage("and now?")])
    model_turn = server.last_request.body["contents"][1]
    # The parts as Gemini sent them (streamed text deltas add up to the same parts); the
    # refusal block itself stands for no part.
    sent_parts = PARTIAL["candidates"][0]["content"]["parts"]
    assert model_turn == {"role": "model", "parts": sent_parts}


async def test_saved_refusal_replays_the_same(server: GeminiTestServer, llm: Any) -> None:
    """A refusal saved as JSON and loaded again still sends only Gemini's parts."""
    server.enqueue(PARTIAL)
    msg = llm.invoke("q")
    loaded = AIMessage.model_validate_json(msg.model_dump_json())
    server.enqueue(Reply.json(refused(text("ok"), reason="STOP")))
    llm.invoke([HumanMessage("q"), loaded, HumanMessage("next")])
    assert (
        server.last_request.body["contents"][1]["parts"]
        == (PARTIAL["candidates"][0]["content"]["parts"])
    )


async def test_a_lone_refusal_sends_no_model_turn(server: GeminiTestServer, llm: Any) -> None:
    """A refusal with no parts stands for no part: the model turn is left out, as Gemini
    refuses an empty one (400)."""
    server.enqueue(refused())
    msg = llm.invoke("q")
    assert [b["type"] for b in msg.content] == ["refusal"]
    server.enqueue(Reply.json(refused(text("ok"), reason="STOP")))
    llm.invoke([HumanMessage("q"), msg, HumanMessage("rephrased")])
    assert [c["role"] for c in server.last_request.body["contents"]] == ["user", "user"]


async def test_another_providers_refusal_goes_as_text(server: GeminiTestServer, llm: Any) -> None:
    openai = AIMessage(
        content=[{"type": "refusal", "refusal": "I can't help with that."}],
        response_metadata={"model_provider": "openai", "output_version": "v1"},
    )
    silent = AIMessage(
        content=[{"type": "refusal", "refusal": "", "extras": {"category": "cyber"}}],
        response_metadata={"model_provider": "anthropic", "output_version": "v1"},
    )
    server.enqueue(Reply.json(refused(text("ok"), reason="STOP")))
    llm.invoke([HumanMessage("a"), openai, HumanMessage("b"), silent, HumanMessage("c")])
    assert server.last_request.body["contents"] == [
        {"role": "user", "parts": [{"text": "a"}]},
        {"role": "model", "parts": [{"text": "I can't help with that."}]},
        {"role": "user", "parts": [{"text": "b"}]},
        {"role": "user", "parts": [{"text": "c"}]},
    ]


# ------------------------------------------------------------------ blocked prompts


async def test_blocked_prompt_is_a_model_refusal_error(server: GeminiTestServer, ask: Any) -> None:
    body = blocked("PROHIBITED_CONTENT", message="Blocked by policy.", safety_ratings=[RATING])
    server.enqueue(Reply.stream([body]) if ask.streamed else body)
    with pytest.raises(ModelRefusalError) as caught:
        await ask.raises(ask.model(), "something bad")
    err = caught.value
    assert isinstance(err, BlockedPromptError)
    assert isinstance(err, GeminiCodeExecutionError)
    assert err.reason == "PROHIBITED_CONTENT"
    assert err.is_retryable is False
    raw = err.raw_message
    assert isinstance(raw, AIMessage)
    assert raw.content_blocks == [
        {
            "type": "refusal",
            "refusal": "Blocked by policy.",
            "extras": {"block_reason": "PROHIBITED_CONTENT", "safety_ratings": [RATING]},
        }
    ]
    assert raw.response_metadata["prompt_feedback"] == body["promptFeedback"]
    assert raw.usage_metadata is not None and raw.usage_metadata["input_tokens"] == 10


# ------------------------------------------------------------------ structured output


@pytest.mark.parametrize("mode", CALL_MODES)
@pytest.mark.parametrize("method", ["json_schema", "json_mode", "function_calling"])
async def test_structured_output_raises_model_refusal_error(
    server: GeminiTestServer, make_llm: Any, mode: str, method: str
) -> None:
    resp = refused(text('{"mean": 2'), reason="RECITATION", message="Recited a source.")
    script(server, "stream" in mode, resp)
    chain = make_llm(model="gemini-3-flash-preview").with_structured_output(Stats, method=method)
    with pytest.raises(ModelRefusalError) as caught:
        await call_in_mode(chain, "stats?", mode)
    assert not isinstance(caught.value, OutputParserException)
    assert "RECITATION" in str(caught.value) and "Recited a source." in str(caught.value)
    raw = caught.value.raw_message
    assert raw is not None and raw.content_blocks[-1]["type"] == "refusal"


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
async def test_structured_output_include_raw_returns_the_refusal(
    server: GeminiTestServer, make_llm: Any, mode: str
) -> None:
    server.enqueue(refused(reason="SAFETY"))
    chain = make_llm(model="gemini-3-flash-preview").with_structured_output(Stats, include_raw=True)
    out = await call_in_mode(chain, "stats?", mode)
    assert out["parsed"] is None
    assert isinstance(out["parsing_error"], ModelRefusalError)
    assert out["raw"].content_blocks[-1]["type"] == "refusal"


@pytest.mark.parametrize("mode", CALL_MODES)
async def test_two_step_refused_computation_is_not_formatted(
    server: GeminiTestServer, make_llm: Any, mode: str
) -> None:
    script(server, "stream" in mode, refused(text("Let me"), reason="SAFETY"))
    chain = make_llm(model="gemini-2.5-flash").with_structured_output(Stats)
    with pytest.raises(ModelRefusalError, match="SAFETY"):
        await call_in_mode(chain, "stats?", mode)
    assert len(server.model_requests) == 1  # no formatting call for a refusal


async def test_two_step_include_raw_returns_the_refusal(
    server: GeminiTestServer, make_llm: Any
) -> None:
    server.enqueue(refused(reason="PROHIBITED_CONTENT"))
    chain = make_llm(model="gemini-2.5-flash").with_structured_output(Stats, include_raw=True)
    out = await chain.ainvoke("stats?")
    assert out["parsed"] is None
    assert isinstance(out["parsing_error"], ModelRefusalError)
    assert out["raw"] is out["computation"]
    assert len(server.model_requests) == 1


@pytest.mark.parametrize("reason", ["SAFETY", "PROHIBITED_CONTENT", "RECITATION", "SPII"])
def test_refusals_not_behind_langchain_google_genai(
    server: GeminiTestServer, llm: Any, reason: str
) -> None:
    """Every finish reason ChatGoogleGenerativeAI (4.x) reports as a refusal, ours does too,
    with the same `finish_reason` in extras (and more reasons besides)."""
    from langchain_google_genai import ChatGoogleGenerativeAI

    theirs_llm = ChatGoogleGenerativeAI(
        model="gemini-2.5-flash",
        google_api_key="test-key",
        base_url=server.base_url,
        output_version="v1",
    )
    resp = refused(text("Partial"), reason=reason)
    server.enqueue(resp, resp)
    theirs = [b for b in theirs_llm.invoke("q").content_blocks if b["type"] == "refusal"]
    ours = [b for b in llm.invoke("q").content_blocks if b["type"] == "refusal"]
    assert len(ours) == 1 and ours[0]["extras"]["finish_reason"] == reason
    for block in theirs:
        assert block["extras"]["finish_reason"] == ours[0]["extras"]["finish_reason"]
    assert theirs or reason in ("RECITATION", "SPII")  # reasons only we report
