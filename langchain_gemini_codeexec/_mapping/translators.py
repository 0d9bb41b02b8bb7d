"""Foreign block formats to our v1 blocks: one small pure translator per format.

`_to_gemini` maps exactly one vocabulary, the v1 blocks `_from_gemini` writes (see
docs/contract.md). Everything else a history may hold is first rewritten into that
vocabulary here, in the manner of langchain-core's `messages/block_translators/`:

- langchain-google-genai: its v0 blocks (`thinking`, `executable_code`,
  `code_execution_result`), the text-and-code blocks its v1 stream merges, its
  function-call signatures kept in `additional_kwargs`, and its v1 code calls (whose ids
  are its own, not Gemini's);
- Anthropic's raw `thinking` and `tool_use` blocks;
- OpenAI's `function_call` (arguments as JSON text) and `image_url` blocks;
- LangChain's streaming `tool_call_chunk` (arguments as JSON text);
- any other provider's v1 blocks, whose ids, signatures and extras mean nothing to Gemini.

Another provider's native format (OpenAI `code_interpreter_call`, Anthropic
`server_tool_use`, ...) is first read through LangChain's own translation
(`message.content_blocks`), which yields v1 blocks; `from_other_provider` then keeps only
what Gemini can use. Translators never look at the message's origin except where their
docstring says so; they raise `BlockError` for a block they cannot read.
"""

from __future__ import annotations

import contextlib
import json
import mimetypes
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from langchain_gemini_codeexec._mapping.blocks import (
    CODE_TOOL_NAME,
    CODE_TOOL_NAMES,
    OUTCOME_OK,
    RESULT_BLOCK_TYPE,
    BlockError,
    outcome_name,
    output_text,
)

Block = dict[str, Any]

# The key langchain-google-genai keeps function-call signatures under (by call id).
LC_GOOGLE_SIGNATURES = "__gemini_function_call_thought_signatures__"


# --- thinking: langchain-google-genai v0 and Anthropic share one shape -----------------


def _thinking(block: Block) -> list[Block]:
    reasoning: Block = {"type": "reasoning", "reasoning": block.get("thinking", "")}
    signature = block.get("signature")
    if isinstance(signature, str):
        reasoning["extras"] = {"signature": signature}
    return [reasoning]


# --- langchain-google-genai ------------------------------------------------------------


def _lgg_executable_code(block: Block) -> list[Block]:
    """v0 code: Gemini's upper-case language kept verbatim; its id is langchain's own."""
    language = block.get("language", "PYTHON")
    language = str(getattr(language, "value", language)).upper()
    call: Block = {
        "type": "server_tool_call",
        "name": CODE_TOOL_NAME,
        "args": {"code": block.get("executable_code", ""), "language": language.lower()},
        "extras": {"language": language, "synthetic_id": True},
    }
    if block.get("id"):
        call["id"] = block["id"]
    return [call]


def _lgg_code_execution_result(block: Block) -> list[Block]:
    """v0 result: the outcome is an SDK enum int (OK when absent); the id is not Gemini's."""
    outcome = outcome_name(block.get("outcome", 1))
    result: Block = {
        "type": "server_tool_result",
        "tool_call_id": block.get("tool_call_id") or None,
        "status": "success" if outcome == OUTCOME_OK else "error",
        "output": block.get("code_execution_result", ""),
        "extras": {"outcome": outcome, "block_type": RESULT_BLOCK_TYPE, "synthetic_id": True},
    }
    return [result]


def _lgg_merged_text(block: Block) -> list[Block]:
    """A langchain-google-genai v1 stream gives a text delta and the code call or result
    after it one index, so adding the chunks merges them into one `text` block carrying
    the call's or result's keys: split it, so that no code or output is lost."""
    text: Block = {"type": "text", "text": block.get("text", "")}
    if block.get("name") == CODE_TOOL_NAME and isinstance(block.get("args"), dict):
        call = {"type": "server_tool_call", "name": CODE_TOOL_NAME, "args": block["args"]}
        return [text, {**call, "id": block.get("id")}]
    if (block.get("extras") or {}).get("block_type") == RESULT_BLOCK_TYPE:
        keys = ("tool_call_id", "status", "output", "extras")
        return [text, {"type": "server_tool_result", **{k: block[k] for k in keys if k in block}}]
    return [block]


