"""Messages to Gemini: pure functions from LangChain messages to request `contents`.

Our own blocks go back byte for byte (the inverse of `_from_gemini`); blocks made by
langchain-google-genai and other providers' code-interpreter blocks are accepted too.
Anything that cannot be mapped raises `InvalidMessageError` naming the message index and
the block, before a request is sent: nothing is skipped silently.
"""

from __future__ import annotations

import base64
import binascii
import json
import mimetypes
import re
from collections.abc import Iterator, Sequence
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

from langchain_gemini_codeexec._from_gemini import CODE_TOOL_NAME, PROVIDER, RESULT_BLOCK_TYPE
from langchain_gemini_codeexec.errors import InvalidMessageError

Part = dict[str, Any]

_MEDIA_BLOCKS = ("image", "file", "audio", "video")
# Blocks of an AI message that are tool calls (ours, streamed, Anthropic's, OpenAI's).
_CALL_BLOCKS = ("tool_call", "tool_call_chunk", "tool_use", "function_call")
# Outcomes as langchain-google-genai stores them (ints of the SDK enum).
_INT_OUTCOMES = {
    0: "OUTCOME_UNSPECIFIED",
    1: "OUTCOME_OK",
    2: "OUTCOME_FAILED",
    3: "OUTCOME_DEADLINE_EXCEEDED",
}
_OUTCOMES = frozenset(_INT_OUTCOMES.values())
# The key langchain-google-genai keeps function-call signatures under.
_LC_GOOGLE_SIGNATURES = "__gemini_function_call_thought_signatures__"
_URL_SAFE = str.maketrans("-_", "+/")
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
    candidate = data.translate(_URL_SAFE) if ("-" in data or "_" in data) else data
    try:
        base64.b64decode(candidate, validate=True)
    except (binascii.Error, ValueError):
        raise _fail(index, f"{where}: 'base64' is not valid base64 data") from None
    return data


def _sniff_image(data: str) -> str | None:
    try:
        head = base64.b64decode(data[:16] + "=" * (-len(data[:16]) % 4))
    except (binascii.Error, ValueError):
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


def _image_url_part(block: dict[str, Any], index: int, where: str) -> Part:
    value = block.get("image_url")
    url = value.get("url") if isinstance(value, dict) else value
    if not isinstance(url, str) or not url:
        raise _fail(index, f"{where}: 'image_url' needs a 'url'")
    if url.startswith("data:"):
        return _data_url(url, index, where)
    mime = mimetypes.guess_type(url)[0] or "image/jpeg"
    return {"fileData": {"mimeType": mime, "fileUri": url}}


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


# --- our own blocks back to parts (the inverse of _from_gemini) --------------------------


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


def _outcome(block: dict[str, Any], extras: dict[str, Any]) -> Any:
    if "outcome" in extras:
        outcome = extras["outcome"]
        return _INT_OUTCOMES.get(outcome, outcome) if isinstance(outcome, int) else outcome
    if extras.get("block_type") == RESULT_BLOCK_TYPE:
        return None  # Gemini sent this result without an outcome
    output = block.get("output")
    if isinstance(output, dict) and output.get("return_code") not in (None, 0):
        return "OUTCOME_FAILED"  # Anthropic's failed run (LangChain marks it "success")
    return "OUTCOME_OK" if block.get("status", "success") == "success" else "OUTCOME_FAILED"


def _output_text(output: Any) -> str:
    if output is None:
        return ""
    if isinstance(output, str):
        return output
    if isinstance(output, dict) and ("stdout" in output or "stderr" in output):
        # Anthropic's code execution result: {"stdout", "stderr", "return_code"}
        return str(output.get("stdout") or "") + str(output.get("stderr") or "")
    if isinstance(output, list) and all(isinstance(o, dict) for o in output):
        # Other providers' interpreter outputs: [{"type": "logs", "logs": "..."}]
        texts = [str(o.get("logs", o.get("text", ""))) for o in output]
        if any(texts):
            return "".join(texts)
    return json.dumps(output, ensure_ascii=False)


class _AIContext:
    """What converting one AI message needs to know about the message itself."""

    def __init__(self, message: AIMessage, index: int) -> None:
        self.index = index
        provider = message.response_metadata.get("model_provider")
        # Ids and signatures from another provider mean nothing to Gemini.
        self.own = provider in (None, PROVIDER)
        # Ids go back only when Gemini made them (not LangChain, a user or another model).
        self.gemini = provider == PROVIDER
        self.code_ids: set[str] = set()
        self.lc_signatures: dict[str, Any] = (
            message.additional_kwargs.get(_LC_GOOGLE_SIGNATURES) or {}
        )

    def keep_id(self, block: dict[str, Any], extras: dict[str, Any]) -> bool:
        return self.gemini and not extras.get("synthetic_id") and bool(block.get("id"))


