"""bind_tools: the request's `tools` and `toolConfig` per model family, checked on the wire."""

from __future__ import annotations

from typing import Any

import pytest
from google.auth.credentials import Credentials
from langchain_core.tools import tool
from langgraph.prebuilt import create_react_agent
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from langchain_gemini_codeexec import ChatGeminiCodeExecution, GeminiAPIError, InvalidMessageError
from langchain_gemini_codeexec._mapping.function_tools import tool_config
from langchain_gemini_codeexec.testing import GeminiTestServer, ScriptedGemini
from tests.support import GEMINI_3, GEMINI_25, MakeLLM


@tool
def get_weather(location: str) -> str:
    """Get the weather at a location."""
    return "It's sunny."


@tool
def lookup(query: str) -> str:
    """Look a fact up in the company wiki."""
    return "42"


class Invoice(BaseModel):
    """An invoice to file."""

    number: str = Field(description="invoice number")
    total: float


class Person(TypedDict):
    """A person."""

    name: str
    age: int


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def no_args() -> str:
    """Say hi."""
    return "hi"


WEATHER_DECLARATION = {
    "name": "get_weather",
    "description": "Get the weather at a location.",
    "parametersJsonSchema": {
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    },
}


def test_gemini_3_sends_code_execution_functions_and_the_combination_flag(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    make_llm().bind_tools([get_weather]).invoke("What is the weather in Paris?")
    body = server.last_request.body
    assert body["tools"] == [{"codeExecution": {}}, {"functionDeclarations": [WEATHER_DECLARATION]}]
    assert body["toolConfig"] == {"includeServerSideToolInvocations": True}


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", {"mode": "AUTO"}),
        ("any", {"mode": "ANY"}),
        ("required", {"mode": "ANY"}),
        (True, {"mode": "ANY"}),
        ("none", {"mode": "NONE"}),
        ("get_weather", {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}),
        (
            {"type": "function", "function": {"name": "lookup"}},
            {"mode": "ANY", "allowedFunctionNames": ["lookup"]},
        ),
        ({"type": "tool", "name": "lookup"}, {"mode": "ANY", "allowedFunctionNames": ["lookup"]}),
        (
            ["lookup", "get_weather"],
            {"mode": "ANY", "allowedFunctionNames": ["lookup", "get_weather"]},
        ),
    ],
)
def test_tool_choice_keeps_the_combination_flag_on_gemini_3(
    server: GeminiTestServer, make_llm: MakeLLM, choice: Any, expected: dict[str, Any]
) -> None:
    make_llm().bind_tools([get_weather, lookup], tool_choice=choice).invoke("Hello!")
    assert server.last_request.body["toolConfig"] == {
        "functionCallingConfig": expected,
        "includeServerSideToolInvocations": True,
    }


@pytest.mark.parametrize("choice", ["auto", "any", "none", "lookup"])
def test_tool_choice_without_builtins_sends_no_flag(
    server: GeminiTestServer, make_llm: MakeLLM, choice: str
) -> None:
    make_llm(model=GEMINI_25, code_execution=False).bind_tools([lookup], tool_choice=choice).invoke(
        "Hi"
    )
    body = server.last_request.body
    assert body["tools"] == [
        {"functionDeclarations": [body["tools"][0]["functionDeclarations"][0]]}
    ]
    assert "includeServerSideToolInvocations" not in body["toolConfig"]
    assert body["toolConfig"]["functionCallingConfig"]["mode"] in ("AUTO", "ANY", "NONE")


