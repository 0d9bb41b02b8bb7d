"""Gemini to messages: pure functions from response JSON to LangChain v1 content blocks.

The input is the response exactly as it came over the wire (camelCase JSON, base64 strings
untouched), so nothing the SDK would drop or re-encode is lost. Every part becomes exactly
one block, in order; whatever a block cannot say in standard keys is kept in its `extras`
so that `_to_gemini` rebuilds the very same part (docs/contract.md, section 1).

Extras keys this module writes (and `_to_gemini` reads back):
- `signature`: the part's `thoughtSignature`, verbatim.
- `synthetic_id`: True when the id was derived here because Gemini sent none, so that the
  id is never sent back to Gemini as if it were its own.
- `part`: part-level keys this version does not map (e.g. `partMetadata`, `thought: false`).
- `fields`: unmapped keys inside the part's payload (e.g. `inlineData.displayName`).
- `absent`: payload fields the part did not carry, so they are not invented on the way back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_gemini_codeexec._mapping.blocks import (
    CODE_TOOL_NAME,
    MARKER,
    MARKER_KEY,
    OUTCOME_OK,
    PROVIDER,
    RESULT_BLOCK_TYPE,
    media_block_type,
)
from langchain_gemini_codeexec._mapping.grounding import annotate

_FILES_API_MARKER = "/files/"

# Keys of a usageMetadata that add up to totalTokenCount.
_USAGE_KEYS = (
    "promptTokenCount",
    "candidatesTokenCount",
    "toolUsePromptTokenCount",
    "thoughtsTokenCount",
    "cachedContentTokenCount",
    "totalTokenCount",
)

Block = dict[str, Any]


@dataclass
class Linker:
    """What linking needs to remember across the parts of one response.

    Kept outside the pure functions so that a whole response and the same response read
    chunk by chunk derive the same ids (the stream keeps one Linker for all its chunks).
    """

    response_id: str | None = None
    code_count: int = 0
    call_count: int = 0
    last_code_id: str | None = None

    def derive(self, kind: str, ordinal: int) -> str:
        base = self.response_id or "gemini"
        return f"{base}_{kind}_{ordinal}"


def _leftovers(payload: dict[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in known}


def _finish_extras(
    block: Block,
    part: dict[str, Any],
    part_known: tuple[str, ...],
    extras: dict[str, Any],
) -> Block:
    """Attach the signature and any unmapped part-level keys, then the extras."""
    if "thoughtSignature" in part:
        extras["signature"] = part["thoughtSignature"]
    rest = _leftovers(part, (*part_known, "thoughtSignature"))
    if rest:
        extras["part"] = rest
    if extras:
        block["extras"] = extras
    return block


def _text_block(part: dict[str, Any]) -> Block:
    text = part["text"]
    if not isinstance(text, str):
        return non_standard_block(part)
    if part.get("thought") is True:
        return _finish_extras(
            {"type": "reasoning", "reasoning": text}, part, ("text", "thought"), {}
        )
    return _finish_extras({"type": "text", "text": text}, part, ("text",), {})


def _code_block(part: dict[str, Any], linker: Linker) -> Block:
    payload = part["executableCode"]
    if not isinstance(payload, dict) or not isinstance(payload.get("code", ""), str):
        return non_standard_block(part)
    extras: dict[str, Any] = {}
    absent = [k for k in ("code", "language") if k not in payload]
    language = payload.get("language", "PYTHON")
    if language != "PYTHON":
        extras["language"] = language
    own_id = payload.get("id")
    if isinstance(own_id, str) and own_id:
        call_id = own_id
    else:
        call_id = linker.derive("code", linker.code_count)
        extras["synthetic_id"] = True
        if "id" in payload:
            extras["fields"] = {"id": own_id}
    linker.code_count += 1
    linker.last_code_id = call_id
    block: Block = {
        "type": "server_tool_call",
        "name": CODE_TOOL_NAME,
        "id": call_id,
        "args": {
            "code": payload.get("code", ""),
            "language": language.lower() if isinstance(language, str) else "python",
        },
    }
    fields = _leftovers(payload, ("code", "language", "id"))
    if fields:
        extras.setdefault("fields", {}).update(fields)
    if absent:
        extras["absent"] = absent
    return _finish_extras(block, part, ("executableCode",), extras)


def _result_block(part: dict[str, Any], linker: Linker) -> Block:
    payload = part["codeExecutionResult"]
    if not isinstance(payload, dict) or not isinstance(payload.get("output", ""), str):
        return non_standard_block(part)
    extras: dict[str, Any] = {}
    outcome = payload.get("outcome")
    if "outcome" in payload:
        extras["outcome"] = outcome
    extras["block_type"] = RESULT_BLOCK_TYPE
    own_id = payload.get("id")
    if isinstance(own_id, str) and own_id:
        call_id = own_id
    elif linker.last_code_id is not None:
        call_id = linker.last_code_id
        extras["synthetic_id"] = True
    else:
        # A result with no code call before it still gets a stable, unique link.
        call_id = linker.derive("result", linker.code_count)
        extras["synthetic_id"] = True
    block: Block = {
        "type": "server_tool_result",
        "tool_call_id": call_id,
        "status": "success" if outcome == OUTCOME_OK else "error",
        "output": payload.get("output", ""),
    }
    absent = [k for k in ("output",) if k not in payload]
    fields = _leftovers(payload, ("outcome", "output", "id"))
    if "id" in payload and not (isinstance(own_id, str) and own_id):
        fields["id"] = own_id
    if fields:
        extras["fields"] = fields
    if absent:
        extras["absent"] = absent
    return _finish_extras(block, part, ("codeExecutionResult",), extras)


def _inline_block(part: dict[str, Any], linker: Linker) -> Block:
    payload = part["inlineData"]
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("data", ""), str)
        or not isinstance(payload.get("mimeType", ""), str)
    ):
        return non_standard_block(part)
    mime_type = payload.get("mimeType")
    block: Block = {"type": media_block_type(mime_type), "base64": payload.get("data", "")}
    if mime_type is not None:
        block["mime_type"] = mime_type
    extras: dict[str, Any] = {}
    if linker.last_code_id is not None:
        # A chart that follows a code run in the same turn belongs to that run.
        extras["tool_call_id"] = linker.last_code_id
    absent = [k for k in ("data",) if k not in payload]
    if absent:
        extras["absent"] = absent
    fields = _leftovers(payload, ("mimeType", "data"))
    if fields:
        extras["fields"] = fields
    return _finish_extras(block, part, ("inlineData",), extras)


def _file_data_block(part: dict[str, Any]) -> Block:
    payload = part["fileData"]
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("fileUri"), str)
        or not isinstance(payload.get("mimeType", ""), str)
    ):
        return non_standard_block(part)
    mime_type = payload.get("mimeType")
    uri: str = payload["fileUri"]
    block: Block = {"type": media_block_type(mime_type)}
    if _FILES_API_MARKER in uri and uri.startswith(("http://", "https://")):
        block["file_id"] = uri
    else:
        block["url"] = uri
    if mime_type is not None:
        block["mime_type"] = mime_type
    extras: dict[str, Any] = {}
    fields = _leftovers(payload, ("mimeType", "fileUri"))
    if fields:
        extras["fields"] = fields
    return _finish_extras(block, part, ("fileData",), extras)


def _function_call_block(part: dict[str, Any], linker: Linker) -> Block:
    payload = part["functionCall"]
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("name"), str)
        or not isinstance(payload.get("args", {}), dict)
    ):
        return non_standard_block(part)
    extras: dict[str, Any] = {}
    own_id = payload.get("id")
    if isinstance(own_id, str) and own_id:
        call_id = own_id
    else:
        call_id = linker.derive("call", linker.call_count)
        extras["synthetic_id"] = True
    linker.call_count += 1
    block: Block = {
        "type": "tool_call",
        "id": call_id,
        "name": payload["name"],
        "args": payload.get("args", {}),
    }
    if "args" not in payload:
        extras["absent"] = ["args"]
    fields = _leftovers(payload, ("name", "args", "id"))
    if "id" in payload and call_id != own_id:
        fields["id"] = own_id
    if fields:
        extras["fields"] = fields
    return _finish_extras(block, part, ("functionCall",), extras)


def non_standard_block(part: Any) -> Block:
    """A part this version does not know: kept whole, sent back as it came."""
    return {"type": "non_standard", "value": part}


def part_to_block(part: Any, linker: Linker) -> Block:
    """Map one Gemini part to one block. Exhaustive on the part kinds we know."""
    if not isinstance(part, dict):
        return non_standard_block(part)
    if "text" in part:
        return _text_block(part)
    if "executableCode" in part:
        return _code_block(part, linker)
    if "codeExecutionResult" in part:
        return _result_block(part, linker)
    if "inlineData" in part:
        return _inline_block(part, linker)
    if "fileData" in part:
        return _file_data_block(part)
    if "functionCall" in part:
        return _function_call_block(part, linker)
    # toolCall / toolResponse (Gemini 3 server-side tools), functionResponse and
    # anything newer: kept verbatim.
    return non_standard_block(part)


def parts_to_blocks(parts: list[Any], linker: Linker) -> list[Block]:
    return [part_to_block(part, linker) for part in parts]


def tool_calls_from_blocks(blocks: list[Block]) -> list[dict[str, Any]]:
    """`AIMessage.tool_calls` entries for the `tool_call` blocks."""
    return [
        {"type": "tool_call", "id": b["id"], "name": b["name"], "args": b["args"]}
        for b in blocks
        if b.get("type") == "tool_call"
    ]


def usage_to_metadata(usage: dict[str, Any] | None) -> dict[str, Any] | None:
    """LangChain `usage_metadata` from Gemini's usageMetadata (docs/contract.md, section 4)."""
    if not isinstance(usage, dict):
        return None
    counts = {k: usage_count(usage.get(k)) for k in _USAGE_KEYS}
    prompt = counts["promptTokenCount"] + counts["toolUsePromptTokenCount"]
    thoughts = counts["thoughtsTokenCount"]
    output = counts["candidatesTokenCount"] + thoughts
    total = counts["totalTokenCount"] or (prompt + output)
    metadata: dict[str, Any] = {
        "input_tokens": prompt,
        "output_tokens": output,
        "total_tokens": total,
        "input_token_details": {"cache_read": counts["cachedContentTokenCount"]},
        "output_token_details": {"reasoning": thoughts},
    }
    return metadata


