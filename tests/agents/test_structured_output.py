"""with_structured_output: each method and schema kind, raw or not, sync, async, streamed."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage
from langchain_core.utils.function_calling import convert_to_json_schema
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from langchain_gemini_codeexec import InvalidMessageError
from langchain_gemini_codeexec._mapping.structured import FORMAT_REQUEST
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    Reply,
    code,
    response,
    result,
    stream_chunks,
    text,
)
from tests.support import CALL_MODES, GEMINI_25, MakeLLM, call_in_mode


class Stats(BaseModel):
    """Statistics of a computation."""

    mean: float = Field(description="the arithmetic mean")
    count: int


class StatsDict(TypedDict):
    """Statistics of a computation."""

    mean: Annotated[float, ..., "the arithmetic mean"]
    count: int


STATS_SCHEMA = Stats.model_json_schema()
SCHEMAS = {"pydantic": Stats, "typeddict": StatsDict, "json_schema": STATS_SCHEMA}
METHODS = ("json_schema", "function_calling", "json_mode")
PROMPT = (
    "Compute the mean of 2, 4 and 9 and say how many numbers there are. Return 'mean' and 'count'."
)


def check_parsed(parsed: Any, kind: str) -> None:
    if kind == "pydantic":
        assert isinstance(parsed, Stats)
    else:
        assert isinstance(parsed, dict) and set(parsed) == {"mean", "count"}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", list(SCHEMAS))
@pytest.mark.parametrize("mode", CALL_MODES)
async def test_every_method_and_schema_on_gemini_3_with_code_execution(
    server: GeminiTestServer, make_llm: MakeLLM, method: str, kind: str, mode: str
) -> None:
    structured = make_llm().with_structured_output(SCHEMAS[kind], method=method)  # type: ignore[arg-type]
    check_parsed(await call_in_mode(structured, PROMPT, mode), kind)
    body = server.last_request.body
    assert body["tools"][0] == {"codeExecution": {}}
    generation = body.get("generationConfig", {})
    if method == "function_calling":
        name = body["tools"][1]["functionDeclarations"][0]["name"]
        assert name == ("Stats" if kind != "typeddict" else "StatsDict")
        assert body["toolConfig"] == {
            "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [name]},
            "includeServerSideToolInvocations": True,
        }
        assert "responseMimeType" not in generation
    else:
        assert len(body["tools"]) == 1 and "toolConfig" not in body
        assert generation["responseMimeType"] == "application/json"
        if method == "json_schema":
            expected = STATS_SCHEMA if kind != "typeddict" else convert_to_json_schema(StatsDict)
            assert generation["responseJsonSchema"] == expected
        else:
            assert "responseJsonSchema" not in generation


def computing_answer(json_text: str, **kw: Any) -> dict[str, Any]:
    return response(
        text("I will compute it.\n"),
        code("print(sum([2, 4, 9]) / 3)"),
        result("5.0\n"),
        text(json_text),
        **kw,
    )


@pytest.mark.parametrize("mode", CALL_MODES)
async def test_gemini_3_computes_then_answers_in_the_schema(
    server: GeminiTestServer, make_llm: MakeLLM, mode: str
) -> None:
    answer = computing_answer('{"mean": 5.0, "count": 3}', model_version="gemini-3-flash-preview")
    server.enqueue(Reply.stream(stream_chunks(answer)) if "stream" in mode else answer)
    structured = make_llm().with_structured_output(Stats, include_raw=True)
    out = await call_in_mode(structured, PROMPT, mode)
    assert out["parsed"] == Stats(mean=5.0, count=3)
    assert out["parsing_error"] is None
    raw = out["raw"]
    assert isinstance(raw, AIMessage)
    assert [b["type"] for b in raw.content] == [
        "text",
        "server_tool_call",
        "server_tool_result",
        "text",
    ]


async def test_streaming_yields_growing_dicts(server: GeminiTestServer, make_llm: MakeLLM) -> None:
    answer = response(text('{"mean": 5.0, "count": 3}'))
    server.enqueue(Reply.stream(stream_chunks(answer, text_pieces=4)))
    outputs = [o async for o in make_llm().with_structured_output(StatsDict).astream(PROMPT)]
    assert outputs[-1] == {"mean": 5.0, "count": 3}
    assert len(outputs) > 1 and all(set(o) <= {"mean", "count"} for o in outputs)


@pytest.mark.parametrize("include_raw", [True, False])
def test_an_answer_that_is_not_json(
    server: GeminiTestServer, make_llm: MakeLLM, include_raw: bool
) -> None:
    server.enqueue(response(text("Sorry, I cannot.")))
    structured = make_llm().with_structured_output(Stats, include_raw=include_raw)
    if not include_raw:
        with pytest.raises(OutputParserException, match="not valid JSON"):
            structured.invoke(PROMPT)
        return
    out = structured.invoke(PROMPT)
    assert out["parsed"] is None
    assert isinstance(out["parsing_error"], OutputParserException)
    assert out["raw"].text == "Sorry, I cannot."


def test_a_cut_off_answer_is_an_error_not_a_completed_object(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    server.enqueue(response(text('{"mean": 5.0, "cou'), finish_reason="MAX_TOKENS"))
    with pytest.raises(OutputParserException):
        make_llm().with_structured_output(StatsDict).invoke(PROMPT)


def test_an_answer_that_misses_the_schema(server: GeminiTestServer, make_llm: MakeLLM) -> None:
    server.enqueue(response(text('{"mean": "high"}')))
    with pytest.raises(OutputParserException, match="does not fit Stats"):
        make_llm().with_structured_output(Stats).invoke(PROMPT)


def test_function_calling_without_a_call_gives_none(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    server.enqueue(response(text("No.")))
    out = make_llm().with_structured_output(Stats, method="function_calling").invoke(PROMPT)
    assert out is None


class Options(BaseCallbackHandler):
    def __init__(self) -> None:
        self.seen: list[Any] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.seen.append((kwargs.get("options") or {}).get("ls_structured_output_format"))


@pytest.mark.parametrize("method", METHODS)
def test_callbacks_see_the_structured_output_format(make_llm: MakeLLM, method: str) -> None:
    handler = Options()
    make_llm().with_structured_output(Stats, method=method).invoke(  # type: ignore[arg-type]
        PROMPT, config={"callbacks": [handler]}
    )
    assert handler.seen == [{"kwargs": {"method": method}, "schema": convert_to_json_schema(Stats)}]


# --- Gemini 1.x/2.x: compute, then format -----------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("mode", CALL_MODES)
async def test_gemini_2_with_code_execution_computes_then_formats(
    server: GeminiTestServer, make_llm: MakeLLM, method: str, mode: str
) -> None:
    computing = computing_answer("The mean is 5.0 over 3 numbers.", model_version=GEMINI_25)
    server.enqueue(computing)
    structured = make_llm(model=GEMINI_25).with_structured_output(
        Stats,
        method=method,  # type: ignore[arg-type]
        include_raw=True,
    )
    out = await call_in_mode(structured, PROMPT, mode)
    assert isinstance(out["parsed"], Stats)
    computation = out["computation"]
    assert [b["type"] for b in computation.content][1:3] == [
        "server_tool_call",
        "server_tool_result",
    ]
    first, second = server.model_requests
    assert first.body["tools"] == [{"codeExecution": {}}]
    assert "generationConfig" not in first.body and "toolConfig" not in first.body
    # The formatting call runs without code execution and sees the computation as text.
    assert {"codeExecution": {}} not in second.body.get("tools", [])
    model_turn = second.body["contents"][1]
    assert model_turn["role"] == "model"
    shown = model_turn["parts"][0]["text"]
    assert (
        "print(sum([2, 4, 9]) / 3)" in shown and "Output (OUTCOME_OK)" in shown and "5.0" in shown
    )
    assert second.body["contents"][2] == {"role": "user", "parts": [{"text": FORMAT_REQUEST}]}
    if method == "json_schema":
        assert second.body["generationConfig"]["responseJsonSchema"] == STATS_SCHEMA
    elif method == "function_calling":
        assert second.body["tools"][0]["functionDeclarations"][0]["name"] == "Stats"
    else:
        assert second.body["generationConfig"] == {"responseMimeType": "application/json"}


def test_two_step_without_include_raw_returns_the_parsed_answer(make_llm: MakeLLM) -> None:
    assert isinstance(make_llm(model=GEMINI_25).with_structured_output(Stats).invoke(PROMPT), Stats)


def test_two_step_can_be_asked_for_on_gemini_3(server: GeminiTestServer, make_llm: MakeLLM) -> None:
    make_llm().with_structured_output(Stats, two_step=True).invoke(PROMPT)
    assert len(server.model_requests) == 2


def test_gemini_2_without_two_step_is_refused_before_any_request(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    with pytest.raises(InvalidMessageError) as info:
        make_llm(model=GEMINI_25).with_structured_output(Stats, two_step=False)
    message = str(info.value)
    assert "gemini-2.5-flash cannot answer in a schema" in message
    assert "Gemini 3" in message and "code_execution=False" in message
    assert server.requests == []


def test_gemini_2_without_code_execution_answers_in_one_request(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    out = (
        make_llm(model=GEMINI_25, code_execution=False).with_structured_output(Stats).invoke(PROMPT)
    )
    assert isinstance(out, Stats)
    (request,) = server.model_requests
    assert "tools" not in request.body
    assert request.body["generationConfig"]["responseJsonSchema"] == STATS_SCHEMA


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"schema": Stats, "method": "xml"}, "method: 'xml' is not one of"),
        ({"schema": Stats, "temperature": 0}, "unknown argument(s) ['temperature']"),
        ({"schema": 42}, "42 is not a schema"),
    ],
)
def test_bad_arguments(make_llm: MakeLLM, kwargs: dict[str, Any], needle: str) -> None:
    with pytest.raises(InvalidMessageError) as info:
        make_llm().with_structured_output(**kwargs)
    assert needle in str(info.value)
