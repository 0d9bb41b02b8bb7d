"""langchain-tests' `ChatModelUnitTests` for ChatGeminiCodeExecution, unmodified.

The suite builds the model from `standard_chat_model_params` (temperature, max_tokens,
timeout, stop, max_retries, api_key) and `chat_model_params`, checks initialization from
the environment (`GOOGLE_API_KEY`), tool binding, structured output, LangSmith params
and serialization (against the snapshot in `__snapshots__/`; regenerate it with
`pytest tests/standard/test_chat_unit_standard.py --snapshot-update` after a deliberate
change of the serialized form). Nothing here talks to a network.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_tests.unit_tests import ChatModelUnitTests

from langchain_gemini_codeexec import ChatGeminiCodeExecution

CLASS_PATH = ("langchain_gemini_codeexec", "chat_models", "ChatGeminiCodeExecution")


@pytest.fixture(autouse=True)
def trust_this_package(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`test_serdes` loads with `allowed_objects="all"`, which in langchain-core means the
    classes listed in `langchain_core.load.mapping`: partner packages shipped with
    LangChain, never a third-party one. Users of this package load with
    `allowed_objects=[ChatGeminiCodeExecution]` (tested in tests/protocol/test_config.py);
    here the class is added to that list for the test, and nothing else changes."""
    load_module = importlib.import_module("langchain_core.load.load")
    monkeypatch.setitem(load_module.ALL_SERIALIZABLE_MAPPINGS, CLASS_PATH, CLASS_PATH)
    monkeypatch.setattr(load_module, "_default_class_paths_cache", {})
    yield


class TestChatGeminiCodeExecutionUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[ChatGeminiCodeExecution]:
        return ChatGeminiCodeExecution

    @property
    def chat_model_params(self) -> dict[str, Any]:
        # Gemini 3 takes code execution and function tools in one request, so the
        # suite's tool and structured-output checks apply with code execution on.
        # The suite also builds the model from these alone, so they carry a key.
        return {"model": "gemini-3-flash-preview", "api_key": "unit-test-key"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {"GOOGLE_API_KEY": "env-api-key"},
            {"model": "gemini-2.5-flash"},
            {"api_key": "env-api-key", "model": "gemini-2.5-flash"},
        )

    @property
    def has_tool_calling(self) -> bool:
        return True

    @property
    def has_structured_output(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_video_inputs(self) -> bool:
        return True

    @property
    def returns_usage_metadata(self) -> bool:
        return True

    @property
    def supports_model_override(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str:
        return "gemini-2.5-pro"
