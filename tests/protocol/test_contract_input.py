"""docs/contract.md section 2: history in. What the loopback server receives, checked part by part.

- Our own answers go back byte for byte: the parts the server receives in the next request
  equal the parts it sent, for invoked messages and for streamed-then-added ones.
- Messages made by the real `langchain_google_genai.ChatGoogleGenerativeAI` (v0 and v1
  output), talking to the same loopback server, are replayed into our model.
- Other providers' code-interpreter blocks become Gemini code parts without ids or
  signatures; system messages become `systemInstruction`; user media become inline or
  file data; what cannot be mapped fails before any request is sent.
"""

from __future__ import annotations

import base64
import copy
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
)
from langchain_google_genai import ChatGoogleGenerativeAI

from langchain_gemini_codeexec import ChatGeminiCodeExecution, InvalidMessageError
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    Reply,
    b64decode_any,
    code,
    function_call,
    image,
    response,
    result,
    stream_chunks,
    text,
)
from tests.support import aggregate

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(200))
PNG_B64 = base64.b64encode(PNG).decode()
SIG = base64.b64encode(b"\x12\x34thought-signature\xfe\xff").decode()
SIG2 = base64.urlsafe_b64encode(b"\xfb\xffsecond-signature\xfe").decode()
# langchain-google-genai re-encodes signatures in the standard alphabet: use one that is.
SIG3 = base64.b64encode(b"function-call-signature").decode()
TRACEBACK = 'Traceback (most recent call last):\n  File "<string>", line 1\nNameError: x\n'


def script(server: GeminiTestServer, ask: Any, resp: dict[str, Any]) -> None:
    if ask.streamed:
        server.enqueue(Reply.stream(stream_chunks(resp)))
    else:
        server.enqueue(resp)


def parts_of(resp: dict[str, Any]) -> list[dict[str, Any]]:
    return copy.deepcopy(resp["candidates"][0]["content"]["parts"])


async def send_back(
    server: GeminiTestServer, ask: Any, llm: ChatGeminiCodeExecution, history: list[Any]
) -> list[dict[str, Any]]:
    """Send a conversation; return the parts of its (last) model turn as received."""
    server.enqueue(response(text("next answer")))
    await ask(llm, history)
    return server.last_request.model_parts()


# ------------------------------------------------------------------ own messages


SCENARIOS: dict[str, dict[str, Any]] = {
    "gemini-ids-and-signatures": response(
        text("Let me think about primes.", thought=True, signature=SIG),
        text("  I'll compute it.\n"),
        code("primes = [2, 3, 5]\nprint(sum(primes))\n", id="code-a", signature=SIG2),
        result("10\n", id="code-a", signature=SIG),
        image(PNG_B64, signature=SIG2),
        text("The sum is 10.\n\n"),
        text("", signature=SIG),
        response_id="r-ids",
    ),
    "no-ids-timeouts-failures": response(
        text("Running."),
        code("while True: pass"),
        result("", outcome="OUTCOME_DEADLINE_EXCEEDED"),
        result(None, outcome="OUTCOME_DEADLINE_EXCEEDED"),
        code("undefined_name"),
        result(TRACEBACK, outcome="OUTCOME_FAILED"),
        image(PNG, "image/png"),
        text("Both runs failed."),
        response_id="r-noids",
    ),
    "unknown-kinds-and-keys": response(
        {"text": "visible", "thought": False, "partMetadata": {"a": "b"}},
        {"someNewKind": {"x": [1, {"y": None}]}},
        {"executableCode": {"code": "print(1)", "language": "PYTHON", "future": 1}},
        {"codeExecutionResult": {"output": "1\n"}},
        {"codeExecutionResult": {"outcome": "OUTCOME_UNSPECIFIED"}, "partMetadata": {"k": 2}},
        {"executableCode": {"code": "x", "language": "LANGUAGE_UNSPECIFIED", "id": "lu"}},
        {"inlineData": {"mimeType": "text/csv", "data": "YSxiCjEsMgo=", "displayName": "d"}},
        {"fileData": {"mimeType": "image/png", "fileUri": "gs://b/chart.png"}},
        {"toolCall": {"id": "t", "toolType": "GOOGLE_SEARCH_WEB", "args": {}}},
        response_id="r-unknown",
    ),
    "function-calls": response(
        text("Calling tools."),
        function_call("lookup", {"q": "primes", "n": [1, 2]}, id="fc-gemini", signature=SIG),
        function_call("other", {}),
        response_id="r-fc",
    ),
    "code-without-response-id": {
        k: v
        for k, v in response(code("print(7)", signature=SIG), result("7\n"), text("7")).items()
        if k != "responseId"
    },
}


