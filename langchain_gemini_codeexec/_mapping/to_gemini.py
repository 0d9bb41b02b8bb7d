"""Messages to Gemini: pure functions from LangChain messages to request `contents`.

AI messages are read in two steps: `_block_translators` rewrites any foreign format
(langchain-google-genai v0, Anthropic, OpenAI, streaming chunks, other providers' v1
blocks) into our v1 blocks, then one mapper per v1 block type (`_AI_MAPPERS`) builds the
part; our own blocks go back byte for byte (the inverse of `_from_gemini`). Anything that
cannot be mapped raises `InvalidMessageError` naming the message index and the block,
before a request is sent: nothing is skipped silently.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from langchain_gemini_codeexec._mapping import translators as _translators
from langchain_gemini_codeexec._mapping.blocks import (
    CODE_TOOL_NAME,
    CODE_TOOL_NAMES,
    MARKER,
    MARKER_KEY,
    MEDIA_BLOCK_TYPES,
    PROVIDER,
    RESULT_BLOCK_TYPE,
    BlockError,
    decode_base64,
    output_text,
    result_outcome,
)
from langchain_gemini_codeexec.errors import InvalidMessageError

Part = dict[str, Any]
Block = dict[str, Any]

# Magic numbers that name an image's type when a block forgot its mime type.
_IMAGE_MAGIC = {
    b"\x89PNG": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF8": "image/gif",
    b"RIFF": "image/webp",
}
# Gemini takes at most 100 MB of inline data in one request; larger files go through the
# Files API (file_id) or a URL.
MAX_INLINE_BYTES = 100 * 1024 * 1024
_MIME = re.compile(r"^([a-z0-9][a-z0-9!#$&^_.+-]*)/[a-z0-9][a-z0-9!#$&^_.+-]*(\s*;.*)?$", re.I)
_MIME_TOP_LEVELS = ("image", "audio", "video", "text", "application")
# Types Gemini refuses ("Unsupported MIME type"): opaque bytes, archives, executables.
_UNSUPPORTED_MIME = frozenset(
    {
        "application/octet-stream",
        "application/zip",
        "application/gzip",
        "application/x-tar",
        "application/x-7z-compressed",
        "application/vnd.rar",
        "application/x-rar-compressed",
        "application/java-archive",
        "application/x-msdownload",
        "application/x-executable",
    }
)


# --- helpers ---------------------------------------------------------------------------


def _fail(index: int, what: str) -> InvalidMessageError:
    return InvalidMessageError(f"messages[{index}]: {what}")


def _check_base64(data: Any, index: int, where: str) -> str:
    """Validate base64 (standard or URL-safe alphabet), keeping the string as given."""
    if not isinstance(data, str) or not data:
        raise _fail(index, f"{where}: 'base64' must be a non-empty base64 string")
    if len(data) // 4 * 3 > MAX_INLINE_BYTES:
        raise _fail(
            index,
            f"{where}: the inline data is about {len(data) // 4 * 3 // 2**20} MB, over the "
            f"{MAX_INLINE_BYTES // 2**20} MB Gemini takes inline; upload it with the Files API "
            "and pass 'file_id', or pass a 'url'",
        )
    try:
        decode_base64(data)
    except BlockError:
        raise _fail(index, f"{where}: 'base64' is not valid base64 data") from None
    return data


def _sniff_image(data: str) -> str | None:
    try:
        head = decode_base64(data[:16])
    except BlockError:
        return None
    for magic, mime in _IMAGE_MAGIC.items():
        if head.startswith(magic):
            return mime
    return None


def _check_mime(mime: Any, index: int, where: str) -> str:
    """A mime type Gemini can read, or a clear error saying what it takes."""
    match = _MIME.match(mime) if isinstance(mime, str) else None
    if match is None:
        raise _fail(index, f"{where}: mime_type {mime!r} is not a mime type like 'image/png'")
    if match.group(1).lower() not in _MIME_TOP_LEVELS:
        raise _fail(
            index,
            f"{where}: mime_type {mime!r} is not a kind Gemini reads; use an image/*, "
            "audio/*, video/*, text/* or application/* type (e.g. application/pdf)",
        )
    if mime.split(";")[0].strip().lower() in _UNSUPPORTED_MIME:
        raise _fail(
            index,
            f"{where}: mime_type {mime!r} is not supported by Gemini (opaque bytes, archives "
            "and executables are refused); send the content as text, CSV, JSON, PDF or an "
            "image",
        )
    return str(mime)


def _mime_type(block: dict[str, Any], index: int, where: str, *, source: str = "") -> str:
    mime = block.get("mime_type") or block.get("mimeType")
    if mime is not None:
        return _check_mime(mime, index, where)
    guessed = None
    if block.get("type") == "image" and isinstance(block.get("base64"), str):
        guessed = _sniff_image(block["base64"])
    if guessed is None and source:
        guessed = mimetypes.guess_type(source)[0]
    if guessed is None:
        raise _fail(
            index,
            f"{where}: a {block.get('type')!r} block needs 'mime_type' (for example "
            "'image/png', 'text/csv', 'application/pdf')",
        )
    return guessed


def _data_url(url: str, index: int, where: str) -> Part:
    header, sep, data = url.partition(",")
    if not sep or not header.endswith(";base64"):
        raise _fail(index, f"{where}: only base64 'data:' URLs are supported")
    mime = header[len("data:") : -len(";base64")]
    if "/" not in mime:
        raise _fail(index, f"{where}: the data URL names no mime type")
    _check_mime(mime, index, where)
    return {"inlineData": {"mimeType": mime, "data": _check_base64(data, index, where)}}


def _file_uri(file_id: str, file_base: str) -> str:
    """A Files API name ("files/abc") becomes the URI Gemini expects."""
    if "://" in file_id:
        return file_id
    return f"{file_base.rstrip('/')}/{file_id.lstrip('/')}"


def media_part(block: dict[str, Any], index: int, where: str, file_base: str) -> Part:
    """A standard image/file/audio/video block from a user (validated)."""
    if isinstance(block.get("base64"), str) or "data" in block:
        data = block.get("base64", block.get("data"))
        mime = _mime_type(block, index, where)
        return {"inlineData": {"mimeType": mime, "data": _check_base64(data, index, where)}}
    url = block.get("url")
    if isinstance(url, str) and url:
        if url.startswith("data:"):
            return _data_url(url, index, where)
        return {
            "fileData": {"mimeType": _mime_type(block, index, where, source=url), "fileUri": url}
        }
    file_id = block.get("file_id") or block.get("id")
    if isinstance(file_id, str) and file_id and block.get("file_id"):
        uri = _file_uri(file_id, file_base)
        return {
            "fileData": {"mimeType": _mime_type(block, index, where, source=uri), "fileUri": uri}
        }
    raise _fail(index, f"{where}: a {block.get('type')!r} block needs 'base64', 'url' or 'file_id'")


def _image_url(block: dict[str, Any], index: int, where: str) -> dict[str, Any]:
    try:
        return _translators.image_url_block(block)
    except BlockError as exc:
        raise _fail(index, f"{where}: {exc}") from None


def _text_plain_part(block: dict[str, Any], index: int, where: str) -> Part:
    mime = block.get("mime_type") or "text/plain"
    if isinstance(block.get("base64"), str):
        return {
            "inlineData": {"mimeType": mime, "data": _check_base64(block["base64"], index, where)}
        }
    text = block.get("text")
    if not isinstance(text, str):
        raise _fail(index, f"{where}: a 'text-plain' block needs 'text' or 'base64'")
    return {"inlineData": {"mimeType": mime, "data": base64.b64encode(text.encode()).decode()}}


# --- v1 blocks of an AI message back to parts (the inverse of _from_gemini) --------------


def _restore(part: Part, payload_key: str | None, extras: dict[str, Any]) -> Part:
    """Put back what `_from_gemini` kept in extras: absent fields, unmapped keys, signature."""
    if payload_key is not None:
        payload = part[payload_key]
        for key in extras.get("absent", ()):
            payload.pop(key, None)
        fields = extras.get("fields")
        if isinstance(fields, dict):
            payload.update(fields)
    rest = extras.get("part")
    if isinstance(rest, dict):
        part.update(rest)
    signature = extras.get("signature")
    if isinstance(signature, str) and signature:
        part["thoughtSignature"] = signature
    return part


def _language(args: dict[str, Any], extras: dict[str, Any]) -> Any:
    if "language" in extras:
        return extras["language"]
    language = args.get("language", "python")
    return language.upper() if isinstance(language, str) else "PYTHON"


@dataclass
class _AIContext:
    """What mapping the blocks of one AI message needs to know about the message."""

    index: int
    # Extras (signatures, unmapped keys) are honoured: a Gemini message, or one with no
    # provider (written by hand); another provider's were stripped by its translator.
    own: bool
    # Ids go back only when Gemini made them (not LangChain, a user or another model).
    gemini: bool
    code_ids: set[str] = field(default_factory=set)

    def keep_id(self, block_id: Any, extras: dict[str, Any]) -> bool:
        return self.gemini and not extras.get("synthetic_id") and bool(block_id)


_Mapper = Callable[[Block, _AIContext, str, dict[str, Any]], "Part | None"]


def _text_part(block: Block, ctx: _AIContext, where: str, extras: dict[str, Any]) -> Part:
    return _restore({"text": block.get("text", "")}, None, extras)


def _reasoning_part(block: Block, ctx: _AIContext, where: str, extras: dict[str, Any]) -> Part:
    return _restore({"text": block.get("reasoning", ""), "thought": True}, None, extras)


def _code_call_part(block: Block, ctx: _AIContext, where: str, extras: dict[str, Any]) -> Part:
    if block.get("name") not in CODE_TOOL_NAMES:
        raise _fail(
            ctx.index,
            f"{where}: server tool {block.get('name')!r} has no Gemini equivalent; "
            f"only {CODE_TOOL_NAME!r} calls can be replayed",
        )
    args = block.get("args") if isinstance(block.get("args"), dict) else {}
    assert isinstance(args, dict)
    code: Part = {"code": args.get("code", ""), "language": _language(args, extras)}
    if ctx.keep_id(block.get("id"), extras):
        code["id"] = block["id"]
    if block.get("id"):
        ctx.code_ids.add(block["id"])
    return _restore({"executableCode": code}, "executableCode", extras)


def _code_result_part(block: Block, ctx: _AIContext, where: str, extras: dict[str, Any]) -> Part:
    tool_call_id = block.get("tool_call_id")
    is_code = (
        extras.get("block_type") == RESULT_BLOCK_TYPE
        or tool_call_id in ctx.code_ids
        or isinstance(extras.get("outcome"), int)
    )
    if not is_code:
        raise _fail(
            ctx.index,
            f"{where}: a server tool result for call {tool_call_id!r}, which is not a "
            "code_interpreter call in this message, has no Gemini equivalent",
        )
    outcome = result_outcome(block, extras)
    result: Part = {}
    if outcome is not None:
        result["outcome"] = outcome
    result["output"] = output_text(block.get("output"))
    if ctx.keep_id(tool_call_id, extras):
        result["id"] = tool_call_id
    return _restore({"codeExecutionResult": result}, "codeExecutionResult", extras)


def _media_ai_part(block: Block, ctx: _AIContext, where: str, extras: dict[str, Any]) -> Part:
    if isinstance(block.get("base64"), str) and ctx.own:
        # Our own media goes back as it came, without decoding it again.
        inline: Part = {"data": block["base64"]}
        if "mime_type" in block:
            inline = {"mimeType": block["mime_type"], **inline}
        return _restore({"inlineData": inline}, "inlineData", extras)
    part = media_part(block, ctx.index, where, "")
    payload_key = "inlineData" if "inlineData" in part else "fileData"
    return _restore(part, payload_key, extras)


def _function_call_part(block: Block, ctx: _AIContext, where: str, extras: dict[str, Any]) -> Part:
    name = block.get("name")
    if not isinstance(name, str) or not name:
        raise _fail(ctx.index, f"{where}: a tool_call block needs a 'name'")
    args = block.get("args", {})
    if not isinstance(args, dict):
        raise _fail(ctx.index, f"{where}: tool_call 'args' must be a JSON object")
    call: Part = {"name": name, "args": args}
    if ctx.keep_id(block.get("id"), extras):
        call = {"id": block["id"], **call}
    return _restore({"functionCall": call}, "functionCall", extras)


def _non_standard_part(block: Block, ctx: _AIContext, where: str, extras: dict[str, Any]) -> Part:
    value = block.get("value")
    if isinstance(value, dict):
        return value  # a part this version does not know, sent back as it came
    raise _fail(
        ctx.index, f"{where}: a non_standard block from another provider cannot be sent to Gemini"
    )


def _refusal_part(
    block: Block, ctx: _AIContext, where: str, extras: dict[str, Any]
) -> Part | None:
    """Gemini's refusals came from the finish reason, not a part: nothing goes back.

    Another provider's refusal text is what that model answered, so it goes as text.
    """
    text = block.get("refusal")
    if ctx.gemini or not isinstance(text, str) or not text:
        return None
    return {"text": text}


# One mapper per v1 block type (what `_from_gemini.part_to_block` writes, and what
# `_block_translators` turns every other format into).
_AI_MAPPERS: dict[str, _Mapper] = {
    "text": _text_part,
    "reasoning": _reasoning_part,
    "server_tool_call": _code_call_part,
    "server_tool_result": _code_result_part,
    **{kind: _media_ai_part for kind in MEDIA_BLOCK_TYPES},
    "tool_call": _function_call_part,
    "non_standard": _non_standard_part,
    "refusal": _refusal_part,
}


def _ai_block_to_part(block: Any, ctx: _AIContext, position: int) -> Part | None:
    where = f"content[{position}]"
    if isinstance(block, str):
        return {"text": block} if block else None
    if not isinstance(block, dict):
        raise _fail(ctx.index, f"{where}: {type(block).__name__} is not a content block")
    mapper = _AI_MAPPERS.get(block.get("type"))  # type: ignore[arg-type]
    if mapper is None:
        raise _fail(
            ctx.index,
            f"{where}: block type {block.get('type')!r} cannot be sent to Gemini from an AI "
            "message",
        )
    extras = block.get("extras")
    return mapper(block, ctx, where, extras if isinstance(extras, dict) else {})


def _v1_blocks(message: AIMessage, index: int) -> list[tuple[int, Any]]:
    """The message's blocks as our v1 blocks, each with its position (for errors).

    Ours (marked) are v1 already. Any other format goes through its translator first; a
    `google_genai` message without our marker may be langchain-google-genai's or ours
    from before the marker, and `from_unmarked_google_genai` tells them apart.
    """
    metadata = message.response_metadata
    provider = metadata.get("model_provider")
    own = provider in (None, PROVIDER)
    # Another provider's own formats (OpenAI's `code_interpreter_call`, Anthropic's
    # `server_tool_use`, ...) are read through LangChain's translation to v1 blocks.
    content = message.content if own else message.content_blocks
    raw: Sequence[Any] = [content] if isinstance(content, str) else content
    try:
        blocks = list(_translators.to_v1(raw))
    except BlockError as exc:
        raise _fail(index, str(exc)) from None
    # Tool calls known only from `tool_calls` (string content, other providers): their ids
    # were not Gemini's (ours always come with a block), so they are not sent.
    seen = {
        b.get("id") or "" for _, b in blocks if isinstance(b, dict) and b.get("type") == "tool_call"
    }
    for call in message.tool_calls:
        if (call.get("id") or "") not in seen:
            synthetic: Block = {"type": "tool_call", "name": call["name"], "args": call["args"]}
            synthetic.update(id=call.get("id"), extras={"synthetic_id": True})
            blocks.append((len(raw), synthetic))
    if not own:
        foreign: list[tuple[int, Any]] = []
        for position, block in blocks:
            try:
                foreign.append((position, _translators.from_other_provider(block)))
            except BlockError as exc:
                raise _fail(index, f"content[{position}]: {exc}") from None
        return _replayable(foreign, index)
    dicts = [b for _, b in blocks]
    if provider == PROVIDER and metadata.get(MARKER_KEY) != MARKER:
        dicts = _translators.from_unmarked_google_genai(dicts)
    signatures = message.additional_kwargs.get(_translators.LC_GOOGLE_SIGNATURES)
    dicts = _translators.with_function_call_signatures(dicts, signatures)
    return _replayable([(pos, b) for (pos, _), b in zip(blocks, dicts, strict=True)], index)


def _replayable(blocks: list[tuple[int, Any]], index: int) -> list[tuple[int, Any]]:
    """Server tools Gemini cannot replay, as text; OpenAI's chart outputs as images."""
    try:
        return _translators.replayable(blocks)
    except BlockError as exc:
        raise _fail(index, str(exc)) from None


