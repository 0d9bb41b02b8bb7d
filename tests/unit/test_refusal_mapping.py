"""Unit tests of the refusal mapping (docs/contract.md, sections 1 and 5)."""

from __future__ import annotations

from google.genai import types

from langchain_gemini_codeexec._mapping.from_gemini import (
    REFUSAL_FINISH_REASONS,
    blocked_prompt_fields,
    refusal_block,
)

# Finish reasons that end an answer without refusing it.
NOT_REFUSALS = {
    "FINISH_REASON_UNSPECIFIED",
    "STOP",
    "MAX_TOKENS",
    "OTHER",
    "MALFORMED_FUNCTION_CALL",
    "IMAGE_OTHER",
    "NO_IMAGE",
    "UNEXPECTED_TOOL_CALL",
    "TOO_MANY_TOOL_CALLS",
    "MISSING_THOUGHT_SIGNATURE",
    "MALFORMED_RESPONSE",
    "CONTINUATION",
}


# Finish reasons google-genai added after 3.0, our floor: the floor's SDK does not list them.
AFTER_FLOOR = {"ESCALATION", "MISSING_THOUGHT_SIGNATURE", "MODEL_ARMOR", "PUP_LIMITED_DISABLED"}


def test_every_finish_reason_of_the_sdk_is_classified() -> None:
    """A finish reason the SDK adds must be looked at: refusal or not."""
    names = {member.name for member in types.FinishReason}
    classified = REFUSAL_FINISH_REASONS | NOT_REFUSALS
    assert names <= classified, f"not classified: {sorted(names - classified)}"
    # Only names the SDK has (or had added since the floor): no typo, no invention.
    assert classified - names <= AFTER_FLOOR, sorted(classified - names)
    assert not REFUSAL_FINISH_REASONS & NOT_REFUSALS


def test_refusal_block_keeps_reason_message_and_ratings() -> None:
    ratings = [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH", "blocked": True}]
    metadata = {"finish_reason": "SPII", "finish_message": "PII.", "safety_ratings": ratings}
    assert refusal_block(metadata) == {
        "type": "refusal",
        "refusal": "PII.",
        "extras": {"finish_reason": "SPII", "safety_ratings": ratings},
    }
    assert refusal_block({"finish_reason": "MAX_TOKENS", "finish_message": "x"}) is None
    assert refusal_block({}) is None
    # A finish message that is not text is not shown as one.
    assert refusal_block({"finish_reason": "SAFETY", "finish_message": 5}) == {
        "type": "refusal",
        "refusal": "",
        "extras": {"finish_reason": "SAFETY"},
    }


def test_blocked_prompt_message_fields() -> None:
    response = {
        "promptFeedback": {"blockReason": "JAILBREAK", "blockReasonMessage": "No."},
        "modelVersion": "gemini-3-pro",
        "responseId": "r9",
    }
    fields = blocked_prompt_fields(response, "gemini-3-pro-preview")
    assert fields["content"] == [
        {"type": "refusal", "refusal": "No.", "extras": {"block_reason": "JAILBREAK"}}
    ]
    assert fields["response_metadata"]["prompt_feedback"] == response["promptFeedback"]
    assert fields["response_metadata"]["response_id"] == "r9"
    assert "usage_metadata" not in fields
