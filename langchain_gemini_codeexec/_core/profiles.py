"""Model profiles (`llm.profile`): what each Gemini model this package knows can do.

LangChain reads these: `create_agent` picks provider-native structured output when
`structured_output` is true, summarisation middleware uses `max_input_tokens`. Figures
are from Google's Gemini model pages (input/output token limits, input and output
modalities, thinking, structured outputs, function calling); the keys are langchain-core's
`ModelProfile` keys, as `langchain-google-genai` ships them.

A name matches its entry exactly, after a `models/` prefix is dropped, or as a dated or
numbered version of it (`gemini-2.5-flash-001`, `gemini-2.5-flash-preview-09-2025`), the
longest known name winning. Any other name gets `UNKNOWN`: a conservative profile (small
window, no structured-output claim), never `None`.
"""

from __future__ import annotations

from typing import Any

_MULTIMODAL_IN = {
    "text_inputs": True,
    "image_inputs": True,
    "audio_inputs": True,
    "video_inputs": True,
    "pdf_inputs": True,
    "image_url_inputs": True,
    "image_tool_message": True,
}
_TEXT_OUT = {
    "text_outputs": True,
    "image_outputs": False,
    "audio_outputs": False,
    "video_outputs": False,
}
_TOOLS = {"tool_calling": True, "tool_choice": True, "structured_output": True}


def _profile(
    name: str, max_input: int, max_output: int, *, reasoning: bool, **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "max_input_tokens": max_input,
        "max_output_tokens": max_output,
        **_MULTIMODAL_IN,
        **_TEXT_OUT,
        **_TOOLS,
        "reasoning_output": reasoning,
        "temperature": True,
        **extra,
    }


_LEVELS_3 = {"reasoning_effort_levels": ["low", "high"], "reasoning_effort_default": "high"}
_LEVELS_ALL = {
    "reasoning_effort_levels": ["minimal", "low", "medium", "high"],
    "reasoning_effort_default": "high",
}
_M = 1_048_576  # the 1M-token window of the 2.x and 3.x families

PROFILES: dict[str, dict[str, Any]] = {
    "gemini-2.0-flash": _profile("Gemini 2.0 Flash", _M, 8_192, reasoning=False),
    "gemini-2.0-flash-lite": _profile("Gemini 2.0 Flash-Lite", _M, 8_192, reasoning=False),
    "gemini-2.5-pro": _profile("Gemini 2.5 Pro", _M, 65_536, reasoning=True),
    "gemini-2.5-flash": _profile("Gemini 2.5 Flash", _M, 65_536, reasoning=True),
    "gemini-2.5-flash-lite": _profile("Gemini 2.5 Flash-Lite", _M, 65_536, reasoning=True),
    "gemini-3-pro-preview": _profile(
        "Gemini 3 Pro Preview", _M, 65_536, reasoning=True, **_LEVELS_3
    ),
    "gemini-3-flash-preview": _profile(
        "Gemini 3 Flash Preview", _M, 65_536, reasoning=True, **_LEVELS_ALL
    ),
    "gemini-3.1-pro-preview": _profile(
        "Gemini 3.1 Pro Preview",
        _M,
        65_536,
        reasoning=True,
        reasoning_effort_levels=["low", "medium", "high"],
        reasoning_effort_default="high",
    ),
    "gemini-3.1-flash-lite-preview": _profile(
        "Gemini 3.1 Flash-Lite Preview",
        _M,
        65_536,
        reasoning=True,
        reasoning_effort_levels=["minimal", "low", "medium", "high"],
        reasoning_effort_default="minimal",
    ),
    # Google's moving aliases, as its model pages list them.
    "gemini-flash-latest": _profile("Gemini Flash (latest)", _M, 65_536, reasoning=True),
    "gemini-flash-lite-latest": _profile("Gemini Flash-Lite (latest)", _M, 65_536, reasoning=True),
    "gemini-pro-latest": _profile("Gemini Pro (latest)", _M, 65_536, reasoning=True),
}

UNKNOWN: dict[str, Any] = {
    "max_input_tokens": 32_768,
    "max_output_tokens": 8_192,
    "text_inputs": True,
    "image_inputs": False,
    "audio_inputs": False,
    "video_inputs": False,
    "pdf_inputs": False,
    **_TEXT_OUT,
    "tool_calling": True,
    "tool_choice": True,
    "structured_output": False,
    "reasoning_output": False,
}
"""For a model not listed: limits any Gemini model meets, and no structured-output claim
(so `create_agent` uses a tool for structured output, which works on every model)."""


def profile_for(model: str) -> dict[str, Any]:
    """The profile of `model` (a copy: callers may change theirs)."""
    name = model.removeprefix("models/").lower()
    if name in PROFILES:
        return dict(PROFILES[name])
    matches = [known for known in PROFILES if name.startswith(known + "-")]
    if matches:
        return dict(PROFILES[max(matches, key=len)])
    return dict(UNKNOWN)
