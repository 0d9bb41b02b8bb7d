"""GeminiCodeExecutionTool over real HTTP: the real google-genai SDK against the loopback server."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from google.auth.credentials import Credentials
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import ToolException

from langchain_gemini_codeexec import (
    ChatGeminiCodeExecution,
    CodeExecutionReport,
    GeminiCodeExecutionTool,
)
from langchain_gemini_codeexec._transport import sdk as _sdk
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    RecordedRequest,
    Reply,
    b64decode_any,
    blocked,
    code,
    image,
    refused,
    response,
    result,
    stream_chunks,
    text,
)
from tests.support import API_KEY, tool_call

PNG = b"\x89PNG\r\n\x1a\n" + b"chart-bytes" * 20
MakeTool = Callable[..., GeminiCodeExecutionTool]
MakeLLM = Callable[..., ChatGeminiCodeExecution]


def chart_answer() -> dict[str, Any]:
    return response(
        text("Computing. "),
        code("import numpy as np\nprint(np.mean([1, 2, 3, 4]))", id="c-1"),
        result("2.5\n", id="c-1"),
        code("plt.bar(...)\nplt.show()", id="c-2"),
        result("", id="c-2"),
        image(PNG),
        text("The mean is 2.5; the chart shows the four values."),
        response_id="r-chart",
        model_version="gemini-2.5-flash-002",
    )


def check_chart(message: Any, call_id: str = "call-1") -> CodeExecutionReport:
    assert isinstance(message, ToolMessage)
    assert message.tool_call_id == call_id and message.status == "success"
    assert isinstance(message.content, str)
    content = message.content
    assert content.startswith("Answer:\nThe mean is 2.5; the chart shows the four values.")
    assert "print(np.mean([1, 2, 3, 4]))" in content and "2.5\n" in content
    assert "OUTCOME_OK" in content and "Charts: 1 image(s) (image/png)" in content
    assert PNG.decode("latin-1") not in content and base64.b64encode(PNG).decode() not in content
    report = message.artifact
    assert isinstance(report, CodeExecutionReport)
    assert [(r.id, r.outcome, r.output) for r in report.runs] == [
        ("c-1", "OUTCOME_OK", "2.5\n"),
        ("c-2", "OUTCOME_OK", ""),
    ]
    assert report.runs[0].images == []
    assert [(i.mime_type, i.data) for i in report.runs[1].images] == [("image/png", PNG)]
    assert report.model == "gemini-2.5-flash-002" and report.finish_reason == "STOP"
    assert report.usage is not None and report.usage["total_tokens"] == 30
    return report


def check_request(request: RecordedRequest, task: str) -> None:
    body = request.body
    assert body["tools"] == [{"codeExecution": {}}]
    assert "computation tool" in body["systemInstruction"]["parts"][0]["text"]
    assert request.parts(0)[-1] == {"text": task}
    assert API_KEY not in json.dumps(body)


# --- the call -------------------------------------------------------------------------


def test_tool_call_gives_tool_message_with_report(
    server: GeminiTestServer, make_tool: MakeTool
) -> None:
    server.enqueue(chart_answer())
    tool = make_tool()
    message = tool.invoke(tool_call(tool, task="Mean of 1,2,3,4 and a bar chart"))
    check_chart(message)
    check_request(server.last_request, "Mean of 1,2,3,4 and a bar chart")
    assert len(server.model_requests) == 1


async def test_async_tool_call(
    server: GeminiTestServer,
    make_llm: MakeLLM,
    make_tool: MakeTool,
    async_transport: str,
    close_async: list[ChatGeminiCodeExecution],
) -> None:
    server.enqueue(chart_answer())
    llm = make_llm()
    close_async.append(llm)
    tool = make_tool(llm)
    message = await tool.ainvoke(tool_call(tool, "async-1", task="Mean please"))
    check_chart(message, "async-1")
    check_request(server.last_request, "Mean please")
    assert_async_path_used(llm, async_transport)


def assert_async_path_used(llm: ChatGeminiCodeExecution, transport: str) -> None:
    """The request went through the SDK's async client on the chosen path."""
    assert _sdk.http_library(llm.genai_client, is_async=True) == transport
    assert _sdk.async_path_used(llm.genai_client)


