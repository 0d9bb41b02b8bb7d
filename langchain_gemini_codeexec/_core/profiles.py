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

import difflib
import re
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


def _known(name: str) -> bool:
    return name in PROFILES or any(name.startswith(known + "-") for known in PROFILES)


def profile_for(model: str) -> dict[str, Any]:
    """The profile of `model` (a copy: callers may change theirs)."""
    name = model.removeprefix("models/").lower()
    if name in PROFILES:
        return dict(PROFILES[name])
    matches = [known for known in PROFILES if name.startswith(known + "-")]
    if matches:
        return dict(PROFILES[max(matches, key=len)])
    return dict(UNKNOWN)


# Words of Google's Gemini model names, so that a new model (`gemini-4-pro`,
# `gemini-3.5-flash-lite-preview-06-2026`) passes without a warning while a misspelt one
# (`gemini-2.5-flsh`) gets one.
_NAME_WORDS = frozenset(
    {
        "pro", "flash", "lite", "preview", "exp", "experimental", "latest", "image",
        "tts", "live", "native", "audio", "thinking", "dialog", "computer", "use", "robotics",
        "er", "embedding", "deep", "think", "customtools", "nano", "ultra", "it", "mini",
    }
)  # fmt: skip
_VERSION_OR_DATE = re.compile(r"^\d+(\.\d+)*[a-z]?$")


def _looks_like_gemini(name: str) -> bool:
    family, _, rest = name.partition("-")
    if family not in ("gemini", "gemma") or not rest:
        return False
    return all(w in _NAME_WORDS or _VERSION_OR_DATE.match(w) for w in rest.split("-"))


def unknown_model_warning(model: str) -> str | None:
    """A warning for a name that is neither a known Gemini model nor shaped like one.

    Tuned models, Vertex resource paths and any `gemini-`/`gemma-` name made of Google's
    naming words pass silently: such names are still sent as given.
    """
    name = model.removeprefix("models/").lower()
    if "/" in name or _known(name) or _looks_like_gemini(name):
        return None
    closest = difflib.get_close_matches(name, PROFILES, n=1, cutoff=0.0)
    hint = f"; did you mean {closest[0]!r}?" if closest else ""
    return (
        f"model {model!r} is not a Gemini model this package knows{hint} The name is sent to "
        "Gemini as given (a newer model works); Gemini answers 404 if it has no such model."
    )
