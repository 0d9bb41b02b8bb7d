"""docs/contract.md section 1: a Gemini response becomes one AIMessage of v1 blocks, nothing lost.

Every behaviour runs through the real google-genai SDK against the loopback server, in
each mode of the `ask` fixture (invoke, stream, ainvoke and astream; one sync and one
async HTTP path: the mapping does not depend on the HTTP library, test_streaming.py and
test_errors.py run every path); a streamed answer is scripted as realistic SSE chunks
and its aggregate must read exactly like the whole answer.
"""

from __future__ import annotations

import base64
from typing import Any

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
    usage,
)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
PNG_B64 = base64.b64encode(PNG).decode()
SIG = base64.b64encode(b"signature-bytes\x00\xff").decode()
SIG2 = base64.urlsafe_b64encode(b"other\xfb\xff-signature").decode()
TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "<string>", line 1, in <module>\n'
    "ZeroDivisionError: division by zero\n"
)


def script(server: GeminiTestServer, ask: Any, resp: dict[str, Any], pieces: int = 3) -> None:
    """The whole response for invoke, realistic SSE chunks of it for stream."""
    if ask.streamed:
        server.enqueue(Reply.stream(stream_chunks(resp, text_pieces=pieces)))
    else:
        server.enqueue(resp)


def code_call(call_id: str, source: str, **extras: Any) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "server_tool_call",
        "name": "code_interpreter",
        "id": call_id,
        "args": {"code": source, "language": "python"},
    }
    if extras:
        block["extras"] = extras
    return block


def code_result(
    call_id: str, output: str, outcome: str | None = "OUTCOME_OK", **extras: Any
) -> dict[str, Any]:
    ext: dict[str, Any] = {}
    if outcome is not None:
        ext["outcome"] = outcome
    ext["block_type"] = "code_execution_result"
    ext.update(extras)
    return {
        "type": "server_tool_result",
        "tool_call_id": call_id,
        "status": "success" if outcome == "OUTCOME_OK" else "error",
        "output": output,
        "extras": ext,
    }


def results_of(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for b in content if b["type"] == "server_tool_result"]


def calls_of(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for b in content if b["type"] == "server_tool_call"]


# ------------------------------------------------------------------ a whole code turn


async def test_linked_ids_chart_and_text(server: GeminiTestServer, ask: Any) -> None:
    """Gemini's own ids link call and result; the chart after the result names the call."""
    resp = response(
        text("I'll plot it.\n"),
        code("import matplotlib\nprint(42)\n", id="exec-7"),
        result("42\n", id="exec-7"),
        image(PNG_B64),
        text("The answer is **42**."),
        response_id="resp-linked",
    )
    script(server, ask, resp)
    msg = (await ask(ask.model(), "plot it")).message
    assert msg.content == [
        {"type": "text", "text": "I'll plot it.\n"},
        code_call("exec-7", "import matplotlib\nprint(42)\n"),
        code_result("exec-7", "42\n"),
        {
            "type": "image",
            "base64": PNG_B64,
            "mime_type": "image/png",
            "extras": {"tool_call_id": "exec-7"},
        },
        {"type": "text", "text": "The answer is **42**."},
    ]
    assert msg.text == "I'll plot it.\nThe answer is **42**."
    assert msg.tool_calls == []  # server-side code runs are not tool calls for the caller