def from_unmarked_google_genai(blocks: Sequence[Any]) -> list[Any]:
    """Blocks of a `google_genai` message without our marker: langchain-google-genai's, or
    ours saved by a version before the marker (both are Gemini's answers, so signatures
    and function-call ids stand).

    The one difference that matters: langchain-google-genai gives code calls an id of its
    own making (it drops Gemini's) and keeps Gemini's upper-case language, where ours is
    lower-case. Such an id must not be sent as Gemini's, so it is marked synthetic.
    """
    out: list[Any] = []
    for block in blocks:
        if not isinstance(block, dict):
            out.append(block)
            continue
        args = block.get("args")
        language = args.get("language") if isinstance(args, dict) else None
        if (
            block.get("type") == "server_tool_call"
            and isinstance(language, str)
            and language != language.lower()
        ):
            block = {**block, "extras": {**(block.get("extras") or {}), "synthetic_id": True}}
        out.append(block)
    return out


def with_function_call_signatures(blocks: Sequence[Any], signatures: Any) -> list[Any]:
    """langchain-google-genai keeps function-call signatures in `additional_kwargs`, by
    call id: move each onto its `tool_call` block, where ours keep theirs."""
    if not isinstance(signatures, Mapping) or not signatures:
        return list(blocks)
    out: list[Any] = []
    for block in blocks:
        if not isinstance(block, dict) or block.get("type") != "tool_call":
            out.append(block)
            continue
        extras = block.get("extras") or {}
        signature = signatures.get(str(block.get("id")))
        if signature and "signature" not in extras:
            block = {**block, "extras": {**extras, "signature": signature}}
        out.append(block)
    return out


# --- Anthropic -------------------------------------------------------------------------


def _anthropic_tool_use(block: Block) -> list[Block]:
    call = {"type": "tool_call", "name": block.get("name"), "id": block.get("id")}
    return [{**call, "args": block.get("input", {})}]


# --- OpenAI ----------------------------------------------------------------------------


def _json_args(raw: Any, what: str) -> Any:
    try:
        return json.loads(raw or "{}") if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        raise BlockError(what) from None


def _openai_function_call(block: Block) -> list[Block]:
    args = block.get("args", block.get("arguments", {}))
    call = {k: v for k, v in block.items() if k not in ("arguments", "call_id")}
    call.update(type="tool_call", id=block.get("call_id") or block.get("id"))
    call["args"] = _json_args(args, "tool call arguments are not JSON")
    return [call]


def image_url_block(block: Block) -> Block:
    """OpenAI's `image_url` (a URL or a base64 `data:` URL) as a standard image block."""
    value = block.get("image_url")
    url = value.get("url") if isinstance(value, dict) else value
    if not isinstance(url, str) or not url:
        raise BlockError("'image_url' needs a 'url'")
    if url.startswith("data:"):
        return {"type": "image", "url": url}
    return {"type": "image", "url": url, "mime_type": mimetypes.guess_type(url)[0] or "image/jpeg"}


# --- LangChain streaming ---------------------------------------------------------------


def _tool_call_chunk(block: Block) -> list[Block]:
    """A streamed call (possibly never finalised by LangChain): its args are JSON text."""
    args = _json_args(block.get("args") or "{}", "tool_call_chunk args are not complete JSON")
    return [{**block, "type": "tool_call", "args": args}]


def _server_tool_call_chunk(block: Block) -> list[Block]:
    """A streamed server tool call: its args are JSON text (kept as text if incomplete)."""
    args = block.get("args") or "{}"
    # Incomplete JSON stays the text it is (rendered as such, see `replayable`).
    with contextlib.suppress(json.JSONDecodeError):
        args = json.loads(args) if isinstance(args, str) else args
    return [{**block, "type": "server_tool_call", "args": args}]