def _ai_block_to_part(block: Any, ctx: _AIContext, position: int) -> Part | None:
    where = f"content[{position}]"
    if isinstance(block, str):
        return {"text": block} if block else None
    if not isinstance(block, dict):
        raise _fail(ctx.index, f"{where}: {type(block).__name__} is not a content block")
    kind = block.get("type")
    extras = block.get("extras") if ctx.own else None
    extras = extras if isinstance(extras, dict) else {}
    if kind == "text":
        return _restore({"text": block.get("text", "")}, None, extras)
    if kind == "reasoning":
        return _restore({"text": block.get("reasoning", ""), "thought": True}, None, extras)
    if kind == "thinking":  # langchain-google-genai v0
        part: Part = {"text": block.get("thinking", ""), "thought": True}
        if ctx.own and isinstance(block.get("signature"), str):
            part["thoughtSignature"] = block["signature"]
        return part
    if kind == "server_tool_call":
        if block.get("name") not in (CODE_TOOL_NAME, "code_execution", "python"):
            raise _fail(
                ctx.index,
                f"{where}: server tool {block.get('name')!r} has no Gemini equivalent; "
                f"only {CODE_TOOL_NAME!r} calls can be replayed",
            )
        args = block.get("args") if isinstance(block.get("args"), dict) else {}
        assert isinstance(args, dict)
        code: Part = {"code": args.get("code", ""), "language": _language(args, extras)}
        if ctx.keep_id(block, extras) and not _lc_google_code_call(args):
            code["id"] = block["id"]
        if block.get("id"):
            ctx.code_ids.add(block["id"])
        return _restore({"executableCode": code}, "executableCode", extras)
    if kind == "executable_code":  # langchain-google-genai v0
        language = block.get("language", "PYTHON")
        return {
            "executableCode": {
                "code": block.get("executable_code", ""),
                "language": str(getattr(language, "value", language)).upper(),
            }
        }
    if kind == "server_tool_result":
        tool_call_id = block.get("tool_call_id")
        is_code = (
            extras.get("block_type") == "code_execution_result"
            or tool_call_id in ctx.code_ids
            or isinstance((block.get("extras") or {}).get("outcome"), int)
        )
        if not is_code:
            raise _fail(
                ctx.index,
                f"{where}: a server tool result for call {tool_call_id!r}, which is not a "
                "code_interpreter call in this message, has no Gemini equivalent",
            )
        foreign_extras = block.get("extras") if isinstance(block.get("extras"), dict) else {}
        outcome = _outcome(block, extras or foreign_extras or {})
        result: Part = {}
        if outcome is not None:
            result["outcome"] = outcome
        result["output"] = _output_text(block.get("output"))
        if ctx.keep_id({"id": tool_call_id}, extras):
            result["id"] = tool_call_id
        return _restore({"codeExecutionResult": result}, "codeExecutionResult", extras)
    if kind == "code_execution_result":  # langchain-google-genai v0
        outcome = block.get("outcome", 1)
        return {
            "codeExecutionResult": {
                "outcome": _INT_OUTCOMES.get(outcome, outcome)
                if isinstance(outcome, int)
                else outcome,
                "output": block.get("code_execution_result", ""),
            }
        }
    if kind in _MEDIA_BLOCKS:
        if isinstance(block.get("base64"), str) and ctx.own:
            # Our own media goes back as it came, without decoding it again.
            inline: Part = {"data": block["base64"]}
            if "mime_type" in block:
                inline = {"mimeType": block["mime_type"], **inline}
            return _restore({"inlineData": inline}, "inlineData", extras)
        part = media_part(block, ctx.index, where, "")
        payload_key = "inlineData" if "inlineData" in part else "fileData"
        return _restore(part, payload_key, extras)
    if kind == "tool_use":  # Anthropic's tool call block
        call_block = {"type": "tool_call", "name": block.get("name"), "id": block.get("id")}
        return _ai_block_to_part({**call_block, "args": block.get("input", {})}, ctx, position)
    if kind in ("tool_call", "function_call"):
        name = block.get("name")
        if not isinstance(name, str) or not name:
            raise _fail(ctx.index, f"{where}: a tool_call block needs a 'name'")
        args = block.get("args", block.get("arguments", {}))
        if isinstance(args, str):  # OpenAI's function_call carries JSON text
            try:
                args = json.loads(args or "{}")
            except json.JSONDecodeError:
                raise _fail(ctx.index, f"{where}: tool call arguments are not JSON") from None
        if not isinstance(args, dict):
            raise _fail(ctx.index, f"{where}: tool_call 'args' must be a JSON object")
        call: Part = {"name": name, "args": args}
        if ctx.keep_id(block, extras):
            call = {"id": block["id"], **call}
        part = _restore({"functionCall": call}, "functionCall", extras)
        signature = ctx.lc_signatures.get(str(block.get("id")))
        if ctx.own and signature and "thoughtSignature" not in part:
            part["thoughtSignature"] = signature
        return part
    if kind == "tool_call_chunk":
        raw_args = block.get("args") or "{}"
        try:
            parsed = json.loads(raw_args) if isinstance(raw_args, str) else raw_args
        except json.JSONDecodeError:
            raise _fail(ctx.index, f"{where}: tool_call_chunk args are not complete JSON") from None
        return _ai_block_to_part({**block, "type": "tool_call", "args": parsed}, ctx, position)
    if kind == "non_standard":
        value = block.get("value")
        if ctx.own and isinstance(value, dict):
            return value
        raise _fail(
            ctx.index,
            f"{where}: a non_standard block from another provider cannot be sent to Gemini",
        )
    if kind == "image_url":
        return _image_url_part(block, ctx.index, where)
    raise _fail(
        ctx.index, f"{where}: block type {kind!r} cannot be sent to Gemini from an AI message"
    )


