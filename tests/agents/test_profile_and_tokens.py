"""`llm.profile` for every model this package knows, and token counts via countTokens."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from langchain_gemini_codeexec import ChatGeminiCodeExecution
from langchain_gemini_codeexec._core.profiles import PROFILES, UNKNOWN
from langchain_gemini_codeexec.testing import GeminiTestServer


def _llm(model: str, **kw: Any) -> ChatGeminiCodeExecution:
    return ChatGeminiCodeExecution(model=model, api_key="k", **kw)


@pytest.mark.parametrize("model", ["gemini-2.5-flash", "gemini-3-flash-preview"])
def test_one_million_token_window(model: str) -> None:
    profile = _llm(model).profile
    assert profile is not None
    assert profile["max_input_tokens"] == 1_048_576
    assert profile["max_output_tokens"] == 65_536
    assert profile["tool_calling"] and profile["reasoning_output"]
    assert profile["text_inputs"] and profile["image_inputs"] and profile["pdf_inputs"]


@pytest.mark.parametrize("model", sorted(PROFILES))
def test_every_known_model_has_a_full_profile(model: str) -> None:
    profile = _llm(model, code_execution=False).profile
    assert profile is not None
    for key in ("max_input_tokens", "max_output_tokens", "tool_calling", "structured_output"):
        assert key in profile
    assert profile["structured_output"] is True


def test_versions_and_prefixes_match_their_model() -> None:
    for name in ("models/gemini-2.5-flash", "gemini-2.5-flash-001", "gemini-2.5-flash-lite-001"):
        assert _llm(name).profile is not None
    assert _llm("gemini-2.5-flash-lite-001").profile["name"] == "Gemini 2.5 Flash-Lite"  # type: ignore[index]
    assert _llm("gemini-2.0-flash-001").profile["max_output_tokens"] == 8_192  # type: ignore[index]


def test_unknown_model_gets_a_conservative_profile() -> None:
    profile = _llm("gemini-99-ultra").profile
    assert profile == UNKNOWN
    assert profile["max_input_tokens"] <= 32_768 and profile["structured_output"] is False


def test_gemini_2_with_code_execution_claims_no_provider_structured_output() -> None:
    assert _llm("gemini-2.5-flash").profile["structured_output"] is False  # type: ignore[index]
    assert _llm("gemini-2.5-flash", code_execution=False).profile["structured_output"]  # type: ignore[index]
    assert _llm("gemini-3-flash-preview").profile["structured_output"]  # type: ignore[index]


def test_an_explicit_profile_is_kept() -> None:
    assert _llm("gemini-2.5-flash", profile={"max_input_tokens": 5}).profile == {
        "max_input_tokens": 5
    }


def _tool(city: str) -> str:
    """Weather of a city."""
    return city


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_message_count_includes_system_tools_and_bound_options(
    server: GeminiTestServer, make_llm: Any, mode: str
) -> None:
    llm = make_llm(temperature=0.2)
    messages = [SystemMessage("You are terse."), HumanMessage("How warm is Oslo?")]
    if mode == "sync":
        n = llm.get_num_tokens_from_messages(messages, tools=[_tool], top_k=3)
    else:
        n = await llm.aget_num_tokens_from_messages(messages, tools=[_tool], top_k=3)
    request = server.requests[-1]
    assert request.action == "countTokens"
    inner = request.body["generateContentRequest"]
    assert inner["model"] == "models/gemini-3-flash-preview"
    assert inner["systemInstruction"]["parts"] == [{"text": "You are terse."}]
    assert {"codeExecution": {}} in inner["tools"]
    assert any("functionDeclarations" in t for t in inner["tools"])
    assert inner["generationConfig"] == {"temperature": 0.2, "topK": 3}
    assert n > 0
    # The answer is what the server counted, for the whole request (system and tools too).
    bare = llm.get_num_tokens_from_messages([HumanMessage("How warm is Oslo?")])
    assert n > bare


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_text_count_uses_count_tokens(
    server: GeminiTestServer, make_llm: Any, mode: str
) -> None:
    llm = make_llm()
    text = "word " * 40
    n = llm.get_num_tokens(text) if mode == "sync" else await llm.aget_num_tokens(text)
    request = server.requests[-1]
    assert request.action == "countTokens"
    assert request.body == {"contents": [{"role": "user", "parts": [{"text": text}]}]}
    assert n == len(text) // 4
    assert llm.get_num_tokens("") == 0