def test_streaming_model_gives_the_same_report(
    server: GeminiTestServer, make_llm: MakeLLM, make_tool: MakeTool
) -> None:
    server.enqueue(chart_answer(), Reply.stream(stream_chunks(chart_answer())))
    plain = make_tool().invoke(tool_call(make_tool(), task="t"))
    streamed = make_tool(make_llm(streaming=True)).invoke(tool_call(make_tool(), task="t"))
    assert server.model_requests[1].stream
    assert streamed.artifact == plain.artifact
    assert streamed.content == plain.content


def test_plain_args_return_the_content_text(server: GeminiTestServer, make_tool: MakeTool) -> None:
    server.enqueue(chart_answer())
    content = make_tool().invoke({"task": "mean"})
    assert isinstance(content, str) and content.startswith("Answer:\nThe mean is 2.5")


def test_code_execution_is_on_even_for_a_model_built_without_it(
    server: GeminiTestServer, make_llm: MakeLLM, make_tool: MakeTool
) -> None:
    server.enqueue(chart_answer())
    make_tool(make_llm(code_execution=False), instructions=None).invoke({"task": "x"})
    assert server.last_request.body["tools"] == [{"codeExecution": {}}]
    assert "systemInstruction" not in server.last_request.body


def square_responder(request: RecordedRequest) -> dict[str, Any]:
    """Answers "square N" with N*N, after a short think so parallel calls overlap."""
    n = int(re.findall(r"square (\d+)", request.text)[-1])
    return response(
        code(f"print({n} ** 2)"),
        result(f"{n * n}\n"),
        text(f"{n} squared is {n * n}."),
        response_id=f"sq-{n}",
    )


async def test_parallel_async_calls_each_get_their_own_answer(
    make_llm: MakeLLM,
    make_tool: MakeTool,
    server: GeminiTestServer,
    async_transport: str,
    close_async: list[ChatGeminiCodeExecution],
) -> None:
    server.responder = square_responder
    llm = make_llm()
    close_async.append(llm)
    tool = make_tool(llm)
    numbers = list(range(3, 15))
    messages = await asyncio.gather(
        *[tool.ainvoke(tool_call(tool, f"id-{n}", task=f"square {n}")) for n in numbers]
    )
    for n, message in zip(numbers, messages, strict=True):
        assert message.tool_call_id == f"id-{n}"
        assert message.artifact.answer == f"{n} squared is {n * n}."
        assert message.artifact.runs[0].output == f"{n * n}\n"
        assert message.content.startswith(f"Answer:\n{n} squared is {n * n}.")
    assert len(server.model_requests) == len(numbers)
    assert_async_path_used(llm, async_transport)


def test_parallel_threaded_calls_each_get_their_own_answer(
    make_tool: MakeTool, server: GeminiTestServer
) -> None:
    server.responder = square_responder
    tool = make_tool()
    numbers = list(range(20, 30))
    calls = [tool_call(tool, f"id-{n}", task=f"square {n}") for n in numbers]
    messages = tool.batch(calls, config={"max_concurrency": 8})
    for n, message in zip(numbers, messages, strict=True):
        assert (
            message.tool_call_id == f"id-{n}"
            and message.artifact.answer == f"{n} squared is {n * n}."
        )


# --- results that are not errors, and errors ------------------------------------------


def test_failed_code_is_a_normal_result_that_says_so(
    server: GeminiTestServer, make_tool: MakeTool
) -> None:
    server.enqueue(
        response(
            code("1/0"),
            result("ZeroDivisionError: division by zero\n", outcome="OUTCOME_FAILED"),
            code("while True: pass"),
            result("tick\n", outcome="OUTCOME_DEADLINE_EXCEEDED"),
            text("Both attempts failed."),
        )
    )
    tool = make_tool()
    message = tool.invoke(tool_call(tool, task="t"))
    assert message.status == "success"
    assert "OUTCOME_FAILED" in message.content and "ZeroDivisionError" in message.content
    assert "OUTCOME_DEADLINE_EXCEEDED" in message.content and "TIMED OUT" in message.content
    assert [r.outcome for r in message.artifact.runs] == [
        "OUTCOME_FAILED",
        "OUTCOME_DEADLINE_EXCEEDED",
    ]
    assert not message.artifact.ok


