"""Every `ChatGoogleGenerativeAI` parameter works here with its meaning, or is refused
with an error naming this package's equivalent (never a bare "extra forbidden")."""

from __future__ import annotations

from typing import Any

import pytest
from google.genai import types
from pydantic import ValidationError

from langchain_gemini_codeexec import ChatGeminiCodeExecution
from langchain_gemini_codeexec.errors import InvalidMessageError
from langchain_gemini_codeexec.testing import GeminiTestServer, response, text

# name -> (value, what the request body's generationConfig / body then holds)
GENERATION = {
    "temperature": (0.3, {"temperature": 0.3}),
    "top_p": (0.9, {"topP": 0.9}),
    "top_k": (5, {"topK": 5}),
    "max_output_tokens": (64, {"maxOutputTokens": 64}),
    "max_tokens": (64, {"maxOutputTokens": 64}),
    "n": (1, {"candidateCount": 1}),
    "candidate_count": (1, {"candidateCount": 1}),
    "frequency_penalty": (0.5, {"frequencyPenalty": 0.5}),
    "presence_penalty": (0.25, {"presencePenalty": 0.25}),
    "seed": (7, {"seed": 7}),
    "stop": (["END"], {"stopSequences": ["END"]}),
    "stop_sequences": (["END"], {"stopSequences": ["END"]}),
    "response_mime_type": ("text/plain", {"responseMimeType": "text/plain"}),
    "response_schema": (
        {"type": "object"},
        {"responseMimeType": "application/json", "responseJsonSchema": {"type": "object"}},
    ),
    "response_modalities": ([types.Modality.TEXT], {"responseModalities": ["TEXT"]}),
    "media_resolution": (
        types.MediaResolution.MEDIA_RESOLUTION_LOW,
        {"mediaResolution": "MEDIA_RESOLUTION_LOW"},
    ),
    "image_config": ({"aspect_ratio": "16:9"}, {"imageConfig": {"aspectRatio": "16:9"}}),
    "thinking_budget": (128, {"thinkingConfig": {"thinkingBudget": 128}}),
    "include_thoughts": (True, {"thinkingConfig": {"includeThoughts": True}}),
    "reasoning_effort": ("low", {"thinkingConfig": {"thinkingLevel": "LOW"}}),
    "thinking_level": ("low", {"thinkingConfig": {"thinkingLevel": "LOW"}}),
    "thinking_config": (
        {"thinking_budget": 0, "include_thoughts": False},
        {"thinkingConfig": {"thinkingBudget": 0, "includeThoughts": False}},
    ),
    "model_kwargs": ({"top_k": 9}, {"topK": 9}),
}
BODY = {
    "labels": ({"team": "a"}, {"labels": {"team": "a"}}),
    "safety_settings": (
        {types.HarmCategory.HARM_CATEGORY_HARASSMENT: types.HarmBlockThreshold.BLOCK_NONE},
        {"safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]},
    ),
}


@pytest.mark.parametrize("name", sorted(GENERATION))
def test_generation_names_mean_the_same_in_the_constructor_and_per_call(
    server: GeminiTestServer, make_llm: Any, name: str
) -> None:
    value, expected = GENERATION[name]
    server.enqueue(response(text("ok")), response(text("ok")))
    make_llm(**{name: value}).invoke("hi")
    assert server.last_request.body["generationConfig"] == expected
    if name == "model_kwargs":
        return
    make_llm().invoke("hi", **{name: value})
    assert server.last_request.body["generationConfig"] == expected


@pytest.mark.parametrize("name", sorted(BODY))
def test_body_names(server: GeminiTestServer, make_llm: Any, name: str) -> None:
    value, expected = BODY[name]
    server.enqueue(response(text("ok")))
    make_llm(**{name: value}).invoke("hi")
    body = server.last_request.body
    assert {k: body[k] for k in expected} == expected


def test_client_names(server: GeminiTestServer) -> None:
    llm = ChatGeminiCodeExecution(
        model="gemini-2.5-flash",
        google_api_key="k",
        client_options={"api_endpoint": server.base_url},
        request_timeout=12.5,
        retries=0,
        additional_headers={"x-team": "a"},
        default_metadata=[("x-meta", "b")],
        client_args={"trust_env": False},
    )
    assert llm.base_url == server.base_url
    assert llm.timeout == 12.5 and llm.max_retries == 0
    assert llm.default_headers == {"x-team": "a", "x-meta": "b"}
    server.enqueue(response(text("ok")))
    assert llm.invoke("hi").text == "ok"
    assert server.last_request.headers["x-team"] == "a"
    assert server.last_request.headers["x-meta"] == "b"


def test_vertex_inferred_from_project_or_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_GENAI_USE_VERTEXAI", raising=False)
    assert ChatGeminiCodeExecution(project="p").vertexai is True
    assert ChatGeminiCodeExecution(credentials=object(), project="p").vertexai is True
    assert ChatGeminiCodeExecution(api_key="k").vertexai is False
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "false")
    assert ChatGeminiCodeExecution(api_key="k", project="p").vertexai is False


REFUSED = {
    "convert_system_message_to_human": (True, "systemInstruction"),
    "n": (2, "llm.batch"),
    "candidate_count": (3, "llm.batch"),
    "client_options": ({"quota_project_id": "x"}, "client_args"),
    "model_kwargs": ({"response_logprobs": True}, "generation_config"),
    "functions": ([], "bind_tools"),
    "tool_config": ({}, "tool_choice"),
    "http_options": ({}, "timeout="),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_constructor_names_say_what_to_use(name: str) -> None:
    value, pointer = REFUSED[name]
    with pytest.raises(ValidationError) as info:
        ChatGeminiCodeExecution(api_key="k", **{name: value})
    message = str(info.value)
    assert name in message and pointer in message
    assert "Extra inputs are not permitted" not in message


CALL_REFUSED = {
    "timeout": (5, "ChatGeminiCodeExecution(timeout=...)"),
    "max_retries": (1, "ChatGeminiCodeExecution(max_retries=...)"),
    "functions": ([], "bind_tools"),
    "tool_config": ({}, "tool_choice"),
    "http_options": ({}, "default_headers="),
    "n": (2, "llm.batch"),
}


@pytest.mark.parametrize("name", sorted(CALL_REFUSED))
def test_refused_call_names_say_what_to_use(
    server: GeminiTestServer, make_llm: Any, name: str
) -> None:
    value, pointer = CALL_REFUSED[name]
    with pytest.raises(InvalidMessageError) as info:
        make_llm().invoke("hi", **{name: value})
    assert name in str(info.value) and pointer in str(info.value)
    assert server.requests == []


def test_every_chat_google_generative_ai_name_is_handled() -> None:
    """Each constructor field of theirs is known here: accepted, or in a refusal table."""
    genai = pytest.importorskip("langchain_google_genai")
    from importlib.metadata import version

    if int(version("langchain-google-genai").split(".")[0]) < 4:
        pytest.skip("the table covers langchain-google-genai 4.x (3.x had gRPC-era fields)")
    handled = (
        set(ChatGeminiCodeExecution.model_fields)
        | set(GENERATION)
        | set(BODY)
        | set(REFUSED)
        | {"google_api_key", "additional_headers", "default_metadata", "client_options"}
    )
    theirs = set(genai.ChatGoogleGenerativeAI.model_fields)
    assert theirs - handled == set()