async def test_ids_absent_are_derived_and_linked(server: GeminiTestServer, ask: Any) -> None:
    """No ids from Gemini: each call gets a stable, distinct id; results link to the last."""
    resp = response(
        code("a = 1\nprint(a)"),
        result("1\n"),
        code("print(a + 1)"),
        result("2\n"),
        text("Done."),
        response_id="resp-noids",
    )
    script(server, ask, resp)
    llm = ask.model()
    first = (await ask(llm)).message
    calls, results = calls_of(first.content), results_of(first.content)
    assert [c["args"]["code"] for c in calls] == ["a = 1\nprint(a)", "print(a + 1)"]
    ids = [c["id"] for c in calls]
    assert all(isinstance(i, str) and i for i in ids) and len(set(ids)) == 2
    assert [r["tool_call_id"] for r in results] == ids
    assert [r["output"] for r in results] == ["1\n", "2\n"]
    # Deterministic: the same response read again gives the same ids ...
    script(server, ask, resp)
    again = (await ask(llm)).message
    assert [c["id"] for c in calls_of(again.content)] == ids
    # ... and a different response id gives different ones.
    script(server, ask, {**resp, "responseId": "resp-other"})
    other = (await ask(llm)).message
    assert not {c["id"] for c in calls_of(other.content)} & set(ids)


async def test_result_ids_name_their_call_not_the_last_one(
    server: GeminiTestServer, ask: Any
) -> None:
    resp = response(
        code("print('x')", id="c-1"),
        code("print('y')", id="c-2"),
        result("x\n", id="c-1"),
        result("y\n", id="c-2"),
    )
    script(server, ask, resp)
    msg = (await ask(ask.model())).message
    assert [(r["tool_call_id"], r["output"]) for r in results_of(msg.content)] == [
        ("c-1", "x\n"),
        ("c-2", "y\n"),
    ]


async def test_two_results_for_one_code_part(server: GeminiTestServer, ask: Any) -> None:
    """Gemini 3 may send two results for one run: both kept, both linked, not merged."""
    resp = response(
        code("for i in range(2):\n    print(i)", id="run-1"),
        result("0\n", id="run-1"),
        result("1\n", outcome="OUTCOME_FAILED", id="run-1"),
        text("ok"),
    )
    script(server, ask, resp)
    msg = (await ask(ask.model())).message
    assert results_of(msg.content) == [
        code_result("run-1", "0\n"),
        code_result("run-1", "1\n", "OUTCOME_FAILED"),
    ]


async def test_two_results_without_ids_link_to_the_same_call(
    server: GeminiTestServer, ask: Any
) -> None:
    resp = response(code("print(1)"), result("1\n"), result("", outcome="OUTCOME_OK"))
    script(server, ask, resp)
    msg = (await ask(ask.model())).message
    (call,) = calls_of(msg.content)
    assert [r["tool_call_id"] for r in results_of(msg.content)] == [call["id"], call["id"]]
    assert [r["output"] for r in results_of(msg.content)] == ["1\n", ""]


async def test_timed_out_run_is_kept_with_its_outcome(server: GeminiTestServer, ask: Any) -> None:
    """OUTCOME_DEADLINE_EXCEEDED with empty and with absent output: a block each, verbatim."""
    resp = response(
        code("while True: pass", id="t1"),
        result("", outcome="OUTCOME_DEADLINE_EXCEEDED", id="t1"),
        code("import time; time.sleep(99)", id="t2"),
        result(None, outcome="OUTCOME_DEADLINE_EXCEEDED", id="t2"),
        code("print('partial'); import time; time.sleep(99)", id="t3"),
        result("partial\n", outcome="OUTCOME_DEADLINE_EXCEEDED", id="t3"),
        text("Both runs timed out."),
    )
    script(server, ask, resp)
    msg = (await ask(ask.model())).message
    results = results_of(msg.content)
    assert len(results) == 3
    for block, (call_id, output) in zip(
        results, [("t1", ""), ("t2", ""), ("t3", "partial\n")], strict=True
    ):
        assert block["tool_call_id"] == call_id
        assert block["status"] == "error"
        assert block["output"] == output
        assert block["extras"]["outcome"] == "OUTCOME_DEADLINE_EXCEEDED"
        assert block["extras"]["block_type"] == "code_execution_result"


