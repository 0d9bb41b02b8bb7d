"""Other providers' histories in, never a crash (contract 2.3): OpenAI's code interpreter
with logs and charts, Anthropic's bash and text-editor code execution, and any other
server tool Gemini cannot replay, sent through the real SDK on every call path.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage

from langchain_gemini_codeexec._mapping.to_gemini import messages_to_contents
from langchain_gemini_codeexec._mapping.translators import render_output
from langchain_gemini_codeexec.testing import GeminiTestServer, response, text
from tests.support import property_test

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()
JPEG = base64.b64encode(b"\xff\xd8\xff\xe0" + b"\0" * 12).decode()


async def send_back(server: GeminiTestServer, ask: Any, history: list[Any]) -> list[Any]:
    server.enqueue(response(text("next answer")))
    await ask(ask.model(), history)
    return server.last_request.model_parts()  # type: ignore[no-any-return]


def openai_chart_message() -> AIMessage:
    """A Responses API answer: two runs, the first drawing two charts between its logs."""
    return AIMessage(
        content=[
            {
                "type": "code_interpreter_call",
                "id": "ci_1",
                "code": "plot(); print('drawn')",
                "container_id": "cntr_1",
                "status": "completed",
                "outputs": [
                    {"type": "logs", "logs": "drawn\n"},
                    {"type": "image", "url": f"data:image/png;base64,{PNG}"},
                    {"type": "logs", "logs": "again\n"},
                    {"type": "image", "url": f"data:image/jpeg;base64,{JPEG}"},
                ],
            },
            {
                "type": "code_interpreter_call",
                "id": "ci_2",
                "code": "while True: pass",
                "container_id": "cntr_1",
                "status": "incomplete",
                "outputs": None,
            },
            {"type": "text", "text": "Here is the chart.", "annotations": []},
        ],
        response_metadata={"model_provider": "openai", "model_name": "gpt-5"},
    )


async def test_openai_logs_are_the_output_and_images_are_parts(
    server: GeminiTestServer, ask: Any
) -> None:
    sent = await send_back(server, ask, ["q", openai_chart_message(), "next"])
    assert sent == [
        {"executableCode": {"code": "plot(); print('drawn')", "language": "PYTHON"}},
        {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "drawn\nagain\n"}},
        {"inlineData": {"mimeType": "image/png", "data": PNG}},
        {"inlineData": {"mimeType": "image/jpeg", "data": JPEG}},
        {"executableCode": {"code": "while True: pass", "language": "PYTHON"}},
        {"codeExecutionResult": {"outcome": "OUTCOME_FAILED", "output": ""}},
        {"text": "Here is the chart."},
    ]


def anthropic_bash_message() -> AIMessage:
    """Claude with the code execution tool of 2025-08-25: bash and the text editor."""
    return AIMessage(
        content=[
            {"type": "text", "text": "Let me write and run it."},
            {
                "type": "server_tool_use",
                "id": "srvtoolu_01",
                "name": "text_editor_code_execution",
                "input": {"command": "create", "path": "/tmp/m.py", "file_text": "print(6)"},
            },
            {
                "type": "text_editor_code_execution_tool_result",
                "tool_use_id": "srvtoolu_01",
                "content": {
                    "type": "text_editor_code_execution_create_result",
                    "is_file_update": False,
                },
            },
            {
                "type": "server_tool_use",
                "id": "srvtoolu_02",
                "name": "bash_code_execution",
                "input": {"command": "python /tmp/m.py; python -c '1/0'"},
            },
            {
                "type": "bash_code_execution_tool_result",
                "tool_use_id": "srvtoolu_02",
                "content": {
                    "type": "bash_code_execution_result",
                    "stdout": "6\n",
                    "stderr": "ZeroDivisionError\n",
                    "return_code": 1,
                    "content": [{"type": "bash_code_execution_output", "file_id": "file_9"}],
                },
            },
            {
                "type": "server_tool_use",
                "id": "srvtoolu_03",
                "name": "bash_code_execution",
                "input": {"command": "sleep 999"},
            },
            {
                "type": "bash_code_execution_tool_result",
                "tool_use_id": "srvtoolu_03",
                "content": {
                    "type": "bash_code_execution_tool_result_error",
                    "error_code": "execution_time_exceeded",
                },
            },
            {"type": "text", "text": "It printed 6."},
        ],
        response_metadata={"model_provider": "anthropic", "model_name": "claude-sonnet-4-5"},
    )


ANTHROPIC_RENDERED = [
    {"text": "Let me write and run it."},
    {
        "text": "[server tool call: text_editor_code_execution (id srvtoolu_01)]\n"
        '{"command": "create", "file_text": "print(6)", "path": "/tmp/m.py"}'
    },
    {
        "text": "[server tool result: text_editor_code_execution (id srvtoolu_01), status: "
        'success]\n{"is_file_update": false, "type": '
        '"text_editor_code_execution_create_result"}'
    },
    {
        "text": "[server tool call: bash_code_execution (id srvtoolu_02)]\n"
        '{"command": "python /tmp/m.py; python -c \'1/0\'"}'
    },
    {
        "text": "[server tool result: bash_code_execution (id srvtoolu_02), status: success]\n"
        "stdout:\n6\n\nstderr:\nZeroDivisionError\n\nreturn code: 1\n"
        '{"content": [{"file_id": "file_9", "type": "bash_code_execution_output"}]}'
    },
    {"text": '[server tool call: bash_code_execution (id srvtoolu_03)]\n{"command": "sleep 999"}'},
    {
        "text": "[server tool result: bash_code_execution (id srvtoolu_03), status: error]\n"
        '{"error_code": "execution_time_exceeded", "type": '
        '"bash_code_execution_tool_result_error"}'
    },
    {"text": "It printed 6."},
]


async def test_anthropic_bash_and_editor_runs_are_rendered_as_text(
    server: GeminiTestServer, ask: Any
) -> None:
    sent = await send_back(server, ask, ["q", anthropic_bash_message(), "next"])
    assert sent == ANTHROPIC_RENDERED


async def test_other_server_tools_are_rendered_not_refused(
    server: GeminiTestServer, ask: Any
) -> None:
    """Web search (Anthropic's and a hand-written v1 one) and a result whose call is not in
    the message: each is text, in place; nothing dropped, nothing refused."""
    claude = AIMessage(
        content=[
            {"type": "server_tool_use", "id": "s1", "name": "web_search", "input": {"query": "pi"}},
            {
                "type": "web_search_tool_result",
                "tool_use_id": "s1",
                "content": [{"type": "web_search_result", "url": "https://x.test", "title": "Pi"}],
            },
        ],
        response_metadata={"model_provider": "anthropic"},
    )
    handmade = AIMessage(
        content=[
            {"type": "server_tool_call", "name": "web_search", "id": "w1", "args": {"q": "e"}},
            {"type": "server_tool_result", "tool_call_id": "ghost", "status": "error"},
        ]
    )
    await send_back(server, ask, ["q", claude, "again", handmade, "next"])
    first, second = (c["parts"] for c in server.last_request.contents if c["role"] == "model")
    assert first == [
        {"text": '[server tool call: web_search (id s1)]\n{"query": "pi"}'},
        {
            "text": "[server tool result: web_search (id s1), status: success]\n"
            '[{"title": "Pi", "type": "web_search_result", "url": "https://x.test"}]'
        },
    ]
    assert second == [
        {"text": '[server tool call: web_search (id w1)]\n{"q": "e"}'},
        {"text": "[server tool result: unknown tool (id ghost), status: error]\n(no output)"},
    ]


def test_a_streamed_claude_message_is_read_too() -> None:
    """An added-up Claude stream still holding a server tool call chunk (args as text)."""
    chunk = AIMessageChunk(
        content=[
            {
                "type": "server_tool_call_chunk",
                "name": "bash_code_execution",
                "id": "s9",
                "args": '{"command": "ls',
                "index": 0,
            },
        ],
        response_metadata={"model_provider": "anthropic", "output_version": "v1"},
    )
    _, contents = messages_to_contents([HumanMessage("q"), chunk, HumanMessage("n")])
    assert contents[1]["parts"] == [
        {"text": '[server tool call: bash_code_execution (id s9)]\n{"command": "ls'}
    ]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@property_test(500, _JSON)
def test_the_rendering_keeps_every_value(output: Any) -> None:
    """Whatever a result's output holds, its text has all of it (as JSON, or labelled)."""
    rendered = render_output(output)
    if output in (None, "", []):
        assert rendered == "(no output)"
    elif isinstance(output, str):
        assert rendered == output
    elif isinstance(output, dict) and {"stdout", "stderr", "return_code"} & set(output):
        for key in ("stdout", "stderr"):
            if output.get(key):
                assert f"{key}:\n{output[key]}" in rendered
    else:
        assert json.loads(rendered) == json.loads(json.dumps(output, default=str))


@pytest.mark.parametrize("url", ["https://files.test/chart.png", "https://files.test/c"])
def test_an_image_by_url_becomes_a_file_part(url: str) -> None:
    message = AIMessage(
        content=[
            {
                "type": "code_interpreter_call",
                "id": "ci_1",
                "code": "plot()",
                "status": "completed",
                "outputs": [{"type": "image", "url": url}],
            }
        ],
        response_metadata={"model_provider": "openai"},
    )
    _, contents = messages_to_contents([HumanMessage("q"), message, HumanMessage("n")])
    assert contents[1]["parts"][2] == {"fileData": {"mimeType": "image/png", "fileUri": url}}
