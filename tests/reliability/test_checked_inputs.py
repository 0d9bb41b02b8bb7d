"""Values the input checks must let through, as sent on the wire (the refusals are in
test_bad_inputs.py): a stop string is one stop sequence, zero is not False, edge values
of each checked field are accepted, and model names of every documented shape pass."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import ValidationError

from langchain_gemini_codeexec import ChatGeminiCodeExecution
from langchain_gemini_codeexec._core.checks import MAX_TIMEOUT, model_problem
from langchain_gemini_codeexec.testing import GeminiTestServer, response, text
from tests.support import SECRET_API_KEY, check_path, invoke, path_llm, stream

ANSWER = response(text("ok"), response_id="r")


def _config(server: GeminiTestServer) -> dict[str, Any]:
    body = server.last_request.body
    assert isinstance(body, dict)
    return dict(body.get("generationConfig", {}))


def test_a_stop_string_is_one_stop_sequence(server: GeminiTestServer, path: str) -> None:
    """Like ChatOpenAI: `stop="abc"` means ["abc"], at construction and per call,
    invoked and streamed, on every HTTP path."""
    server.responder = lambda request: ANSWER

    def llm() -> ChatGeminiCodeExecution:  # one per event loop on the async paths
        built = path_llm(server.base_url, path, stop="END")
        check_path(built, path)
        assert built.stop == ["END"]
        return built

    invoke(llm(), path)
    assert _config(server)["stopSequences"] == ["END"]
    chunks, error = stream(llm(), path, stop="abc")
    assert error is None and chunks
    assert _config(server)["stopSequences"] == ["abc"]
    invoke(llm(), path, stop=["x", "y"])
    assert _config(server)["stopSequences"] == ["x", "y"]


def test_zero_values_are_numbers_not_false(server: GeminiTestServer, path: str) -> None:
    server.responder = lambda request: ANSWER
    llm = path_llm(
        server.base_url, path, temperature=0, seed=0, thinking_budget=0, timeout=MAX_TIMEOUT
    )
    invoke(llm, path, top_k=1, labels={"team": "data"}, generation_config={"candidateCount": 1})
    config = _config(server)
    assert (config["temperature"], config["seed"], config["topK"]) == (0, 0, 1)
    assert config["thinkingConfig"] == {"thinkingBudget": 0}
    assert config["candidateCount"] == 1
    assert server.last_request.body["labels"] == {"team": "data"}


@pytest.mark.parametrize(
    "model",
    [
        "gemini-2.5-flash",
        "models/gemini-2.5-flash",
        "tunedModels/my-model-123",
        "gemini-2.0-flash-001",
        "publishers/google/models/gemini-2.5-pro",
        "projects/p-1/locations/us-central1/endpoints/1234",
        "claude-3-5-sonnet@20240620",
    ],
)
def test_documented_model_name_shapes_pass(model: str) -> None:
    assert model_problem(model) is None
    if model.startswith("claude"):  # a valid name, but not Gemini's: warned, still used
        with pytest.warns(UserWarning, match="not a Gemini model"):
            built = ChatGeminiCodeExecution(api_key=SECRET_API_KEY, model=model)
    else:
        built = ChatGeminiCodeExecution(api_key=SECRET_API_KEY, model=model)
    assert built.model == model


@pytest.mark.parametrize(
    "base_url",
    [
        "https://generativelanguage.googleapis.com",
        "https://generativelanguage.googleapis.com/",
        "http://127.0.0.1:8080",
        "http://[::1]:8080/",
        "https://proxy.example/gemini/",
    ],
)
def test_good_base_urls_pass(base_url: str) -> None:
    assert ChatGeminiCodeExecution(api_key=SECRET_API_KEY, base_url=base_url).base_url == base_url


def test_a_checked_value_is_checked_at_construction_not_first_use() -> None:
    """The model is never built half-valid: the error comes from the constructor."""
    with pytest.raises(ValidationError, match="base_url"):
        ChatGeminiCodeExecution(api_key=SECRET_API_KEY, base_url="http://[::1")


async def test_bound_options_are_checked_like_call_options(server: GeminiTestServer) -> None:
    llm = path_llm(server.base_url, "async-aiohttp")
    with pytest.raises(ValueError, match="temperature: must be a number, not the boolean"):
        await llm.bind(temperature=True).ainvoke("hi")
    with pytest.raises(ValueError, match="stop: must be a list of non-empty strings"):
        await asyncio.wait_for(llm.bind(stop=[""]).ainvoke("hi"), 5)
    assert server.requests == []
