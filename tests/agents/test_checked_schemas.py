"""Tools and schemas Gemini would refuse are refused at bind time, naming the tool and the
field (Gemini's documented function-declaration rules); a valid one still reaches Gemini
through the real SDK; a model name that is not Gemini's gets a warning naming the closest.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from hypothesis import strategies as st
from pydantic import BaseModel

from langchain_gemini_codeexec._mapping.function_tools import schema_errors
from langchain_gemini_codeexec.errors import InvalidMessageError
from langchain_gemini_codeexec.testing import GeminiTestServer
from tests.support import GEMINI_3, Caller, MakeLLM, property_test

LOOKUP: dict[str, Any] = {
    "name": "lookup",
    "description": "Look something up.",
    "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
}
BAD_TOOLS = {
    "name with a space": ({**LOOKUP, "name": "look up"}, ("tool name 'look up'",)),
    "name starting with a digit": ({**LOOKUP, "name": "1lookup"}, ("tool name '1lookup'",)),
    "name too long": ({**LOOKUP, "name": "f" * 129}, ("at most 128 characters",)),
    "misspelt type": (
        {**LOOKUP, "parameters": {"type": "objct"}},
        ("tool 'lookup'", "parameters.type 'objct'"),
    ),
    "parameters as a list": (
        {**LOOKUP, "parameters": ["q"]},
        ("tool 'lookup'", "parameters must be a JSON schema object, not list"),
    ),
    "nested misspelt type": (
        {**LOOKUP, "parameters": {"type": "object", "properties": {
            "q": {"type": "array", "items": {"type": "strin"}}}}},
        ("tool 'lookup'", "parameters.properties.q.items.type 'strin'"),
    ),
    "required not a list": (
        {**LOOKUP, "parameters": {**LOOKUP["parameters"], "required": "q"}},
        ("tool 'lookup'", "parameters.required must be a list"),
    ),
    "arguments not an object": (
        {**LOOKUP, "parameters": {"type": "string"}},
        ("tool 'lookup'", "parameters.type must be 'object'"),
    ),
    "Gemini declaration with a bad name": (
        {"functionDeclarations": [{"name": "a b", "parameters": {"type": "OBJECT"}}]},
        ("tool name 'a b'",),
    ),
}  # fmt: skip


@pytest.mark.parametrize("model", ["gemini-2.5-flash", GEMINI_3])
@pytest.mark.parametrize("case", list(BAD_TOOLS))
def test_bind_tools_refuses_what_gemini_would(
    case: str, model: str, make_llm: MakeLLM, server: GeminiTestServer
) -> None:
    tool, says = BAD_TOOLS[case]
    with pytest.raises(InvalidMessageError) as caught:
        make_llm(model=model).bind_tools([tool])
    message = str(caught.value)
    assert message.startswith("bind_tools: ")
    for words in says:
        assert words in message
    assert "cannot combine" not in message  # on 2.5 the schema error is the one reported
    assert server.requests == []


async def test_a_bad_call_tool_is_refused_before_sending(
    ask: Caller, server: GeminiTestServer
) -> None:
    llm = ask.model()
    bad = {**LOOKUP, "parameters": {"type": "object", "properties": {"q": {"type": 5}}}}
    with pytest.raises(InvalidMessageError, match=r"tool 'lookup': parameters\.properties\.q"):
        await ask(llm, "hi", tools=[bad])
    assert server.requests == []


async def test_a_valid_tool_still_reaches_gemini(ask: Caller, server: GeminiTestServer) -> None:
    llm = ask.model()
    tool = {**LOOKUP, "name": "ns:look_up.v2-x"}  # every character the rules allow
    await ask(llm.bind_tools([tool]), "hi")  # type: ignore[arg-type]
    (request,) = server.model_requests
    declarations = [d for t in request.body["tools"] for d in t.get("functionDeclarations", ())]
    assert [d["name"] for d in declarations] == ["ns:look_up.v2-x"]
    assert declarations[0]["parametersJsonSchema"] == LOOKUP["parameters"]


class Answer(BaseModel):
    value: int


@pytest.mark.parametrize("method", ["json_schema", "function_calling", "json_mode"])
@pytest.mark.parametrize(
    ("schema", "says"),
    [
        ({"properties": 5}, "schema.properties must be an object of schemas"),
        ({"type": "numbr"}, "schema.type 'numbr' is not a JSON schema type"),
        ({"type": "object", "properties": {"v": {"anyOf": {"type": "int"}}}}, "anyOf"),
    ],
)
@pytest.mark.parametrize("model", ["gemini-2.5-flash", GEMINI_3])
def test_structured_output_refuses_a_bad_schema(
    schema: dict[str, Any],
    says: str,
    method: str,
    model: str,
    make_llm: MakeLLM,
    server: GeminiTestServer,
) -> None:
    with pytest.raises(InvalidMessageError, match="with_structured_output") as caught:
        make_llm(model=model).with_structured_output(schema, method=method)  # type: ignore[arg-type]
    assert says in str(caught.value)
    assert server.requests == []


@pytest.mark.parametrize("model", ["gemini-2.5-flash", GEMINI_3])
def test_structured_output_takes_good_schemas(model: str, make_llm: MakeLLM) -> None:
    llm = make_llm(model=model)
    llm.with_structured_output(Answer)
    llm.with_structured_output(Answer.model_json_schema(), method="function_calling")


@pytest.mark.parametrize(
    ("model", "closest"),
    [
        ("gpt-4o", None),
        ("gemini-2.5-flsh", "gemini-2.5-flash"),
        ("gemini-3-flash-preveiw", "gemini-3-flash-preview"),
        ("claude-sonnet-4-5", None),
    ],
)
def test_a_name_that_is_not_geminis_warns_naming_the_closest(
    model: str, closest: str | None, make_llm: MakeLLM
) -> None:
    with pytest.warns(UserWarning, match="is not a Gemini model this package knows") as caught:
        llm = make_llm(model=model)
    (warning,) = caught.list
    assert f"'{model}'" in str(warning.message) and "did you mean 'gemini-" in str(warning.message)
    if closest is not None:
        assert f"did you mean '{closest}'" in str(warning.message)
    assert warning.filename.endswith(
        "tests/conftest.py"
    )  # the line that built the model, not pydantic's
    assert llm.model == model  # still used as given


@pytest.mark.parametrize(
    "model",
    [
        "gemini-2.5-flash",
        "models/gemini-2.5-flash-001",
        "gemini-4-pro",  # a newer model than this version knows
        "gemini-3.5-flash-lite-preview-06-2026",
        "gemini-2.5-flash-image",
        "gemma-3-27b-it",
        "tunedModels/my-model-123",
        "publishers/google/models/gemini-2.5-flash",
    ],
)
def test_gemini_names_do_not_warn(model: str, make_llm: MakeLLM) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_llm(model=model)


_TYPES = st.sampled_from(["string", "number", "integer", "boolean", "null", "OBJECT", "Array"])
_SCHEMAS = st.recursive(
    st.builds(lambda t: {"type": t}, _TYPES),
    lambda inner: st.one_of(
        st.builds(
            lambda props: {"type": "object", "properties": props, "required": sorted(props)},
            st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), inner, max_size=3),
        ),
        st.builds(lambda item: {"type": "array", "items": item}, inner),
        st.builds(lambda items: {"anyOf": items}, st.lists(inner, min_size=1, max_size=3)),
    ),
    max_leaves=10,
)


@property_test(500, _SCHEMAS)
def test_well_formed_schemas_have_no_errors(schema: dict[str, Any]) -> None:
    assert schema_errors(schema, "schema") == []


@property_test(
    500,
    _SCHEMAS,
    st.text(min_size=1, max_size=6).filter(
        lambda t: (
            t.lower() not in {"string", "number", "integer", "boolean", "null", "object", "array"}
        )
    ),
)
def test_a_wrong_type_anywhere_is_found_with_its_path(schema: dict[str, Any], bad: str) -> None:
    wrapped = {"type": "object", "properties": {"outer": schema, "bad": {"type": bad}}}
    errors = schema_errors(wrapped, "parameters")
    assert errors == [
        f"parameters.properties.bad.type {bad!r} is not a JSON schema type "
        "(one of array, boolean, integer, null, number, object, string)"
    ]