def _ai_parts(message: AIMessage, index: int) -> list[Part]:
    provider = message.response_metadata.get("model_provider")
    ctx = _AIContext(index, own=provider in (None, PROVIDER), gemini=provider == PROVIDER)
    parts: list[Part] = []
    for position, block in _v1_blocks(message, index):
        part = _ai_block_to_part(block, ctx, position)
        if part is not None:
            parts.append(part)
    return parts


# --- user, system and tool messages ----------------------------------------------------


def _user_block_to_part(block: Any, index: int, position: int, file_base: str) -> Part:
    where = f"content[{position}]"
    if isinstance(block, str):
        return {"text": block}
    if not isinstance(block, dict):
        raise _fail(index, f"{where}: {type(block).__name__} is not a content block")
    kind = block.get("type")
    if kind == "text":
        text = block.get("text")
        if not isinstance(text, str):
            raise _fail(index, f"{where}: a text block needs a string 'text'")
        return {"text": text}
    if kind in MEDIA_BLOCK_TYPES:
        return media_part(block, index, where, file_base)
    if kind == "image_url":
        return media_part(_image_url(block, index, where), index, where, file_base)
    if kind == "text-plain":
        return _text_plain_part(block, index, where)
    if kind == "non_standard" and isinstance(block.get("value"), dict):
        return dict(block["value"])
    raise _fail(
        index,
        f"{where}: block type {kind!r} is not supported in a user message; use 'text', "
        "'image', 'file', 'audio', 'video', 'text-plain', 'image_url' or 'non_standard'",
    )


