"""Bad input, refused before any request: the table below.

Each row is one distinct mistake (in messages, content blocks, files and media, call
options and tool arguments, the model's constructor, and the code-execution tool). Each
must raise an error that names where the problem is (message index / block / field) and
what is allowed, and the loopback server must have recorded no request at all.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.tools import ToolException
from pydantic import BaseModel, ValidationError

from langchain_gemini_codeexec import ChatGeminiCodeExecution, GeminiCodeExecutionTool
from langchain_gemini_codeexec._mapping.to_gemini import MAX_INLINE_BYTES
from langchain_gemini_codeexec.errors import InvalidMessageError
from langchain_gemini_codeexec.testing import GeminiTestServer
from tests.support import PATHS, SECRET_API_KEY, path_llm

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()
HI = HumanMessage("hi")
CALL = {"name": "lookup", "args": {"q": "x"}, "id": "call-1", "type": "tool_call"}
_LOOKUP_SCHEMA: dict[str, Any] = {
    "name": "lookup",
    "description": "Look something up.",
    "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
}


def _human(*blocks: Any) -> list[Any]:
    return [HumanMessage(content=list(blocks))]


def _ai(*blocks: Any, **kw: Any) -> list[Any]:
    return [HI, AIMessage(content=list(blocks), **kw), HumanMessage("next")]


@dataclass(frozen=True)
class Bad:
    """One bad input: what is done, the error type, and words its message must contain."""

    id: str
    kind: str  # messages | call | init | tool
    spec: Any
    error: type[Exception]
    says: tuple[str, ...]


M, B, F, T, C, X = "messages", "messages", "messages", "call", "init", "tool"
P = "option"  # per-call keyword arguments: invoke, ainvoke, stream and astream


@functools.cache
def _a_string(length: int) -> str:
    """Built when a test first needs it (not at import, in every xdist worker), once."""
    return "A" * length


def oversized() -> str:
    return _a_string(MAX_INLINE_BYTES // 3 * 4 + 8)


def sixty_percent() -> str:
    """Within the limit alone, over it together (one string object, used twice)."""
    return _a_string(MAX_INLINE_BYTES * 6 // 10 // 3 * 4)


TABLE = [
    # --- conversations and messages ----------------------------------------------------
    Bad("empty conversation", M, [], InvalidMessageError, ("messages:", "empty")),
    Bad(
        "only a system message",
        M,
        [SystemMessage("be nice")],
        InvalidMessageError,
        ("only system messages", "HumanMessage"),
    ),
    Bad(
        "FunctionMessage",
        M,
        [HI, FunctionMessage(name="f", content="1")],
        InvalidMessageError,
        ("messages[1]", "use ToolMessage"),
    ),
    Bad(
        "unknown chat role",
        M,
        [ChatMessage(role="wizard", content="abracadabra")],
        InvalidMessageError,
        ("messages[0]", "'wizard'", "System, Human, AI or Tool"),
    ),
    Bad(
        "ToolMessage without its call",
        M,
        [HI, ToolMessage("42", tool_call_id="nope")],
        InvalidMessageError,
        ("messages[1]", "'nope'", "no earlier AI message has a tool call"),
    ),
    Bad(
        "ToolMessage before its call",
        M,
        [HI, ToolMessage("42", tool_call_id="call-1"), AIMessage("", tool_calls=[CALL])],
        InvalidMessageError,
        ("messages[1]", "'call-1'", "no earlier AI message"),
    ),
    Bad(
        "user message with no content",
        M,
        [HumanMessage(content=[])],
        InvalidMessageError,
        ("messages[0]", "no content"),
    ),
    Bad(
        "image in a system message",
        M,
        [SystemMessage(content=[{"type": "image", "base64": PNG, "mime_type": "image/png"}]), HI],
        InvalidMessageError,
        ("messages[0]", "content[0]", "text only"),
    ),
    # --- content blocks ------------------------------------------------------------------
    Bad(
        "unknown block type",
        B,
        _human({"type": "text", "text": "look"}, {"type": "hologram", "data": "?"}),
        InvalidMessageError,
        ("messages[0]", "content[1]", "'hologram'", "use 'text', 'image', 'file'"),
    ),
    Bad(
        "text block whose text is not a string",
        B,
        _human({"type": "text", "text": 42}),
        InvalidMessageError,
        ("messages[0]", "content[0]", "string 'text'"),
    ),
    Bad(
        "unknown block type in an AI message",
        B,
        _ai({"type": "citation", "url": "https://example.com"}),
        InvalidMessageError,
        ("messages[1]", "content[0]", "'citation'", "cannot be sent to Gemini"),
    ),
    Bad(
        "tool_call block without a name",
        B,
        _ai({"type": "tool_call", "id": "c1", "args": {}}),
        InvalidMessageError,
        ("messages[1]", "content[0]", "needs a 'name'"),
    ),
    Bad(
        "tool_call_chunk with broken JSON args",
        B,
        _ai({"type": "tool_call_chunk", "id": "c1", "name": "f", "args": '{"q": '}),
        InvalidMessageError,
        ("messages[1]", "content[0]", "not complete JSON"),
    ),
    Bad(
        "non_standard block from another provider",
        B,
        _ai(
            {"type": "non_standard", "value": {"openai_thing": 1}},
            response_metadata={"model_provider": "openai"},
        ),
        InvalidMessageError,
        ("messages[1]", "content[0]", "another provider"),
    ),
    # --- files and media -----------------------------------------------------------------
    Bad(
        "bad base64",
        F,
        _human({"type": "image", "base64": "not base64!!", "mime_type": "image/png"}),
        InvalidMessageError,
        ("messages[0]", "content[0]", "not valid base64"),
    ),
    Bad(
        "empty base64",
        F,
        _human({"type": "file", "base64": "", "mime_type": "text/csv"}),
        InvalidMessageError,
        ("messages[0]", "content[0]", "non-empty base64"),
    ),
    Bad(
        "image with no data, url or file_id",
        F,
        _human({"type": "image", "mime_type": "image/png"}),
        InvalidMessageError,
        ("messages[0]", "content[0]", "'base64', 'url' or 'file_id'"),
    ),
    Bad(
        "file without a mime type",
        F,
        _human({"type": "file", "base64": base64.b64encode(b"a,b\n1,2\n").decode()}),
        InvalidMessageError,
        ("messages[0]", "content[0]", "needs 'mime_type'", "'text/csv'"),
    ),
    Bad(
        "mime type that is not a mime type",
        F,
        _human({"type": "file", "base64": PNG, "mime_type": "csv"}),
        InvalidMessageError,
        ("messages[0]", "content[0]", "'csv'", "like 'image/png'"),
    ),
    Bad(
        "mime type with an empty subtype",
        F,
        _human({"type": "image", "base64": PNG, "mime_type": "image/"}),
        InvalidMessageError,
        ("messages[0]", "content[0]", "'image/'", "like 'image/png'"),
    ),
    Bad(
        "unsupported mime type (opaque bytes)",
        F,
        _human({"type": "file", "base64": PNG, "mime_type": "application/octet-stream"}),
        InvalidMessageError,
        ("messages[0]", "content[0]", "not supported by Gemini", "CSV, JSON, PDF"),
    ),
    Bad(
        "unsupported mime type (archive)",
        F,
        _human(
            {"type": "file", "url": "https://example.com/data.zip", "mime_type": "application/zip"}
        ),
        InvalidMessageError,
        ("messages[0]", "content[0]", "'application/zip'", "not supported"),
    ),
    Bad(
        "unknown kind of mime type",
        F,
        _human({"type": "file", "base64": PNG, "mime_type": "model/gltf+json"}),
        InvalidMessageError,
        ("messages[0]", "content[0]", "not a kind Gemini reads", "image/*"),
    ),
    Bad(
        "oversized inline data",
        F,
        lambda: _human({"type": "file", "base64": oversized(), "mime_type": "text/csv"}),
        InvalidMessageError,
        ("messages[0]", "content[0]", "over the 100 MB", "Files API"),
    ),
    Bad(
        "two images that together exceed the inline limit",
        F,
        lambda: _human(
            {"type": "image", "base64": sixty_percent(), "mime_type": "image/png"},
            {"type": "image", "base64": sixty_percent(), "mime_type": "image/png"},
        ),
        InvalidMessageError,
        ("adds up to about 120 MB", "over the 100 MB", "in one request", "Files API"),
    ),
    Bad(
        "inline files in two messages that together exceed the limit",
        F,
        lambda: [
            HumanMessage([{"type": "file", "base64": sixty_percent(), "mime_type": "text/csv"}]),
            AIMessage("ok"),
            HumanMessage([{"type": "file", "base64": sixty_percent(), "mime_type": "text/csv"}]),
        ],
        InvalidMessageError,
        ("adds up to about 120 MB", "in one request"),
    ),
    Bad(
        "data URL that is not base64",
        F,
        _human({"type": "image", "url": "data:image/png,rawbytes"}),
        InvalidMessageError,
        ("messages[0]", "content[0]", "only base64 'data:' URLs"),
    ),
    Bad(
        "data URL of an unsupported type",
        F,
        _human({"type": "file", "url": f"data:application/x-msdownload;base64,{PNG}"}),
        InvalidMessageError,
        ("messages[0]", "content[0]", "not supported by Gemini"),
    ),
    Bad(
        "URL with no mime type and no known extension",
        F,
        _human({"type": "file", "url": "https://example.com/blob"}),
        InvalidMessageError,
        ("messages[0]", "content[0]", "needs 'mime_type'"),
    ),
    Bad(
        "image_url without a url",
        F,
        _human({"type": "image_url", "image_url": {}}),
        InvalidMessageError,
        ("messages[0]", "content[0]", "needs a 'url'"),
    ),
    Bad(
        "text-plain block without text",
        F,
        _human({"type": "text-plain", "mime_type": "text/plain"}),
        InvalidMessageError,
        ("messages[0]", "content[0]", "'text' or 'base64'"),
    ),
    Bad(
        "bad image in a ToolMessage",
        F,
        [
            HI,
            AIMessage("", tool_calls=[CALL]),
            ToolMessage(
                content=[{"type": "image", "base64": "%%%", "mime_type": "image/png"}],
                tool_call_id="call-1",
            ),
        ],
        InvalidMessageError,
        ("messages[2]", "content[0]", "not valid base64"),
    ),
    # --- call options and tool arguments -------------------------------------------------
    Bad(
        "misspelt call option",
        T,
        lambda llm: llm.invoke("hi", temprature=0.2),
        InvalidMessageError,
        ("unknown call option", "'temprature'", "supported"),
    ),
    Bad(
        "temperature out of range",
        T,
        lambda llm: llm.invoke("hi", temperature=5),
        InvalidMessageError,
        ("temperature", "between 0 and 2"),
    ),
    Bad(
        "negative max_output_tokens",
        T,
        lambda llm: llm.invoke("hi", max_output_tokens=-1),
        InvalidMessageError,
        ("max_output_tokens", "positive integer"),
    ),
    Bad(
        "zero top_k",
        T,
        lambda llm: llm.invoke("hi", top_k=0),
        InvalidMessageError,
        ("top_k", "positive integer"),
    ),
    Bad(
        "top_p above 1 for one call",
        T,
        lambda llm: llm.invoke("hi", top_p=1.5),
        InvalidMessageError,
        ("top_p", "between 0 and 1"),
    ),
    Bad(
        "negative thinking budget for one call",
        T,
        lambda llm: llm.bind(thinking_budget=-7).invoke("hi"),
        InvalidMessageError,
        ("thinking_budget", ">= -1"),
    ),
    Bad(
        "unknown thinking level",
        T,
        lambda llm: llm.invoke("hi", thinking_level="ultra"),
        InvalidMessageError,
        ("thinking_level", "'ultra'", "'minimal', 'low', 'medium', 'high'"),
    ),
    Bad(
        "safety setting without a threshold",
        T,
        lambda llm: llm.invoke("hi", safety_settings=[{"category": "HARM_CATEGORY_HATE_SPEECH"}]),
        InvalidMessageError,
        ("safety_settings[0]", "'category' and 'threshold'"),
    ),
    Bad(
        "empty model name for one call",
        T,
        lambda llm: llm.invoke("hi", model=""),
        InvalidMessageError,
        ("model", "non-empty model name"),
    ),
    Bad(
        "a tool that is not a tool",
        T,
        lambda llm: llm.bind_tools([42]),
        InvalidMessageError,
        ("tools", "not a tool", "LangChain tool"),
    ),
    Bad(
        "tool_choice naming an unbound tool",
        T,
        lambda llm: llm.bind_tools([_lookup], tool_choice="search"),
        InvalidMessageError,
        ("tool_choice", "'search'", "'auto', 'any', 'none'", "lookup"),
    ),
    Bad(
        "tool_choice of the wrong type",
        T,
        lambda llm: llm.bind_tools([_lookup], tool_choice=3),
        InvalidMessageError,
        ("tool_choice", "3", "'auto', 'any', 'none'"),
    ),
    Bad(
        "tool_choice dict naming no function",
        T,
        lambda llm: llm.bind_tools([_lookup], tool_choice={"type": "function"}),
        InvalidMessageError,
        ("tool_choice", "names no function"),
    ),
    Bad(
        "function tools with code execution on Gemini 2.5",
        T,
        lambda llm: llm.bind_tools([_lookup]),
        InvalidMessageError,
        ("gemini-2.5-flash", "cannot combine", "GeminiCodeExecutionTool"),
    ),
    Bad(
        "tool name with a space",
        T,
        lambda llm: llm.bind_tools([{**_LOOKUP_SCHEMA, "name": "look up"}]),
        InvalidMessageError,
        ("bind_tools", "tool name 'look up'", "a-z, A-Z, 0-9"),
    ),
    Bad(
        "tool parameters of a misspelt type (the mixed-tools refusal does not hide it)",
        T,
        lambda llm: llm.bind_tools([{**_LOOKUP_SCHEMA, "parameters": {"type": "objct"}}]),
        InvalidMessageError,
        ("bind_tools", "tool 'lookup'", "parameters.type 'objct'", "JSON schema type"),
    ),
    Bad(
        "tool parameters as a list",
        T,
        lambda llm: llm.bind_tools([{**_LOOKUP_SCHEMA, "parameters": ["q"]}]),
        InvalidMessageError,
        ("bind_tools", "tool 'lookup'", "parameters must be a JSON schema object"),
    ),
    Bad(
        "per-call tool with a misspelt property type",
        P,
        {
            "tools": [
                {
                    **_LOOKUP_SCHEMA,
                    "parameters": {"type": "object", "properties": {"q": {"type": "strng"}}},
                }
            ],
            "model": "gemini-3-flash-preview",
        },
        InvalidMessageError,
        ("tool 'lookup'", "parameters.properties.q.type 'strng'"),
    ),
    Bad(
        "structured output schema whose properties are not an object",
        T,
        lambda llm: llm.with_structured_output({"properties": 5}),
        InvalidMessageError,
        ("with_structured_output", "schema.properties", "object of schemas"),
    ),
    Bad(
        "structured output schema of a misspelt type",
        T,
        lambda llm: llm.with_structured_output({"type": "numbr"}, method="function_calling"),
        InvalidMessageError,
        ("with_structured_output", "schema.type 'numbr'", "JSON schema type"),
    ),
    Bad(
        "unknown structured output method",
        T,
        lambda llm: llm.with_structured_output(_Answer, method="xml"),
        InvalidMessageError,
        ("method", "'xml'", "json_schema, function_calling, json_mode"),
    ),
    # --- per-call options, on invoke, ainvoke, stream and astream ---------------------------
    Bad(
        "True as a temperature for one call",
        P,
        {"temperature": True},
        InvalidMessageError,
        ("temperature", "boolean"),
    ),
    Bad(
        "True as max_tokens for one call",
        P,
        {"max_tokens": True},
        InvalidMessageError,
        ("max_output_tokens", "boolean"),
    ),
    Bad("True as top_k", P, {"top_k": True}, InvalidMessageError, ("top_k", "boolean")),
    Bad(
        "False as a thinking budget",
        P,
        {"thinking_budget": False},
        InvalidMessageError,
        ("thinking_budget", "boolean"),
    ),
    Bad("seed that is a string", P, {"seed": "abc"}, InvalidMessageError, ("seed", "integer")),
    Bad("seed beyond 32 bits", P, {"seed": 2**40}, InvalidMessageError, ("seed", "32-bit")),
    Bad(
        "stop list with a number",
        P,
        {"stop": ["ok", 3]},
        InvalidMessageError,
        ("stop", "list of non-empty strings"),
    ),
    Bad(
        "labels that are not JSON",
        P,
        {"labels": {"team": object()}},
        InvalidMessageError,
        ("labels.team", "valid string"),
    ),
    Bad(
        "labels that are a list",
        P,
        {"labels": ["team"]},
        InvalidMessageError,
        ("labels", "valid dictionary"),
    ),
    Bad(
        "generation_config that is not JSON",
        P,
        {"generation_config": {"candidateCount": {1, 2}}},
        InvalidMessageError,
        ("generation_config", "plain JSON"),
    ),
    Bad(
        "response schema with NaN",
        P,
        {"response_json_schema": {"type": "number", "maximum": float("nan")}},
        InvalidMessageError,
        ("response_json_schema", "plain JSON"),
    ),
    Bad(
        "percent-encoded dots in a model name",
        P,
        {"model": "models/%2e%2e/files"},
        InvalidMessageError,
        ("model", "not a model name", "'%'"),
    ),
    Bad(
        "a dot segment in a model name",
        P,
        {"model": "models/./gemini-2.5-flash"},
        InvalidMessageError,
        ("model", "not a model name"),
    ),
    Bad(
        "non-ASCII look-alike dots in a model name",
        P,
        {"model": "models/\uff0e\uff0e/files"},
        InvalidMessageError,
        ("model", "not a model name"),
    ),
    Bad(
        "cached_content that is not a name",
        P,
        {"cached_content": 42},
        InvalidMessageError,
        ("cached_content", "valid string"),
    ),
    # --- constructor parameters ----------------------------------------------------------
    Bad(
        "absurd timeout",
        C,
        {"timeout": 1e10},
        ValidationError,
        ("timeout", "at most 86400", "10000000000.0"),
    ),
    Bad("True as a timeout", C, {"timeout": True}, ValidationError, ("timeout", "boolean")),
    Bad("NaN timeout", C, {"timeout": float("nan")}, ValidationError, ("timeout", "finite")),
    Bad(
        "malformed base_url",
        C,
        {"base_url": "http://[::1"},
        ValidationError,
        ("base_url", "'http://[::1'", "not a valid URL"),
    ),
    Bad(
        "base_url with a bad port",
        C,
        {"base_url": "http://127.0.0.1:99999"},
        ValidationError,
        ("base_url", "not a valid URL", "Port"),
    ),
    Bad(
        "base_url that is not http",
        C,
        {"base_url": "file:///etc/passwd"},
        ValidationError,
        ("base_url", "http:// or https://"),
    ),
    Bad(
        "base_url with a query (the key not echoed)",
        C,
        {"base_url": f"https://proxy.example/?key={SECRET_API_KEY}"},
        ValidationError,
        ("base_url", "query or fragment", "'https://proxy.example/'"),
    ),
    Bad(
        "base_url with credentials (not echoed)",
        C,
        {"base_url": f"https://user:{SECRET_API_KEY}@proxy.example/"},
        ValidationError,
        ("base_url", "must not hold credentials", "default_headers"),
    ),
    Bad(
        "base_url with a space",
        C,
        {"base_url": "https://proxy.example/a b"},
        ValidationError,
        ("base_url", "spaces, control or non-ASCII"),
    ),
    Bad(
        "True as a temperature",
        C,
        {"temperature": True},
        ValidationError,
        ("temperature", "boolean"),
    ),
    Bad(
        "True as max_output_tokens",
        C,
        {"max_output_tokens": True},
        ValidationError,
        ("max_output_tokens", "boolean"),
    ),
    Bad(
        "True as max_tokens",
        C,
        {"max_tokens": True},
        ValidationError,
        ("max_output_tokens", "boolean"),
    ),
    Bad("True as top_p", C, {"top_p": True}, ValidationError, ("top_p", "boolean")),
    Bad(
        "True as max_retries", C, {"max_retries": True}, ValidationError, ("max_retries", "boolean")
    ),
    Bad("seed that is not a number", C, {"seed": "abc"}, ValidationError, ("seed", "integer")),
    Bad("True as a seed", C, {"seed": True}, ValidationError, ("seed", "boolean")),
    # Found by the issue-9 audit: penalties and candidate_count took True, NaN and inf;
    # an unknown media_resolution was sent as MEDIA_RESOLUTION_<anything>.
    Bad(
        "True as a presence penalty",
        C,
        {"presence_penalty": True},
        ValidationError,
        ("presence_penalty", "boolean"),
    ),
    Bad(
        "NaN as a presence penalty",
        C,
        {"presence_penalty": float("nan")},
        ValidationError,
        ("presence_penalty", "finite"),
    ),
    Bad(
        "inf as a frequency penalty",
        C,
        {"frequency_penalty": float("inf")},
        ValidationError,
        ("frequency_penalty", "finite"),
    ),
    Bad(
        "True as candidate_count",
        C,
        {"candidate_count": True},
        ValidationError,
        ("candidate_count", "boolean"),
    ),
    Bad(
        "unknown media_resolution",
        C,
        {"media_resolution": "huge"},
        ValidationError,
        ("media_resolution", "'huge'", "low"),
    ),
    Bad(
        "True as a presence penalty for one call",
        P,
        {"presence_penalty": True},
        InvalidMessageError,
        ("presence_penalty", "boolean"),
    ),
    Bad(
        "number as media_resolution for one call",
        P,
        {"media_resolution": 5},
        InvalidMessageError,
        ("media_resolution",),
    ),
    Bad(
        "stop list with an empty string",
        C,
        {"stop": [""]},
        ValidationError,
        ("stop", "list of non-empty strings"),
    ),
    Bad(
        "percent-encoded dots in the model name",
        C,
        {"model": "%2e%2e/files"},
        ValidationError,
        ("model", "not a model name"),
    ),
    Bad(
        "model name with a query",
        C,
        {"model": "gemini-2.5-flash?alt=x"},
        ValidationError,
        ("model", "not a model name"),
    ),
    Bad(
        "api_version that leaves the path",
        C,
        {"api_version": "../v1"},
        ValidationError,
        ("api_version", "'../v1'", "request URL"),
    ),
    Bad(
        "Vertex location that would change the host",
        C,
        {"vertexai": True, "project": "p", "location": "evil.example/#"},
        ValidationError,
        ("location", "request URL", "us-central1"),
    ),
    Bad(
        "Vertex project with a slash",
        C,
        {"vertexai": True, "project": "p/../../x", "location": "us-central1"},
        ValidationError,
        ("project", "request URL"),
    ),
    Bad(
        "header value with a line break (not echoed)",
        C,
        {"default_headers": {"x-proxy-auth": f"{SECRET_API_KEY}\r\nHost: evil"}},
        ValidationError,
        ("default_headers['x-proxy-auth']", "line breaks"),
    ),
    Bad(
        "header name with a space",
        C,
        {"default_headers": {"x proxy": "1"}},
        ValidationError,
        ("default_headers", "not an HTTP header name"),
    ),
    Bad("negative timeout", C, {"timeout": -1}, ValidationError, ("timeout", "greater than 0")),
    Bad(
        "infinite timeout",
        C,
        {"timeout": float("inf")},
        ValidationError,
        ("timeout", "finite number"),
    ),
    Bad(
        "negative max_retries",
        C,
        {"max_retries": -1},
        ValidationError,
        ("max_retries", "greater than or equal to 0"),
    ),
    Bad(
        "negative retry delay",
        C,
        {"retry_initial_delay": -0.5},
        ValidationError,
        ("retry_initial_delay", "greater than or equal to 0"),
    ),
    Bad(
        "retry cap below the first delay",
        C,
        {"retry_initial_delay": 5, "retry_max_delay": 1},
        ValidationError,
        ("retry_max_delay must be >= retry_initial_delay",),
    ),
    Bad(
        "temperature above 2",
        C,
        {"temperature": 3},
        ValidationError,
        ("temperature", "less than or equal to 2"),
    ),
    Bad("top_p above 1", C, {"top_p": 1.5}, ValidationError, ("top_p", "less than or equal to 1")),
    Bad(
        "zero max_output_tokens",
        C,
        {"max_output_tokens": 0},
        ValidationError,
        ("max_output_tokens", "greater than 0"),
    ),
    Bad(
        "thinking budget below -1",
        C,
        {"thinking_budget": -2},
        ValidationError,
        ("thinking_budget", "greater than or equal to -1"),
    ),
    Bad(
        "unknown thinking level at construction",
        C,
        {"thinking_level": "ultra"},
        ValidationError,
        ("thinking_level", "'minimal', 'low', 'medium' or 'high'"),
    ),
    Bad("empty model name", C, {"model": ""}, ValidationError, ("model", "at least 1 character")),
    Bad(
        "misspelt parameter",
        C,
        {"tempurature": 0.2},
        ValidationError,
        ("tempurature", "Extra inputs are not permitted"),
    ),
    Bad(
        "no API key anywhere",
        C,
        {"api_key": None},
        ValidationError,
        ("api_key", "GOOGLE_API_KEY", "vertexai=True"),
    ),
    Bad(
        "API key with a newline",
        C,
        {"api_key": SECRET_API_KEY + "\n"},
        ValidationError,
        ("api_key", "printable ASCII", "not shown"),
    ),
    Bad(
        "client that is not a google.genai.Client",
        C,
        {"client": "my-client"},
        ValidationError,
        ("client", "google.genai.Client"),
    ),
    # --- the code-execution tool: file confinement and arguments ---------------------------
    Bad(
        "file path escaping the directory",
        X,
        {"task": "sum it", "files": ["../secret.csv"]},
        ToolException,
        ("'../secret.csv' refused", "plain file names", "data.csv"),
    ),
    Bad(
        "absolute file path",
        X,
        {"task": "sum it", "files": ["/etc/passwd"]},
        ToolException,
        ("refused", "plain file names", "data.csv"),
    ),
    Bad(
        "hidden file",
        X,
        {"task": "read it", "files": [".env"]},
        ToolException,
        ("'.env' refused", "hidden files", "data.csv"),
    ),
    Bad(
        "unsupported file type",
        X,
        {"task": "run it", "files": ["tool.exe"]},
        ToolException,
        ("'tool.exe' refused", "supported types", ".csv"),
    ),
    Bad(
        "file that does not exist",
        X,
        {"task": "sum it", "files": ["missing.csv"]},
        ToolException,
        ("'missing.csv' refused", "no such file", "data.csv"),
    ),
    Bad(
        "symlink pointing out of the directory",
        X,
        {"task": "sum it", "files": ["link.csv"]},
        ToolException,
        ("'link.csv' refused", "inside the tool's directory"),
    ),
    Bad(
        "file over the size limit",
        X,
        {"task": "sum it", "files": ["big.csv"]},
        ToolException,
        ("'big.csv' refused", "over the limit of 64 bytes"),
    ),
    Bad(
        "file name that is not a string",
        X,
        {"task": "sum it", "files": [42]},
        ValidationError,
        ("files.0", "valid string"),
    ),
    Bad(
        "files given as one string",
        X,
        {"task": "sum it", "files": "data.csv"},
        ValidationError,
        ("files", "valid list"),
    ),
    Bad("empty task", X, {"task": "   ", "files": []}, ToolException, ("task is empty",)),
    Bad("missing task", X, {"files": ["data.csv"]}, ValidationError, ("task", "Field required")),
    Bad(
        "files_dir that is not a directory",
        X,
        {"__init__": {"files_dir": "data.csv"}},
        ValidationError,
        ("files_dir", "is not a directory"),
    ),
    Bad(
        "mapped file name with a path",
        X,
        {"__init__": {"files": {"../x.csv": b"1"}}},
        ValidationError,
        ("files", "'../x.csv'", "plain file name"),
    ),
    Bad(
        "True as the tool's output limit",
        X,
        {"__init__": {"max_output_chars": True}},
        ValidationError,
        ("max_output_chars", "boolean"),
    ),
    Bad(
        "True as the tool's file count limit",
        X,
        {"__init__": {"max_files": True}},
        ValidationError,
        ("max_files", "boolean"),
    ),
    Bad(
        "mapped file of an unsupported type",
        X,
        {"__init__": {"files": {"x.exe": b"MZ"}}},
        ValidationError,
        ("files", "'x.exe'", "unsupported type", ".csv"),
    ),
]


class _Answer(BaseModel):
    value: int


def _lookup(q: str) -> str:
    """Look something up."""
    return q


def _tool_dir(root: Path) -> Path:
    """A tool directory with one good file, one too big, and a symlink out of it."""
    (root / "secret.csv").write_text("password\nhunter2\n")
    files = root / "files"
    files.mkdir()
    (files / "data.csv").write_text("a,b\n1,2\n")
    (files / "big.csv").write_text("x\n" * 40)
    (files / ".env").write_text("KEY=1\n")
    (files / "tool.exe").write_bytes(b"MZ")
    os.symlink(root / "secret.csv", files / "link.csv")
    return files


def _trigger(bad: Bad, server: GeminiTestServer, tmp_path: Path, mode: str) -> None:
    if bad.kind == "init":
        settings = {"api_key": SECRET_API_KEY, "base_url": server.base_url, **bad.spec}
        ChatGeminiCodeExecution(**settings)
    elif bad.kind == "call":
        bad.spec(path_llm(server.base_url))
    elif bad.kind == "option":
        _call_with_options(path_llm(server.base_url, mode), mode, bad.spec)
    elif bad.kind == "tool":
        files = _tool_dir(tmp_path)
        os.chdir(files)
        init = {"files_dir": files, "max_file_bytes": 64, "llm": path_llm(server.base_url)}
        init["handle_tool_error"] = False  # the refusal itself, raised
        init.update(bad.spec.get("__init__", {}))
        tool = GeminiCodeExecutionTool(**init)
        args = {k: v for k, v in bad.spec.items() if k != "__init__"}
        if mode == "async":
            asyncio.run(tool.ainvoke(args))
        else:
            tool.invoke(args)
    else:
        llm = path_llm(server.base_url)
        messages = bad.spec() if callable(bad.spec) else bad.spec  # big inputs: built now
        if mode == "invoke":
            llm.invoke(messages)
        elif mode == "async":
            asyncio.run(llm.ainvoke(messages))
        else:
            list(llm.stream(messages))


def _call_with_options(llm: ChatGeminiCodeExecution, mode: str, options: dict[str, Any]) -> None:
    """One call on `mode`'s HTTP path (see tests.support.path_llm)."""
    if mode.startswith("sync"):
        if mode.endswith("httpx"):
            list(llm.stream("hi", **options))
        else:
            llm.invoke("hi", **options)
        return

    async def run() -> None:
        if mode.endswith("httpx2"):
            async for _ in llm.astream("hi", **options):
                pass
        else:
            await llm.ainvoke("hi", **options)

    asyncio.run(run())


