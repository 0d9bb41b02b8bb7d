"""The other providers' integrations, imported only by the tests that use them (they are
heavy to import, and every xdist worker imports every test module); skipped where absent."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import pytest

TARGETS = ("chat-completions", "responses", "anthropic")


@dataclass(frozen=True)
class Providers:
    """Builds the next model for a target, and names its SDK's request type."""

    chat_openai: Any
    chat_anthropic: Any
    request_types: dict[str, Any]

    def model(self, target: str, **kwargs: Any) -> Any:
        if target == "anthropic":
            return self.chat_anthropic(model="claude-sonnet-4-6", api_key="sk-offline", **kwargs)
        return self.chat_openai(
            model="gpt-4o", api_key="sk-offline", use_responses_api=target == "responses", **kwargs
        )


@functools.cache
def load_providers() -> Providers:
    """The integrations and request types (skips the calling test when not installed)."""
    openai_chat = pytest.importorskip("langchain_openai")
    anthropic_chat = pytest.importorskip("langchain_anthropic")
    from anthropic.types.message_create_params import MessageCreateParamsNonStreaming
    from openai.types.chat.completion_create_params import CompletionCreateParamsNonStreaming
    from openai.types.responses.response_create_params import ResponseCreateParamsNonStreaming

    return Providers(
        openai_chat.ChatOpenAI,
        anthropic_chat.ChatAnthropic,
        {
            "chat-completions": CompletionCreateParamsNonStreaming,
            "responses": ResponseCreateParamsNonStreaming,
            "anthropic": MessageCreateParamsNonStreaming,
        },
    )


@pytest.fixture
def providers() -> Providers:
    return load_providers()