async def test_failed_run_keeps_traceback(server: GeminiTestServer, ask: Any) -> None:
    resp = response(
        code("1/0", id="f1"),
        result(TRACEBACK, outcome="OUTCOME_FAILED", id="f1"),
        code("print(1/1)", id="f2"),
        result("1.0\n", id="f2"),
    )
    script(server, ask, resp)
    msg = (await ask(ask.model())).message
    assert results_of(msg.content) == [
        code_result("f1", TRACEBACK, "OUTCOME_FAILED"),
        code_result("f2", "1.0\n"),
    ]


async def test_result_without_outcome_and_unspecified(server: GeminiTestServer, ask: Any) -> None:
    no_outcome = {"codeExecutionResult": {"output": "?\n", "id": "u1"}}
    resp = response(
        code("print('?')", id="u1"),
        no_outcome,
        result("", outcome="OUTCOME_UNSPECIFIED", id="u1"),
    )
    script(server, ask, resp)
    msg = (await ask(ask.model())).message
    first, second = results_of(msg.content)
    assert first["tool_call_id"] == "u1" and first["output"] == "?\n"
    assert first["status"] == "error"
    assert "outcome" not in first["extras"]  # nothing invented
    assert second["extras"]["outcome"] == "OUTCOME_UNSPECIFIED"
    assert second["status"] == "error"


async def test_empty_code_and_orphan_result_still_have_blocks(
    server: GeminiTestServer, ask: Any
) -> None:
    resp = response(
        result("stray\n"),
        {"executableCode": {"language": "PYTHON", "code": ""}},
        result("", outcome="OUTCOME_OK"),
    )
    script(server, ask, resp)
    msg = (await ask(ask.model())).message
    assert [b["type"] for b in msg.content] == [
        "server_tool_result",
        "server_tool_call",
        "server_tool_result",
    ]
    orphan, call, res = msg.content
    assert call["args"]["code"] == ""
    assert res["tool_call_id"] == call["id"]
    assert orphan["tool_call_id"] and orphan["tool_call_id"] != call["id"]
    assert orphan["output"] == "stray\n"


async def test_other_language_is_kept(server: GeminiTestServer, ask: Any) -> None:
    resp = response(code("x", id="l1", language="LANGUAGE_UNSPECIFIED"), result("", id="l1"))
    script(server, ask, resp)
    (call,) = calls_of((await ask(ask.model())).message.content)
    assert call["id"] == "l1"
    assert call["extras"]["language"] == "LANGUAGE_UNSPECIFIED"


# ------------------------------------------------------------------ charts and media


async def test_charts_after_each_run_name_their_run(server: GeminiTestServer, ask: Any) -> None:
    resp = response(
        image(PNG, "image/png"),  # before any code: belongs to no run
        code("plot(1)", id="p1"),
        result("", id="p1"),
        image(PNG, "image/png"),
        code("plot(2)", id="p2"),
        result("", id="p2"),
        image(b"\xff\xd8\xff\xe0jpeg", "image/jpeg"),
        image(b"\x89PNG second", "image/png"),
    )
    script(server, ask, resp)
    msg = (await ask(ask.model())).message
    images = [b for b in msg.content if b["type"] == "image"]
    assert [b.get("extras", {}).get("tool_call_id") for b in images] == [None, "p1", "p2", "p2"]
    assert [b["mime_type"] for b in images] == ["image/png"] * 2 + ["image/jpeg", "image/png"]
    assert base64.b64decode(images[2]["base64"]) == b"\xff\xd8\xff\xe0jpeg"