def _lc_google_code_call(args: dict[str, Any]) -> bool:
    """A langchain-google-genai code call: it keeps Gemini's upper-case language (ours is
    lower-case) and an id of its own making (it drops Gemini's), which is not sent."""
    language = args.get("language")
    return isinstance(language, str) and language != language.lower()


def _unmerged(blocks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
    """Blocks with their positions. A langchain-google-genai v1 stream can give a text
    delta and the code call or result after it one index, so adding chunks merges them
    into one `text` block carrying the call's or result's keys: split it, so that no code
    or output is lost."""
    for position, block in enumerate(blocks):
        if not isinstance(block, dict) or block.get("type") != "text":
            yield position, block
        elif block.get("name") == CODE_TOOL_NAME and isinstance(block.get("args"), dict):
            yield position, {"type": "text", "text": block.get("text", "")}
            call = {"type": "server_tool_call", "name": CODE_TOOL_NAME, "args": block["args"]}
            yield position, {**call, "id": block.get("id")}
        elif (block.get("extras") or {}).get("block_type") == RESULT_BLOCK_TYPE:
            yield position, {"type": "text", "text": block.get("text", "")}
            keys = ("tool_call_id", "status", "output", "extras")
            result = {k: block[k] for k in keys if k in block}
            yield position, {"type": "server_tool_result", **result}
        else:
            yield position, block


def _ai_parts(message: AIMessage, index: int) -> list[Part]:
    ctx = _AIContext(message, index)
    # Another provider's own block formats (OpenAI's `code_interpreter_call`, Anthropic's
    # `server_tool_use`, ...) are read through LangChain's translation to v1 blocks.
    content = message.content if ctx.own else message.content_blocks
    blocks: Sequence[Any] = [content] if isinstance(content, str) else content
    parts: list[Part] = []
    seen_calls: set[str] = set()
    for position, block in _unmerged(blocks):
        if isinstance(block, dict) and block.get("type") in _CALL_BLOCKS:
            seen_calls.add(block.get("call_id") or block.get("id") or "")
        part = _ai_block_to_part(block, ctx, position)
        if part is not None:
            parts.append(part)
    # Tool calls known only from `tool_calls` (string content, other providers): their ids
    # were not Gemini's (ours always come with a block), so they are not sent.
    for call in message.tool_calls:
        if (call.get("id") or "") not in seen_calls:
            tool_block = {
                "type": "tool_call",
                "name": call["name"],
                "args": call["args"],
                "id": call.get("id"),
                "extras": {"synthetic_id": True},
            }
            converted = _ai_block_to_part(tool_block, ctx, len(parts))
            if converted is not None:
                parts.append(converted)
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
    if kind in _MEDIA_BLOCKS:
        return media_part(block, index, where, file_base)
    if kind == "image_url":
        return _image_url_part(block, index, where)
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
        elif kind in _MEDIA_BLOCKS and isinstance(block, dict):
            media.append(media_part(block, index, where, file_base))
        elif kind == "image_url" and isinstance(block, dict):
            media.append(_image_url_part(block, index, where))
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
