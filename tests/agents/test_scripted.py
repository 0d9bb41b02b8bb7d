"""ScriptedGemini itself: values valid for schemas, Gemini's refusals, safe arithmetic."""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

import pytest
from google import genai
from google.genai import errors, types
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from langchain_gemini_codeexec.testing import GeminiTestServer
from langchain_gemini_codeexec.testing._rules import GeminiRuleError, call_signature, check_request
from langchain_gemini_codeexec.testing._scripted import _Hints, evaluate, example_value
from tests.support import MakeLLM, property_test


class Color(str, Enum):
    RED = "red"
    BLUE = "blue"


class Address(BaseModel):
    street: str
    zip_code: str | None = None


class Order(BaseModel):
    """An order."""

    id: int = Field(gt=100, lt=105)
    price: float = Field(ge=0.5, le=0.75)
    color: Color
    kind: Literal["a", "b"]
    tags: list[str]
    address: Address
    previous: list[Address] = []
    note: str | None = None
    paid: bool


@pytest.mark.parametrize("prompt", ["", "Order 7 costs 3.5 for 'Ann'", "Numbers 1 2 3 4 5 6"])
def test_example_values_validate_against_the_schema(prompt: str) -> None:
    schema = Order.model_json_schema()
    Order.model_validate(example_value(schema, schema, _Hints(prompt)))


@property_test(100, st.lists(st.integers(min_value=-(10**6), max_value=10**6), max_size=6))
def test_numbers_from_any_prompt_respect_the_bounds(numbers: list[int]) -> None:
    schema = Order.model_json_schema()
    prompt = " ".join(str(n) for n in numbers)
    value = example_value(schema, schema, _Hints(prompt))
    assert 100 < value["id"] < 105 and 0.5 <= value["price"] <= 0.75


def body(model_tools: list[Any], **extra: Any) -> dict[str, Any]:
    return {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "tools": model_tools,
        **extra,
    }


FUNCTIONS = {"functionDeclarations": [{"name": "f"}]}


@pytest.mark.parametrize(
    ("model", "request_body", "needle"),
    [
        (
            "gemini-2.5-flash",
            body([{"codeExecution": {}}, FUNCTIONS]),
            "function calling is unsupported",
        ),
        (
            "gemini-3-flash-preview",
            body([{"codeExecution": {}}, FUNCTIONS]),
            "includeServerSideToolInvocations",
        ),
        (
            "gemini-2.5-flash",
            body(
                [{"codeExecution": {}}], generationConfig={"responseMimeType": "application/json"}
            ),
            "Tool use with a response mime type",
        ),
        (
            "gemini-2.0-flash",
            body([FUNCTIONS], generationConfig={"responseMimeType": "application/json"}),
            "Function calling with a response mime type",
        ),
        (
            "gemini-3-flash-preview",
            body(
                [FUNCTIONS], toolConfig={"functionCallingConfig": {"allowedFunctionNames": ["g"]}}
            ),
            "function 'g' is not declared",
        ),
        ("gemini-3-flash-preview", {"contents": []}, "contents is not specified"),
        (
            "gemini-3-flash-preview",
            {"contents": [{"role": "user", "parts": [{"inlineData": {"data": "QUJD"}}]}]},
            "mime_type: missing",
        ),
        (
            "gemini-3-flash-preview",
            {
                "contents": [
                    {"role": "user", "parts": [{"text": "hi"}]},
                    {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]},
                    {
                        "role": "user",
                        "parts": [{"functionResponse": {"name": "f", "response": {}}}],
                    },
                ]
            },
            "missing a thought_signature",
        ),
        (
            "gemini-2.5-flash",
            {
                "contents": [
                    {"role": "user", "parts": [{"text": "hi"}]},
                    {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]},
                    {
                        "role": "user",
                        "parts": [{"functionResponse": {"name": "g", "response": {}}}],
                    },
                ]
            },
            "do not match the function calls",
        ),
        (
            "gemini-3-flash-preview",
            {
                "contents": [
                    {"role": "user", "parts": [{"text": "hi"}]},
                    {"role": "model", "parts": [{"toolCall": {"id": "t1"}}, {"text": "x"}]},
                    {"role": "user", "parts": [{"text": "more"}]},
                ]
            },
            "every toolCall part must be sent back with its toolResponse",
        ),
        (
            "gemini-3-flash-preview",
            {
                "contents": [
                    {"role": "user", "parts": [{"text": "hi"}]},
                    {
                        "role": "model",
                        "parts": [
                            {
                                "functionCall": {"name": "f", "args": {"a": 2}},
                                "thoughtSignature": call_signature("f", {"a": 1}),
                            }
                        ],
                    },
                    {
                        "role": "user",
                        "parts": [{"functionResponse": {"name": "f", "response": {}}}],
                    },
                ]
            },
            "Thought signature is not valid",
        ),
    ],
)
def test_gemini_rules(model: str, request_body: dict[str, Any], needle: str) -> None:
    with pytest.raises(GeminiRuleError) as info:
        check_request(model, request_body)
    assert needle in str(info.value)


