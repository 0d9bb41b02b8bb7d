"""The block vocabulary, defined once: names, outcome tables and readers every mapper shares.

`_from_gemini` writes these names, `_to_gemini` and `_block_translators` read them back,
and `report` reads them to build a `CodeExecutionReport`; keeping them in one module is
what keeps the two directions (and the report) agreeing on what a block means.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

# `response_metadata["model_provider"]`: LangChain's name for Gemini, shared with
# langchain-google-genai (so LangChain's own google_genai translator applies to both).
PROVIDER = "google_genai"
# `response_metadata[MARKER_KEY] == MARKER` says "made by this package": its blocks follow
# our contract exactly (see docs/contract.md). Messages saved before the marker existed
# carry only `model_provider`; `_block_translators.from_unmarked_google_genai` tells them
# apart from langchain-google-genai's.
MARKER_KEY = "integration"
MARKER = "langchain-gemini-codeexec"

# The `name` of our `server_tool_call` blocks (LangChain's standard name for a sandbox).
CODE_TOOL_NAME = "code_interpreter"
# Names a code run may carry in other integrations' blocks (Anthropic: code_execution).
CODE_TOOL_NAMES = frozenset({CODE_TOOL_NAME, "code_execution", "python"})
# `extras.block_type` of a `server_tool_result` that was a Gemini `codeExecutionResult`.
RESULT_BLOCK_TYPE = "code_execution_result"

MEDIA_BLOCK_TYPES = ("image", "file", "audio", "video")
# Gemini's media kinds map to standard block types by mime type prefix; the rest is `file`.
_MEDIA_BY_PREFIX = {"image": "image", "audio": "audio", "video": "video"}

OUTCOME_OK = "OUTCOME_OK"
OUTCOME_FAILED = "OUTCOME_FAILED"
# Outcomes as langchain-google-genai stores them: ints of the SDK enum.
INT_OUTCOMES = {
    0: "OUTCOME_UNSPECIFIED",
    1: OUTCOME_OK,
    2: OUTCOME_FAILED,
    3: "OUTCOME_DEADLINE_EXCEEDED",
}


class BlockError(ValueError):
    """A block that cannot be read; the caller adds which message and block it was."""


def media_block_type(mime_type: str | None) -> str:
    """`image`, `audio`, `video` or `file`, from a mime type."""
    if not mime_type:
        return "file"
    return _MEDIA_BY_PREFIX.get(mime_type.split("/", 1)[0], "file")


def outcome_name(outcome: Any) -> Any:
    """An outcome as Gemini spells it: SDK enum ints become their names, the rest verbatim."""
    if isinstance(outcome, int) and not isinstance(outcome, bool):
        return INT_OUTCOMES.get(outcome, outcome)
    return outcome


def result_outcome(block: dict[str, Any], extras: dict[str, Any]) -> Any:
    """The outcome of a `server_tool_result` block, from whoever wrote it.

    Ours keep Gemini's outcome verbatim in `extras.outcome` (absent when Gemini sent none,
    which `extras.block_type` tells); langchain-google-genai keeps an int there. Other
    providers only have `status`, and Anthropic a `return_code` in the output (LangChain
    marks a failed Anthropic run "success", so the return code wins).
    """
    if "outcome" in extras:
        return outcome_name(extras["outcome"])
    if extras.get("block_type") == RESULT_BLOCK_TYPE:
        return None
    output = block.get("output")
    if isinstance(output, dict) and output.get("return_code") not in (None, 0):
        return OUTCOME_FAILED
    return OUTCOME_OK if block.get("status", "success") == "success" else OUTCOME_FAILED


def output_text(output: Any) -> str:
    """The text of a code result's `output`, whichever integration wrote it.

    Ours and langchain-google-genai's are strings. Anthropic's is a dict with `stdout` and
    `stderr` (both kept, in that order); OpenAI's a list of `{"type": "logs", "logs": ...}`
    items (joined). Any other shape is kept whole as JSON rather than dropped.
    """
    if output is None:
        return ""
    if isinstance(output, str):
        return output
    if isinstance(output, dict) and ("stdout" in output or "stderr" in output):
        return str(output.get("stdout") or "") + str(output.get("stderr") or "")
    if isinstance(output, list) and all(
        isinstance(item, dict) and ("logs" in item or "text" in item) for item in output
    ):
        return "".join(str(item.get("logs", item.get("text")) or "") for item in output)
    return json.dumps(output, ensure_ascii=False)


def decode_base64(data: str) -> bytes:
    """Standard or URL-safe base64, padded or not (Gemini and the SDK use both forms).

    Raises `BlockError` for anything else (characters outside both alphabets, a wrong
    length), instead of silently decoding part of it.
    """
    text = data.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BlockError(f"invalid base64 data: {exc}") from None
