"""Function calls out (tool_calls, ids, signatures, streaming) and ToolMessages back."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from langchain_gemini_codeexec import GeminiAPIError, InvalidMessageError
from langchain_gemini_codeexec._mapping.to_gemini import SKIP_SIGNATURE
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    Reply,
    function_call,
    response,
    stream_chunks,
    text,
)
from tests.support import CALL_MODES, GEMINI_3, GEMINI_25, MakeLLM, call_in_mode

SIG_A = base64.b64encode(b"signature-of-call-a").decode()
SIG_TEXT = base64.b64encode(b"signature-of-text").decode()


@tool
def get_weather(location: str) -> str:
    """Get the weather at a location."""
    return "It's sunny."


@tool
def get_time(city: str) -> str:
    """Get the local time in a city."""
    return "12:00"


def parallel_answer(model: str = GEMINI_3, ids: bool = True) -> dict[str, Any]:
    return response(
        text("Checking both.", signature=SIG_TEXT),
        function_call(
            "get_weather", {"location": "Paris"}, id="fc-1" if ids else None, signature=SIG_A
        ),
        function_call("get_time", {"city": "Paris"}, id="fc-2" if ids else None),
        model_version=model,
        response_id="resp-par",
    )


def enqueue(server: GeminiTestServer, answer: dict[str, Any], mode: str) -> None:
    server.enqueue(Reply.stream(stream_chunks(answer)) if "stream" in mode else answer)


@pytest.mark.parametrize("mode", CALL_MODES)
async def test_parallel_calls_keep_ids_and_signatures_in_every_mode(
    server: GeminiTestServer, make_llm: MakeLLM, mode: str
) -> None:
    enqueue(server, parallel_answer(), mode)
    llm = make_llm().bind_tools([get_weather, get_time])
    message = await call_in_mode(llm, "Weather and time in Paris?", mode)
    assert message.tool_calls == [
        {"type": "tool_call", "id": "fc-1", "name": "get_weather", "args": {"location": "Paris"}},
        {"type": "tool_call", "id": "fc-2", "name": "get_time", "args": {"city": "Paris"}},
    ]
    assert message.content == [
        {"type": "text", "text": "Checking both.", "extras": {"signature": SIG_TEXT}},
        {
            "type": "tool_call",
            "id": "fc-1",
            "name": "get_weather",
            "args": {"location": "Paris"},
            "extras": {"signature": SIG_A},
        },
        {"type": "tool_call", "id": "fc-2", "name": "get_time", "args": {"city": "Paris"}},
    ]
    # The same calls, answered, go back exactly as they came.
    answers = [get_weather.invoke(message.tool_calls[0]), get_time.invoke(message.tool_calls[1])]
    await call_in_mode(llm, [HumanMessage("Weather and time in Paris?"), message, *answers], mode)
    contents = server.last_request.contents
    assert contents[1] == {
        "role": "model",
        "parts": parallel_answer()["candidates"][0]["content"]["parts"],
    }
    assert contents[2] == {
        "role": "user",
        "parts": [
            {
                "functionResponse": {
                    "id": "fc-1",
                    "name": "get_weather",
                    "response": {"output": "It's sunny."},
                }
            },
            {
                "functionResponse": {
                    "id": "fc-2",
                    "name": "get_time",
                    "response": {"output": "12:00"},
                }
            },
        ],
    }


@pytest.mark.parametrize("mode", ["stream", "astream"])
async def test_streamed_calls_arrive_as_tool_call_chunks(
    server: GeminiTestServer, make_llm: MakeLLM, mode: str
) -> None:
    enqueue(server, parallel_answer(), mode)
    llm = make_llm().bind_tools([get_weather, get_time])
    chunks = (
        list(llm.stream("Weather and time?"))
        if mode == "stream"
        else [c async for c in llm.astream("Weather and time?")]
    )
    call_chunks = [c for chunk in chunks for c in chunk.tool_call_chunks]
    assert [(c["id"], c["name"], json.loads(c["args"] or "{}")) for c in call_chunks] == [
        ("fc-1", "get_weather", {"location": "Paris"}),
        ("fc-2", "get_time", {"city": "Paris"}),
    ]
    assert len({c["index"] for c in call_chunks}) == 2  # parallel calls never merge
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert [c["id"] for c in total.tool_calls] == ["fc-1", "fc-2"]
    assert total.invalid_tool_calls == []


@pytest.mark.parametrize("mode", CALL_MODES)
async def test_gemini_2_calls_without_ids_get_deterministic_ids_never_sent_back(
    server: GeminiTestServer, make_llm: MakeLLM, mode: str
) -> None:
    answer = parallel_answer(GEMINI_25, ids=False)
    enqueue(server, answer, mode)
    llm = make_llm(model=GEMINI_25, code_execution=False).bind_tools([get_weather, get_time])
    message = await call_in_mode(llm, "Weather and time?", mode)
    assert [c["id"] for c in message.tool_calls] == ["resp-par_call_0", "resp-par_call_1"]
    answers = [ToolMessage("sunny", tool_call_id=c["id"]) for c in message.tool_calls]
    await call_in_mode(llm, [HumanMessage("Weather and time?"), message, *answers], mode)
    contents = server.last_request.contents
    assert contents[1]["parts"] == answer["candidates"][0]["content"]["parts"]
    assert contents[2]["parts"] == [
        {"functionResponse": {"name": "get_weather", "response": {"output": "sunny"}}},
        {"functionResponse": {"name": "get_time", "response": {"output": "sunny"}}},
    ]


def test_a_changed_call_is_caught_by_its_signature(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    """ScriptedGemini signs each call like Gemini 3: a call altered on the way is refused."""
    llm = make_llm().bind_tools([get_weather])
    question = HumanMessage("What is the weather in Paris?")
    message = llm.invoke([question])
    reply = get_weather.invoke(message.tool_calls[0])
    assert llm.invoke([question, message, reply]).text.startswith("The tool answered")
    changed = message.model_copy(deep=True)
    changed.content[0]["args"] = {"location": "Rome"}  # type: ignore[index]
    changed.tool_calls[0]["args"] = {"location": "Rome"}
    with pytest.raises(GeminiAPIError, match="Thought signature is not valid"):
        llm.invoke([question, changed, reply])


# --- calls Gemini did not make ------------------------------------------------------------


def foreign_history(content: Any = "") -> list[Any]:
    return [
        HumanMessage("What is the weather in Paris?"),
        AIMessage(
            content,
            tool_calls=[{"name": "get_weather", "args": {"location": "Paris"}, "id": "abc123"}],
        ),
        ToolMessage("sunny", name="get_weather", tool_call_id="abc123"),
    ]


def test_foreign_call_ids_are_not_sent_and_gemini_3_gets_the_skip_signature(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    make_llm().bind_tools([get_weather]).invoke(foreign_history())
    contents = server.last_request.contents
    assert contents[1]["parts"] == [
        {
            "functionCall": {"name": "get_weather", "args": {"location": "Paris"}},
            "thoughtSignature": SKIP_SIGNATURE,
        }
    ]
    assert contents[2]["parts"] == [
        {"functionResponse": {"name": "get_weather", "response": {"output": "sunny"}}}
    ]


def test_gemini_2_gets_no_skip_signature(server: GeminiTestServer, make_llm: MakeLLM) -> None:
    llm = make_llm(model=GEMINI_25, code_execution=False).bind_tools([get_weather])
    llm.invoke(foreign_history())
    assert server.last_request.contents[1]["parts"] == [
        {"functionCall": {"name": "get_weather", "args": {"location": "Paris"}}}
    ]


def test_skip_signature_only_in_the_current_turn(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    history = [*foreign_history(), AIMessage("It is sunny."), HumanMessage("And tomorrow?")]
    make_llm().bind_tools([get_weather]).invoke(history)
    call = server.last_request.contents[1]["parts"][0]
    assert "thoughtSignature" not in call


def test_anthropic_tool_use_blocks_become_one_call(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    content = [
        {"type": "text", "text": "some text"},
        {"type": "tool_use", "id": "abc123", "name": "get_weather", "input": {"location": "Paris"}},
    ]
    make_llm().bind_tools([get_weather]).invoke(foreign_history(content))
    assert server.last_request.contents[1]["parts"] == [
        {"text": "some text"},
        {
            "functionCall": {"name": "get_weather", "args": {"location": "Paris"}},
            "thoughtSignature": SKIP_SIGNATURE,
        },
    ]


# --- ToolMessages become functionResponse parts --------------------------------------------

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nfake-image").decode()


@pytest.mark.parametrize(
    ("tool_message", "expected"),
    [
        (ToolMessage("It's sunny.", tool_call_id="fc-1"), {"response": {"output": "It's sunny."}}),
        (
            ToolMessage('{"temp": 21, "sky": "clear"}', tool_call_id="fc-1"),
            {"response": {"temp": 21, "sky": "clear"}},
        ),
        (ToolMessage("[1, 2, 3]", tool_call_id="fc-1"), {"response": {"output": [1, 2, 3]}}),
        (ToolMessage("21", tool_call_id="fc-1"), {"response": {"output": 21}}),
        (
            ToolMessage([{"type": "text", "text": "sun"}, "ny"], tool_call_id="fc-1"),
            {"response": {"output": "sunny"}},
        ),
        (
            ToolMessage(
                [
                    {"type": "text", "text": "a chart"},
                    {"type": "image", "base64": PNG, "mime_type": "image/png"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                ],
                tool_call_id="fc-1",
            ),
            {
                "response": {"output": "a chart"},
                "parts": [
                    {"inlineData": {"mimeType": "image/png", "data": PNG}},
                    {"inlineData": {"mimeType": "image/png", "data": PNG}},
                ],
            },
        ),
        (
            ToolMessage("Error: city not found", tool_call_id="fc-1", status="error"),
            {"response": {"error": "Error: city not found"}},
        ),
        (
            ToolMessage([{"type": "text", "text": "boom"}], tool_call_id="fc-1", status="error"),
            {"response": {"error": "boom"}},
        ),
        (
            # The call's name is what Gemini matches on, whatever the ToolMessage says.
            ToolMessage("sunny", name="weather_tool", tool_call_id="fc-1"),
            {"response": {"output": "sunny"}},
        ),
    ],
)
def test_tool_message_variants(
    server: GeminiTestServer,
    make_llm: MakeLLM,
    tool_message: ToolMessage,
    expected: dict[str, Any],
) -> None:
    server.enqueue(parallel_answer())
    llm = make_llm().bind_tools([get_weather, get_time])
    message = llm.invoke("Weather?")
    llm.invoke(
        [HumanMessage("Weather?"), message, tool_message, get_time.invoke(message.tool_calls[1])]
    )
    parts = server.last_request.contents[2]["parts"]
    assert parts[0] == {"functionResponse": {"id": "fc-1", "name": "get_weather", **expected}}


def test_tool_message_blocks_that_cannot_be_sent_are_named(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    server.enqueue(parallel_answer())
    llm = make_llm().bind_tools([get_weather, get_time])
    message = llm.invoke("Weather?")
    bad = ToolMessage([{"type": "text", "text": "x"}, {"type": "thinking"}], tool_call_id="fc-1")
    sent = len(server.requests)
    with pytest.raises(InvalidMessageError) as info:
        llm.invoke([HumanMessage("Weather?"), message, bad])
    assert "messages[2]: content[1]: a ToolMessage block of type 'thinking'" in str(info.value)
    assert len(server.requests) == sent


def test_unanswered_calls_are_refused_like_gemini_does(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    server.enqueue(parallel_answer())
    llm = make_llm().bind_tools([get_weather, get_time])
    message = llm.invoke("Weather?")
    with pytest.raises(GeminiAPIError, match="number of function response parts"):
        llm.invoke([HumanMessage("Weather?"), message, get_weather.invoke(message.tool_calls[0])])