def _user_parts(message: BaseMessage, index: int, file_base: str) -> list[Part]:
    content = message.content
    if isinstance(content, str):
        return [{"text": content}]
    return [_user_block_to_part(b, index, i, file_base) for i, b in enumerate(content)]


def _system_parts(message: BaseMessage, index: int) -> list[Part]:
    content = message.content
    if isinstance(content, str):
        return [{"text": content}]
    parts = []
    for position, block in enumerate(content):
        if isinstance(block, str):
            parts.append({"text": block})
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append({"text": block.get("text", "")})
        else:
            kind = block.get("type") if isinstance(block, dict) else type(block).__name__
            raise _fail(
                index, f"content[{position}]: a system message takes text only, not {kind!r}"
            )
    return parts


def _response_from_text(text: str) -> dict[str, Any]:
    """A tool's text as `functionResponse.response`: a JSON object as is, else `output`."""
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        return {"output": text}
    return parsed if isinstance(parsed, dict) else {"output": parsed}


def _tool_content(message: ToolMessage, index: int, file_base: str) -> tuple[str, list[Part]]:
    """A ToolMessage's content: its text, and its media as parts (validated, none skipped)."""
    content = message.content
    if isinstance(content, str):
        return content, []
    texts: list[str] = []
    media: list[Part] = []
    for position, block in enumerate(content):
        where = f"content[{position}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if isinstance(block, str):
            texts.append(block)
        elif kind == "text" and isinstance(block, dict):
            texts.append(str(block.get("text", "")))
        elif kind in MEDIA_BLOCK_TYPES and isinstance(block, dict):
            media.append(media_part(block, index, where, file_base))
        elif kind == "image_url" and isinstance(block, dict):
            media.append(media_part(_image_url(block, index, where), index, where, file_base))
        else:
            shown = kind if kind is not None else type(block).__name__
            raise _fail(
                index,
                f"{where}: a ToolMessage block of type {shown!r} cannot be sent to Gemini; use "
                "text, image, file, audio, video or image_url blocks",
            )
    return "".join(texts), media