@pytest.fixture(params=sorted(SCENARIOS))
def scenario(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    yield copy.deepcopy(SCENARIOS[request.param])


async def test_own_messages_go_back_byte_for_byte(
    server: GeminiTestServer, ask: Any, scenario: dict[str, Any]
) -> None:
    """Invoked or streamed-then-added: the parts sent back equal the parts received."""
    llm = ask.model()
    script(server, ask, scenario)
    answer = await ask(llm, "first question")
    sent = await send_back(server, ask, llm, ["first question", answer.message, "and then?"])
    assert sent == parts_of(scenario)
    req = server.last_request
    assert [c["role"] for c in req.contents] == ["user", "model", "user"]
    assert req.contents[0]["parts"] == [{"text": "first question"}]
    assert req.contents[2]["parts"] == [{"text": "and then?"}]
    if ask.streamed:
        # The added-up chunk itself (index keys and all), as a user keeps it in history.
        raw = aggregate(answer.chunks)
        sent = await send_back(server, ask, llm, ["first question", raw, "and then?"])
        assert sent == parts_of(scenario)


async def test_several_own_turns_go_back_in_order(server: GeminiTestServer, ask: Any) -> None:
    llm = ask.model()
    first = SCENARIOS["gemini-ids-and-signatures"]
    second = SCENARIOS["no-ids-timeouts-failures"]
    script(server, ask, first)
    one = (await ask(llm, "q1")).message
    script(server, ask, second)
    two = (await ask(llm, ["q1", one, "q2"])).message
    server.enqueue(response(text("3")))
    await ask(llm, [SystemMessage("sys"), HumanMessage("q1"), one, HumanMessage("q2"), two, "q3"])
    req = server.last_request
    assert req.model_parts(0) == parts_of(first)
    assert req.model_parts(1) == parts_of(second)
    assert req.body["systemInstruction"] == {"parts": [{"text": "sys"}]}


async def test_message_round_trips_through_json_and_back(
    server: GeminiTestServer, ask: Any
) -> None:
    """A message saved as JSON (dumpd/load) and loaded later still goes back exactly."""
    from langchain_core.load import dumpd, load

    llm = ask.model()
    resp = SCENARIOS["gemini-ids-and-signatures"]
    script(server, ask, resp)
    message = (await ask(llm, "q")).message
    restored = load(dumpd(message), allowed_objects="messages")
    assert restored == message
    sent = await send_back(server, ask, llm, ["q", restored, "more"])
    assert sent == parts_of(resp)


# ------------------------------------------------------------------ langchain-google-genai

LGG_RESPONSE = response(
    text("Planning the run.", thought=True, signature=SIG),
    text("Let me run it. "),
    code("print(6 * 7)\n"),
    result("42\n"),
    text("And a failing one. "),
    code("1/0"),
    result(TRACEBACK, outcome="OUTCOME_FAILED"),
    image(PNG),
    text("Done: 42."),
    function_call("record", {"value": 42}, signature=SIG3),
    response_id="r-lgg",
)
# What any replay of LGG_RESPONSE must send: code and results as Gemini code parts with
# string outcomes, the thought and the function call with their signatures, no made-up ids.
LGG_EXPECTED = [
    {"text": "Planning the run.", "thought": True, "thoughtSignature": SIG},
    {"text": "Let me run it. "},
    {"executableCode": {"code": "print(6 * 7)\n", "language": "PYTHON"}},
    {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "42\n"}},
    {"text": "And a failing one. "},
    {"executableCode": {"code": "1/0", "language": "PYTHON"}},
    {"codeExecutionResult": {"outcome": "OUTCOME_FAILED", "output": TRACEBACK}},
    {"inlineData": {"mimeType": "image/png", "data": PNG_B64}},
    {"text": "Done: 42."},
    {"functionCall": {"name": "record", "args": {"value": 42}}, "thoughtSignature": SIG3},
]


