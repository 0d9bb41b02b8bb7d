"""Our histories out, to the next model: a conversation made by ChatGeminiCodeExecution
(through the real SDK, every call mode), made portable, gives ChatOpenAI (Chat
Completions and Responses) and ChatAnthropic payloads that their SDKs' request types
accept, with every code, output and chart of it; the raw history does not.

The payloads are built offline by the integrations' own `_get_request_payload`.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from langchain_gemini_codeexec.portable import IMAGES_INTRO, portable_message, portable_messages
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    code,
    function_call,
    grounded,
    image,
    response,
    result,
    text,
    web_source,
)
from tests.interop.conftest import TARGETS, Providers, load_providers
from tests.interop.sdk_types import check, errors
from tests.support import property_test

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"chart-one" + b"\0" * 8).decode()
JPEG = base64.b64encode(b"\xff\xd8\xff\xe0" + b"chart-two" + b"\0" * 8).decode()
CODE_1 = "import statistics\nprint(statistics.mean([4, 6, 8]))\n"
CODE_2 = "print(1/0)  # ``` a fence inside the code\n"
OUTPUT_1 = "6\n"
OUTPUT_2 = "ZeroDivisionError: division by zero\n"


def code_answer() -> dict[str, Any]:
    return response(
        text("Let me think.", thought=True, signature="c2ln"),
        text("I'll compute "),
        text("it."),
        code(CODE_1),
        result(OUTPUT_1),
        image(PNG),
        code(CODE_2),
        result(OUTPUT_2, outcome="OUTCOME_FAILED"),
        image(JPEG, "image/jpeg"),
        text("The mean is 6."),
        function_call("save_result", {"value": 6}, id="fc_1"),
        response_id="rAbC123",
        model_version="gemini-3-flash-preview",
    )


async def gemini_history(server: GeminiTestServer, ask: Any) -> list[BaseMessage]:
    """A conversation as an agent holds it: a code run with charts and a function call,
    its tool result, and the user's next question."""
    server.enqueue(code_answer())
    answer = await ask(ask.model(model="gemini-3-flash-preview"), "Mean of 4, 6, 8?")
    ai = answer.message
    (call,) = ai.tool_calls
    return [
        HumanMessage("Mean of 4, 6, 8?"),
        ai,
        ToolMessage("saved", tool_call_id=call["id"]),
        HumanMessage("Now plot it in red."),
    ]


def everything_is_kept(payload: dict[str, Any]) -> None:
    dumped = json.dumps(payload)
    for needle in (CODE_1, CODE_2, OUTPUT_1, OUTPUT_2, PNG, JPEG, "I'll compute it."):
        assert json.dumps(needle)[1:-1] in dumped, needle
    assert "The mean is 6." in dumped and "OUTCOME_FAILED" in dumped
    assert "save_result" in dumped and "saved" in dumped


@pytest.mark.parametrize("target", TARGETS)
async def test_portable_history_validates_and_keeps_everything(
    target: str, server: GeminiTestServer, ask: Any, providers: Providers
) -> None:
    history = await gemini_history(server, ask)
    model, request_type = providers.model(target), providers.request_types[target]
    raw_errors = errors(model._get_request_payload(history), request_type)
    assert raw_errors, "the raw history should not fit the SDK's request type"
    payload = model._get_request_payload(portable_messages(history))
    check(payload, request_type)
    everything_is_kept(payload)


def test_the_images_come_after_the_tool_results() -> None:
    ai = AIMessage(
        content=[
            {"type": "text", "text": "Drawn."},
            {"type": "image", "base64": PNG, "mime_type": "image/png", "extras": {"x": 1}},
            {"type": "tool_call", "name": "f", "args": {}, "id": "c1"},
            {"type": "tool_call", "name": "g", "args": {}, "id": "c2"},
        ],
        tool_calls=[{"name": "f", "args": {}, "id": "c1"}, {"name": "g", "args": {}, "id": "c2"}],
        response_metadata={"model_provider": "google_genai", "integration": "x"},
    )
    history = [
        HumanMessage("q"),
        ai,
        ToolMessage("1", tool_call_id="c1"),
        ToolMessage("2", tool_call_id="c2"),
        HumanMessage("next"),
    ]
    out = portable_messages(history)
    kinds = [type(m).__name__ for m in out]
    assert kinds == [
        "HumanMessage", "AIMessage", "ToolMessage", "ToolMessage", "HumanMessage", "HumanMessage"
    ]  # fmt: skip
    assert out[1].content == "Drawn.\n\n[image 1 of this answer: attached to the next message]"
    assert out[1].tool_calls == ai.tool_calls and out[1].id == ai.id
    assert "model_provider" not in out[1].response_metadata
    assert out[4].content == [
        {"type": "text", "text": IMAGES_INTRO},
        {"type": "image", "base64": PNG, "mime_type": "image/png"},
    ]
    assert history[1] is ai and ai.content[1]["extras"] == {"x": 1}  # type: ignore[index]