def test_builtins_are_sent_once_beside_code_execution(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    tools = [{"google_search": {}}, {"url_context": {}}, {"code_execution": {}}, get_weather]
    make_llm().bind_tools(tools).invoke("Hi")
    body = server.last_request.body
    assert body["tools"] == [
        {"codeExecution": {}},
        {"googleSearch": {}},
        {"urlContext": {}},
        {"functionDeclarations": [WEATHER_DECLARATION]},
    ]
    assert body["toolConfig"] == {"includeServerSideToolInvocations": True}


def test_builtins_alone_need_no_flag(server: GeminiTestServer, make_llm: MakeLLM) -> None:
    make_llm(model=GEMINI_25).bind_tools([{"google_search": {}}]).invoke("Hi")
    body = server.last_request.body
    assert body["tools"] == [{"codeExecution": {}}, {"googleSearch": {}}]
    assert "toolConfig" not in body


def test_code_execution_bound_as_a_tool_on_a_plain_model(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    make_llm(code_execution=False).bind_tools([{"codeExecution": {}}, get_weather]).invoke("Hi")
    body = server.last_request.body
    assert body["tools"] == [{"codeExecution": {}}, {"functionDeclarations": [WEATHER_DECLARATION]}]
    assert body["toolConfig"] == {"includeServerSideToolInvocations": True}


def test_every_kind_of_tool_becomes_a_declaration(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    schema = {
        "title": "search_docs",
        "description": "Search the docs.",
        "type": "object",
        "properties": {"q": {"type": "string"}},
        "required": ["q"],
    }
    make_llm().bind_tools([Invoice, Person, add, no_args, schema]).invoke("Hi")
    declarations = server.last_request.body["tools"][1]["functionDeclarations"]
    by_name = {d["name"]: d for d in declarations}
    assert list(by_name) == ["Invoice", "Person", "add", "no_args", "search_docs"]
    assert by_name["Invoice"]["description"] == "An invoice to file."
    invoice = by_name["Invoice"]["parametersJsonSchema"]
    assert invoice["properties"]["number"]["description"] == "invoice number"
    assert invoice["required"] == ["number", "total"]
    assert set(by_name["Person"]["parametersJsonSchema"]["properties"]) == {"name", "age"}
    assert by_name["add"]["parametersJsonSchema"]["properties"] == {
        "a": {"type": "integer"},
        "b": {"type": "integer"},
    }
    assert "parametersJsonSchema" not in by_name["no_args"]
    assert by_name["search_docs"]["parametersJsonSchema"]["required"] == ["q"]


# --- Gemini 1.x/2.x: built-in and function tools cannot be combined -----------------------


def test_gemini_2_with_code_execution_refuses_function_tools_at_bind_time(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    with pytest.raises(InvalidMessageError) as info:
        make_llm(model=GEMINI_25).bind_tools([get_weather])
    message = str(info.value)
    assert "gemini-2.5-flash cannot combine built-in tools (codeExecution)" in message
    assert "code_execution=False" in message and "GeminiCodeExecutionTool" in message
    assert "Gemini 3" in message and "allow_mixed_tools=True" in message
    assert server.requests == []


@pytest.mark.parametrize("model", ["gemini-2.0-flash", "models/gemini-2.5-pro", "gemini-1.5-pro"])
def test_every_gemini_1_and_2_model_is_refused(make_llm: MakeLLM, model: str) -> None:
    with pytest.raises(InvalidMessageError, match="cannot combine"):
        make_llm(model=model).bind_tools([get_weather])


def test_google_search_with_functions_on_gemini_2_is_refused_too(make_llm: MakeLLM) -> None:
    with pytest.raises(InvalidMessageError, match=r"built-in tools \(googleSearch\)"):
        make_llm(model=GEMINI_25, code_execution=False).bind_tools(
            [{"google_search": {}}, get_weather]
        )


def test_switching_to_gemini_2_at_call_time_is_refused_before_sending(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    bound = make_llm().bind_tools([get_weather])
    with pytest.raises(InvalidMessageError, match=r"tools: gemini-2\.5-flash cannot combine"):
        bound.invoke("Hi", model=GEMINI_25)
    with pytest.raises(InvalidMessageError, match="cannot combine"):
        make_llm(model=GEMINI_25).invoke("Hi", tools=[get_weather])
    assert server.requests == []


def test_allow_mixed_tools_forces_the_request_and_gemini_2_answers_its_400(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    llm = make_llm(model=GEMINI_25, allow_mixed_tools=True)
    with pytest.raises(GeminiAPIError) as info:
        llm.bind_tools([get_weather]).invoke("Hi")
    assert info.value.code == 400
    assert "Tool use with function calling is unsupported" in str(info.value)
    body = server.last_request.body
    assert body["tools"] == [{"codeExecution": {}}, {"functionDeclarations": [WEATHER_DECLARATION]}]
    assert body["toolConfig"] == {"includeServerSideToolInvocations": True}


def test_allow_mixed_tools_per_bind(server: GeminiTestServer, make_llm: MakeLLM) -> None:
    server.responder = ScriptedGemini(check=False)
    make_llm(model=GEMINI_25).bind_tools([get_weather], allow_mixed_tools=True).invoke("Hi")
    assert server.last_request.model == GEMINI_25
    assert len(server.last_request.body["tools"]) == 2


def test_gemini_2_takes_function_tools_without_code_execution(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    message = (
        make_llm(model=GEMINI_25, code_execution=False)
        .bind_tools([get_weather])
        .invoke("What is the weather in Paris?")
    )
    assert message.tool_calls[0]["name"] == "get_weather"
    body = server.last_request.body
    assert body["tools"] == [{"functionDeclarations": [WEATHER_DECLARATION]}]
    assert "toolConfig" not in body


# --- Vertex AI -----------------------------------------------------------------------------


class StubCredentials(Credentials):
    """google.auth credentials that always hold a bearer token, no network."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.token = "tok"

    def refresh(self, request: Any) -> None:
        self.token = "tok"


def test_vertex_gets_the_tools_but_not_the_developer_api_flag(server: GeminiTestServer) -> None:
    llm = ChatGeminiCodeExecution(
        model=GEMINI_3,
        vertexai=True,
        project="proj",
        location="global",
        credentials=StubCredentials(),
        base_url=server.base_url,
        max_retries=0,
    )
    server.responder = ScriptedGemini(check=False)
    llm.bind_tools([get_weather], tool_choice="any").invoke("What is the weather in Paris?")
    request = server.last_request
    assert request.api == "vertex"
    assert request.body["tools"][0] == {"codeExecution": {}}
    assert request.body["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}


# --- bad input fails at bind time, naming what is allowed ----------------------------------


@pytest.mark.parametrize(
    ("tools", "choice", "needle"),
    [
        (
            [get_weather],
            "lookup",
            "'lookup' is not a bound tool; use 'auto', 'any', 'none' or one of",
        ),
        ([get_weather], 42, "42 is not valid"),
        ([get_weather], {"type": "function"}, "names no function"),
        ([get_weather], ["get_weather", "nope"], "['nope'] are not bound tools"),
        ([{"google_search": {}}], "any", "forces a function call, but no function tool is bound"),
        (
            [get_weather, {"title": "get_weather", "description": "Other.", "properties": {}}],
            None,
            "more than one function tool is named 'get_weather'",
        ),
        ([42], None, "tools: 42 is not a tool"),
    ],
)
def test_bad_tools_and_choices_fail_at_bind_time(
    server: GeminiTestServer, make_llm: MakeLLM, tools: list[Any], choice: Any, needle: str
) -> None:
    with pytest.raises(InvalidMessageError) as info:
        make_llm().bind_tools(tools, tool_choice=choice)
    assert needle in str(info.value)
    assert server.requests == []


def test_one_tool_bound_twice_is_declared_once(server: GeminiTestServer, make_llm: MakeLLM) -> None:
    make_llm().bind_tools([Invoice, Invoice.model_json_schema(), get_weather, get_weather]).invoke(
        "Hi"
    )
    declarations = server.last_request.body["tools"][1]["functionDeclarations"]
    assert [d["name"] for d in declarations] == ["Invoice", "get_weather"]


def test_unknown_bind_arguments_fail_at_bind_time(make_llm: MakeLLM) -> None:
    unknown = r"bind_tools: unknown call option\(s\) \['temprature'\]"
    with pytest.raises(InvalidMessageError, match=unknown):
        make_llm().bind_tools([get_weather], temprature=0.5)


def test_tool_choice_table() -> None:
    assert tool_config(None, ["f"]) == {}
    assert tool_config(False, ["f"]) == {}
    assert tool_config("validated", ["f"]) == {"functionCallingConfig": {"mode": "VALIDATED"}}
    assert tool_config("ANY", ["f"]) == {"functionCallingConfig": {"mode": "ANY"}}
    # A bound function named like a mode is still that function.
    assert tool_config("auto", ["auto"]) == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["auto"]}
    }


@pytest.mark.filterwarnings("ignore:create_react_agent has been moved")
def test_prebound_model_works_in_langgraph_agents(make_llm: MakeLLM) -> None:
    """create_react_agent reads the names of pre-bound tools (OpenAI form) and accepts them."""
    bound = make_llm().bind_tools([get_weather, lookup])
    create_react_agent(bound, [get_weather, lookup])
    assert [t["function"]["name"] for t in bound.kwargs["tools"]] == ["get_weather", "lookup"]