def _tool_part(
    message: ToolMessage, index: int, calls: dict[str, tuple[str, bool]], file_base: str
) -> Part:
    """A ToolMessage as a `functionResponse` for the call it answers.

    The name is the call's (what Gemini matches on), the id only if Gemini made it. Text
    that is a JSON object is the response itself, other text is `{"output": text}`, an
    error is `{"error": text}`; images and files go along as the response's `parts`.
    """
    found = calls.get(message.tool_call_id)
    if found is None:
        raise _fail(
            index,
            f"ToolMessage answers tool_call_id {message.tool_call_id!r}, but no earlier AI "
            "message has a tool call with that id",
        )
    name, send_id = found
    text, media = _tool_content(message, index, file_base)
    result = {"error": text} if message.status == "error" else _response_from_text(text)
    response: Part = {"name": name, "response": result}
    if send_id:
        response = {"id": message.tool_call_id, **response}
    if media:
        response["parts"] = media
    return {"functionResponse": response}


def _register_calls(message: AIMessage, calls: dict[str, tuple[str, bool]]) -> None:
    """Remember each call's name, and whether its id is Gemini's (so it goes back)."""
    gemini_ids: set[Any] = set()
    if message.response_metadata.get("model_provider") == PROVIDER and isinstance(
        message.content, list
    ):
        for block in message.content:
            if isinstance(block, dict) and block.get("type") in ("tool_call", "tool_call_chunk"):
                extras = block.get("extras") or {}
                if not extras.get("synthetic_id"):
                    gemini_ids.add(block.get("id"))
    for call in message.tool_calls:
        call_id = call.get("id")
        if call_id:
            calls[call_id] = (call["name"], call_id in gemini_ids)