def _normalize(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Compare as Gemini reads them: the SDK (under langchain-google-genai) writes
    `inlineData.mime_type` snake_case and bytes in the URL-safe base64 alphabet."""
    out = copy.deepcopy(parts)
    for part in out:
        blob = part.get("inlineData")
        if isinstance(blob, dict) and "mime_type" in blob:
            part["inlineData"] = blob = {"mimeType": blob.pop("mime_type"), **blob}
        if isinstance(blob, dict) and "data" in blob:
            blob["data"] = base64.b64encode(b64decode_any(blob["data"])).decode()
        if "thoughtSignature" in part:
            raw = b64decode_any(part["thoughtSignature"])
            part["thoughtSignature"] = base64.b64encode(raw).decode()
    return out


def _without_lgg_call_ids(parts: list[dict[str, Any]], message: BaseMessage) -> list[Any]:
    """langchain-google-genai v1 gives a function call an id of its own; sending it is
    fine as long as it is that call's id (its ToolMessage answers with the same id)."""
    assert isinstance(message, AIMessage)
    ids = {c["id"] for c in message.tool_calls}
    out = copy.deepcopy(parts)
    for part in out:
        call = part.get("functionCall")
        if isinstance(call, dict) and "id" in call:
            assert call.pop("id") in ids
    return out


def _lgg_message(server: GeminiTestServer, output_version: str, streamed: bool) -> BaseMessage:
    lgg = ChatGoogleGenerativeAI(
        model="gemini-2.5-flash",
        google_api_key="test-key",
        base_url=server.base_url,
        output_version=output_version,
        include_thoughts=True,
    )
    before = len(server.requests)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it warns on every answer with code
        if streamed:
            server.enqueue(Reply.stream(stream_chunks(LGG_RESPONSE)))
            message: BaseMessage = aggregate(list(lgg.stream("q")))
        else:
            server.enqueue(LGG_RESPONSE)
            message = lgg.invoke("q")
    # It really talked to the loopback server.
    assert len(server.requests) == before + 1
    assert server.last_request.stream is streamed
    assert server.last_request.model == "gemini-2.5-flash"
    assert message.response_metadata.get("model_provider") == "google_genai"
    return message


def _lgg_replays_itself(server: GeminiTestServer, message: BaseMessage) -> list[dict[str, Any]]:
    lgg = ChatGoogleGenerativeAI(
        model="gemini-2.5-flash", google_api_key="test-key", base_url=server.base_url
    )
    server.enqueue(response(text("ok")))
    lgg.invoke([HumanMessage("q"), message, HumanMessage("next")])
    return _normalize(server.last_request.model_parts())


# The request body does not depend on how it is sent: one sync and two async modes.
@pytest.mark.parametrize("ask", ["invoke", "ainvoke-aiohttp", "astream-httpx2"], indirect=True)
@pytest.mark.parametrize("output_version", ["v0", "v1"])
@pytest.mark.parametrize("lgg_call", ["invoke", "stream"])
async def test_langchain_google_genai_messages_replayed(
    server: GeminiTestServer, ask: Any, output_version: str, lgg_call: str
) -> None:
    message = _lgg_message(server, output_version, lgg_call == "stream")
    llm = ask.model()
    sent = await send_back(server, ask, llm, ["q", message, "next"])
    sent = _without_lgg_call_ids(sent, message)
    if (output_version, lgg_call) == ("v1", "stream"):
        # langchain-google-genai's v1 stream gives a text delta and the code part after it
        # one index, so its added-up message merges them and puts a call after its result.
        # The order is lost there already; what it still holds must all be sent.
        key = repr
        assert sorted(map(key, _normalize(sent))) == sorted(map(key, LGG_EXPECTED))
        return
    assert _normalize(sent) == LGG_EXPECTED
    if lgg_call == "invoke":
        # The same parts langchain-google-genai itself sends for its own message.
        assert _normalize(sent) == _lgg_replays_itself(server, message)


@pytest.mark.parametrize("output_version", ["v0", "v1"])
async def test_langchain_google_genai_tool_round(
    server: GeminiTestServer, llm: ChatGeminiCodeExecution, output_version: str
) -> None:
    """A function call from langchain-google-genai and its ToolMessage go back linked."""
    from langchain_core.messages import ToolMessage

    message = _lgg_message(server, output_version, False)
    assert isinstance(message, AIMessage)
    (call,) = message.tool_calls
    tool = ToolMessage('{"stored": true}', tool_call_id=call["id"], name="record")
    server.enqueue(response(text("stored")))
    llm.invoke([HumanMessage("q"), message, tool])
    req = server.last_request
    assert req.contents[-1]["role"] == "user"
    (fr,) = req.contents[-1]["parts"]
    assert fr["functionResponse"]["name"] == "record"
    assert fr["functionResponse"]["response"] == {"stored": True}
    assert req.model_parts()[-1]["thoughtSignature"] == SIG3


# ------------------------------------------------------------------ other providers


def _openai_v1_message() -> AIMessage:
    """An OpenAI Responses answer with code interpreter, as LangChain v1 blocks."""
    raw = AIMessage(
        content=[
            {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "opaque"},
            {
                "type": "code_interpreter_call",
                "id": "ci_1",
                "code": "print(2 + 2)",
                "outputs": [{"type": "logs", "logs": "4\n"}],
                "status": "completed",
                "container_id": "cntr_1",
            },
            {
                "type": "code_interpreter_call",
                "id": "ci_2",
                "code": "1/0",
                "outputs": [{"type": "logs", "logs": "ZeroDivisionError\n"}],
                "status": "failed",
                "container_id": "cntr_1",
            },
            {"type": "text", "text": "2 + 2 = 4", "annotations": []},
        ],
        response_metadata={"model_provider": "openai", "model_name": "gpt-5"},
    )
    blocks = raw.content_blocks
    return AIMessage(
        content=blocks,  # type: ignore[arg-type]
        response_metadata={"model_provider": "openai", "output_version": "v1"},
        id="msg_openai",
    )


OPENAI_EXPECTED = [
    {"executableCode": {"code": "print(2 + 2)", "language": "PYTHON"}},
    {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "4\n"}},
    {"executableCode": {"code": "1/0", "language": "PYTHON"}},
    {"codeExecutionResult": {"outcome": "OUTCOME_FAILED", "output": "ZeroDivisionError\n"}},
    {"text": "2 + 2 = 4"},
]


