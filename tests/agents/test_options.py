"""One definition of the options: the request, bind, bind_tools and tracing agree.

Through the real SDK to the loopback server: the body `_build_request` returns is the body
`invoke` sends; the LangSmith params name the value the request carries.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import HumanMessage

from langchain_gemini_codeexec import ChatGeminiCodeExecution
from langchain_gemini_codeexec._core.options import (
    CALL_OPTION_NAMES,
    CallOptions,
    GenerationOptions,
)
from langchain_gemini_codeexec.errors import InvalidMessageError
from langchain_gemini_codeexec.testing import GeminiTestServer, response, text


def _tool(city: str) -> str:
    """Weather of a city."""
    return city


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_tokens": 10, "max_output_tokens": 20},
        {"max_output_tokens": 20, "max_tokens": 10},
    ],
)
def test_request_and_tracing_agree_on_max_tokens(
    server: GeminiTestServer, make_llm: Any, kwargs: dict[str, Any]
) -> None:
    llm = make_llm(max_tokens=99)
    server.enqueue(response(text("ok")))
    llm.invoke("hi", **kwargs)
    sent = server.last_request.body["generationConfig"]["maxOutputTokens"]
    assert sent == 10  # LangChain's name wins, whatever the order
    assert llm._get_ls_params(**kwargs)["ls_max_tokens"] == sent


def test_tracing_params_follow_the_call(make_llm: Any) -> None:
    llm = make_llm(temperature=0.1, max_tokens=5, stop=["x"])
    params = llm._get_ls_params(stop=["y"], temperature=0.7, model="gemini-2.5-pro")
    assert params["ls_temperature"] == 0.7
    assert params["ls_max_tokens"] == 5
    assert params["ls_stop"] == ["y"]
    assert params["ls_model_name"] == "gemini-2.5-pro"
    # A bad option does not break tracing; the call itself raises the clear error.
    assert llm._get_ls_params(temperature=9)["ls_temperature"] == 0.1


@pytest.mark.parametrize("mode", ["invoke", "stream"])
def test_build_request_is_the_body_invoke_sends(
    server: GeminiTestServer, make_llm: Any, mode: str
) -> None:
    llm = make_llm(temperature=0.3, thinking_level="low", safety_settings={"A": "B"})
    options = {"top_k": 3, "labels": {"team": "x"}, "response_mime_type": "text/plain"}
    bound = llm.bind_tools([_tool], tool_choice="auto", **options)
    messages = [HumanMessage("hi")]
    model, body = llm._build_request(messages, ["END"], {**bound.kwargs})
    server.enqueue(response(text("ok")))
    if mode == "invoke":
        bound.invoke(messages, stop=["END"])
    else:
        list(bound.stream(messages, stop=["END"]))
    assert server.last_request.model == model
    assert server.last_request.body == body
    assert body["generationConfig"] == {
        "temperature": 0.3,
        "topK": 3,
        "stopSequences": ["END"],
        "responseMimeType": "text/plain",
        "thinkingConfig": {"thinkingLevel": "LOW"},
    }
    assert body["safetySettings"] == [{"category": "A", "threshold": "B"}]
    assert body["labels"] == {"team": "x"}


def test_bind_validates_at_bind_time(server: GeminiTestServer, make_llm: Any) -> None:
    llm = make_llm()
    with pytest.raises(InvalidMessageError, match="temperature: must be between 0 and 2"):
        llm.bind(temperature=3)
    with pytest.raises(InvalidMessageError, match=r"unknown call option\(s\) \['temprature'\]"):
        llm.bind(temprature=1)
    with pytest.raises(InvalidMessageError, match="bind_tools: top_k: must be a positive"):
        llm.bind_tools([_tool], top_k=0)
    assert llm.bind(stop=["x"], temperature=1).kwargs == {"stop": ["x"], "temperature": 1}
    assert server.requests == []


def test_call_values_are_validated_strictly(make_llm: Any) -> None:
    # The constructor takes what pydantic coerces; a call option must be the real type.
    with pytest.raises(InvalidMessageError, match="temperature"):
        make_llm().invoke("hi", temperature="0.5")
    with pytest.raises(InvalidMessageError, match="thinking_level: 'ultra' is not one of"):
        make_llm().invoke("hi", thinking_level="ultra")


def test_constructor_and_call_share_one_definition() -> None:
    shared = set(GenerationOptions.model_fields)
    assert shared <= set(ChatGeminiCodeExecution.model_fields)
    assert shared <= set(CallOptions.model_fields)
    for name in shared:
        assert repr(ChatGeminiCodeExecution.model_fields[name]) == repr(
            GenerationOptions.model_fields[name]
        )
    assert "max_tokens" in CALL_OPTION_NAMES