def _tool_call_with_json_args(block: Block) -> list[Block]:
    if not isinstance(block.get("args"), str):
        return [block]
    return [{**block, "args": _json_args(block["args"], "tool call arguments are not JSON")}]


# --- other providers' v1 blocks --------------------------------------------------------


def from_other_provider(block: Any) -> Any:
    """Another provider's v1 block, keeping only what Gemini can use.

    Its ids and signatures were not made by Gemini, so its extras go, except what says how
    a code result ended. Its `non_standard` blocks are that provider's own: refused.
    """
    if not isinstance(block, dict):
        return block
    if block.get("type") == "non_standard":
        raise BlockError("a non_standard block from another provider cannot be sent to Gemini")
    out = {k: v for k, v in block.items() if k != "extras"}
    extras = block.get("extras")
    if block.get("type") == "server_tool_result" and isinstance(extras, dict):
        kept = {k: extras[k] for k in ("outcome", "block_type") if k in extras}
        if kept:
            out["extras"] = kept
        # OpenAI's run that neither completed nor failed ("incomplete", ...) did not succeed.
        if "status" not in block and extras.get("status") not in (None, "completed"):
            out["status"] = "error"
    return out


# --- server tools Gemini cannot replay, and OpenAI's charts ------------------------------
#
# Gemini replays one server tool, its code interpreter (Python). Any other server tool
# call (Anthropic's bash_code_execution, text_editor_code_execution, web_search, web_fetch;
# OpenAI's web_search_call, file_search_call, ...) and its result are sent as text the
# next model can read (docs/contract.md 2.3 shows the rendering): never dropped, never an
# error that ends a conversation begun on another model.


def _is_code_call(block: Any) -> bool:
    return (
        isinstance(block, dict)
        and block.get("type") == "server_tool_call"
        and block.get("name") in CODE_TOOL_NAMES
        and isinstance(block.get("args", {}), dict)
    )


def _is_code_result(block: Block, code_ids: set[Any]) -> bool:
    """A result Gemini can replay (the same test `_to_gemini` applies)."""
    extras = block.get("extras") if isinstance(block.get("extras"), dict) else {}
    assert isinstance(extras, dict)
    return (
        extras.get("block_type") == RESULT_BLOCK_TYPE
        or block.get("tool_call_id") in code_ids
        or isinstance(extras.get("outcome"), int)
    )


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _label(name: Any, call_id: Any) -> str:
    label = str(name) if name else "unknown tool"
    return f"{label} (id {call_id})" if call_id else label


def render_server_tool_call(block: Block) -> Block:
    """`[server tool call: NAME (id ID)]` and the call's input as JSON, as a text block."""
    args = block.get("args")
    shown = args if isinstance(args, str) else _json(args if args is not None else {})
    head = f"[server tool call: {_label(block.get('name'), block.get('id'))}]"
    return {"type": "text", "text": f"{head}\n{shown}"}


def render_output(output: Any) -> str:
    """A result's output as text: stdout, stderr and the return code labelled, anything
    else as JSON (a string as it is)."""
    if output is None or output == "" or output == []:
        return "(no output)"
    if isinstance(output, str):
        return output
    if isinstance(output, dict) and {"stdout", "stderr", "return_code"} & set(output):
        lines = [f"{key}:\n{output[key]}" for key in ("stdout", "stderr") if output.get(key)]
        if "return_code" in output:
            lines.append(f"return code: {output['return_code']}")
        rest = {
            k: v
            for k, v in output.items()
            if k not in ("stdout", "stderr", "return_code", "type") and v not in (None, [], "")
        }
        if rest:
            lines.append(_json(rest))
        return "\n".join(lines) or "(no output)"
    return _json(output)


def render_server_tool_result(block: Block, name: Any) -> Block:
    """`[server tool result: NAME (id ID), status: STATUS]` and its output, as a text block."""
    status = block.get("status") or "success"
    head = f"[server tool result: {_label(name, block.get('tool_call_id'))}, status: {status}]"
    return {"type": "text", "text": f"{head}\n{render_output(block.get('output'))}"}