async def test_openai_code_interpreter_blocks_become_code_parts(
    server: GeminiTestServer, ask: Any
) -> None:
    message = _openai_v1_message()
    # Reasoning from another model is not Gemini's to replay; drop it like a user would.
    message.content = [b for b in message.content if b["type"] != "reasoning"]  # type: ignore[index]
    sent = await send_back(server, ask, ask.model(), ["q", message, "next"])
    assert sent == OPENAI_EXPECTED


async def test_openai_native_blocks_are_read_as_v1(server: GeminiTestServer, ask: Any) -> None:
    """langchain-openai's own Responses format (`code_interpreter_call`) is accepted too."""
    native = _openai_v1_message()
    raw = AIMessage(
        content=[
            {
                "type": "code_interpreter_call",
                "id": "ci_1",
                "code": "print(2 + 2)",
                "outputs": [{"type": "logs", "logs": "4\n"}],
                "status": "completed",
                "container_id": "cntr_1",
            },
            {
                "type": "code_interpreter_call",
                "id": "ci_2",
                "code": "1/0",
                "outputs": [{"type": "logs", "logs": "ZeroDivisionError\n"}],
                "status": "failed",
                "container_id": "cntr_1",
            },
            {"type": "text", "text": "2 + 2 = 4", "annotations": []},
        ],
        response_metadata={"model_provider": "openai", "model_name": "gpt-5"},
    )
    assert native.content[1:] == raw.content_blocks  # the same message, two formats
    sent = await send_back(server, ask, ask.model(), ["q", raw, "next"])
    assert sent == OPENAI_EXPECTED


