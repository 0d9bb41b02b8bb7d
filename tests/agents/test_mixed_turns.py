"""Mixed turns (text, code, result, server tool call/response, function call) go back whole.

Gemini 3 with built-in and function tools returns its own tool invocations as `toolCall` /
`toolResponse` parts and expects every part of the turn back, with its ids and signatures.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

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
)
from tests.support import CALL_MODES, MakeLLM, call_in_mode

SIG_CODE = base64.b64encode(b"sig-code").decode()
SIG_TEXT = base64.b64encode(b"sig-text").decode()
SIG_CALL = base64.b64encode(b"sig-call").decode()
TOOL_CALL = {
    "toolCall": {
        "id": "srv-1",
        "toolType": "GOOGLE_SEARCH_WEB",
        "args": {"queries": ["EUR USD rate today"]},
    },
    "thoughtSignature": base64.b64encode(b"sig-search").decode(),
}
TOOL_RESPONSE = {
    "toolResponse": {
        "id": "srv-1",
        "toolType": "GOOGLE_SEARCH_WEB",
        "response": {"results": [{"title": "ECB reference rates", "snippet": "1.08"}]},
    }
}


@tool
def book_transfer(amount_usd: float, account: str) -> str:
    """Book a transfer of `amount_usd` US dollars to `account`."""
    return f"booked {amount_usd} to {account}"


def mixed_turn() -> dict[str, Any]:
    return response(
        text("Let me look up the rate and compute the amount.\n"),
        TOOL_CALL,
        TOOL_RESPONSE,
        code("print(round(1234.5 * 1.08, 2))", id="exec-1", signature=SIG_CODE),
        result("1333.26\n", id="exec-1"),
        image(b"\x89PNG\r\n\x1a\nchart"),
        text("That is 1333.26 USD.", signature=SIG_TEXT),
        function_call(
            "book_transfer",
            {"amount_usd": 1333.26, "account": "ACME-1"},
            id="fc-9",
            signature=SIG_CALL,
        ),
        model_version="gemini-3-flash-preview",
        response_id="resp-mixed",
    )


def parts_of(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return copy.deepcopy(answer["candidates"][0]["content"]["parts"])


QUESTION = "Convert 1234.50 EUR to USD at today's rate and book it to ACME-1."


@pytest.mark.parametrize("mode", CALL_MODES)
async def test_a_mixed_turn_maps_to_blocks_and_replays_exactly(
    server: GeminiTestServer, make_llm: MakeLLM, mode: str
) -> None:
    answer = mixed_turn()
    server.enqueue(Reply.stream(stream_chunks(answer)) if "stream" in mode else answer)
    llm = make_llm().bind_tools([{"google_search": {}}, book_transfer])
    message = await call_in_mode(llm, QUESTION, mode)
    assert [b["type"] for b in message.content] == [
        "text",
        "non_standard",
        "non_standard",
        "server_tool_call",
        "server_tool_result",
        "image",
        "text",
        "tool_call",
    ]
    assert message.content[1] == {"type": "non_standard", "value": TOOL_CALL}
    assert message.content[2] == {"type": "non_standard", "value": TOOL_RESPONSE}
    assert message.content[4]["tool_call_id"] == "exec-1"
    assert message.content[5]["extras"]["tool_call_id"] == "exec-1"
    assert message.tool_calls == [
        {
            "type": "tool_call",
            "id": "fc-9",
            "name": "book_transfer",
            "args": {"amount_usd": 1333.26, "account": "ACME-1"},
        }
    ]

    done = book_transfer.invoke(message.tool_calls[0])
    await call_in_mode(llm, [HumanMessage(QUESTION), message, done], mode)
    request = server.last_request
    assert request.contents[1] == {"role": "model", "parts": parts_of(mixed_turn())}
    assert request.contents[2] == {
        "role": "user",
        "parts": [
            {
                "functionResponse": {
                    "id": "fc-9",
                    "name": "book_transfer",
                    "response": {"output": "booked 1333.26 to ACME-1"},
                }
            }
        ],
    }
    assert request.body["tools"] == [
        {"codeExecution": {}},
        {"googleSearch": {}},
        {"functionDeclarations": [request.body["tools"][2]["functionDeclarations"][0]]},
    ]
    assert request.body["toolConfig"] == {"includeServerSideToolInvocations": True}


def test_a_streamed_turn_goes_back_like_an_invoked_one(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    llm = make_llm().bind_tools([{"google_search": {}}, book_transfer])
    server.enqueue(mixed_turn())
    whole = llm.invoke(QUESTION)
    server.enqueue(Reply.stream(stream_chunks(mixed_turn())))
    total = None
    for chunk in llm.stream(QUESTION):
        total = chunk if total is None else total + chunk
    assert total is not None
    for message in (whole, total):
        done = ToolMessage("ok", tool_call_id="fc-9")
        llm.invoke([HumanMessage(QUESTION), message, done])
        assert server.last_request.contents[1]["parts"] == parts_of(mixed_turn())


def test_a_langchain_agent_loop_replays_every_part(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    server.enqueue(
        mixed_turn(),
        response(text("Booked 1333.26 USD to ACME-1."), model_version="gemini-3-flash-preview"),
    )
    agent = create_agent(make_llm(), [book_transfer])
    state = agent.invoke({"messages": [HumanMessage(QUESTION)]})
    messages = state["messages"]
    assert [m.type for m in messages] == ["human", "ai", "tool", "ai"]
    assert messages[2].content == "booked 1333.26 to ACME-1"
    assert messages[3].text == "Booked 1333.26 USD to ACME-1."
    first, second = server.model_requests
    assert first.body["toolConfig"] == {"includeServerSideToolInvocations": True}
    assert second.contents[1]["parts"] == parts_of(mixed_turn())
    assert second.contents[2]["parts"][0]["functionResponse"]["id"] == "fc-9"
    assert isinstance(messages[1], AIMessage)