_LEGACY_MODEL = re.compile(r"(^|/)gemini-(1|2)(\.|-)")
# Google's documented stand-in for a function call Gemini 3 did not sign itself.
SKIP_SIGNATURE = "skip_thought_signature_validator"


def is_legacy_model(model: str) -> bool:
    """Gemini 1.x/2.x: no thought signatures required, no built-in + function tools mix."""
    return bool(_LEGACY_MODEL.search(model))


def _made_by_gemini3(message: AIMessage) -> bool:
    """A message Gemini 3 wrote itself goes back exactly as it came, signed or not."""
    metadata = message.response_metadata
    name = metadata.get("model_name")
    return (
        metadata.get("model_provider") == PROVIDER
        and isinstance(name, str)
        and name.startswith(("gemini", "models/gemini"))
        and not is_legacy_model(name)
    )


def _starts_turn(content: dict[str, Any]) -> bool:
    """A user content with something other than function responses starts a new turn."""
    if content.get("role") != "user":
        return False
    return any(isinstance(p, dict) and "functionResponse" not in p for p in content["parts"])


def _add_missing_signatures(contents: list[dict[str, Any]], model: str) -> None:
    """Give unsigned first function calls of the current turn Gemini 3's skip value.

    Only calls that did not come from Gemini 3 (history from another model or written by
    hand) are touched; what Gemini 3 sent goes back unchanged.
    """
    if is_legacy_model(model):
        return
    start = 0
    for i, content in enumerate(contents):
        if _starts_turn(content):
            start = i + 1
    for content in contents[start:]:
        if content.get("role") != "model" or content.get("_as_sent"):
            continue
        calls = [p for p in content["parts"] if isinstance(p, dict) and "functionCall" in p]
        if calls and "thoughtSignature" not in calls[0]:
            calls[0]["thoughtSignature"] = SKIP_SIGNATURE