async def test_anthropic_code_execution_blocks(server: GeminiTestServer, ask: Any) -> None:
    def run(tool_id: str, source: str, stdout: str, stderr: str, code: int) -> list[Any]:
        return [
            {
                "type": "server_tool_use",
                "id": tool_id,
                "name": "code_execution",
                "input": {"code": source},
            },
            {
                "type": "code_execution_tool_result",
                "tool_use_id": tool_id,
                "content": {
                    "type": "code_execution_result",
                    "stdout": stdout,
                    "stderr": stderr,
                    "return_code": code,
                },
            },
        ]

    message = AIMessage(
        content=[
            {"type": "thinking", "thinking": "Compute it.", "signature": "anthropic-sig"},
            *run("srvtoolu_1", "print(6 * 7)", "42\n", "", 0),
            *run("srvtoolu_2", "1/0", "", "ZeroDivisionError\n", 1),
            {"type": "text", "text": "42"},
        ],
        response_metadata={"model_provider": "anthropic", "model_name": "claude-sonnet-4-5"},
    )
    sent = await send_back(server, ask, ask.model(), ["q", message, "next"])
    assert sent == [
        {"text": "Compute it.", "thought": True},
        {"executableCode": {"code": "print(6 * 7)", "language": "PYTHON"}},
        {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "42\n"}},
        {"executableCode": {"code": "1/0", "language": "PYTHON"}},
        {"codeExecutionResult": {"outcome": "OUTCOME_FAILED", "output": "ZeroDivisionError\n"}},
        {"text": "42"},
    ]


async def test_foreign_ids_and_signatures_are_not_sent(server: GeminiTestServer, ask: Any) -> None:
    message = AIMessage(
        content=[
            {"type": "text", "text": "hi", "extras": {"signature": "foreign-sig"}},
            {
                "type": "server_tool_call",
                "name": "code_interpreter",
                "id": "toolu_1",
                "args": {"code": "print(1)"},
                "extras": {"signature": "foreign-sig"},
            },
            {
                "type": "server_tool_result",
                "tool_call_id": "toolu_1",
                "status": "success",
                "output": "1\n",
                "extras": {"signature": "foreign-sig"},
            },
        ],
        response_metadata={"model_provider": "anthropic", "output_version": "v1"},
    )
    sent = await send_back(server, ask, ask.model(), ["q", message, "next"])
    assert sent == [
        {"text": "hi"},
        {"executableCode": {"code": "print(1)", "language": "PYTHON"}},
        {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "1\n"}},
    ]


# ------------------------------------------------------------------ system and user


async def test_system_messages_become_system_instruction(
    server: GeminiTestServer, ask: Any
) -> None:
    history = [
        SystemMessage("Be brief."),
        HumanMessage("q1"),
        SystemMessage([{"type": "text", "text": "Use code."}, "Show outputs."]),
        AIMessage("a1"),
        HumanMessage("q2"),
    ]
    server.enqueue(response(text("ok")))
    await ask(ask.model(), history)
    body = server.last_request.body
    assert body["systemInstruction"] == {
        "parts": [{"text": "Be brief."}, {"text": "Use code."}, {"text": "Show outputs."}]
    }
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "q1"}]},
        {"role": "model", "parts": [{"text": "a1"}]},
        {"role": "user", "parts": [{"text": "q2"}]},
    ]


async def test_no_system_instruction_without_system_messages(
    server: GeminiTestServer, ask: Any
) -> None:
    server.enqueue(response(text("ok")))
    await ask(ask.model(), "hello")
    assert "systemInstruction" not in server.last_request.body
    assert server.last_request.contents == [{"role": "user", "parts": [{"text": "hello"}]}]


