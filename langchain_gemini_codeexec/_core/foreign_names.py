"""Parameter names from `langchain-google-genai` and OpenAI-style LangChain code.

People move here from `ChatGoogleGenerativeAI`, and LangChain's agent factory passes
OpenAI-style arguments (`response_format`, `strict`). Each such name either becomes this
package's option with the same meaning (`translate_*`), or is refused with an error that
names what to use instead. Pure functions over the raw keyword dicts, run before
validation, so no user ever sees a bare pydantic "extra forbidden" for a familiar name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Names refused with what to use instead (constructor and call alike).
REFUSED: dict[str, str] = {
    "functions": "pass function tools with llm.bind_tools([...]) (or tools=[...] per call)",
    "tool_config": (
        "use tool_choice ('auto', 'any', 'none', a tool name or a list of names) with bind_tools"
    ),
    "http_options": (
        "set timeout=, default_headers=, base_url= or api_version= on ChatGeminiCodeExecution"
    ),
    "response_logprobs": "pass generation_config={'responseLogprobs': True}",
    "logprobs": "pass generation_config={'logprobs': N}",
}

# Names that are model settings only: refused per call with where to set them.
MODEL_ONLY: dict[str, str] = {
    "timeout": "ChatGeminiCodeExecution(timeout=...)",
    "request_timeout": "ChatGeminiCodeExecution(timeout=...)",
    "max_retries": "ChatGeminiCodeExecution(max_retries=...)",
    "retries": "ChatGeminiCodeExecution(max_retries=...)",
}

_THINKING_KEYS = {
    "thinking_budget": "thinking_budget",
    "thinkingBudget": "thinking_budget",
    "thinking_level": "thinking_level",
    "thinkingLevel": "thinking_level",
    "include_thoughts": "include_thoughts",
    "includeThoughts": "include_thoughts",
}


def refusal(name: str, where: str) -> str | None:
    """The error text for a refused foreign name, or None if the name is not one."""
    if name in REFUSED:
        return f"{where}: {name!r} is not an option here; {REFUSED[name]}"
    return None


def _thinking_level(value: Any) -> Any:
    value = getattr(value, "value", value)  # langchain-google-genai / SDK enums
    return value.lower() if isinstance(value, str) else value


def translate_options(data: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Generation options under foreign names -> ours; refused names raise ValueError.

    `where` names the caller in messages ("ChatGeminiCodeExecution", "invoke", ...).
    """
    out = dict(data)
    for name in list(out):
        message = refusal(name, where)
        if message:
            raise ValueError(message)
    if "thinking_config" in out:
        config = out.pop("thinking_config")
        if config is not None:
            if hasattr(config, "model_dump"):  # google.genai.types.ThinkingConfig
                config = config.model_dump(exclude_none=True)
            if not isinstance(config, dict):
                raise ValueError(
                    f"{where}: thinking_config must be a dict like {{'thinking_budget': 1024}}; "
                    "or pass thinking_budget=, thinking_level=, include_thoughts= directly"
                )
            for key, value in config.items():
                if key not in _THINKING_KEYS:
                    raise ValueError(
                        f"{where}: thinking_config key {key!r} is not known; use "
                        "thinking_budget=, thinking_level= or include_thoughts="
                    )
                out.setdefault(_THINKING_KEYS[key], value)
    for name in ("reasoning_effort", "thinking_level"):
        if name in out:
            out[name] = _thinking_level(out[name])
    if "reasoning_effort" in out:
        # langchain-google-genai's name for the thinking level; its own name wins.
        effort = out.pop("reasoning_effort")
        out.setdefault("thinking_level", effort)
    if "n" in out:
        out.setdefault("candidate_count", out.pop("n"))
    if "response_schema" in out:
        out.setdefault("response_json_schema", out.pop("response_schema"))
    if out.get("response_json_schema") is not None and "response_mime_type" not in out:
        out["response_mime_type"] = "application/json"  # a schema is only sent with JSON
    return out


def translate_response_format(data: Mapping[str, Any], where: str) -> dict[str, Any]:
    """OpenAI-style `response_format` / `strict` (LangChain's agent factory) -> ours.

    `{"type": "json_schema", "json_schema": {"schema": ...}}` asks for JSON in that
    schema, `{"type": "json_object"}` for JSON; a pydantic model, TypedDict or JSON schema
    dict is taken as the schema itself. `strict` changes nothing: Gemini holds to the
    schema it is given.
    """
    out = dict(data)
    out.pop("strict", None)
    response_format = out.pop("response_format", None)
    if response_format is None:
        return out
    from langchain_gemini_codeexec._mapping.structured import response_schema

    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind == "json_object":
        out.setdefault("response_mime_type", "application/json")
        return out
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise ValueError(
                f"{where}: response_format json_schema needs {{'json_schema': {{'schema': "
                "{...}}}}"
            )
    elif kind == "text":
        return out
    elif isinstance(response_format, (dict, type)):
        schema = response_schema(response_format)
    else:
        raise ValueError(
            f"{where}: response_format {response_format!r:.80} is not understood; pass "
            "{'type': 'json_schema', 'json_schema': {'schema': {...}}}, {'type': "
            "'json_object'}, or a pydantic model / TypedDict / JSON schema"
        )
    out.setdefault("response_mime_type", "application/json")
    out.setdefault("response_json_schema", schema)
    return out


def translate_client_settings(data: Mapping[str, Any]) -> dict[str, Any]:
    """`ChatGoogleGenerativeAI` client settings -> ours (`request_timeout`, ...)."""
    out = dict(data)
    where = "ChatGeminiCodeExecution"
    renames = {
        "request_timeout": "timeout",
        "retries": "max_retries",
        "additional_headers": "default_headers",
    }
    for theirs, ours in renames.items():
        if theirs in out:
            value = out.pop(theirs)
            if ours in out and out[ours] != value:
                raise ValueError(f"{where}: pass either {ours}= or {theirs}=, not both")
            out[ours] = value
    if "client_options" in out:
        options = out.pop("client_options")
        if hasattr(options, "api_endpoint"):  # google.api_core ClientOptions
            options = {"api_endpoint": options.api_endpoint}
        if options is not None:
            if not isinstance(options, dict) or set(options) - {"api_endpoint"}:
                raise ValueError(
                    f"{where}: client_options: only {{'api_endpoint': url}} is understood "
                    "(it becomes base_url=); set other client settings with client_args="
                )
            if options.get("api_endpoint"):
                endpoint = str(options["api_endpoint"])
                if "://" not in endpoint:
                    endpoint = "https://" + endpoint
                out.setdefault("base_url", endpoint)
    if "default_metadata" in out or "default_metadata_input" in out:
        metadata = out.pop("default_metadata", None) or out.pop("default_metadata_input", None)
        out.pop("default_metadata_input", None)
        if metadata:
            try:
                pairs = dict(metadata)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{where}: default_metadata must be (name, value) pairs; they are sent "
                    "as HTTP headers (default_headers= here)"
                ) from None
            out["default_headers"] = {**pairs, **(out.get("default_headers") or {})}
    flag = out.pop("convert_system_message_to_human", None)
    if flag:
        raise ValueError(
            f"{where}: convert_system_message_to_human is not needed: system messages are "
            "sent as Gemini's systemInstruction"
        )
    return out
