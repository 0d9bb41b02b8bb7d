"""The agent tests' settings of the shared fixtures (tests/conftest.py): the loopback
server is answered by `ScriptedGemini` (anything enqueued first), and models are Gemini 3
Flash without retries unless a test says otherwise."""

from __future__ import annotations

from typing import Any

import pytest

from langchain_gemini_codeexec.testing import ScriptedGemini
from tests.support import GEMINI_3


@pytest.fixture
def server_responder(monkeypatch: pytest.MonkeyPatch) -> ScriptedGemini:
    for name in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI"):
        monkeypatch.delenv(name, raising=False)
    return ScriptedGemini()


@pytest.fixture
def llm_settings(llm_settings: dict[str, Any]) -> dict[str, Any]:
    return {**llm_settings, "model": GEMINI_3, "max_retries": 0}