def _output_image(item: Block, call_id: Any) -> Block:
    """An OpenAI code-interpreter image output as an image block (a chart of that run)."""
    url = item.get("url")
    extras = {"tool_call_id": call_id} if call_id else {}
    if isinstance(url, str) and url.startswith("data:"):
        header, _, data = url.partition(",")
        mime = header[len("data:") :].split(";")[0] or "image/png"
        return {"type": "image", "base64": data, "mime_type": mime, "extras": extras}
    if not isinstance(url, str) or not url:
        raise BlockError("a code_interpreter image output has no 'url'")
    mime = mimetypes.guess_type(url)[0] or "image/png"
    return {"type": "image", "url": url, "mime_type": mime, "extras": extras}


def _split_images(block: Block) -> list[Block]:
    """OpenAI's outputs list: the logs become the result's output, each image an image
    block right after it (Gemini sends a run's chart the same way)."""
    output = block.get("output")
    if not isinstance(output, list) or not any(
        isinstance(item, dict) and item.get("type") == "image" for item in output
    ):
        return [block]
    is_image = [isinstance(i, dict) and i.get("type") == "image" for i in output]
    logs = [item for item, image in zip(output, is_image, strict=True) if not image]
    images = [item for item, image in zip(output, is_image, strict=True) if image]
    call_id = block.get("tool_call_id")
    return [{**block, "output": output_text(logs)}, *(_output_image(i, call_id) for i in images)]


def replayable(blocks: Sequence[tuple[int, Any]]) -> list[tuple[int, Any]]:
    """The v1 blocks of one AI message, with what Gemini cannot replay rendered as text.

    Code-interpreter calls and their results stay (the results' image outputs split off as
    image blocks); every other server tool call and result becomes a text block.
    """
    code_ids = {b.get("id") for _, b in blocks if _is_code_call(b) and b.get("id")}
    names = {
        b.get("id"): b.get("name")
        for _, b in blocks
        if isinstance(b, dict) and b.get("type") == "server_tool_call"
    }
    out: list[tuple[int, Any]] = []
    for position, block in blocks:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "server_tool_call" and not _is_code_call(block):
            out.append((position, render_server_tool_call(block)))
        elif kind == "server_tool_result" and not _is_code_result(block, code_ids):
            extras = block.get("extras") or {}
            name = names.get(block.get("tool_call_id")) or extras.get("block_type")
            out.append((position, render_server_tool_result(block, name)))
        elif kind == "server_tool_result":
            try:
                out.extend((position, item) for item in _split_images(block))
            except BlockError as exc:
                raise BlockError(f"content[{position}]: {exc}") from None
        else:
            out.append((position, block))
    return out


# --- dispatch --------------------------------------------------------------------------

# Foreign block types, by the format that writes them. Types not listed are v1 already.
_TRANSLATORS: dict[str, Callable[[Block], list[Block]]] = {
    "thinking": _thinking,
    "executable_code": _lgg_executable_code,
    "code_execution_result": _lgg_code_execution_result,
    "text": _lgg_merged_text,
    "tool_use": _anthropic_tool_use,
    "function_call": _openai_function_call,
    "image_url": lambda block: [image_url_block(block)],
    "tool_call_chunk": _tool_call_chunk,
    "server_tool_call_chunk": _server_tool_call_chunk,
    "tool_call": _tool_call_with_json_args,
}


def to_v1(blocks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
    """Each block as v1 block(s), with its position in the message (for error messages).

    Strings and non-dicts pass through for the mapper to judge.
    """
    for position, block in enumerate(blocks):
        kind = block.get("type") if isinstance(block, dict) else None
        translate = _TRANSLATORS.get(kind) if isinstance(kind, str) else None
        if translate is None:
            yield position, block
            continue
        try:
            translated = translate(block)
        except BlockError as exc:
            raise BlockError(f"content[{position}]: {exc}") from None
        for item in translated:
            yield position, item
