"""Tools for the request: LangChain tools and Gemini built-ins to Gemini `tools`/`toolConfig`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from langchain_core.utils.function_calling import convert_to_openai_tool

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
_MODES = {"auto": "AUTO", "any": "ANY", "required": "ANY", "none": "NONE", "validated": "VALIDATED"}
_LEGACY_MODEL = re.compile(r"(^|/)gemini-(1|2)(\.|-)")

CODE_EXECUTION_TOOL: dict[str, Any] = {"codeExecution": {}}


def is_legacy_model(model: str) -> bool:
    """Gemini 1.x/2.x cannot combine built-in tools with function calling in one request."""
    return bool(_LEGACY_MODEL.search(model))


def format_tool(tool: Any) -> dict[str, Any]:
    """One tool as a Gemini tool entry: a built-in `{name: config}` or a function declaration.

    Function declarations come back as `{"functionDeclarations": [decl]}` and are grouped
    into one Gemini tool by `build_tools`.
    """
    if isinstance(tool, dict) and len(tool) == 1:
        ((key, value),) = tool.items()
        if key in _BUILTINS:
            return {_BUILTINS[key]: value if isinstance(value, dict) else {}}
        if key == "functionDeclarations" and isinstance(value, list):
            return {"functionDeclarations": value}
    try:
        function = convert_to_openai_tool(tool)["function"]
    except Exception as exc:
        raise InvalidMessageError(
            f"tools: {tool!r:.80} is not a tool; pass a LangChain tool, a function, a pydantic "
            "model, a JSON schema, or a built-in such as {'code_execution': {}}"
        ) from exc
    declaration: dict[str, Any] = {"name": function["name"]}
    if function.get("description"):
        declaration["description"] = function["description"]
    parameters = function.get("parameters")
    if parameters and parameters.get("properties"):
        declaration["parametersJsonSchema"] = parameters
    return {"functionDeclarations": [declaration]}


def build_tools(formatted: Sequence[dict[str, Any]], code_execution: bool) -> list[dict[str, Any]]:
    """Gemini's `tools` list: code execution (when on), other built-ins, then functions."""
    tools: list[dict[str, Any]] = [dict(CODE_EXECUTION_TOOL)] if code_execution else []
    declarations: list[dict[str, Any]] = []
    for tool in formatted:
        if "functionDeclarations" in tool:
            declarations.extend(tool["functionDeclarations"])
        elif tool not in tools:
            tools.append(tool)
    if declarations:
        tools.append({"functionDeclarations": declarations})
    return tools


def function_names(tools: Sequence[dict[str, Any]]) -> list[str]:
    return [d["name"] for t in tools for d in t.get("functionDeclarations", ())]


def tool_config(tool_choice: Any, names: Sequence[str]) -> dict[str, Any]:
    """`toolConfig.functionCallingConfig` for a LangChain `tool_choice`."""
    if tool_choice is None:
        return {}
    if tool_choice is True:
        tool_choice = "any"
    if isinstance(tool_choice, dict):
        name = tool_choice.get("name") or (tool_choice.get("function") or {}).get("name")
        if not isinstance(name, str):
            raise InvalidMessageError(f"tool_choice: {tool_choice!r} names no function")
        tool_choice = name
    if not isinstance(tool_choice, str):
        raise InvalidMessageError(
            f"tool_choice: {tool_choice!r} is not valid; use 'auto', 'any', 'none' or a tool name"
        )
    if tool_choice.lower() in _MODES:
        return {"functionCallingConfig": {"mode": _MODES[tool_choice.lower()]}}
    if tool_choice in names:
        return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [tool_choice]}}
    raise InvalidMessageError(
        f"tool_choice: {tool_choice!r} is not a bound tool; use 'auto', 'any', 'none' or one "
        f"of {sorted(names)}"
    )