def _modes(bad: Bad) -> list[str]:
    if bad.kind == "option":
        # Each HTTP path once; sync-httpx and async-httpx2 stream, the others invoke.
        return list(PATHS)
    if bad.kind == "messages":
        return ["invoke", "async", "stream"]
    if bad.kind == "tool" and "__init__" not in bad.spec:
        return ["invoke", "async"]
    return ["once"]


def _marks(bad: Bad, mode: str) -> list[pytest.MarkDecorator]:
    # Over 100 MB of valid base64 is decoded on each call (~1 s): invoke in the fast suite,
    # the other modes in the slow set.
    if "together exceed" in bad.id and mode != "invoke":
        return [pytest.mark.slow]
    return []


CASES = [
    pytest.param(bad, mode, id=f"{bad.id}-{mode}", marks=_marks(bad, mode))
    for bad in TABLE
    for mode in _modes(bad)
]


def test_the_table_is_big_and_distinct() -> None:
    assert len(TABLE) >= 30
    assert len({bad.id for bad in TABLE}) == len(TABLE)


@pytest.mark.parametrize(("bad", "mode"), CASES)
def test_bad_input_is_refused_before_any_request(
    bad: Bad,
    mode: str,
    server: GeminiTestServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(bad.error) as caught:
        _trigger(bad, server, tmp_path, mode)
    message = str(caught.value)
    for word in bad.says:
        assert word in message, f"{word!r} not in {message!r}"
    assert SECRET_API_KEY not in message
    assert server.requests == []  # nothing was sent