def _inline_bytes(parts: Sequence[Part]) -> int:
    """Decoded bytes of the `inlineData` in parts (and in function responses' parts)."""
    total = 0
    for part in parts:
        inline = part.get("inlineData")
        if isinstance(inline, dict) and isinstance(inline.get("data"), str):
            total += len(inline["data"]) // 4 * 3
        response = part.get("functionResponse")
        if isinstance(response, dict) and isinstance(response.get("parts"), list):
            total += _inline_bytes(response["parts"])
    return total


def _check_inline_total(parts: Sequence[list[Part]]) -> None:
    """The inline limit holds for the whole request, not per block."""
    total = sum(_inline_bytes(p) for p in parts)
    if total > MAX_INLINE_BYTES:
        raise InvalidMessageError(
            f"messages: the inline data of this request adds up to about {total // 2**20} MB, "
            f"over the {MAX_INLINE_BYTES // 2**20} MB Gemini takes inline in one request; "
            "upload the large files with the Files API and pass 'file_id', or pass a 'url'"
        )


def messages_to_contents(
    messages: Sequence[BaseMessage], *, file_base: str = "", model: str | None = None
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(systemInstruction, contents) for a conversation, validated before any request.

    With `model` set to a Gemini 3 model, unsigned function calls that Gemini 3 did not
    write get the documented skip signature, which Gemini 3 requires.
    """
    if not messages:
        raise InvalidMessageError("messages: the conversation is empty; send at least one message")
    system_parts: list[Part] = []
    contents: list[dict[str, Any]] = []
    calls: dict[str, tuple[str, bool]] = {}
    for index, message in enumerate(messages):
        if isinstance(message, SystemMessage) or (
            isinstance(message, ChatMessage) and message.role == "system"
        ):
            system_parts.extend(_system_parts(message, index))
        elif isinstance(message, AIMessage) or (
            isinstance(message, ChatMessage) and message.role in ("assistant", "model", "ai")
        ):
            if isinstance(message, AIMessage):
                _register_calls(message, calls)
                parts = _ai_parts(message, index)
            else:
                parts = _ai_parts(AIMessage(content=message.content), index)
            if parts:
                content: dict[str, Any] = {"role": "model", "parts": parts}
                if isinstance(message, AIMessage) and _made_by_gemini3(message):
                    content["_as_sent"] = True
                contents.append(content)
        elif isinstance(message, ToolMessage):
            part = _tool_part(message, index, calls, file_base)
            previous = contents[-1] if contents else None
            if previous is not None and previous.get("_tool_turn"):
                previous["parts"].append(part)
            else:
                contents.append({"role": "user", "parts": [part], "_tool_turn": True})
        elif isinstance(message, HumanMessage) or (
            isinstance(message, ChatMessage) and message.role in ("user", "human")
        ):
            parts = _user_parts(message, index, file_base)
            if not parts or all(p.get("text") == "" and len(p) == 1 for p in parts):
                # Gemini refuses an empty text part (400); say so before sending.
                raise _fail(
                    index,
                    "the user message has no content (Gemini refuses empty text); give it text "
                    "or a file",
                )
            contents.append({"role": "user", "parts": parts})
        elif isinstance(message, FunctionMessage):
            raise _fail(
                index, "FunctionMessage is not supported; use ToolMessage with a tool_call_id"
            )
        else:
            role = getattr(message, "role", message.type)
            raise _fail(
                index,
                f"message type {message.type!r} (role {role!r}) is not supported; use System, "
                "Human, AI or Tool messages",
            )
    _check_inline_total([system_parts, *(c["parts"] for c in contents)])
    if model is not None:
        _add_missing_signatures(contents, model)
    for content in contents:
        content.pop("_tool_turn", None)
        content.pop("_as_sent", None)
    if not contents:
        raise InvalidMessageError(
            "messages: there is nothing for the model to answer (only system messages); add a "
            "HumanMessage"
        )
    system = {"parts": system_parts} if system_parts else None
    return system, contents
