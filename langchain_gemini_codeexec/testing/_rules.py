"""The rules a request must follow to be answered, as Gemini enforces them (400 otherwise).

`check_request` raises `GeminiRuleError` with Gemini's message for what the real API
refuses: parts and turns out of order, function responses without their calls, missing
thought signatures on Gemini 3, tools Gemini cannot combine.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from ._replies import JSON
from ._wire import b64decode_any

_LEGACY_MODEL = re.compile(r"(^|/)gemini-(1|2)(\.|-)")
_SIGNATURE_PREFIX = b"scripted-signature:"
_SKIP_SIGNATURE = "skip_thought_signature_validator"


class GeminiRuleError(Exception):
    """A request Gemini would refuse; becomes a 400 answer with this message."""


def is_legacy_model(model: str | None) -> bool:
    """Gemini 1.x/2.x (they cannot combine built-in and function tools)."""
    return bool(model and _LEGACY_MODEL.search(model))


def call_signature(name: str, args: Any) -> str:
    """The thought signature ScriptedGemini puts on a call: a hash of that very call.

    Tied to the call's name and arguments, so a signature sent back on another call (or a
    call whose arguments changed on the way) is caught, as Gemini 3 catches it.
    """
    digest = hashlib.sha256(json.dumps([name, args], sort_keys=True).encode()).digest()[:12]
    return base64.b64encode(_SIGNATURE_PREFIX + digest).decode()


# --- reading a request ---------------------------------------------------------------------


def parts_of(content: Any) -> list[JSON]:
    parts = content.get("parts") if isinstance(content, dict) else None
    return [p for p in parts if isinstance(p, dict)] if isinstance(parts, list) else []


def field(obj: Mapping[str, Any], camel: str) -> Any:
    """A field by its camelCase or snake_case name (the API accepts both)."""
    if camel in obj:
        return obj[camel]
    return obj.get(re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), camel))


def declarations_of(body: Mapping[str, Any]) -> list[JSON]:
    found: list[JSON] = []
    for tool in field(body, "tools") or ():
        if isinstance(tool, dict):
            found += [d for d in field(tool, "functionDeclarations") or () if isinstance(d, dict)]
    return found


def builtin_tools(body: Mapping[str, Any]) -> list[str]:
    names = []
    for tool in field(body, "tools") or ():
        if isinstance(tool, dict):
            names += [k for k in tool if k not in ("functionDeclarations", "function_declarations")]
    return names


def starts_turn(content: Any) -> bool:
    return (
        isinstance(content, dict)
        and content.get("role", "user") == "user"
        and any(
            "functionResponse" not in p and "function_response" not in p for p in parts_of(content)
        )
    )


def user_text(contents: list[Any]) -> str:
    """The text of the last user content that is not only function responses."""
    for content in reversed(contents):
        if starts_turn(content):
            return "\n".join(p["text"] for p in parts_of(content) if isinstance(p.get("text"), str))
    return ""


# --- checks Gemini makes -----------------------------------------------------------------


def check_request(model: str | None, body: Mapping[str, Any]) -> None:
    """Raise :class:`GeminiRuleError` for what Gemini answers with a 400."""
    contents = field(body, "contents")
    if not isinstance(contents, list) or not contents:
        raise GeminiRuleError("* GenerateContentRequest.contents: contents is not specified")
    declarations = declarations_of(body)
    builtins = builtin_tools(body)
    config = field(body, "toolConfig") or {}
    generation = field(body, "generationConfig") or {}
    legacy = is_legacy_model(model)
    if declarations and builtins:
        if legacy:
            raise GeminiRuleError("Tool use with function calling is unsupported")
        if not field(config, "includeServerSideToolInvocations"):
            raise GeminiRuleError(
                "Built-in tools combined with function calling require "
                "toolConfig.includeServerSideToolInvocations to be true"
            )
    if (
        legacy
        and (declarations or builtins)
        and field(generation, "responseMimeType") == ("application/json")
    ):
        kind = "Function calling" if declarations else "Tool use"
        raise GeminiRuleError(
            f"{kind} with a response mime type: 'application/json' is unsupported"
        )
    names = [d.get("name") for d in declarations]
    allowed = field(field(config, "functionCallingConfig") or {}, "allowedFunctionNames") or []
    for name in allowed:
        if name not in names:
            raise GeminiRuleError(f"allowed_function_names: function {name!r} is not declared")
    _check_parts(contents)
    _check_tool_turns(contents)
    if not legacy:
        _check_signatures(contents)


def _check_parts(contents: list[Any]) -> None:
    for i, content in enumerate(contents):
        if not isinstance(content, dict) or not parts_of(content):
            raise GeminiRuleError(f"* contents[{i}].parts: contents.parts must not be empty")
        if content.get("role", "user") not in ("user", "model"):
            raise GeminiRuleError(f"* contents[{i}].role: Please use a valid role: user, model.")
        for j, part in enumerate(parts_of(content)):
            blob = field(part, "inlineData")
            if isinstance(blob, dict):
                if not field(blob, "mimeType"):
                    raise GeminiRuleError(
                        f"* contents[{i}].parts[{j}].inline_data.mime_type: missing"
                    )
                try:
                    b64decode_any(str(blob.get("data", "")))
                except ValueError:
                    raise GeminiRuleError(
                        f"Invalid value at 'contents[{i}].parts[{j}].inline_data.data' (TYPE_BYTES)"
                    ) from None


def _check_tool_turns(contents: list[Any]) -> None:
    """Function responses answer the calls of the model turn just before, one for one."""
    for i, content in enumerate(contents):
        responses = [field(p, "functionResponse") for p in parts_of(content)]
        responses = [r for r in responses if isinstance(r, dict)]
        if not responses:
            continue
        previous = contents[i - 1] if i else None
        calls = [field(p, "functionCall") for p in parts_of(previous)] if previous else []
        calls = [c for c in calls if isinstance(c, dict)]
        if len(calls) != len(responses):
            raise GeminiRuleError(
                "Please ensure that the number of function response parts is equal to the number "
                "of function call parts of the function call turn."
            )
        if sorted(str(c.get("name")) for c in calls) != sorted(
            str(r.get("name")) for r in responses
        ):
            raise GeminiRuleError(
                f"* contents[{i}]: function response names {[r.get('name') for r in responses]} "
                f"do not match the function calls {[c.get('name') for c in calls]}"
            )
    for i, content in enumerate(contents):
        if content.get("role") != "model":
            continue
        parts = parts_of(content)
        server_calls = {
            str(field(p, "toolCall").get("id"))
            for p in parts
            if isinstance(field(p, "toolCall"), dict)
        }
        answered = {
            str(field(p, "toolResponse").get("id"))
            for p in parts
            if isinstance(field(p, "toolResponse"), dict)
        }
        if server_calls != answered:
            raise GeminiRuleError(
                f"* contents[{i}]: every toolCall part must be sent back with its toolResponse "
                f"(calls {sorted(server_calls)}, responses {sorted(answered)})"
            )


def _check_signatures(contents: list[Any]) -> None:
    """Gemini 3: the first call of each model turn in the current turn carries its signature."""
    start = 0
    for i, content in enumerate(contents):
        if starts_turn(content):
            start = i + 1
    for i, content in enumerate(contents):
        if not isinstance(content, dict) or content.get("role") != "model":
            continue
        calls = [p for p in parts_of(content) if isinstance(field(p, "functionCall"), dict)]
        for position, part in enumerate(calls):
            signature = field(part, "thoughtSignature")
            call = field(part, "functionCall")
            if signature is None and position == 0 and i >= start:
                raise GeminiRuleError(
                    "Function call is missing a thought_signature in functionCall parts. This is "
                    "required for tools to work correctly. Additional data, function call "
                    f"`default_api:{call.get('name')}` , position {i + 1}. Please refer to "
                    "https://ai.google.dev/gemini-api/docs/thought-signatures for more details."
                )
            if isinstance(signature, str) and signature != _SKIP_SIGNATURE:
                raw = b64decode_any(signature)
                if raw.startswith(_SIGNATURE_PREFIX) and signature != call_signature(
                    str(call.get("name")), call.get("args", {})
                ):
                    raise GeminiRuleError(
                        f"Thought signature is not valid (contents[{i}], function call "
                        f"{call.get('name')!r})."
                    )