def test_other_messages_are_left_alone() -> None:
    claude = AIMessage(
        [{"type": "text", "text": "hi"}], response_metadata={"model_provider": "anthropic"}
    )
    plain = AIMessage("just text", response_metadata={"model_provider": "google_genai"})
    for message in (claude, plain):
        assert portable_message(message) == (message, None)
    history: list[BaseMessage] = [HumanMessage("q"), claude, HumanMessage("r"), plain]
    assert portable_messages(history) == history


def test_langchain_google_genai_v0_blocks_are_made_portable() -> None:
    ai = AIMessage(
        content=[
            {"type": "executable_code", "executable_code": CODE_1, "language": "PYTHON"},
            {"type": "code_execution_result", "code_execution_result": OUTPUT_1, "outcome": 1},
            {"type": "text", "text": "6"},
        ],
        response_metadata={"model_provider": "google_genai"},
    )
    rewritten, images = portable_message(ai)
    assert images is None
    assert rewritten.content == (
        f"Code run:\n```python\n{CODE_1}```\n\nOutput:\n```\n{OUTPUT_1}```\n\n6"
    )


# Every code point but the surrogates (Cs): what codec="utf-8" allows, without hypothesis
# scanning all of Unicode through the codec in each fresh checkout and xdist worker (~3 s).
_TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=30)
_BLOCK = st.one_of(
    st.builds(lambda t: {"type": "text", "text": t}, _TEXT),
    st.builds(lambda t: {"type": "reasoning", "reasoning": t}, _TEXT),
    st.builds(
        lambda c, i: {"type": "server_tool_call", "name": "code_interpreter", "id": f"k{i}",
                      "args": {"code": c, "language": "python"}},
        _TEXT, st.integers(0, 3),
    ),
    st.builds(
        lambda o, i, ok: {"type": "server_tool_result", "tool_call_id": f"k{i}",
                          "status": "success" if ok else "error", "output": o,
                          "extras": {"block_type": "code_execution_result",
                                     "outcome": "OUTCOME_OK" if ok else "OUTCOME_FAILED"}},
        _TEXT, st.integers(0, 3), st.booleans(),
    ),
    st.builds(
        lambda n: {"type": "image", "base64": base64.b64encode(b"\x89PNG" + bytes([n])).decode(),
                   "mime_type": "image/png"},
        st.integers(0, 255),
    ),
    st.builds(lambda v: {"type": "non_standard", "value": {"toolCall": {"n": v}}}, _TEXT),
)  # fmt: skip


@property_test(200, st.lists(_BLOCK, max_size=8), st.sampled_from(TARGETS))
def test_any_gemini_answer_fits_and_loses_nothing(blocks: list[Any], target: str) -> None:
    ai = AIMessage(content=blocks, response_metadata={"model_provider": "google_genai"})
    history = [HumanMessage("q"), ai, HumanMessage("next")]
    model, request_type = load_providers().model(target), load_providers().request_types[target]
    payload = model._get_request_payload(portable_messages(history))
    check(payload, request_type)
    dumped = json.dumps(payload)
    for block in blocks:
        kept = {
            "text": lambda b: b["text"],
            "server_tool_call": lambda b: b["args"]["code"],
            "server_tool_result": lambda b: b["output"],
            "image": lambda b: b["base64"],
            "non_standard": lambda b: b["value"]["toolCall"]["n"],
        }.get(block["type"])
        if kept is not None and kept(block).strip():
            needle = kept(block)
            if block["type"] == "non_standard":  # rendered as JSON inside the text
                needle = json.dumps(needle, ensure_ascii=False)[1:-1]
            assert json.dumps(needle)[1:-1] in dumped, block


@pytest.mark.parametrize("target", TARGETS)
async def test_a_grounded_answer_keeps_its_sources(
    target: str, server: GeminiTestServer, ask: Any, providers: Providers
) -> None:
    """Citations are Gemini's annotations; the next model gets the sources as text."""
    answer_text = "Pi is about 3.14159."
    server.enqueue(
        grounded(
            code("print(3.14159)"),
            result("3.14159\n"),
            text(answer_text),
            supports=[("about 3.14159", [0, 1])],
            sources=[
                web_source("https://pi.example/digits", "Digits of pi"),
                web_source("https://math.example/pi"),
            ],
            model_version="gemini-3-flash-preview",
        )
    )
    llm = ask.model(model="gemini-3-flash-preview")
    message = (await ask(llm, "pi?")).message
    assert any(b.get("annotations") for b in message.content if isinstance(b, dict))
    history = [HumanMessage("pi?"), message, HumanMessage("more digits?")]
    portable = portable_messages(history)
    assert portable[1].content.endswith(
        "Sources:\n- Digits of pi: https://pi.example/digits\n- https://math.example/pi"
    )
    payload = providers.model(target)._get_request_payload(portable)
    check(payload, providers.request_types[target])
    assert "https://pi.example/digits" in json.dumps(payload)
