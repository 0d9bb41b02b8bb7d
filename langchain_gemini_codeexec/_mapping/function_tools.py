"""Function and built-in tools: LangChain tools to Gemini `tools` and `toolConfig`.

Pure functions, shared by `bind_tools` (which validates at bind time) and the request
builder (which builds the same thing per call), so a bad tool or `tool_choice` fails
before any request is sent, with the same message either way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from langchain_core.utils.function_calling import convert_to_openai_tool

from langchain_gemini_codeexec._mapping.to_gemini import is_legacy_model
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

# google-genai's FunctionDeclaration.name: "Must start with a letter or an underscore. Must
# be a-z, A-Z, 0-9, or contain underscores, dots, colons and dashes, with a maximum length
# of 128."
_FUNCTION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$")
# JSON Schema's types (Gemini's OpenAPI `parameters` spell them in upper case).
SCHEMA_TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object", "null"})
# Keywords whose value is one schema, a {name: schema} map, or a list of schemas.
_ONE_SCHEMA = ("items", "not", "additionalProperties", "additional_properties")
_SCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")
_SCHEMA_LISTS = ("anyOf", "any_of", "oneOf", "allOf", "prefixItems")


def schema_errors(schema: Any, where: str) -> list[str]:
    """What is wrong with a JSON schema Gemini would be sent, each naming its field.

    Checks the shapes Gemini reads (a schema is an object; `type` is a JSON Schema type or
    a list of them; `properties` maps names to schemas; `required` lists names; `items`,
    `anyOf`, ... hold schemas), recursively, not every JSON Schema rule.
    """
    if not isinstance(schema, dict):
        return [f"{where} must be a JSON schema object, not {type(schema).__name__}"]
    errors: list[str] = []
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind is not None else []
    for item in kinds:
        if not isinstance(item, str) or item.lower() not in SCHEMA_TYPES:
            errors.append(
                f"{where}.type {item!r} is not a JSON schema type (one of "
                f"{', '.join(sorted(SCHEMA_TYPES))})"
            )
    for key in _SCHEMA_MAPS:
        value = schema.get(key)
        if value is None:
            continue
        if not isinstance(value, dict):
            errors.append(f"{where}.{key} must be an object of schemas, not {value!r:.40}")
            continue
        for name, sub in value.items():
            errors.extend(schema_errors(sub, f"{where}.{key}.{name}"))
    required = schema.get("required")
    if required is not None and not (
        isinstance(required, list) and all(isinstance(n, str) for n in required)
    ):
        errors.append(f"{where}.required must be a list of property names, not {required!r:.40}")
    for key in _ONE_SCHEMA:
        value = schema.get(key)
        if value is None or isinstance(value, bool):
            continue  # `additionalProperties: false` is a schema too
        if key == "items" and isinstance(value, list):
            for i, sub in enumerate(value):
                errors.extend(schema_errors(sub, f"{where}.items[{i}]"))
            continue
        errors.extend(schema_errors(value, f"{where}.{key}"))
    for key in _SCHEMA_LISTS:
        value = schema.get(key)
        if value is None:
            continue
        if not isinstance(value, list):
            errors.append(f"{where}.{key} must be a list of schemas, not {value!r:.40}")
            continue
        for i, sub in enumerate(value):
            errors.extend(schema_errors(sub, f"{where}.{key}[{i}]"))
    enum = schema.get("enum")
    if enum is not None and not isinstance(enum, list):
        errors.append(f"{where}.enum must be a list, not {enum!r:.40}")
    return errors


def check_declaration(declaration: Any, where: str) -> None:
    """Refuse a function declaration Gemini would answer 400 to, naming tool and field."""
    if not isinstance(declaration, dict):
        raise InvalidMessageError(f"{where}: a function declaration must be an object")
    name = declaration.get("name")
    if not isinstance(name, str) or not _FUNCTION_NAME.match(name):
        raise InvalidMessageError(
            f"{where}: tool name {name!r} is not valid for Gemini: it must start with a letter "
            "or '_' and use only a-z, A-Z, 0-9, '_', '.', ':' and '-' (at most 128 characters)"
        )
    for field in ("parameters", "parametersJsonSchema", "parameters_json_schema"):
        if field in declaration and declaration[field] is not None:
            schema = declaration[field]
            errors = schema_errors(schema, field)
            if not errors and schema.get("type") not in (None, "object", "OBJECT"):
                errors = [f"{field}.type must be 'object' (the function's arguments)"]
            if errors:
                raise InvalidMessageError(
                    f"{where}: tool {name!r}: {'; '.join(errors[:3])}"
                    + (f" (and {len(errors) - 3} more)" if len(errors) > 3 else "")
                )


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


def format_tool(tool: Any, where: str = "tools") -> dict[str, Any]:
    """One tool as a Gemini tool entry: a built-in `{name: config}` or a function declaration.

    Function declarations come back as `{"functionDeclarations": [decl]}` and are grouped
    into one Gemini tool by `build_tools`. Each is checked (`check_declaration`) first.
    """
    normalized = normalize_tool(tool)
    if "functionDeclarations" in normalized:
        for given in normalized["functionDeclarations"]:
            check_declaration(given, where)
        return normalized
    if "type" not in normalized or "function" not in normalized:
        return normalized
    function = normalized["function"]
    check_declaration(function, where)
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
    # Each declaration is checked before the mixed-tools refusal, which must not hide it.
    tools = build_tools([format_tool(t, where) for t in bound], code_execution)
    names = function_names(tools)
    config = tool_config(tool_choice, names)
    builtins = builtin_names(tools)
    if names and builtins:
        if is_legacy_model(model) and not allow_mixed:
            raise mixed_tools_error(model, builtins, where)
        if not vertexai:
            config["includeServerSideToolInvocations"] = True
    return tools, config
