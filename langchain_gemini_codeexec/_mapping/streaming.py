"""Streaming state: SSE chunks (response JSON) to `AIMessageChunk`s.

One `StreamState` per stream. It reuses the whole-response mapping part by part with one
`Linker`, so that adding all chunks gives the same message as `invoke` on the same
response (docs/contract.md, section 3): same blocks, same ids, same metadata, same usage.
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk

from langchain_gemini_codeexec._mapping.from_gemini import (
    Block,
    Linker,
    blocked_prompt_fields,
    blocked_reason,
    candidate_parts,
    first_candidate,
    head_metadata,
    part_to_block,
    refusal_block,
    tail_metadata,
    usage_to_metadata,
)
from langchain_gemini_codeexec._mapping.grounding import Slot, citations, slots_of
from langchain_gemini_codeexec.errors import BlockedPromptError, IncompleteResponseError

_MERGEABLE = ("text", "reasoning")


# The shape `usage_to_metadata` gives: totals, then one count in each details dict.
_USAGE_TOTALS = ("input_tokens", "output_tokens", "total_tokens")
_USAGE_DETAILS = (("input_token_details", "cache_read"), ("output_token_details", "reasoning"))


def _usage_delta(current: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """Gemini sends running totals; LangChain adds chunk usage up, so send differences.

    Flat, over the fixed shape of `usage_to_metadata` (a recursion over any shape cost a
    visible share of a long stream); the keys come out in the same order.
    """
    if previous is None:
        return current
    delta: dict[str, Any] = {key: current[key] - previous[key] for key in _USAGE_TOTALS}
    for section, key in _USAGE_DETAILS:
        delta[section] = {key: current[section][key] - previous[section][key]}
    return delta


def _run_key(block: Block) -> str | None:
    """What adjacent text deltas must share to be one part; None for a block on its own."""
    kind = block["type"]
    if kind not in _MERGEABLE:
        return None
    extras = block.get("extras")
    if not extras:
        return f"{kind}null"  # as for `"part": None` below, without a json.dumps per delta
    if len(extras) > 1 or "part" not in extras:
        return None  # signed (or otherwise marked) parts are never merged
    return str(kind) + json.dumps(extras["part"], sort_keys=True)


def blocked_error(response: dict[str, Any], requested_model: str) -> BlockedPromptError | None:
    """The error for a prompt Gemini blocked (a `ModelRefusalError`), else None."""
    reason = blocked_reason(response)
    if reason is None:
        return None
    raw = AIMessage(**blocked_prompt_fields(response, requested_model))
    return BlockedPromptError(reason, response.get("promptFeedback"), raw_message=raw)


class StreamState:
    """Turns each SSE chunk into an `AIMessageChunk`, remembering what linking needs."""

    def __init__(self, requested_model: str) -> None:
        self.requested_model = requested_model
        self.linker = Linker()
        self.next_index = 0
        self.open_text: tuple[str, int] | None = None  # (run key, index) of a text run
        self.usage: dict[str, Any] | None = None
        self.started = False
        self.finished = False
        self.chunks = 0
        self.tail: dict[str, Any] = {}
        self.slots: dict[int, Slot] = {}  # each index's block, text added up (for grounding)

    def _index(self, block: Block) -> int:
        """Adjacent unsigned text deltas share an index; every other block gets its own.

        Deltas that carry the same unmapped part keys (e.g. `thought: false` on each)
        still form one run; only the first keeps its extras, so they are not doubled.
        """
        key = _run_key(block)
        if key is not None:
            if self.open_text is not None and self.open_text[0] == key:
                block.pop("extras", None)
                return self.open_text[1]
            self.open_text = (key, self.next_index)
        else:
            self.open_text = None
        self.next_index += 1
        return self.next_index - 1

    def _stream_block(self, block: Block) -> Block:
        block["index"] = index = self._index(block)
        slot = slots_of([block])[0]
        before = self.slots.get(index)
        if before is not None and slot.type == "text":
            slot = Slot("text", before.text + slot.text)
        self.slots[index] = slot
        if block["type"] == "tool_call":
            # LangChain turns these back into tool_call blocks on the last chunk.
            chunk_block: Block = {
                "type": "tool_call_chunk",
                "id": block["id"],
                "name": block["name"],
                "args": json.dumps(block["args"]),
                "index": block["index"],
            }
            if "extras" in block:
                chunk_block["extras"] = block["extras"]
            return chunk_block
        return block

    def chunk(self, response: dict[str, Any]) -> AIMessageChunk:
        self.chunks += 1
        blocked = blocked_error(response, self.requested_model)
        if blocked is not None:
            raise blocked
        if self.linker.response_id is None and response.get("responseId"):
            self.linker.response_id = response["responseId"]
        blocks = [
            self._stream_block(part_to_block(part, self.linker))
            for part in candidate_parts(first_candidate(response))
        ]
        metadata: dict[str, Any] = {}
        if not self.started:
            self.started = True
            metadata.update(head_metadata(response, self.requested_model))
        tail = tail_metadata(response)
        if self.finished:
            # Metadata sent after the finish chunk (e.g. grounding) is added once, too.
            metadata.update({k: v for k, v in tail.items() if k not in self.tail})
        self.tail.update(tail)
        fields: dict[str, Any] = {"content": blocks}
        if "finish_reason" in self.tail and not self.finished:
            self.finished = True
            metadata.update(self.tail)
            fields["chunk_position"] = "last"
            refusal = refusal_block(self.tail)
            if refusal is not None:
                # After every part, as `invoke` has it.
                refusal["index"] = self.next_index
                self.next_index += 1
                self.open_text = None
                blocks.append(refusal)
        if "grounding_metadata" in metadata or "url_context_metadata" in metadata:
            self._cite(blocks, metadata)
        metadata["output_version"] = "v1"
        fields["response_metadata"] = metadata
        usage = usage_to_metadata(response.get("usageMetadata"))
        if usage is not None:
            fields["usage_metadata"] = _usage_delta(usage, self.usage)
            self.usage = usage
        calls = [b for b in blocks if b["type"] == "tool_call_chunk"]
        if calls:
            fields["tool_call_chunks"] = [
                {
                    "type": "tool_call_chunk",
                    "id": b["id"],
                    "name": b["name"],
                    "args": b["args"],
                    "index": b["index"],
                }
                for b in calls
            ]
        message = AIMessageChunk(**fields)
        # On the last chunk LangChain turns tool_call_chunk blocks into tool_call blocks
        # without their index; LangChain would then number them itself, and a call could
        # merge into the block before it (a signed text, say). Put our index back.
        indexes = {b["id"]: b["index"] for b in calls}
        for block in message.content:
            if isinstance(block, dict) and block.get("type") == "tool_call":
                block.setdefault("index", indexes.get(block.get("id")))
        return message

    def _cite(self, blocks: list[Block], metadata: dict[str, Any]) -> None:
        """Citations on the text blocks they support, as `invoke` puts them.

        Grounding comes at the end, for text streamed before: an empty text delta with the
        text block's index carries them, so that adding the chunks puts them on that block
        (a block of this very chunk gets them itself).
        """
        slots = [self.slots.get(i, Slot("other")) for i in range(self.next_index)]
        found = citations(
            slots, metadata.get("grounding_metadata"), metadata.get("url_context_metadata")
        )
        for index, cites in sorted(found.items()):
            here = [b for b in blocks if b.get("index") == index]
            if here:
                here[-1].setdefault("annotations", []).extend(cites)
            else:
                blocks.append({"type": "text", "text": "", "index": index, "annotations": cites})

    def check_complete(self) -> None:
        """A stream that ended before Gemini said it was finished is not an answer."""
        if not self.finished:
            raise IncompleteResponseError(
                f"the stream ended after {self.chunks} chunks without a finishReason: the "
                "answer is incomplete (connection cut or truncated); retry the request"
            )