def test_signed_calls_and_foreign_signatures_pass() -> None:
    contents = [
        {"role": "user", "parts": [{"text": "hi"}]},
        {
            "role": "model",
            "parts": [
                {
                    "functionCall": {"name": "f", "args": {"a": 1}},
                    "thoughtSignature": call_signature("f", {"a": 1}),
                },
                {"functionCall": {"name": "g", "args": {}}},
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "g", "response": {}}},
                {"functionResponse": {"name": "f", "response": {}}},
            ],
        },
    ]
    check_request("gemini-3-flash-preview", {"contents": contents})
    contents[1]["parts"][0]["thoughtSignature"] = "c29tZW9uZSBlbHNlJ3M="  # not ours: accepted
    check_request("gemini-3-flash-preview", {"contents": contents})


@pytest.mark.parametrize(
    ("expression", "value"),
    [("2 + 3 * 4", 14), ("(1 + 2) ** 3", 27), ("7 / 2", 3.5), ("-4 // 3", -2), ("10 % 4", 2)],
)
def test_arithmetic(expression: str, value: float) -> None:
    assert evaluate(expression) == value


@pytest.mark.parametrize(
    "expression", ["__import__('os')", "2 ** 1000000", "1 / 0", "x + 1", "print(1)", "2 +"]
)
def test_anything_else_is_not_evaluated(expression: str) -> None:
    assert evaluate(expression) is None


def test_a_refusal_reaches_the_sdk_as_gemini_400(server: GeminiTestServer) -> None:
    client = genai.Client(api_key="test", http_options=types.HttpOptions(base_url=server.base_url))
    config = types.GenerateContentConfig(
        tools=[
            types.Tool(code_execution=types.ToolCodeExecution()),
            types.Tool(function_declarations=[types.FunctionDeclaration(name="f")]),
        ]
    )
    with pytest.raises(errors.ClientError) as info:
        client.models.generate_content(model="gemini-2.5-flash", contents="hi", config=config)
    assert info.value.code == 400
    assert info.value.status == "INVALID_ARGUMENT"
    assert "Tool use with function calling is unsupported" in str(info.value.message)


def test_plain_answers(make_llm: MakeLLM) -> None:
    llm = make_llm()
    assert llm.invoke("Hello").text == "Hello! How can I help you today?"
    arithmetic = llm.invoke("What is 6 * 7?")
    assert [b["type"] for b in arithmetic.content] == [
        "server_tool_call",
        "server_tool_result",
        "text",
    ]
    assert arithmetic.content[1]["output"] == "42\n"
    assert llm.invoke("Say hi to you all", stop=["you"]).text.endswith("Say hi to ")
    assert make_llm(code_execution=False).invoke("What is 6 * 7?").content[0]["type"] == "text"
