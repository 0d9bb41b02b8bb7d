"""Whether this environment can reach real Gemini, for tests and examples to choose."""

from __future__ import annotations

import os


def has_gemini_credentials() -> bool:
    """True when `ChatGeminiCodeExecution()` would find credentials in the environment.

    `GOOGLE_API_KEY` / `GEMINI_API_KEY` for the Developer API, or
    `GOOGLE_GENAI_USE_VERTEXAI` with `GOOGLE_CLOUD_PROJECT` for Vertex AI. Real-Gemini tests
    skip, and examples use the offline endpoint, when it is False.
    """
    if os.environ.get("GOOGLE_API_KEY") or os.environ.get("GEMINI_API_KEY"):
        return True
    vertex = os.environ.get("GOOGLE_GENAI_USE_VERTEXAI", "").strip().lower() in ("1", "true", "yes")
    return vertex and bool(os.environ.get("GOOGLE_CLOUD_PROJECT"))