def test_long_output_is_cut_for_the_agent_but_whole_in_the_artifact(
    server: GeminiTestServer, make_tool: MakeTool
) -> None:
    output = "".join(f"row {i}\n" for i in range(5000))
    server.enqueue(
        response(code("for i in range(5000): print('row', i)"), result(output), text("5000 rows."))
    )
    tool = make_tool(max_output_chars=300)
    message = tool.invoke(tool_call(tool, task="t"))
    assert f"... [output cut: {len(output) - 300} more characters]" in message.content
    assert output[:300] in message.content and output[:301] not in message.content
    assert message.artifact.runs[0].output == output


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (
            Reply.error(429, "Quota exceeded"),
            r"429 RESOURCE_EXHAUSTED: Quota exceeded.*Do not retry now",
        ),
        (Reply.error(400, "Bad file"), r"400 INVALID_ARGUMENT: Bad file.*Change the task"),
        (Reply.error(503, "Overloaded"), r"503 UNAVAILABLE: Overloaded.*You may retry once"),
        (blocked("PROHIBITED_CONTENT"), r"blockReason=PROHIBITED_CONTENT.*Rephrase"),
        (response(finish_reason="MAX_TOKENS"), r"empty answer \(finish_reason=MAX_TOKENS\)"),
        (response(finish_reason="SAFETY"), r"refused the task \(finish_reason=SAFETY\)"),
        (
            refused(reason="RECITATION", message="Recites a source."),
            r"refused the task \(finish_reason=RECITATION: Recites a source.\)",
        ),
    ],
)
async def test_no_answer_raises_tool_exception(
    server: GeminiTestServer, make_tool: MakeTool, reply: Any, expected: str
) -> None:
    server.enqueue(reply, reply)
    tool = make_tool(handle_tool_error=False)  # the owner asks for exceptions
    with pytest.raises(ToolException, match=expected) as info:
        tool.invoke(tool_call(tool, task="t"))
    assert str(info.value).startswith("gemini_code_execution failed:")
    with pytest.raises(ToolException, match=expected):
        await tool.ainvoke(tool_call(tool, task="t"))
    await tool.llm.genai_client.aio.aclose()


def test_handle_tool_error_feeds_the_message_back(
    server: GeminiTestServer, make_tool: MakeTool
) -> None:
    server.enqueue(Reply.error(429, "Quota exceeded"))
    tool = make_tool()  # the default: failures go back to the agent
    message = tool.invoke(tool_call(tool, task="t"))
    assert message.status == "error"
    assert "429" in message.content and "rate limit" in message.content
    assert "quota" in message.content and "Do not retry now" in message.content


def test_blank_task_is_refused_before_any_request(
    server: GeminiTestServer, make_tool: MakeTool
) -> None:
    tool = make_tool(handle_tool_error=False)
    with pytest.raises(ToolException, match="task is empty"):
        tool.invoke(tool_call(tool, task="   "))
    assert server.requests == []


# --- files ----------------------------------------------------------------------------


@pytest.fixture
def box(tmp_path: Path) -> Path:
    root = tmp_path / "box"
    root.mkdir()
    (root / "sales.csv").write_text("region,total\nnorth,10\nsouth,32\n")
    (root / "logo.png").write_bytes(PNG)
    (tmp_path / "secret.csv").write_text("password,hunter2\n")
    (root / "link.csv").symlink_to(tmp_path / "secret.csv")
    (root / "huge.csv").write_text("z" * 5000)
    (root / "run.sh").write_text("rm -rf /")
    return root


BAD_NAMES = [
    ("../secret.csv", "no paths"),
    (str(Path("/etc/passwd")), "no paths"),
    ("link.csv", "not a regular file inside"),
    ("nothere.csv", "no such file"),
    ("run.sh", "unsupported file type"),
    ("huge.csv", "over the limit of 4000 bytes"),
]


@pytest.mark.parametrize(("name", "why"), BAD_NAMES)
async def test_bad_file_names_are_refused_before_any_request(
    server: GeminiTestServer, make_tool: MakeTool, box: Path, name: str, why: str
) -> None:
    tool = make_tool(files_dir=box, max_file_bytes=4000, handle_tool_error=False)
    for call in (tool.invoke, tool.ainvoke):
        with pytest.raises(ToolException) as info:
            outcome = call(tool_call(tool, task="t", files=["sales.csv", name]))
            if asyncio.iscoroutine(outcome):
                await outcome
        assert why in str(info.value)
        assert "files you may use: logo.png, sales.csv" in str(info.value)
    assert server.requests == []


