"""Tools and structured output: LangChain tools to Gemini `tools`/`toolConfig`, and back.

Pure functions, shared by `bind_tools` (which validates at bind time) and the request
builder (which builds the same thing per call), so a bad tool or `tool_choice` fails
before any request is sent, with the same message either way. The second half holds
what `with_structured_output` needs: the response schema, the parsers, and the
transcript its two-step mode hands from the computing call to the formatting call.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import pydantic
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import BaseMessage, BaseMessageChunk
from langchain_core.output_parsers import JsonOutputParser
from langchain_core.output_parsers.openai_tools import (
    JsonOutputKeyToolsParser,
    PydanticToolsParser,
)
from langchain_core.outputs import (
    ChatGeneration,
    ChatGenerationChunk,
    Generation,
    GenerationChunk,
)
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from langchain_core.utils.json import parse_json_markdown
from langchain_core.utils.pydantic import is_basemodel_subclass

from langchain_gemini_codeexec._to_gemini import is_legacy_model
from langchain_gemini_codeexec.errors import InvalidMessageError

# Gemini's built-in (server-side) tools, by every spelling a user may pass.
_BUILTINS = {
    "code_execution": "codeExecution",
    "codeExecution": "codeExecution",
    "google_search": "googleSearch",
    "googleSearch": "googleSearch",
    "url_context": "urlContext",
    "urlContext": "urlContext",
    "google_search_retrieval": "googleSearchRetrieval",
    "googleSearchRetrieval": "googleSearchRetrieval",
    "google_maps": "googleMaps",
    "googleMaps": "googleMaps",
    "file_search": "fileSearch",
    "fileSearch": "fileSearch",
}
# LangChain `tool_choice` values to Gemini `functionCallingConfig.mode`.
_MODES = {"auto": "AUTO", "any": "ANY", "required": "ANY", "none": "NONE", "validated": "VALIDATED"}
# Modes that make the model call a function, so at least one must be bound.
_FORCING = frozenset({"ANY"})

CODE_EXECUTION_TOOL: dict[str, Any] = {"codeExecution": {}}

# Gemini 3 validates the thought signature of the first function call of each model turn
# in the current tool loop. A call that comes from elsewhere (history written by hand,
# another provider, a Gemini 2.x answer) has none; this documented value tells the API
# to skip the check for that part (https://ai.google.dev/gemini-api/docs/thought-signatures).


def builtin_key(tool: Any) -> str | None:
    """The Gemini key (`codeExecution`, ...) of a built-in tool dict, else None."""
    if isinstance(tool, dict) and len(tool) == 1:
        key = next(iter(tool))
        return _BUILTINS.get(key)
    return None


def to_openai_function(tool: Any) -> dict[str, Any]:
    """A function tool in OpenAI's `{"type": "function", "function": {...}}` form.

    That is the form `bind_tools` keeps in its kwargs: LangGraph's `create_react_agent`
    reads the names of pre-bound tools from it.
    """
    try:
        return convert_to_openai_tool(tool)
    except Exception as exc:
        raise InvalidMessageError(
            f"tools: {tool!r:.80} is not a tool; pass a LangChain tool, a function, a pydantic "
            "model, a TypedDict, a JSON schema, or a built-in such as {'code_execution': {}}, "
            "{'google_search': {}}, {'url_context': {}}"
        ) from exc


def normalize_tool(tool: Any) -> dict[str, Any]:
    """One tool as `bind_tools` keeps it: a Gemini built-in dict or an OpenAI function."""
    key = builtin_key(tool)
    if key is not None:
        value = next(iter(tool.values()))
        return {key: dict(value) if isinstance(value, dict) else {}}
    if isinstance(tool, dict) and set(tool) == {"functionDeclarations"}:
        return {"functionDeclarations": list(tool["functionDeclarations"])}
    return to_openai_function(tool)


def format_tool(tool: Any) -> dict[str, Any]:
    """One tool as a Gemini tool entry: a built-in `{name: config}` or a function declaration.

    Function declarations come back as `{"functionDeclarations": [decl]}` and are grouped
    into one Gemini tool by `build_tools`.
    """
    normalized = normalize_tool(tool)
    if "type" not in normalized or "function" not in normalized:
        return normalized
    function = normalized["function"]
    declaration: dict[str, Any] = {"name": function["name"]}
    if function.get("description"):
        declaration["description"] = function["description"]
    parameters = function.get("parameters")
    if parameters and parameters.get("properties"):
        declaration["parametersJsonSchema"] = parameters
    return {"functionDeclarations": [declaration]}


def _untitled(schema: Any) -> Any:
    """A declaration without JSON-schema `title` annotations (pydantic adds them)."""
    if isinstance(schema, list):
        return [_untitled(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            out[key] = {name: _untitled(item) for name, item in value.items()}
        elif not (key == "title" and isinstance(value, str)):
            out[key] = _untitled(value)
    return out


def build_tools(formatted: Sequence[dict[str, Any]], code_execution: bool) -> list[dict[str, Any]]:
    """Gemini's `tools` list: code execution (when on), other built-ins, then functions."""
    tools: list[dict[str, Any]] = [dict(CODE_EXECUTION_TOOL)] if code_execution else []
    declarations: list[dict[str, Any]] = []
    for tool in formatted:
        if "functionDeclarations" in tool:
            declarations.extend(tool["functionDeclarations"])
        elif not any(next(iter(tool)) in existing for existing in tools):
            tools.append(tool)
    # One tool bound twice (e.g. a pydantic model and its JSON schema) is declared once;
    # two different tools with one name are an error.
    unique: dict[Any, dict[str, Any]] = {}
    for declaration in declarations:
        first = unique.setdefault(declaration.get("name"), declaration)
        if first is not declaration and _untitled(first) != _untitled(declaration):
            raise InvalidMessageError(
                f"tools: more than one function tool is named {declaration.get('name')!r}; "
                "names must be unique"
            )
    declarations = list(unique.values())
    if declarations:
        tools.append({"functionDeclarations": declarations})
    return tools


