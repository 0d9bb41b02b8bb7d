"""Histories any chat model accepts: Gemini's code runs as text, its charts as images.

A conversation held with `ChatGeminiCodeExecution` keeps Gemini's parts as v1 blocks
(`server_tool_call`, `server_tool_result`, images of a run, reasoning, `non_standard`
parts). Other providers' APIs refuse those in an assistant turn: OpenAI's and Anthropic's
take only text (and their own tool calls) from the assistant, and images only from the
user. `portable_messages` rewrites them so that any LangChain chat model can continue the
conversation, keeping everything the next model needs to read:

- each code run becomes text in the AI message: its code in a fenced block, then its
  output (and how it ended when it failed);
- each image or file of the message is replaced by a placeholder line
  (`[image 1 of this answer: attached to the next message]`) and attached, in order, to a
  `HumanMessage` placed right after the AI message (after the tool messages that answer
  its tool calls, when it made any);
- the sources a grounded answer cites are listed at the end of its text (`Sources:`, one
  `- title: url` line each);
- function calls stay in `tool_calls`, with their ids;
- thought summaries and signatures are Gemini's own and are left out;
- server tools Gemini cannot replay, `non_standard` parts and block types other models
  do not know become text (the rendering of docs/contract.md 2.3).

Only AI messages of Gemini (`model_provider` `google_genai`) or without a provider are
rewritten; everything else is returned as it is, and nothing is changed in place.
`PortableHistoryMiddleware` (in `langchain_gemini_codeexec.middleware`) applies this to
an agent's model calls that do not go to Gemini.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from langchain_gemini_codeexec._mapping.blocks import (
    CODE_TOOL_NAMES,
    MARKER_KEY,
    MEDIA_BLOCK_TYPES,
    PROVIDER,
    BlockError,
    output_text,
    result_outcome,
)
from langchain_gemini_codeexec._mapping.translators import (
    render_server_tool_call,
    render_server_tool_result,
    to_v1,
)

__all__ = ["IMAGES_INTRO", "portable_message", "portable_messages"]

# The text that opens the user message carrying an answer's images.
IMAGES_INTRO = "The images and files of your previous answer, in order:"
# Keys of `response_metadata` that say "Gemini's parts, as sent": no longer true.
_GEMINI_KEYS = ("model_provider", MARKER_KEY, "output_version")

Block = dict[str, Any]


def _fence(text: str, language: str = "") -> str:
    """A fenced block that the text cannot close (a longer fence than any inside it)."""
    ticks = 3
    while "`" * ticks in text:
        ticks += 1
    fence = "`" * ticks
    return f"{fence}{language}\n{text}{'' if text.endswith(chr(10)) else chr(10)}{fence}"


def _code_text(block: Block) -> str:
    args = block.get("args") if isinstance(block.get("args"), dict) else {}
    assert isinstance(args, dict)
    language = str(args.get("language") or "python").lower()
    return f"Code run:\n{_fence(str(args.get('code', '')), language)}"


def _result_text(block: Block) -> str:
    extras = block.get("extras") if isinstance(block.get("extras"), dict) else {}
    assert isinstance(extras, dict)
    outcome = result_outcome(block, extras)
    failed = block.get("status") == "error" or outcome not in (None, "OUTCOME_OK")
    head = f"Output ({outcome or 'failed'}):" if failed else "Output:"
    output = output_text(block.get("output"))
    return f"{head}\n{_fence(output)}" if output else f"{head} (none)"


def _media(block: Block) -> Block:
    """The block as a standard media block of its own (no ids or extras of Gemini's)."""
    return {k: v for k, v in block.items() if k not in ("id", "extras", "index")}


def _cited(block: Block) -> list[tuple[str, str]]:
    """(url, title) of the citation annotations on a text block (grounded answers)."""
    found = []
    for note in block.get("annotations") or ():
        if isinstance(note, dict) and note.get("type") == "citation" and note.get("url"):
            found.append((str(note["url"]), str(note.get("title") or "")))
    return found


def _is_code_call(block: Block) -> bool:
    return block.get("name") in CODE_TOOL_NAMES and isinstance(block.get("args", {}), dict)


def _convert(blocks: Sequence[Any]) -> tuple[str, list[Block]]:
    """(the AI message's text, its media blocks) for its v1 blocks."""
    segments: list[str] = []
    media: list[Block] = []
    code_ids: set[Any] = set()
    names: dict[Any, Any] = {}
    joining = False  # adjacent text blocks are one text, cut by the stream or the API
    sources: dict[str, str] = {}  # cited URLs, in order, with their titles

    def add(text: str, *, join: bool = False) -> None:
        nonlocal joining
        if join and joining and segments:
            segments[-1] += text
        elif text:
            segments.append(text)
        joining = join

    for block in blocks:
        if isinstance(block, str):
            add(block, join=True)
            continue
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            add(str(block.get("text", "")), join=True)
            for url, title in _cited(block):
                sources.setdefault(url, title)
        elif kind in ("reasoning", "tool_call", "tool_call_chunk"):
            continue  # thoughts are Gemini's; calls travel in `tool_calls`
        elif kind == "server_tool_call":
            names[block.get("id")] = block.get("name")
            if _is_code_call(block):
                code_ids.add(block.get("id"))
                add(_code_text(block))
            else:
                add(render_server_tool_call(block)["text"])
        elif kind == "server_tool_result":
            extras = block.get("extras") or {}
            if block.get("tool_call_id") in code_ids or extras.get("block_type") == (
                "code_execution_result"
            ):
                add(_result_text(block))
            else:
                name = names.get(block.get("tool_call_id")) or extras.get("block_type")
                add(render_server_tool_result(block, name)["text"])
        elif kind in MEDIA_BLOCK_TYPES:
            media.append(_media(block))
            what = "image" if kind == "image" else "file"
            add(f"[{what} {len(media)} of this answer: attached to the next message]")
        elif kind == "refusal":
            add(str(block.get("refusal", "")))
        elif kind == "non_standard":
            add(f"[Gemini part]\n{json.dumps(block.get('value'), ensure_ascii=False)}")
        else:
            add(f"[{kind} block]\n{json.dumps(block, ensure_ascii=False, default=str)}")
    if sources:
        listed = "\n".join(
            f"- {title}: {url}" if title else f"- {url}" for url, title in sources.items()
        )
        segments.append(f"Sources:\n{listed}")
    return "\n\n".join(segments), media


def _needs_rewrite(message: AIMessage) -> bool:
    if message.response_metadata.get("model_provider") not in (None, PROVIDER):
        return False
    content = message.content
    return isinstance(content, list) and any(
        not isinstance(b, str) and not (isinstance(b, dict) and b.get("type") == "text")
        for b in content
    )


def portable_message(message: AIMessage) -> tuple[AIMessage, HumanMessage | None]:
    """One AI message made portable, and the user message carrying its media (or None).

    A message that needs no rewriting (another provider's, or text only) comes back as it
    is, with None.
    """
    if not _needs_rewrite(message):
        return message, None
    # The reading `_to_gemini` applies: ours are v1 already; langchain-google-genai's v0
    # blocks (executable_code, code_execution_result, thinking) are translated.
    try:
        blocks = [block for _, block in to_v1(message.content)]
    except BlockError:  # a block no translator can read: each is rendered as it is
        blocks = list(message.content)
    text, media = _convert(blocks)
    metadata = {k: v for k, v in message.response_metadata.items() if k not in _GEMINI_KEYS}
    rewritten = AIMessage(
        content=text,
        tool_calls=message.tool_calls,
        invalid_tool_calls=message.invalid_tool_calls,
        usage_metadata=message.usage_metadata,
        response_metadata=metadata,
        id=message.id,
        name=message.name,
    )
    if not media:
        return rewritten, None
    intro: Block = {"type": "text", "text": IMAGES_INTRO}
    return rewritten, HumanMessage(content=[intro, *media])


def portable_messages(messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    """The conversation with Gemini's code-execution blocks in a form every model takes.

    See the module's docstring for what becomes what. The media of an AI message come in a
    user message right after it, or after the tool messages answering its tool calls
    (providers want those right after the calls).
    """
    out: list[BaseMessage] = []
    pending: HumanMessage | None = None
    awaiting: set[str] = set()
    for message in messages:
        if pending is not None and not (
            isinstance(message, ToolMessage) and message.tool_call_id in awaiting
        ):
            out.append(pending)
            pending = None
        if isinstance(message, AIMessage):
            rewritten, pending = portable_message(message)
            awaiting = {str(c["id"]) for c in message.tool_calls if c.get("id")}
            out.append(rewritten)
        else:
            out.append(message)
    if pending is not None:
        out.append(pending)
    return out
