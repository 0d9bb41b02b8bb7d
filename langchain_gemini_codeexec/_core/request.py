"""Request building: the `(model, body)` one call sends, built in one place.

`invoke`, `stream` and their async twins, token counting, context-cache creation, the
tool's file cache and batch jobs all build their request here, from the call's resolved
options (`_core.options.resolve`) and its messages, so that each sends exactly what
`invoke` would. No I/O: the files base URL (where `files/...` names point) is passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import BaseMessage, HumanMessage, convert_to_messages
from langchain_core.prompt_values import PromptValue

from langchain_gemini_codeexec._core import options as _options
from langchain_gemini_codeexec._mapping import function_tools as _function_tools
from langchain_gemini_codeexec._mapping.to_gemini import is_legacy_model, messages_to_contents
from langchain_gemini_codeexec.errors import InvalidMessageError

# What countTokens counts on Vertex AI (it takes these fields at the top level).
_VERTEX_COUNTED = ("contents", "systemInstruction", "tools", "generationConfig")


def to_messages(value: LanguageModelInput) -> list[BaseMessage]:
    """Messages of anything `invoke` takes: a string, a prompt value, a message list.

    LangChain's public conversions, as `invoke` applies them: a string is one human
    message, a prompt value gives its messages, a sequence goes through
    `convert_to_messages` (tuples, dicts, strings, messages).
    """
    if isinstance(value, PromptValue):
        return value.to_messages()
    if isinstance(value, str):
        return [HumanMessage(content=value)]
    if isinstance(value, Sequence):
        return convert_to_messages(value)
    raise ValueError(
        f"Invalid input type {type(value)}. Must be a PromptValue, str, or list of BaseMessages."
    )


def request_tools(
    options: _options.CallOptions, *, vertexai: bool, where: str = "tools"
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(`tools`, `toolConfig`) of a request; refuses what the model cannot combine."""
    json_answer = options.response_json_schema is not None or (
        options.response_mime_type == "application/json"
    )
    if (
        json_answer
        and options.code_execution
        and is_legacy_model(options.model)
        and not options.allow_mixed_tools
    ):
        raise InvalidMessageError(
            f"{where}: {options.model} cannot answer in JSON or a schema "
            "(response_format / response_json_schema) with code execution on in one "
            "request. Use a Gemini 3 model, construct the model with "
            "code_execution=False, use with_structured_output (it computes first, then "
            "formats), or with create_agent use ToolStrategy(schema)."
        )
    return _function_tools.request_tools(
        options.tools or (),
        code_execution=options.code_execution,
        tool_choice=options.tool_choice,
        model=options.model,
        allow_mixed=options.allow_mixed_tools,
        vertexai=vertexai,
        where=where,
    )


def build(
    options: _options.CallOptions,
    messages: Sequence[BaseMessage],
    *,
    vertexai: bool,
    files_base: str,
) -> tuple[str, dict[str, Any]]:
    """(model, generateContent body) for `messages` with resolved `options`.

    Validated before anything is sent: a bad message or option raises
    `InvalidMessageError` naming it.
    """
    system, contents = messages_to_contents(messages, file_base=files_base, model=options.model)
    body: dict[str, Any] = {"contents": contents}
    if system is not None:
        body["systemInstruction"] = system
    tools, config = request_tools(options, vertexai=vertexai)
    if tools:
        body["tools"] = tools
    if config:
        body["toolConfig"] = config
    body.update(_options.wire_fields(options))
    return options.model, body


def count_body(model: str, body: dict[str, Any], *, vertexai: bool) -> dict[str, Any]:
    """The countTokens body counting what generateContent `body` would send.

    The Developer API counts a whole `generateContentRequest` (system instruction, tools,
    generation settings included); Vertex AI takes those fields at the top.
    """
    if vertexai:
        return {k: body[k] for k in _VERTEX_COUNTED if k in body}
    request = {k: v for k, v in body.items() if k != "labels"}
    name = model if model.startswith(("models/", "tunedModels/")) else f"models/{model}"
    return {"generateContentRequest": {"model": name, **request}}