def function_names(tools: Sequence[dict[str, Any]]) -> list[str]:
    return [d["name"] for t in tools for d in t.get("functionDeclarations", ())]


def builtin_names(tools: Sequence[dict[str, Any]]) -> list[str]:
    return [key for t in tools for key in t if key != "functionDeclarations"]


def _choice_name(tool_choice: dict[str, Any]) -> Any:
    """The function a dict `tool_choice` names (OpenAI, Anthropic or plain spelling)."""
    function = tool_choice.get("function")
    if isinstance(function, dict):
        return function.get("name")
    return tool_choice.get("name")


def tool_config(tool_choice: Any, names: Sequence[str]) -> dict[str, Any]:
    """`toolConfig.functionCallingConfig` for a LangChain `tool_choice`.

    `"auto"`, `"any"` (or `"required"`, `True`), `"none"`, `"validated"`, a bound
    function's name, a list of names, or an OpenAI/Anthropic style dict naming one.
    `None` and `False` leave the choice to the model.
    """
    if tool_choice is None or tool_choice is False:
        return {}
    if tool_choice is True:
        tool_choice = "any"
    if isinstance(tool_choice, dict):
        name = _choice_name(tool_choice)
        if not isinstance(name, str):
            if str(tool_choice.get("type", "")).lower() in _MODES:
                tool_choice = str(tool_choice["type"])
            else:
                raise InvalidMessageError(f"tool_choice: {tool_choice!r} names no function")
        else:
            tool_choice = name
    if isinstance(tool_choice, (list, tuple)) and tool_choice:
        chosen = [str(n) for n in tool_choice]
        unknown = [n for n in chosen if n not in names]
        if unknown:
            raise InvalidMessageError(
                f"tool_choice: {unknown} are not bound tools; bound: {sorted(names)}"
            )
        return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": chosen}}
    if not isinstance(tool_choice, str):
        raise InvalidMessageError(
            f"tool_choice: {tool_choice!r} is not valid; use 'auto', 'any', 'none' or a tool name"
        )
    mode = _MODES.get(tool_choice.lower())
    if mode is not None and tool_choice not in names:
        if mode in _FORCING and not names:
            raise InvalidMessageError(
                f"tool_choice: {tool_choice!r} forces a function call, but no function tool "
                "is bound"
            )
        return {"functionCallingConfig": {"mode": mode}}
    if tool_choice in names:
        return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [tool_choice]}}
    raise InvalidMessageError(
        f"tool_choice: {tool_choice!r} is not a bound tool; use 'auto', 'any', 'none' or one "
        f"of {sorted(names)}"
    )