def test_refusal_with_handle_tool_error_goes_back_to_the_agent(
    server: GeminiTestServer, make_tool: MakeTool, box: Path
) -> None:
    tool = make_tool(files_dir=box, handle_tool_error=True)
    message = tool.invoke(tool_call(tool, task="t", files=["../secret.csv"]))
    assert message.status == "error" and "sales.csv" in message.content
    assert "hunter2" not in message.content
    assert server.requests == []


def test_small_files_go_inline_with_their_names(
    server: GeminiTestServer, make_tool: MakeTool, box: Path
) -> None:
    server.enqueue(chart_answer())
    tool = make_tool(files_dir=box, files={"extra.json": b'{"k": 1}'})
    listed = [i.split(" (")[0] for i in tool.description.split("reads them): ")[1].split("), ")]
    assert listed == ["extra.json", "huge.csv", "logo.png", "sales.csv"]
    assert tool.available_files() == ["extra.json", "huge.csv", "logo.png", "sales.csv"]
    tool.invoke(
        tool_call(tool, task="Sum the totals", files=["sales.csv", "logo.png", "extra.json"])
    )
    parts = server.last_request.parts(0)
    assert "input_file_0" in parts[0]["text"]  # how the sandbox names attached files
    assert parts[1]["text"].startswith("Attached file 1 of 3: 'sales.csv' (text/csv, ")
    assert parts[2]["inlineData"]["mimeType"] == "text/csv"
    assert parts[3]["text"].startswith("Attached file 2 of 3: 'logo.png' (image/png, ")
    assert parts[4]["inlineData"]["mimeType"] == "image/png"
    assert parts[6]["inlineData"]["mimeType"] == "application/json"
    assert server.last_request.inline_data() == [(box / "sales.csv").read_bytes(), PNG, b'{"k": 1}']
    assert parts[-1] == {"text": "Sum the totals"}
    assert not any(r.api == "files" for r in server.requests)


def test_large_files_go_through_the_files_api_once_per_hash(
    server: GeminiTestServer, make_llm: MakeLLM, make_tool: MakeTool, box: Path
) -> None:
    server.responder = lambda request: chart_answer()
    llm = make_llm()
    same_content = (box / "sales.csv").read_bytes()
    tool = make_tool(llm, files_dir=box, inline_max_bytes=16, files={"copy.csv": same_content})
    tool.invoke(tool_call(tool, task="t", files=["sales.csv"]))
    assert len(server.files) == 1
    (uploaded,) = server.files.values()
    assert uploaded.data == same_content and uploaded.mime_type == "text/csv"
    assert uploaded.display_name == "sales.csv"
    assert server.last_request.parts(0)[2] == {
        "fileData": {"mimeType": "text/csv", "fileUri": uploaded.uri}
    }
    # Same bytes under another name, another tool on the same client: no new upload.
    tool.invoke(tool_call(tool, task="t", files=["copy.csv"]))
    make_tool(llm, files_dir=box, inline_max_bytes=16).invoke(
        tool_call(tool, task="t", files=["sales.csv"])
    )
    assert len(server.files) == 1
    assert sum(1 for r in server.requests if r.action == "upload") == 1
    # Small files stay inline beside an uploaded one.
    tool2 = make_tool(llm, files_dir=box, inline_max_bytes=len(same_content))
    tool2.invoke(tool_call(tool2, task="t", files=["sales.csv", "logo.png"]))
    parts = server.last_request.parts(0)
    assert "inlineData" in parts[2] and "fileData" in parts[4]
    assert len(server.files) == 2
    # Another client uploads for itself.
    make_tool(make_llm(), files_dir=box, inline_max_bytes=16).invoke(
        tool_call(tool, task="t", files=["sales.csv"])
    )
    assert len(server.files) == 3


async def test_parallel_async_calls_upload_a_file_once(
    server: GeminiTestServer,
    make_llm: MakeLLM,
    make_tool: MakeTool,
    box: Path,
    async_transport: str,
    close_async: list[ChatGeminiCodeExecution],
) -> None:
    server.responder = lambda request: chart_answer()
    llm = make_llm()
    close_async.append(llm)
    tool = make_tool(llm, files_dir=box, inline_max_bytes=16)
    messages = await asyncio.gather(
        *[
            tool.ainvoke(tool_call(tool, f"c{i}", task="t", files=["sales.csv", "logo.png"]))
            for i in range(6)
        ]
    )
    assert all(m.status == "success" for m in messages)
    assert sorted(f.data for f in server.files.values()) == sorted(
        [(box / "sales.csv").read_bytes(), PNG]
    )
    assert sum(1 for r in server.requests if r.action == "upload") == 2
    assert_async_path_used(llm, async_transport)
    uris = {f.uri for f in server.files.values()}
    for request in server.model_requests:
        assert {p["fileData"]["fileUri"] for p in request.parts(0) if "fileData" in p} == uris