async def test_user_media_blocks(server: GeminiTestServer, ask: Any) -> None:
    llm = ask.model()
    pdf = base64.b64encode(b"%PDF-1.4 fake").decode()
    csv = base64.b64encode(b"x,y\n1,2\n").decode()
    human = HumanMessage(
        [
            {"type": "text", "text": "Analyse these:"},
            {"type": "image", "base64": PNG_B64, "mime_type": "image/png"},
            {"type": "image", "url": "https://example.com/chart.png"},
            {"type": "image", "url": f"data:image/png;base64,{PNG_B64}"},
            {"type": "file", "base64": pdf, "mime_type": "application/pdf"},
            {"type": "file", "file_id": "files/abc123", "mime_type": "text/csv"},
            {"type": "file", "url": "gs://bucket/data.csv", "mime_type": "text/csv"},
            {"type": "audio", "base64": "UklGRg==", "mime_type": "audio/wav"},
            {"type": "video", "url": "https://example.com/v.mp4", "mime_type": "video/mp4"},
            {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{PNG_B64}"}},
            {"type": "image_url", "image_url": "https://example.com/photo.jpg"},
            {"type": "text-plain", "text": "a,b\n", "mime_type": "text/csv"},
            {"type": "file", "base64": csv, "mime_type": "text/csv"},
        ]
    )
    server.enqueue(response(text("ok")))
    await ask(llm, [human])
    files = f"{server.base_url}/v1beta/files/abc123"
    assert server.last_request.parts(0) == [
        {"text": "Analyse these:"},
        {"inlineData": {"mimeType": "image/png", "data": PNG_B64}},
        {"fileData": {"mimeType": "image/png", "fileUri": "https://example.com/chart.png"}},
        {"inlineData": {"mimeType": "image/png", "data": PNG_B64}},
        {"inlineData": {"mimeType": "application/pdf", "data": pdf}},
        {"fileData": {"mimeType": "text/csv", "fileUri": files}},
        {"fileData": {"mimeType": "text/csv", "fileUri": "gs://bucket/data.csv"}},
        {"inlineData": {"mimeType": "audio/wav", "data": "UklGRg=="}},
        {"fileData": {"mimeType": "video/mp4", "fileUri": "https://example.com/v.mp4"}},
        {"inlineData": {"mimeType": "image/jpeg", "data": PNG_B64}},
        {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/photo.jpg"}},
        {"inlineData": {"mimeType": "text/csv", "data": base64.b64encode(b"a,b\n").decode()}},
        {"inlineData": {"mimeType": "text/csv", "data": csv}},
    ]
    assert server.last_request.inline_data()[0] == PNG


@pytest.mark.parametrize(
    ("messages", "names"),
    [
        (
            [HumanMessage([{"type": "image", "base64": "not base64!!", "mime_type": "image/png"}])],
            ["messages[0]", "content[0]", "base64"],
        ),
        ([HumanMessage([{"type": "file", "base64": "QUJD"}])], ["messages[0]", "mime_type"]),
        ([HumanMessage([{"type": "image"}])], ["messages[0]", "content[0]", "image"]),
        (
            [
                HumanMessage("q"),
                AIMessage(
                    [{"type": "non_standard", "value": {"x": 1}}],
                    response_metadata={"model_provider": "openai"},
                ),
            ],
            ["messages[1]", "non_standard"],
        ),
        ([HumanMessage([{"type": "mystery", "x": 1}])], ["messages[0]", "mystery"]),
        ([SystemMessage([{"type": "image", "url": "https://x/y.png"}])], ["messages[0]", "image"]),
        ([SystemMessage("only system")], ["HumanMessage"]),
        ([], ["empty"]),
    ],
)
async def test_bad_input_fails_before_any_request(
    server: GeminiTestServer, ask: Any, messages: list[BaseMessage], names: list[str]
) -> None:
    llm = ask.model()
    with pytest.raises(InvalidMessageError) as caught:
        await ask.raises(llm, messages)
    assert isinstance(caught.value, ValueError)
    for name in names:
        assert name in str(caught.value)
    assert server.requests == []
