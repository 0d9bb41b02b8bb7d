"""The shared block vocabulary and the foreign-format translators, as pure functions.

The same code result read by the request mapper (`_to_gemini`) and by the report must say
the same output and outcome: one reader, `_blocks.output_text` / `result_outcome`.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, HumanMessage

from langchain_gemini_codeexec import CodeExecutionReport
from langchain_gemini_codeexec._mapping.blocks import (
    MARKER,
    MARKER_KEY,
    BlockError,
    decode_base64,
    output_text,
    result_outcome,
)
from langchain_gemini_codeexec._mapping.from_gemini import response_to_message_fields
from langchain_gemini_codeexec._mapping.to_gemini import messages_to_contents
from langchain_gemini_codeexec._mapping.translators import (
    from_other_provider,
    from_unmarked_google_genai,
    to_v1,
    with_function_call_signatures,
)
from langchain_gemini_codeexec.errors import InvalidMessageError
from tests.support import property_test

# --- output text and outcome: one reading for the request and the report ---------------

OUTPUTS: list[tuple[Any, str]] = [
    (None, ""),
    ("42\n", "42\n"),
    (
        {"type": "code_execution_result", "stdout": "4\n", "stderr": "warn\n", "return_code": 0},
        "4\nwarn\n",
    ),
    ({"stdout": None, "stderr": "Traceback\n"}, "Traceback\n"),
    ([{"type": "logs", "logs": "a"}, {"type": "logs", "logs": "b\n"}], "ab\n"),
    ([{"type": "logs", "logs": ""}], ""),  # empty logs are empty output, not JSON
    ([], ""),
    ([{"type": "text", "text": "t"}], "t"),
    # Nothing to read as text: kept whole as JSON rather than dropped.
    (
        [{"type": "image", "url": "https://x/y.png"}],
        '[{"type": "image", "url": "https://x/y.png"}]',
    ),
    ({"rows": 3}, '{"rows": 3}'),
]


@pytest.mark.parametrize(("output", "expected"), OUTPUTS)
def test_output_text(output: Any, expected: str) -> None:
    assert output_text(output) == expected


def _foreign_code_message(output: Any, status: str = "success") -> AIMessage:
    return AIMessage(
        [
            {
                "type": "server_tool_call",
                "name": "code_interpreter",
                "id": "c",
                "args": {"code": "x"},
            },
            {"type": "server_tool_result", "tool_call_id": "c", "status": status, "output": output},
        ],
        response_metadata={"model_provider": "openai", "output_version": "v1"},
    )


def _has_image(output: Any) -> bool:
    return isinstance(output, list) and any(i.get("type") == "image" for i in output)


@pytest.mark.parametrize(("output", "expected"), [o for o in OUTPUTS if not _has_image(o[0])])
def test_request_and_report_read_a_result_the_same_way(output: Any, expected: str) -> None:
    message = _foreign_code_message(output)
    _, contents = messages_to_contents([HumanMessage("q"), message])
    sent = contents[1]["parts"][1]["codeExecutionResult"]
    (run,) = CodeExecutionReport.from_message(message).runs
    assert sent["output"] == run.output == expected
    assert sent["outcome"] == run.outcome == "OUTCOME_OK"


def test_an_image_output_is_sent_as_an_image_part_not_as_output() -> None:
    message = _foreign_code_message([{"type": "image", "url": "https://x/y.png"}])
    _, contents = messages_to_contents([HumanMessage("q"), message])
    assert contents[1]["parts"][1:] == [
        {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": ""}},
        {"fileData": {"mimeType": "image/png", "fileUri": "https://x/y.png"}},
    ]


@pytest.mark.parametrize(
    ("block", "extras", "expected"),
    [
        ({}, {"outcome": "OUTCOME_DEADLINE_EXCEEDED"}, "OUTCOME_DEADLINE_EXCEEDED"),
        ({}, {"outcome": 2}, "OUTCOME_FAILED"),  # langchain-google-genai's enum int
        ({}, {"outcome": 9}, 9),  # an int this version does not know: verbatim
        ({}, {"block_type": "code_execution_result"}, None),  # Gemini sent no outcome
        ({"status": "error"}, {}, "OUTCOME_FAILED"),
        ({"status": "success"}, {}, "OUTCOME_OK"),
        # Anthropic: LangChain says "success" for a run that exited 1; the code wins.
        ({"status": "success", "output": {"stdout": "", "return_code": 1}}, {}, "OUTCOME_FAILED"),
    ],
)
def test_result_outcome(block: dict[str, Any], extras: dict[str, Any], expected: Any) -> None:
    assert result_outcome(block, extras) == expected


def test_report_and_request_agree_on_a_failed_anthropic_run() -> None:
    output = {"type": "code_execution_result", "stdout": "", "stderr": "E\n", "return_code": 1}
    message = _foreign_code_message(output)
    _, contents = messages_to_contents([HumanMessage("q"), message])
    (run,) = CodeExecutionReport.from_message(message).runs
    assert contents[1]["parts"][1]["codeExecutionResult"]["outcome"] == run.outcome
    assert run.outcome == "OUTCOME_FAILED" and not run.ok


@property_test(100, st.binary(max_size=64), st.booleans(), st.booleans())
def test_decode_base64_reads_both_alphabets_padded_or_not(
    data: bytes, urlsafe: bool, padded: bool
) -> None:
    encoded = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(data).decode()
    assert decode_base64(encoded if padded else encoded.rstrip("=")) == data


@pytest.mark.parametrize("bad", ["!!!", "QUJD*", "Q"])
def test_decode_base64_refuses_what_is_not_base64(bad: str) -> None:
    with pytest.raises(BlockError, match="invalid base64"):
        decode_base64(bad)


# --- translators: each foreign format to our v1 blocks ----------------------------------


def test_langchain_google_genai_v0_blocks_translate_to_v1() -> None:
    blocks = [
        {"type": "thinking", "thinking": "hmm", "signature": "c2ln"},
        {"type": "executable_code", "executable_code": "print(1)", "language": "PYTHON", "id": "u"},
        {"type": "code_execution_result", "code_execution_result": "1\n", "outcome": 2},
    ]
    assert [b for _, b in to_v1(blocks)] == [
        {"type": "reasoning", "reasoning": "hmm", "extras": {"signature": "c2ln"}},
        {
            "type": "server_tool_call",
            "name": "code_interpreter",
            "args": {"code": "print(1)", "language": "python"},
            "extras": {"language": "PYTHON", "synthetic_id": True},
            "id": "u",
        },
        {
            "type": "server_tool_result",
            "tool_call_id": None,
            "status": "error",
            "output": "1\n",
            "extras": {
                "outcome": "OUTCOME_FAILED",
                "block_type": "code_execution_result",
                "synthetic_id": True,
            },
        },
    ]


def test_anthropic_openai_and_chunk_calls_translate_to_tool_calls() -> None:
    blocks = [
        {"type": "tool_use", "id": "toolu", "name": "f", "input": {"a": 1}},
        {
            "type": "function_call",
            "call_id": "call_1",
            "id": "fc",
            "name": "g",
            "arguments": '{"b": 2}',
        },
        {"type": "tool_call_chunk", "id": "t", "name": "h", "args": '{"c": 3}', "index": 4},
    ]
    calls = [b for _, b in to_v1(blocks)]
    assert [(c["type"], c["id"], c["name"], c["args"]) for c in calls] == [
        ("tool_call", "toolu", "f", {"a": 1}),
        ("tool_call", "call_1", "g", {"b": 2}),
        ("tool_call", "t", "h", {"c": 3}),
    ]


def test_translation_errors_name_the_block() -> None:
    with pytest.raises(BlockError, match=r"content\[1\]: tool_call_chunk args are not complete"):
        list(to_v1(["x", {"type": "tool_call_chunk", "name": "h", "args": '{"c": '}]))


def test_image_url_translates_to_an_image_block() -> None:
    ((_, block),) = to_v1([{"type": "image_url", "image_url": {"url": "https://x/p.png"}}])
    assert block == {"type": "image", "url": "https://x/p.png", "mime_type": "image/png"}


def test_other_providers_keep_only_what_gemini_can_use() -> None:
    result = {
        "type": "server_tool_result",
        "tool_call_id": "c",
        "extras": {"signature": "s", "outcome": 1, "container": "x"},
    }
    assert from_other_provider(result)["extras"] == {"outcome": 1}
    assert "extras" not in from_other_provider({"type": "text", "text": "t", "extras": {"a": 1}})
    with pytest.raises(BlockError, match="non_standard"):
        from_other_provider({"type": "non_standard", "value": {}})


def test_unmarked_google_genai_code_ids_are_theirs_only_when_language_is_upper_case() -> None:
    lgg = {"type": "server_tool_call", "id": "uuid", "args": {"code": "", "language": "PYTHON"}}
    old_ours = {"type": "server_tool_call", "id": "gem", "args": {"code": "", "language": "python"}}
    out = from_unmarked_google_genai([lgg, old_ours, "text"])
    assert out[0]["extras"] == {"synthetic_id": True}
    assert out[1] == old_ours and out[2] == "text"
    assert "extras" not in lgg  # the message's own block is never changed


def test_function_call_signatures_move_onto_their_calls() -> None:
    call = {"type": "tool_call", "id": "c1", "name": "f", "args": {}}
    own = {**call, "id": "c2", "extras": {"signature": "mine"}}
    out = with_function_call_signatures([call, own], {"c1": "sig1", "c2": "other"})
    assert out[0]["extras"] == {"signature": "sig1"}
    assert out[1]["extras"] == {"signature": "mine"}


# --- the marker: our messages are recognised by it, old ones still replay ---------------


def _code_response() -> dict[str, Any]:
    part = {"executableCode": {"code": "print(1)", "language": "PYTHON", "id": "gem-1"}}
    return {"candidates": [{"content": {"parts": [part]}, "finishReason": "STOP"}]}


def test_our_messages_carry_the_marker() -> None:
    fields = response_to_message_fields(_code_response(), "gemini-2.5-flash")
    assert fields["response_metadata"][MARKER_KEY] == MARKER


def _sent_code(message: AIMessage) -> dict[str, Any]:
    _, contents = messages_to_contents([HumanMessage("q"), message])
    code: dict[str, Any] = contents[1]["parts"][0]["executableCode"]
    return code


def test_marked_message_ids_go_back_whatever_the_language_spelling() -> None:
    message = AIMessage(**response_to_message_fields(_code_response(), "m"))
    assert _sent_code(message)["id"] == "gem-1"
    # Even a (hand-edited) upper-case language: the marker, not the spelling, decides.
    block = {**message.content[0], "args": {"code": "print(1)", "language": "PYTHON"}}  # type: ignore[dict-item]
    edited = message.model_copy(update={"content": [block]})
    assert _sent_code(edited)["id"] == "gem-1"


def test_messages_saved_before_the_marker_still_replay_with_their_ids() -> None:
    message = AIMessage(**response_to_message_fields(_code_response(), "m"))
    metadata = {k: v for k, v in message.response_metadata.items() if k != MARKER_KEY}
    old = message.model_copy(update={"response_metadata": metadata})
    assert _sent_code(old) == {"code": "print(1)", "language": "PYTHON", "id": "gem-1"}
    # langchain-google-genai's own code call (upper-case language, its own id): no id.
    block = {**old.content[0], "args": {"code": "print(1)", "language": "PYTHON"}}  # type: ignore[dict-item]
    lgg = old.model_copy(update={"content": [block]})
    assert _sent_code(lgg) == {"code": "print(1)", "language": "PYTHON"}


def test_a_foreign_non_standard_block_is_refused_by_position() -> None:
    message = AIMessage(
        [{"type": "text", "text": "hi"}, {"type": "non_standard", "value": {"x": 1}}],
        response_metadata={"model_provider": "openai"},
    )
    with pytest.raises(InvalidMessageError, match=r"messages\[1\]: content\[1\]: a non_standard"):
        messages_to_contents([HumanMessage("q"), message])


def test_unknown_output_shapes_reach_gemini_whole() -> None:
    message = _foreign_code_message({"rows": [1, 2]})
    _, contents = messages_to_contents([HumanMessage("q"), message])
    sent = contents[1]["parts"][1]["codeExecutionResult"]["output"]
    assert json.loads(sent) == {"rows": [1, 2]}