def mixed_tools_error(model: str, builtins: Sequence[str], where: str) -> InvalidMessageError:
    """The error for a Gemini 1.x/2.x request with built-in and function tools together."""
    return InvalidMessageError(
        f"{where}: {model} cannot combine built-in tools ({', '.join(builtins)}) with function "
        "tools in one request (Gemini answers 400 'Tool use with function calling is "
        "unsupported'). Either construct the model with code_execution=False and give your "
        "agent GeminiCodeExecutionTool, or use a Gemini 3 model (e.g. "
        "gemini-3-flash-preview). allow_mixed_tools=True sends the request anyway."
    )


def request_tools(
    bound: Sequence[Any],
    *,
    code_execution: bool,
    tool_choice: Any,
    model: str,
    allow_mixed: bool,
    vertexai: bool,
    where: str = "tools",
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(`tools`, `toolConfig`) of a request, validated.

    Built-in and function tools together need a model that can combine them (Gemini 3)
    and `toolConfig.includeServerSideToolInvocations`, which makes Gemini return (and
    expect back) the built-in calls as `toolCall`/`toolResponse` parts. The Vertex AI API
    has no such field (the SDK refuses it there), so it is sent to the Developer API only.
    """
    tools = build_tools([format_tool(t) for t in bound], code_execution)
    names = function_names(tools)
    config = tool_config(tool_choice, names)
    builtins = builtin_names(tools)
    if names and builtins:
        if is_legacy_model(model) and not allow_mixed:
            raise mixed_tools_error(model, builtins, where)
        if not vertexai:
            config["includeServerSideToolInvocations"] = True
    return tools, config


# --- structured output -------------------------------------------------------------------

STRUCTURED_METHODS = ("json_schema", "function_calling", "json_mode")

# What the formatting call of a two-step structured output is asked after the computation.
FORMAT_REQUEST = (
    "Now give the final answer to my request above, using the results of the computation "
    "you just did. Answer only with the requested JSON; do not compute anything new."
)


def is_pydantic(schema: Any) -> bool:
    """A pydantic (v2 or v1) model class."""
    return isinstance(schema, type) and is_basemodel_subclass(schema)


def response_schema(schema: Any) -> dict[str, Any]:
    """The JSON schema sent as `responseJsonSchema` for a pydantic, TypedDict or dict schema."""
    if is_pydantic(schema):
        if issubclass(schema, pydantic.BaseModel):
            return dict(schema.model_json_schema())
        return dict(schema.schema())
    if isinstance(schema, dict) and not {"parameters", "input_schema", "function"} & set(schema):
        return dict(schema)  # a JSON schema already: sent as given
    try:
        return convert_to_json_schema(schema)
    except Exception as exc:
        raise InvalidMessageError(
            f"with_structured_output: {schema!r:.80} is not a schema; pass a pydantic model, "
            "a TypedDict or a JSON schema dict"
        ) from exc


def schema_name(schema: Any) -> str:
    """The function name a schema gets as a tool (for `method='function_calling'`)."""
    name = to_openai_function(schema)["function"]["name"]
    return str(name)


def _validate(target: Any, data: Any) -> Any:
    if issubclass(target, pydantic.BaseModel):
        return target.model_validate(data)
    return target.parse_obj(data)


def _answer_texts(message: BaseMessage) -> list[str]:
    """Where the JSON answer may be: the text after the last code run, then all text.

    With code execution on, Gemini may write a sentence before it runs code and the JSON
    after it; the JSON is the text that follows the last non-text block.
    """
    if isinstance(message.content, str):
        return [message.content]
    tail: list[str] = []
    for block in message.content:
        if isinstance(block, str):
            tail.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            tail.append(str(block.get("text", "")))
        elif isinstance(block, dict) and block.get("type") not in ("reasoning", "thinking"):
            tail = []
    whole = message.text
    last = "".join(tail)
    return [last, whole] if last.strip() and last != whole else [whole]


def _added_up(chunks: Sequence[str | BaseMessage]) -> Generation:
    """The whole answer of a stream, as one generation."""
    total: GenerationChunk | ChatGenerationChunk | None = None
    for chunk in chunks:
        if isinstance(chunk, BaseMessageChunk):
            piece: GenerationChunk | ChatGenerationChunk = ChatGenerationChunk(message=chunk)
        elif isinstance(chunk, BaseMessage):
            piece = ChatGenerationChunk(message=BaseMessageChunk(**chunk.model_dump()))
        else:
            piece = GenerationChunk(text=chunk)
        total = piece if total is None else total + piece  # type: ignore[operator]
    if total is None:
        raise OutputParserException("Gemini's answer was empty: nothing to parse")
    return total


class JsonAnswerParser(JsonOutputParser):
    """Parses the JSON answer of a Gemini message, into `target` when that is a model.

    Streaming yields growing partial objects (for dict targets) and the model once it
    validates; the final parse is strict, so a truncated or invalid answer raises at the
    end of the stream instead of ending it silently or being completed.
    """

    target: Any = None

    def _transform(self, input: Iterator[str | BaseMessage]) -> Iterator[Any]:
        seen: list[str | BaseMessage] = []

        def keep(chunks: Iterator[str | BaseMessage]) -> Iterator[str | BaseMessage]:
            for chunk in chunks:
                seen.append(chunk)
                yield chunk

        last: Any = None
        for last in super()._transform(keep(input)):
            yield last
        final = self.parse_result([_added_up(seen)])
        if final != last:
            yield final

    async def _atransform(self, input: AsyncIterator[str | BaseMessage]) -> AsyncIterator[Any]:
        seen: list[str | BaseMessage] = []

        async def keep(
            chunks: AsyncIterator[str | BaseMessage],
        ) -> AsyncIterator[str | BaseMessage]:
            async for chunk in chunks:
                seen.append(chunk)
                yield chunk

        last: Any = None
        async for last in super()._atransform(keep(input)):
            yield last
        final = self.parse_result([_added_up(seen)])
        if final != last:
            yield final

    def parse_result(self, result: list[Generation], *, partial: bool = False) -> Any:
        generation = result[0]
        if isinstance(generation, ChatGeneration):
            texts = _answer_texts(generation.message)
        else:
            texts = [generation.text]
        data: Any = None
        error: Exception | None = None
        for text in texts:
            try:
                data = (
                    parse_json_markdown(text.strip())
                    if partial
                    else parse_json_markdown(text.strip(), parser=json.loads)
                )
                break
            except json.JSONDecodeError as exc:
                error = exc
        else:
            if partial:
                return None
            raise OutputParserException(
                f"Gemini's answer is not valid JSON ({error}): {texts[-1]!r:.300}",
                llm_output=texts[-1],
            )
        if self.target is None:
            return data
        try:
            return _validate(self.target, data)
        except (pydantic.ValidationError, pydantic.v1.ValidationError) as exc:
            if partial:
                return None
            raise OutputParserException(
                f"Gemini's answer does not fit {self.target.__name__}: {exc}",
                llm_output=json.dumps(data, ensure_ascii=False),
            ) from exc


def structured_parser(schema: Any, method: str) -> Runnable[Any, Any]:
    """The parser of a `with_structured_output` chain for a method and schema."""
    if method == "function_calling":
        if is_pydantic(schema):
            return PydanticToolsParser(tools=[schema], first_tool_only=True)
        return JsonOutputKeyToolsParser(key_name=schema_name(schema), first_tool_only=True)
    return JsonAnswerParser(target=schema if is_pydantic(schema) else None)


def transcript(message: BaseMessage) -> str:
    """A computing answer as plain text: its text, each code run and its output.

    The formatting call of a two-step structured output reads this instead of the parts
    themselves, so it runs without the code execution tool on any model.
    """
    if isinstance(message.content, str):
        return message.content
    pieces: list[str] = []
    for block in message.content:
        if isinstance(block, str):
            pieces.append(block)
            continue
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            pieces.append(str(block.get("text", "")))
        elif kind == "server_tool_call":
            code = str((block.get("args") or {}).get("code", "")).rstrip("\n")
            pieces.append(f"\n```python\n{code}\n```\n")
        elif kind == "server_tool_result":
            outcome = (block.get("extras") or {}).get("outcome", block.get("status"))
            output = str(block.get("output", "")).rstrip("\n")
            pieces.append(f"Output ({outcome}):\n```\n{output}\n```\n")
        elif kind in ("image", "file", "audio", "video"):
            pieces.append(f"[{kind} {block.get('mime_type', '')}]\n")
    return "".join(pieces)
