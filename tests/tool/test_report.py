"""CodeExecutionReport: extraction from invoked and streamed messages, rendering, saving."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk

from langchain_gemini_codeexec import ChatGeminiCodeExecution, CodeExecutionReport, CodeRun
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    Reply,
    code,
    image,
    response,
    result,
    stream_chunks,
    text,
    usage,
)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
JPEG = b"\xff\xd8\xff\xe0" + b"\x00\xff" * 40


def rich_response() -> dict[str, Any]:
    """Two runs (one failing, one with two results and a chart), thoughts and a loose image."""
    return response(
        text("Thinking about it", thought=True, signature="c2ln"),
        text("I will load the data. "),
        code("import pandas as pd\nprint(1/0)", id="run-a"),
        result(
            "Traceback (most recent call last):\nZeroDivisionError\n",
            outcome="OUTCOME_FAILED",
            id="run-a",
        ),
        text("Fixing it. "),
        code("print(6 * 7)\nplot()"),
        result("42\n"),
        result("more\n"),
        image(PNG),
        image(JPEG, "image/jpeg"),
        text("The answer is "),
        text("**42**."),
        usage=usage(prompt=11, candidates=22, tool_use_prompt=33),
        model_version="gemini-2.5-flash-001",
        response_id="rich-1",
    )


def check_rich(report: CodeExecutionReport) -> None:
    assert report.answer == "The answer is **42**."
    assert report.text == "I will load the data. Fixing it. The answer is **42**."
    assert "Thinking" not in report.text
    assert [run.id for run in report.runs] == ["run-a", "rich-1_code_1"]
    first, second = report.runs
    assert first.code == "import pandas as pd\nprint(1/0)"
    assert first.outcome == "OUTCOME_FAILED" and not first.ok and first.status == "error"
    assert first.output.endswith("ZeroDivisionError\n")
    assert first.images == []
    assert second.outcome == "OUTCOME_OK" and second.ok
    assert second.output == "42\nmore\n"
    assert [r.output for r in second.results] == ["42\n", "more\n"]
    assert [(i.mime_type, i.data) for i in second.images] == [
        ("image/png", PNG),
        ("image/jpeg", JPEG),
    ]
    assert report.images == second.images
    assert report.model == "gemini-2.5-flash-001"
    assert report.finish_reason == "STOP"
    assert report.usage is not None and report.usage["total_tokens"] == 66
    assert report.usage["input_tokens"] == 44
    assert not report.ok


def test_from_invoked_message(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    server.enqueue(rich_response())
    message = make_llm().invoke("q")
    check_rich(CodeExecutionReport.from_message(message))


def test_from_streamed_chunks_added_up(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    server.enqueue(Reply.stream(stream_chunks(rich_response(), text_pieces=3)))
    chunks = list(make_llm().stream("q"))
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert isinstance(total, AIMessageChunk)
    assert any("index" in b for b in total.content if isinstance(b, dict))
    check_rich(CodeExecutionReport.from_message(total))


async def test_from_streaming_model_ainvoke(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    server.enqueue(Reply.stream(stream_chunks(rich_response())))
    llm = make_llm(streaming=True)
    message = await llm.ainvoke("q")
    check_rich(CodeExecutionReport.from_message(message))
    await llm.aclose()


def test_streamed_and_invoked_reports_are_equal(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    body = rich_response()
    server.enqueue(body, Reply.stream(stream_chunks(body)))
    llm = make_llm()
    invoked = CodeExecutionReport.from_message(llm.invoke("q"))
    chunks = list(llm.stream("q"))
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert CodeExecutionReport.from_message(total) == invoked


def test_outcomes_verbatim_and_missing(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    no_outcome = {"codeExecutionResult": {"output": "?"}}
    server.enqueue(
        response(
            code("while True: pass"),
            result("partial", outcome="OUTCOME_DEADLINE_EXCEEDED"),
            code("x"),
            no_outcome,
            code("y"),
            text("done"),
        )
    )
    report = CodeExecutionReport.from_message(make_llm().invoke("q"))
    timeout, missing, unanswered = report.runs
    assert timeout.outcome == "OUTCOME_DEADLINE_EXCEEDED" and timeout.output == "partial"
    assert "TIMED OUT" in timeout.describe_outcome()
    assert missing.outcome is None and missing.output == "?" and not missing.ok
    assert missing.results[0].outcome is None
    assert unanswered.results == [] and unanswered.outcome is None
    assert "no result" in unanswered.describe_outcome()
    assert report.answer == "done"


def test_answer_falls_back_to_all_text_when_nothing_follows_the_last_run() -> None:
    message = AIMessage(
        content=[
            {"type": "text", "text": "It is 4, let me check."},
            {
                "type": "server_tool_call",
                "name": "code_interpreter",
                "id": "c1",
                "args": {"code": "print(4)", "language": "python"},
            },
            {
                "type": "server_tool_result",
                "tool_call_id": "c1",
                "status": "success",
                "output": "4\n",
                "extras": {"outcome": "OUTCOME_OK", "block_type": "code_execution_result"},
            },
        ],
        response_metadata={"output_version": "v1", "model_provider": "google_genai"},
    )
    report = CodeExecutionReport.from_message(message)
    assert report.answer == "It is 4, let me check."
    assert report.runs[0].ok


def test_result_and_image_for_unknown_run_are_kept() -> None:
    png = base64.urlsafe_b64encode(PNG).decode().rstrip("=")
    message = AIMessage(
        content=[
            {
                "type": "server_tool_result",
                "tool_call_id": "ghost",
                "status": "error",
                "output": "boom",
                "extras": {"outcome": "OUTCOME_FAILED", "block_type": "code_execution_result"},
            },
            {"type": "image", "base64": png, "mime_type": "image/png"},
            {"type": "image", "url": "https://example.com/x.png", "mime_type": "image/png"},
            {"type": "reasoning", "reasoning": "hmm"},
            {"type": "text", "text": "see chart"},
        ],
        response_metadata={"output_version": "v1"},
    )
    report = CodeExecutionReport.from_message(message)
    assert [(r.id, r.code, r.outcome, r.output) for r in report.runs] == [
        ("ghost", "", "OUTCOME_FAILED", "boom")
    ]
    assert [i.data for i in report.other_images] == [PNG]
    assert report.images == report.other_images
    assert report.answer == "see chart"


def test_other_providers_code_interpreter_blocks() -> None:
    message = AIMessage(
        content=[
            {"type": "server_tool_call", "name": "web_search", "id": "s1", "args": {"q": "x"}},
            {
                "type": "server_tool_result",
                "tool_call_id": "s1",
                "status": "success",
                "output": "page",
            },
            {
                "type": "server_tool_call",
                "name": "code_interpreter",
                "id": "ci",
                "args": {"code": "1+1"},
            },
            {
                "type": "server_tool_result",
                "tool_call_id": "ci",
                "status": "success",
                "output": [{"type": "logs", "logs": "2\n"}],
            },
            {"type": "text", "text": "2"},
        ],
        response_metadata={"output_version": "v1", "model_provider": "openai"},
    )
    report = CodeExecutionReport.from_message(message)
    assert len(report.runs) == 1
    run = report.runs[0]
    assert (run.id, run.code, run.outcome, run.output) == ("ci", "1+1", "OUTCOME_OK", "2\n")


def test_plain_string_message() -> None:
    report = CodeExecutionReport.from_message(AIMessage("just text"))
    assert report.answer == "just text" and report.runs == [] and report.ok


def test_json_round_trip_keeps_bytes(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    server.enqueue(rich_response())
    report = CodeExecutionReport.from_message(make_llm().invoke("q"))
    dumped = report.model_dump_json()
    data = json.loads(dumped)
    assert base64.b64decode(data["runs"][1]["images"][0]["data"]) == PNG
    assert CodeExecutionReport.model_validate_json(dumped) == report
    assert CodeExecutionReport.model_validate(report.model_dump()) == report


def test_save_images(
    tmp_path: Path, server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    server.enqueue(rich_response())
    report = CodeExecutionReport.from_message(make_llm().invoke("q"))
    target = tmp_path / "new" / "dir"
    paths = report.save_images(target)
    assert [p.name for p in paths] == ["chart-2-1.png", "chart-2-2.jpg"]
    assert [p.read_bytes() for p in paths] == [PNG, JPEG]
    assert sorted(target.iterdir()) == sorted(paths)
    assert CodeExecutionReport().save_images(tmp_path / "none") == []


def test_to_text_cuts_outputs_and_marks_the_cut() -> None:
    run = CodeRun(id="r", code="print('x' * 10000)", outcome="OUTCOME_OK", output="x" * 10000)
    report = CodeExecutionReport(answer="ten thousand x", runs=[run])
    content = report.to_text(max_output_chars=100)
    assert "x" * 100 + "\n... [output cut: 9900 more characters]" in content
    assert "x" * 101 not in content
    assert "x" * 10000 in report.to_text(max_output_chars=None)
    assert "[code cut: 8 more characters]" in report.to_text(max_code_chars=10)


def test_to_text_says_what_happened() -> None:
    failed = CodeRun(
        id="r",
        code="1/0",
        outcome="OUTCOME_FAILED",
        output="ZeroDivisionError",
        results=[{"outcome": "OUTCOME_FAILED", "output": "ZeroDivisionError"}],
    )
    text_ = CodeExecutionReport(answer="", runs=[failed], finish_reason="MAX_TOKENS").to_text()
    assert "OUTCOME_FAILED" in text_ and "FAILED" in text_ and "ZeroDivisionError" in text_
    assert "finish_reason=MAX_TOKENS" in text_
    assert "no text answer" in text_
    assert "No code was run" in CodeExecutionReport(answer="4").to_text()


def test_fences_survive_backticks_in_output() -> None:
    run = CodeRun(id="r", code="print('```')", outcome="OUTCOME_OK", output="```\n")
    content = CodeExecutionReport(answer="a", runs=[run]).to_text()
    assert "````\n```\n````" in content


def test_jupyter_rendering(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    server.enqueue(rich_response())
    report = CodeExecutionReport.from_message(make_llm().invoke("q"))
    page = report._repr_html_()
    assert "print(6 * 7)" in page and "ZeroDivisionError" in page and "OUTCOME_FAILED" in page
    assert f"data:image/png;base64,{base64.b64encode(PNG).decode()}" in page
    assert "<script" not in page
    markdown = report._repr_markdown_()
    assert "```python\nprint(6 * 7)" in markdown and "data:image/jpeg;base64," in markdown


def test_html_is_escaped() -> None:
    run = CodeRun(
        id="r",
        code="print('<script>alert(1)</script>')",
        outcome="OUTCOME_OK",
        output="<b>bold</b>",
    )
    page = CodeExecutionReport(answer="<i>x</i>", runs=[run])._repr_html_()
    assert "<script>" not in page and "<b>bold" not in page and "&lt;i&gt;x" in page


@pytest.mark.parametrize(
    "mime_type", ["image/png' onerror='alert(1)", "image/png)![x](http://evil.example/x"]
)
def test_a_mime_type_cannot_break_out_of_the_rendering(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution], mime_type: str
) -> None:
    server.enqueue(response(code("plot()"), result(""), image(PNG, mime_type), text("Done.")))
    report = CodeExecutionReport.from_message(make_llm().invoke("q"))
    assert report.images[0].mime_type == mime_type  # kept verbatim in the report
    safe = f"data:application/octet-stream;base64,{base64.b64encode(PNG).decode()}"
    assert f"<img src='{safe}'/>" in report._repr_html_()
    assert f"![chart 1]({safe})" in report._repr_markdown_()
    assert "onerror" not in report._repr_html_() and "evil" not in report._repr_markdown_()


def test_invalid_base64_image_is_an_error() -> None:
    message = AIMessage(content=[{"type": "image", "base64": "!!!", "mime_type": "image/png"}])
    with pytest.raises(ValueError, match="base64"):
        CodeExecutionReport.from_message(message)


def test_jupyter_html_renders_the_answer_as_markdown() -> None:
    answer = (
        "## Result\n\nThe sum is **5117**, see `primes` and *the chart*.\n\n"
        "- first: 2\n- last: 229\n\n```python\nprint(1 < 2)\n```\n<script>x</script>"
    )
    page = CodeExecutionReport(answer=answer)._repr_html_()
    assert "<h2>Result</h2>" in page
    assert "<strong>5117</strong>" in page and "**" not in page
    assert "<code>primes</code>" in page and "<em>the chart</em>" in page
    assert "<ul><li>first: 2</li><li>last: 229</li></ul>" in page
    assert "<pre><code>print(1 &lt; 2)\n</code></pre>" in page
    assert "<script>" not in page and "&lt;script&gt;" in page


# --- save_images writes only new files of its own (the wire: tests/reliability/test_confinement)


def _charts(n: int) -> CodeExecutionReport:
    from langchain_gemini_codeexec.report import CodeMedia

    images = [CodeMedia(mime_type="image/png", data=PNG + bytes([i])) for i in range(n)]
    return CodeExecutionReport(runs=[CodeRun(id="r", images=images)])


def test_save_images_renames_instead_of_overwriting(tmp_path: Path) -> None:
    report = _charts(1)
    first = report.save_images(tmp_path)
    second = report.save_images(tmp_path)
    third = report.save_images(tmp_path)
    assert [p.name for p in first + second + third] == [
        "chart-1-1.png",
        "chart-1-1_2.png",
        "chart-1-1_3.png",
    ]
    assert all(p.read_bytes() == PNG + b"\x00" for p in first + second + third)


def test_save_images_skips_planted_links_dangling_or_not_and_directories(
    tmp_path: Path,
) -> None:
    (tmp_path / "chart-1-1.png").symlink_to(tmp_path / "would-be-created.png")
    (tmp_path / "chart-1-2.png").mkdir()
    paths = _charts(2).save_images(tmp_path)
    assert [p.name for p in paths] == ["chart-1-1_2.png", "chart-1-2_2.png"]
    assert not (tmp_path / "would-be-created.png").exists()
    assert (tmp_path / "chart-1-1.png").is_symlink()


@pytest.mark.parametrize("prefix", ["../up", "a/b", "a\\b", "..", ".hidden", "x\ny", ""])
def test_save_images_prefix_cannot_leave_the_directory(tmp_path: Path, prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        _charts(1).save_images(tmp_path / "d", prefix=prefix)
    assert not (tmp_path / "d").exists()


def test_save_images_default_cap_and_raising_it(tmp_path: Path) -> None:
    report = _charts(101)
    with pytest.raises(ValueError, match="101 images, over max_images=100"):
        report.save_images(tmp_path / "a")
    assert not (tmp_path / "a").exists()
    assert len(report.save_images(tmp_path / "b", max_images=101)) == 101
    assert len(list((tmp_path / "b").iterdir())) == 101
