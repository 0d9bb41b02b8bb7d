"""Unit tests of the pure mapping functions, one contract row at a time."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from langchain_gemini_codeexec._mapping.from_gemini import (
    Linker,
    part_to_block,
    parts_to_blocks,
    response_to_message_fields,
    usage_to_metadata,
)
from langchain_gemini_codeexec._mapping.streaming import StreamState
from langchain_gemini_codeexec._mapping.to_gemini import SKIP_SIGNATURE as SKIP
from langchain_gemini_codeexec._mapping.to_gemini import messages_to_contents
from langchain_gemini_codeexec.errors import (
    BlockedPromptError,
    IncompleteResponseError,
    InvalidMessageError,
)

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nchart").decode()


def blocks(*parts: dict[str, Any], rid: str = "r1") -> list[dict[str, Any]]:
    return parts_to_blocks(list(parts), Linker(response_id=rid))


def test_text_is_kept_exactly_with_whitespace() -> None:
    assert blocks({"text": "  The sum is 5117.\n\n"}) == [
        {"type": "text", "text": "  The sum is 5117.\n\n"}
    ]


def test_thought_becomes_reasoning_with_signature_in_extras() -> None:
    assert blocks({"text": "plan", "thought": True, "thoughtSignature": "c2ln"}) == [
        {"type": "reasoning", "reasoning": "plan", "extras": {"signature": "c2ln"}}
    ]


def test_code_and_result_with_gemini_ids_are_linked_by_those_ids() -> None:
    out = blocks(
        {"executableCode": {"language": "PYTHON", "code": "print(1)", "id": "c1"}},
        {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "1\n", "id": "c1"}},
    )
    assert out == [
        {
            "type": "server_tool_call",
            "name": "code_interpreter",
            "id": "c1",
            "args": {"code": "print(1)", "language": "python"},
        },
        {
            "type": "server_tool_result",
            "tool_call_id": "c1",
            "status": "success",
            "output": "1\n",
            "extras": {"outcome": "OUTCOME_OK", "block_type": "code_execution_result"},
        },
    ]


def test_ids_are_derived_from_response_id_and_ordinal_when_gemini_sends_none() -> None:
    out = blocks(
        {"executableCode": {"language": "PYTHON", "code": "a"}},
        {"codeExecutionResult": {"outcome": "OUTCOME_FAILED", "output": "Traceback"}},
        {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "retry ok"}},
        {"executableCode": {"language": "PYTHON", "code": "b"}},
        {"codeExecutionResult": {"outcome": "OUTCOME_DEADLINE_EXCEEDED"}},
        rid="resp-9",
    )
    first, second = out[0]["id"], out[3]["id"]
    assert (first, second) == ("resp-9_code_0", "resp-9_code_1")
    assert [b["tool_call_id"] for b in out if b["type"] == "server_tool_result"] == [
        first,
        first,
        second,
    ]
    timed_out = out[4]
    assert timed_out["status"] == "error"
    assert timed_out["output"] == ""
    assert timed_out["extras"]["outcome"] == "OUTCOME_DEADLINE_EXCEEDED"


def test_result_without_outcome_or_output_still_has_its_block() -> None:
    (block,) = blocks({"codeExecutionResult": {}})
    assert block["type"] == "server_tool_result"
    assert "outcome" not in block["extras"]
    assert block["extras"]["absent"] == ["output"]


def test_chart_after_a_run_names_that_run() -> None:
    out = blocks(
        {"executableCode": {"language": "PYTHON", "code": "plt.show()", "id": "k"}},
        {"codeExecutionResult": {"outcome": "OUTCOME_OK", "id": "k"}},
        {"inlineData": {"mimeType": "image/png", "data": PNG}},
    )
    assert out[2] == {
        "type": "image",
        "base64": PNG,
        "mime_type": "image/png",
        "extras": {"tool_call_id": "k"},
    }


def test_image_before_any_run_is_not_linked() -> None:
    (block,) = blocks({"inlineData": {"mimeType": "image/png", "data": PNG}})
    assert "extras" not in block


@pytest.mark.parametrize(
    ("mime", "kind"),
    [
        ("audio/wav", "audio"),
        ("video/mp4", "video"),
        ("text/csv", "file"),
        ("application/pdf", "file"),
    ],
)
def test_other_inline_data_maps_by_mime_type(mime: str, kind: str) -> None:
    (block,) = blocks({"inlineData": {"mimeType": mime, "data": "QUJD"}})
    assert block == {"type": kind, "base64": "QUJD", "mime_type": mime}


def test_file_data_uses_file_id_for_files_api_and_url_otherwise() -> None:
    files_api = "https://generativelanguage.googleapis.com/v1beta/files/abc"
    out = blocks(
        {"fileData": {"fileUri": files_api, "mimeType": "text/csv"}},
        {"fileData": {"fileUri": "gs://b/x.png", "mimeType": "image/png"}},
    )
    assert out == [
        {"type": "file", "file_id": files_api, "mime_type": "text/csv"},
        {"type": "image", "url": "gs://b/x.png", "mime_type": "image/png"},
    ]


def test_unknown_part_is_kept_as_non_standard() -> None:
    part = {"toolCall": {"id": "t", "toolType": "GOOGLE_SEARCH", "args": {"q": "x"}}}
    assert blocks(part) == [{"type": "non_standard", "value": part}]


def test_function_call_becomes_tool_call_with_signature() -> None:
    fields = response_to_message_fields(
        {
            "candidates": [
                {
                    "content": {
                        "parts": [
                            {
                                "functionCall": {
                                    "name": "lookup",
                                    "args": {"q": "GDP"},
                                    "id": "f1",
                                },
                                "thoughtSignature": "c2ln",
                            }
                        ]
                    },
                    "finishReason": "STOP",
                }
            ]
        },
        "m",
    )
    message = AIMessage(**fields)
    assert message.tool_calls == [
        {"type": "tool_call", "id": "f1", "name": "lookup", "args": {"q": "GDP"}}
    ]
    assert message.content[0]["extras"] == {"signature": "c2ln"}  # type: ignore[index]


def test_usage_follows_the_contract() -> None:
    usage = usage_to_metadata(
        {
            "promptTokenCount": 100,
            "candidatesTokenCount": 40,
            "toolUsePromptTokenCount": 30,
            "thoughtsTokenCount": 20,
            "cachedContentTokenCount": 50,
            "totalTokenCount": 190,
        }
    )
    assert usage == {
        "input_tokens": 130,
        "output_tokens": 60,
        "total_tokens": 190,
        "input_token_details": {"cache_read": 50},
        "output_token_details": {"reasoning": 20},
    }
    assert usage["input_tokens"] + usage["output_tokens"] == usage["total_tokens"]


def test_response_metadata_is_plain_and_complete() -> None:
    fields = response_to_message_fields(
        {
            "candidates": [
                {
                    "content": {"parts": [{"text": "x"}]},
                    "finishReason": "MAX_TOKENS",
                    "safetyRatings": [
                        {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"}
                    ],
                    "citationMetadata": {"citations": []},
                }
            ],
            "modelVersion": "gemini-2.5-flash-002",
            "responseId": "rid",
        },
        "gemini-2.5-flash",
    )
    assert fields["response_metadata"] == {
        "model_provider": "google_genai",
        "integration": "langchain-gemini-codeexec",
        "model_name": "gemini-2.5-flash-002",
        "response_id": "rid",
        "finish_reason": "MAX_TOKENS",
        "safety_ratings": [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"}],
        "citation_metadata": {"citations": []},
        "output_version": "v1",
    }


# --- input -----------------------------------------------------------------------------


def test_system_messages_anywhere_become_system_instruction_in_order() -> None:
    system, contents = messages_to_contents(
        [SystemMessage("a"), HumanMessage("hi"), SystemMessage([{"type": "text", "text": "b"}])]
    )
    assert system == {"parts": [{"text": "a"}, {"text": "b"}]}
    assert contents == [{"role": "user", "parts": [{"text": "hi"}]}]


def test_human_media_blocks_map_to_inline_and_file_data() -> None:
    _, contents = messages_to_contents(
        [
            HumanMessage(
                [
                    {"type": "text", "text": "look"},
                    {"type": "image", "base64": PNG, "mime_type": "image/png"},
                    {"type": "image", "base64": PNG},  # mime type sniffed from the bytes
                    {"type": "file", "url": "gs://bucket/data.csv", "mime_type": "text/csv"},
                    {"type": "file", "file_id": "files/abc", "mime_type": "text/csv"},
                    {"type": "image", "url": f"data:image/png;base64,{PNG}"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                ]
            )
        ],
        file_base="https://host/v1beta",
    )
    assert contents[0]["parts"] == [
        {"text": "look"},
        {"inlineData": {"mimeType": "image/png", "data": PNG}},
        {"inlineData": {"mimeType": "image/png", "data": PNG}},
        {"fileData": {"mimeType": "text/csv", "fileUri": "gs://bucket/data.csv"}},
        {"fileData": {"mimeType": "text/csv", "fileUri": "https://host/v1beta/files/abc"}},
        {"inlineData": {"mimeType": "image/png", "data": PNG}},
        {"inlineData": {"mimeType": "image/png", "data": PNG}},
    ]


def test_langchain_google_genai_v0_blocks_are_accepted() -> None:
    message = AIMessage(
        [
            {"type": "thinking", "thinking": "hmm", "signature": "c2ln"},
            {
                "type": "executable_code",
                "executable_code": "print(1)",
                "language": "PYTHON",
                "id": "uuid-1",
            },
            {
                "type": "code_execution_result",
                "code_execution_result": "1\n",
                "outcome": 1,
                "tool_call_id": "",
            },
            {"type": "text", "text": "one", "extras": {"signature": "dGV4dA=="}},
        ],
        response_metadata={"model_provider": "google_genai"},
    )
    _, contents = messages_to_contents([HumanMessage("q"), message])
    assert contents[1]["parts"] == [
        {"text": "hmm", "thought": True, "thoughtSignature": "c2ln"},
        {"executableCode": {"code": "print(1)", "language": "PYTHON"}},
        {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "1\n"}},
        {"text": "one", "thoughtSignature": "dGV4dA=="},
    ]


def test_other_providers_code_interpreter_blocks_lose_ids_and_signatures() -> None:
    message = AIMessage(
        [
            {"type": "reasoning", "reasoning": "r", "extras": {"signature": "anthropic-sig"}},
            {
                "type": "server_tool_call",
                "name": "code_interpreter",
                "id": "ci_1",
                "args": {"code": "1+1"},
            },
            {
                "type": "server_tool_result",
                "tool_call_id": "ci_1",
                "status": "success",
                "output": [{"type": "logs", "logs": "2"}],
            },
        ],
        response_metadata={"model_provider": "openai"},
    )
    _, contents = messages_to_contents([HumanMessage("q"), message])
    assert contents[1]["parts"] == [
        {"text": "r", "thought": True},
        {"executableCode": {"code": "1+1", "language": "PYTHON"}},
        {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "2"}},
    ]


def test_tool_messages_become_function_responses_in_one_turn() -> None:
    # Gemini's own calls (ids it sent), so the ids go back; see tests/agents for the rest.
    calls = [
        {"type": "tool_call", "name": "lookup", "args": {}, "id": "f1"},
        {"type": "tool_call", "name": "add", "args": {}, "id": "f2"},
    ]
    ai = AIMessage(
        calls,  # type: ignore[arg-type]
        tool_calls=calls,  # type: ignore[arg-type]
        response_metadata={"model_provider": "google_genai"},
    )
    _, contents = messages_to_contents(
        [
            HumanMessage("q"),
            ai,
            ToolMessage('{"gdp": 3}', tool_call_id="f1"),
            ToolMessage("boom", tool_call_id="f2", status="error"),
        ]
    )
    assert contents[2] == {
        "role": "user",
        "parts": [
            {"functionResponse": {"id": "f1", "name": "lookup", "response": {"gdp": 3}}},
            {"functionResponse": {"id": "f2", "name": "add", "response": {"error": "boom"}}},
        ],
    }


@pytest.mark.parametrize(
    ("messages", "needle"),
    [
        ([], "empty"),
        ([SystemMessage("only")], "HumanMessage"),
        ([HumanMessage([{"type": "wat"}])], "messages[0]: content[0]: block type 'wat'"),
        (
            [HumanMessage([{"type": "image", "base64": "***", "mime_type": "image/png"}])],
            "not valid base64",
        ),
        ([HumanMessage([{"type": "file", "base64": "QUJD"}])], "needs 'mime_type'"),
        (
            [HumanMessage("q"), ToolMessage("x", tool_call_id="nope")],
            "messages[1]: ToolMessage answers",
        ),
    ],
)
def test_bad_input_names_the_message_and_what_is_wrong(messages: list[Any], needle: str) -> None:
    with pytest.raises(InvalidMessageError) as info:
        messages_to_contents(messages)
    assert needle in str(info.value)


# --- streaming state -------------------------------------------------------------------


def _chunk(
    *parts: dict[str, Any], finish: str | None = None, usage: dict[str, Any] | None = None
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}}
    if finish:
        candidate["finishReason"] = finish
    chunk: dict[str, Any] = {"candidates": [candidate], "responseId": "s1", "modelVersion": "m-1"}
    if usage:
        chunk["usageMetadata"] = usage
    return chunk


def test_stream_indexes_text_runs_and_separates_signed_parts() -> None:
    state = StreamState("m")
    c1 = state.chunk(_chunk({"text": "Hel"}))
    c2 = state.chunk(_chunk({"text": "lo"}))
    c3 = state.chunk(_chunk({"executableCode": {"language": "PYTHON", "code": "x"}}))
    c4 = state.chunk(_chunk({"text": "done"}))
    c5 = state.chunk(_chunk({"text": "", "thoughtSignature": "c2ln"}, finish="STOP"))
    indexes = [b["index"] for c in (c1, c2, c3, c4, c5) for b in c.content]  # type: ignore[index]
    assert indexes == [0, 0, 1, 2, 3]
    assert c5.chunk_position == "last"
    assert c5.response_metadata["finish_reason"] == "STOP"
    assert "model_name" in c1.response_metadata and "model_name" not in c2.response_metadata


def test_stream_usage_is_sent_as_deltas_of_running_totals() -> None:
    state = StreamState("m")
    a = state.chunk(
        _chunk(
            {"text": "a"},
            usage={"promptTokenCount": 10, "candidatesTokenCount": 2, "totalTokenCount": 12},
        )
    )
    b = state.chunk(
        _chunk(
            {"text": "b"},
            finish="STOP",
            usage={"promptTokenCount": 10, "candidatesTokenCount": 7, "totalTokenCount": 17},
        )
    )
    assert a.usage_metadata and b.usage_metadata
    assert a.usage_metadata["input_tokens"] + b.usage_metadata["input_tokens"] == 10
    assert a.usage_metadata["output_tokens"] + b.usage_metadata["output_tokens"] == 7
    assert (a + b).usage_metadata["total_tokens"] == 17  # type: ignore[index]


def test_stream_without_finish_reason_is_incomplete() -> None:
    state = StreamState("m")
    state.chunk(_chunk({"text": "partial"}))
    with pytest.raises(IncompleteResponseError, match="without a finishReason"):
        state.check_complete()


def test_blocked_prompt_in_stream_raises_with_reason() -> None:
    state = StreamState("m")
    with pytest.raises(BlockedPromptError, match="PROHIBITED_CONTENT"):
        state.chunk({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}})


def test_part_to_block_never_fails_on_garbage() -> None:
    for junk in (
        None,
        3,
        "x",
        [],
        {"text": 5},
        {"executableCode": "nope"},
        {"inlineData": {"data": 1}},
    ):
        block = part_to_block(junk, Linker())
        assert block["type"] == "non_standard"


def _call_response(model_version: str) -> dict[str, Any]:
    return {
        "candidates": [
            {
                "content": {
                    "parts": [{"functionCall": {"name": "lookup", "args": {}, "id": "f9"}}]
                },
                "finishReason": "STOP",
            }
        ],
        "modelVersion": model_version,
    }


def test_gemini3_own_unsigned_call_goes_back_exactly_but_foreign_calls_get_skip_value() -> None:
    own = AIMessage(**response_to_message_fields(_call_response("gemini-3-flash-preview"), "m"))
    hand_made = AIMessage("", tool_calls=[{"name": "lookup", "args": {}, "id": "x1"}])
    for message, expected in (
        (own, {"functionCall": {"id": "f9", "name": "lookup", "args": {}}}),
        (hand_made, {"functionCall": {"name": "lookup", "args": {}}, "thoughtSignature": SKIP}),
    ):
        _, contents = messages_to_contents(
            [HumanMessage("q"), message], model="gemini-3-flash-preview"
        )
        assert contents[1]["parts"] == [expected]
        # Gemini 2.x needs no signatures: nothing is added there.
        _, legacy = messages_to_contents([HumanMessage("q"), message], model="gemini-2.5-flash")
        assert "thoughtSignature" not in legacy[1]["parts"][0]


def test_metadata_arriving_after_the_finish_chunk_is_kept_once() -> None:
    state = StreamState("m")
    first = state.chunk(_chunk({"text": "a"}, finish="STOP"))
    late = _chunk()
    late["candidates"][0]["groundingMetadata"] = {"webSearchQueries": ["q"]}
    second = state.chunk(late)
    again = state.chunk(late)
    total = first + second + again
    assert total.response_metadata["grounding_metadata"] == {"webSearchQueries": ["q"]}
    assert total.response_metadata["finish_reason"] == "STOP"


@pytest.mark.parametrize("bad", ["../../v1beta/files", "models/../files", "m?x=1", "m#f", "a b"])
def test_model_names_that_would_leave_the_models_path_are_refused(bad: str) -> None:
    from langchain_gemini_codeexec import ChatGeminiCodeExecution

    llm = ChatGeminiCodeExecution(api_key="k", base_url="http://127.0.0.1:9")
    with pytest.raises(InvalidMessageError, match="is not a model name"):
        llm.invoke("hi", model=bad)


@pytest.mark.parametrize("content", ["", [], [{"type": "text", "text": ""}]])
def test_an_empty_user_message_is_refused_before_sending(content: Any) -> None:
    with pytest.raises(
        InvalidMessageError, match=r"messages\[1\]: the user message has no content"
    ):
        messages_to_contents([SystemMessage("s"), HumanMessage(content)])


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, False),
        ({"GEMINI_API_KEY": "k"}, True),
        ({"GOOGLE_GENAI_USE_VERTEXAI": "true"}, False),
        ({"GOOGLE_GENAI_USE_VERTEXAI": "True", "GOOGLE_CLOUD_PROJECT": "p"}, True),
    ],
)
def test_has_gemini_credentials_reads_the_environment_like_the_model(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: bool
) -> None:
    from langchain_gemini_codeexec.testing import has_gemini_credentials

    for name in (
        "GOOGLE_API_KEY",
        "GEMINI_API_KEY",
        "GOOGLE_GENAI_USE_VERTEXAI",
        "GOOGLE_CLOUD_PROJECT",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert has_gemini_credentials() is expected