def usage_count(value: Any) -> int:
    """A usage count as Gemini sends it (an int, or a digit string); anything else is 0."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return 0


_CANDIDATE_METADATA = {
    "safetyRatings": "safety_ratings",
    "groundingMetadata": "grounding_metadata",
    "citationMetadata": "citation_metadata",
    "urlContextMetadata": "url_context_metadata",
    "finishMessage": "finish_message",
    "avgLogprobs": "avg_logprobs",
    "logprobsResult": "logprobs_result",
}


def first_candidate(response: dict[str, Any]) -> dict[str, Any] | None:
    candidates = response.get("candidates")
    if isinstance(candidates, list) and candidates and isinstance(candidates[0], dict):
        return candidates[0]
    return None


def candidate_parts(candidate: dict[str, Any] | None) -> list[Any]:
    if candidate is None:
        return []
    content = candidate.get("content")
    if content is None:
        return []  # Gemini sends a candidate without content (e.g. stopped before any part)
    parts = content.get("parts") if isinstance(content, dict) else None
    if not isinstance(content, dict) or not isinstance(parts, (list, type(None))):
        # A malformed answer must not pass as an empty one.
        from langchain_gemini_codeexec.errors import IncompleteResponseError

        raise IncompleteResponseError(
            f"Gemini's answer is malformed: candidate content {content!r:.200} has no list of parts"
        )
    return parts or []


def head_metadata(response: dict[str, Any], requested_model: str) -> dict[str, Any]:
    """Metadata known from the first bytes of a response (sent once when streaming)."""
    metadata: dict[str, Any] = {
        "model_provider": PROVIDER,
        MARKER_KEY: MARKER,
        "model_name": response.get("modelVersion") or requested_model,
    }
    if response.get("responseId"):
        metadata["response_id"] = response["responseId"]
    return metadata


def tail_metadata(response: dict[str, Any]) -> dict[str, Any]:
    """Metadata that arrives with the end of a candidate (or a prompt verdict)."""
    metadata: dict[str, Any] = {}
    candidate = first_candidate(response)
    if candidate is not None:
        if candidate.get("finishReason") is not None:
            metadata["finish_reason"] = candidate["finishReason"]
        for key, name in _CANDIDATE_METADATA.items():
            if candidate.get(key) is not None:
                metadata[name] = candidate[key]
    if response.get("promptFeedback") is not None:
        metadata["prompt_feedback"] = response["promptFeedback"]
    return metadata


# Finish reasons that mean Gemini declined to answer (or to go on): policy, safety and
# recitation stops, for text and images. STOP, MAX_TOKENS, OTHER, malformed or
# unexpected calls and the like are ends, not refusals (docs/contract.md, section 1).
REFUSAL_FINISH_REASONS = frozenset(
    {
        "SAFETY",
        "RECITATION",
        "LANGUAGE",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
        "ESCALATION",
        "PUP_LIMITED_DISABLED",
        "MODEL_ARMOR",
    }
)


def refusal_block(metadata: dict[str, Any]) -> Block | None:
    """LangChain's standard `refusal` block for a candidate Gemini stopped as a refusal.

    Read from the candidate's metadata (`tail_metadata` names): the parts that arrived
    stay blocks of their own, so this block stands for no part and sends nothing back.
    """
    reason = metadata.get("finish_reason")
    if not isinstance(reason, str) or reason not in REFUSAL_FINISH_REASONS:
        return None
    extras: dict[str, Any] = {"finish_reason": reason}
    if metadata.get("safety_ratings") is not None:
        extras["safety_ratings"] = metadata["safety_ratings"]
    message = metadata.get("finish_message")
    text = message if isinstance(message, str) else ""
    return {"type": "refusal", "refusal": text, "extras": extras}


def blocked_prompt_fields(response: dict[str, Any], requested_model: str) -> dict[str, Any]:
    """`AIMessage(**fields)` for a blocked prompt: one `refusal` block, the verdict in extras.

    It is the `raw_message` of the `BlockedPromptError` (a `ModelRefusalError`), so code
    that reads refusals from `content_blocks` reads this one too.
    """
    feedback = response.get("promptFeedback")
    feedback = feedback if isinstance(feedback, dict) else {}
    extras: dict[str, Any] = {"block_reason": feedback.get("blockReason")}
    if feedback.get("safetyRatings") is not None:
        extras["safety_ratings"] = feedback["safetyRatings"]
    message = feedback.get("blockReasonMessage")
    block: Block = {
        "type": "refusal",
        "refusal": message if isinstance(message, str) else "",
        "extras": extras,
    }
    metadata = head_metadata(response, requested_model)
    metadata.update(tail_metadata(response))
    metadata["output_version"] = "v1"
    fields: dict[str, Any] = {"content": [block], "response_metadata": metadata}
    usage = usage_to_metadata(response.get("usageMetadata"))
    if usage is not None:
        fields["usage_metadata"] = usage
    return fields


def blocked_reason(response: dict[str, Any]) -> str | None:
    """The block reason of a prompt Gemini refused (no candidates), else None."""
    if first_candidate(response) is not None:
        return None
    feedback = response.get("promptFeedback")
    if isinstance(feedback, dict) and feedback.get("blockReason"):
        return str(feedback["blockReason"])
    return None


def response_to_message_fields(response: dict[str, Any], requested_model: str) -> dict[str, Any]:
    """Everything `AIMessage(**fields)` needs for a whole (non-streamed) response."""
    linker = Linker(response_id=response.get("responseId"))
    blocks = parts_to_blocks(candidate_parts(first_candidate(response)), linker)
    metadata = head_metadata(response, requested_model)
    metadata.update(tail_metadata(response))
    metadata["output_version"] = "v1"
    annotate(blocks, metadata)
    refusal = refusal_block(metadata)
    if refusal is not None:
        blocks.append(refusal)
    fields: dict[str, Any] = {
        "content": blocks,
        "response_metadata": metadata,
        "tool_calls": tool_calls_from_blocks(blocks),
    }
    usage = usage_to_metadata(response.get("usageMetadata"))
    if usage is not None:
        fields["usage_metadata"] = usage
    return fields