def test_upload_failure_is_a_tool_exception(
    server: GeminiTestServer, make_llm: MakeLLM, make_tool: MakeTool, box: Path
) -> None:
    tool = make_tool(files_dir=box, inline_max_bytes=16, handle_tool_error=False)
    original = server._files

    def failing(request: RecordedRequest, groups: Any) -> Reply:
        return (
            Reply.error(403, "Files API disabled")
            if request.action == "upload"
            else original(request, groups)
        )

    server._files = failing  # type: ignore[method-assign]
    with pytest.raises(ToolException, match="403 PERMISSION_DENIED: Files API disabled"):
        tool.invoke(tool_call(tool, task="t", files=["sales.csv"]))
    assert server.model_requests == []


class StubCredentials(Credentials):
    """google.auth credentials that always hold a bearer token, no network."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.token = "tok"

    def refresh(self, request: Any) -> None:
        self.token = "tok"


def test_vertex_sends_files_inline_and_gs_uris_through(
    server: GeminiTestServer, make_tool: MakeTool, box: Path
) -> None:
    server.enqueue(chart_answer())
    llm = ChatGeminiCodeExecution(
        vertexai=True,
        project="proj",
        location="us-central1",
        credentials=StubCredentials(),
        base_url=server.base_url,
        max_retries=0,
    )
    tool = make_tool(
        llm, files_dir=box, inline_max_bytes=16, files={"lake.csv": "gs://bucket/lake.csv"}
    )
    message = tool.invoke(tool_call(tool, task="t", files=["sales.csv", "lake.csv"]))
    assert message.status == "success"
    request = server.last_request
    assert request.api == "vertex"
    parts = request.parts(0)
    assert b64decode_any(parts[2]["inlineData"]["data"]) == (box / "sales.csv").read_bytes()
    assert parts[4] == {"fileData": {"mimeType": "text/csv", "fileUri": "gs://bucket/lake.csv"}}
    assert server.files == {}
    llm.genai_client.close()


def test_chat_model_takes_standard_file_blocks(server: GeminiTestServer, make_llm: MakeLLM) -> None:
    server.enqueue(chart_answer())
    data = base64.b64encode(b"a,b\n1,2\n").decode()
    make_llm().invoke(
        [
            HumanMessage(
                [
                    {"type": "file", "base64": data, "mime_type": "text/csv"},
                    {"type": "file", "url": "gs://b/x.csv", "mime_type": "text/csv"},
                    {"type": "file", "file_id": "files/abc", "mime_type": "text/csv"},
                    {"type": "text", "text": "sum b"},
                ]
            )
        ]
    )
    parts = server.last_request.parts(0)
    assert b64decode_any(parts[0]["inlineData"]["data"]) == b"a,b\n1,2\n"
    assert parts[1] == {"fileData": {"mimeType": "text/csv", "fileUri": "gs://b/x.csv"}}
    assert parts[2]["fileData"]["fileUri"].endswith("/files/abc")


# --- construction ---------------------------------------------------------------------


def test_default_construction_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "env-key-123")
    monkeypatch.delenv("GOOGLE_GENAI_USE_VERTEXAI", raising=False)
    tool = GeminiCodeExecutionTool()
    assert tool.llm.api_key is not None and tool.llm.api_key.get_secret_value() == "env-key-123"
    assert "env-key-123" not in repr(tool)
    assert tool.name == "gemini_code_execution"
    for words in (
        "exact arithmetic",
        "data analysis",
        "plots",
        "check your own reasoning",
        "self-contained",
    ):
        assert words in tool.description


def test_default_construction_without_credentials_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="GOOGLE_API_KEY"):
        GeminiCodeExecutionTool()


def test_name_and_description_are_overridable(make_tool: MakeTool, box: Path) -> None:
    tool = make_tool(name="python_sandbox", description="Run Python.", files_dir=box)
    assert (tool.name, tool.description) == ("python_sandbox", "Run Python.")
    schema = tool.tool_call_schema.model_json_schema()
    assert schema["title"] == "python_sandbox"
    assert set(schema["properties"]) == {"task", "files"} and schema["required"] == ["task"]