async def test_other_inline_and_file_data_parts(server: GeminiTestServer, ask: Any) -> None:
    csv = base64.b64encode(b"a,b\n1,2\n").decode()
    resp = response(
        {"inlineData": {"mimeType": "text/csv", "data": csv}},
        {"inlineData": {"mimeType": "audio/wav", "data": "UklGRg=="}},
        {"fileData": {"mimeType": "video/mp4", "fileUri": "gs://bucket/clip.mp4"}},
        {
            "fileData": {
                "mimeType": "application/pdf",
                "fileUri": "https://generativelanguage.googleapis.com/v1beta/files/abc",
            }
        },
    )
    script(server, ask, resp)
    msg = (await ask(ask.model())).message
    assert msg.content == [
        {"type": "file", "base64": csv, "mime_type": "text/csv"},
        {"type": "audio", "base64": "UklGRg==", "mime_type": "audio/wav"},
        {"type": "video", "url": "gs://bucket/clip.mp4", "mime_type": "video/mp4"},
        {
            "type": "file",
            "file_id": "https://generativelanguage.googleapis.com/v1beta/files/abc",
            "mime_type": "application/pdf",
        },
    ]


# ------------------------------------------------------------------ thoughts and signatures


async def test_thoughts_and_signatures_on_every_part_kind(
    server: GeminiTestServer, ask: Any
) -> None:
    resp = response(
        text("Planning the computation.", thought=True, signature=SIG),
        text("Second thought.", thought=True),
        code("print(6*7)", id="s1", signature=SIG2),
        result("42\n", id="s1", signature=SIG),
        image(PNG, signature=SIG2),
        function_call("lookup", {"q": "x"}, id="fc-1", signature=SIG),
        text("42", signature=SIG2),
    )
    script(server, ask, resp)
    msg = (await ask(ask.model())).message
    reasoning = [b for b in msg.content if b["type"] == "reasoning"]
    assert reasoning == [
        {
            "type": "reasoning",
            "reasoning": "Planning the computation.",
            "extras": {"signature": SIG},
        },
        {"type": "reasoning", "reasoning": "Second thought."},
    ]
    signatures = {b["type"]: b.get("extras", {}).get("signature") for b in msg.content[2:]}
    assert signatures == {
        "server_tool_call": SIG2,
        "server_tool_result": SIG,
        "image": SIG2,
        "tool_call": SIG,
        "text": SIG2,
    }
    assert msg.text == "42"  # thoughts are not the answer
    assert msg.tool_calls == [
        {"type": "tool_call", "id": "fc-1", "name": "lookup", "args": {"q": "x"}}
    ]


async def test_thought_false_is_a_plain_text_block(server: GeminiTestServer, ask: Any) -> None:
    resp = response({"text": "visible", "thought": False})
    script(server, ask, resp)
    msg = (await ask(ask.model())).message
    (block,) = msg.content
    assert block["type"] == "text" and block["text"] == "visible"
    assert msg.text == "visible"


async def test_text_whitespace_is_kept_exactly(server: GeminiTestServer, ask: Any) -> None:
    words = "  \n Leading spaces, trailing newlines and tabs\t \n\n"
    resp = response(text(words), code("pass", id="w"), result("  \n", id="w"), text(" \n"))
    script(server, ask, resp, pieces=5)
    msg = (await ask(ask.model())).message
    assert msg.content[0] == {"type": "text", "text": words}
    assert msg.content[-1] == {"type": "text", "text": " \n"}
    assert results_of(msg.content)[0]["output"] == "  \n"
    assert msg.text == words + " \n"


# ------------------------------------------------------------------ unknown data kept


async def test_unknown_part_kinds_are_non_standard(server: GeminiTestServer, ask: Any) -> None:
    new_kind = {"someNewKind": {"a": [1, 2, {"b": None}], "c": "d"}, "thoughtSignature": SIG}
    tool_call = {"toolCall": {"id": "tc", "toolType": "GOOGLE_SEARCH", "args": {"q": "x"}}}
    resp = response(text("a"), new_kind, tool_call, text("b"))
    script(server, ask, resp)
    msg = (await ask(ask.model())).message
    assert msg.content[1] == {"type": "non_standard", "value": new_kind}
    assert msg.content[2] == {"type": "non_standard", "value": tool_call}


async def test_unknown_keys_on_known_parts_are_kept(server: GeminiTestServer, ask: Any) -> None:
    resp = response(
        {"text": "hello", "partMetadata": {"k": "v"}},
        {"executableCode": {"code": "1", "language": "PYTHON", "id": "k1", "newField": 3}},
        {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "", "id": "k1"}, "x": True},
        {"inlineData": {"mimeType": "image/png", "data": PNG_B64, "displayName": "chart.png"}},
    )
    script(server, ask, resp)
    msg = (await ask(ask.model())).message
    blob = repr(msg.content)
    for kept in ("partMetadata", "newField", "'x': True", "displayName", "chart.png"):
        assert kept in blob, kept
    assert msg.content[0]["text"] == "hello"
    assert msg.content[1]["id"] == "k1"


# ------------------------------------------------------------------ metadata and usage


async def test_response_metadata(server: GeminiTestServer, ask: Any) -> None:
    ratings = [
        {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
        {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "LOW", "blocked": False},
    ]
    grounding = {"webSearchQueries": ["primes"], "groundingChunks": [{"web": {"uri": "u"}}]}
    citations = {"citationSources": [{"startIndex": 0, "endIndex": 4, "uri": "https://x"}]}
    resp = response(
        text("cited"),
        model_version="gemini-2.5-flash-preview-05-20",
        response_id="resp-meta",
        finish_reason="STOP",
    )
    resp["candidates"][0].update(
        safetyRatings=ratings, groundingMetadata=grounding, citationMetadata=citations
    )
    script(server, ask, resp)
    msg = (await ask(ask.model(model="gemini-2.5-flash"))).message
    meta = msg.response_metadata
    assert meta["model_provider"] == "google_genai"
    assert meta["model_name"] == "gemini-2.5-flash-preview-05-20"
    assert meta["finish_reason"] == "STOP"
    assert meta["response_id"] == "resp-meta"
    assert meta["safety_ratings"] == ratings
    assert meta["grounding_metadata"] == grounding
    assert meta["citation_metadata"] == citations
    assert meta["output_version"] == "v1"


async def test_model_name_falls_back_to_requested_model(server: GeminiTestServer, ask: Any) -> None:
    resp = response(text("hi"))
    del resp["modelVersion"]
    script(server, ask, resp)
    msg = (await ask(ask.model(model="gemini-3-flash-preview"))).message
    assert msg.response_metadata["model_name"] == "gemini-3-flash-preview"


async def test_usage_totals(server: GeminiTestServer, ask: Any) -> None:
    counts = usage(prompt=120, candidates=45, thoughts=300, tool_use_prompt=410, cached=64)
    resp = response(text("t", thought=True), code("1", id="u"), result("1", id="u"), usage=counts)
    script(server, ask, resp)
    msg = (await ask(ask.model())).message
    assert msg.usage_metadata == {
        "input_tokens": 120 + 410,
        "output_tokens": 45 + 300,
        "total_tokens": 120 + 45 + 300 + 410,
        "input_token_details": {"cache_read": 64},
        "output_token_details": {"reasoning": 300},
    }
    u = msg.usage_metadata
    assert u["input_tokens"] + u["output_tokens"] == u["total_tokens"]


async def test_usage_with_only_required_counts(server: GeminiTestServer, ask: Any) -> None:
    script(server, ask, response(text("x"), usage=usage(prompt=7, candidates=3)))
    msg = (await ask(ask.model())).message
    assert msg.usage_metadata is not None
    assert (msg.usage_metadata["input_tokens"], msg.usage_metadata["output_tokens"]) == (7, 3)
    assert msg.usage_metadata["total_tokens"] == 10


async def test_empty_answer_keeps_finish_reason(server: GeminiTestServer, ask: Any) -> None:
    """`content` with no parts: an empty message that still says why it ended."""
    resp = response(finish_reason="STOP")
    resp["candidates"][0]["content"] = {"role": "model"}
    script(server, ask, resp)
    msg = (await ask(ask.model())).message
    assert msg.content == []
    assert msg.response_metadata["finish_reason"] == "STOP"
