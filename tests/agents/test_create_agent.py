"""LangChain v1 `create_agent` with this model: structured output, profiles, tool errors.

The real `langchain.agents.create_agent`, the real google-genai SDK, the loopback server.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.structured_output import ProviderStrategy, ToolStrategy
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel

from langchain_gemini_codeexec import GeminiCodeExecutionTool
from langchain_gemini_codeexec.errors import InvalidMessageError
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    Reply,
    code,
    function_call,
    response,
    result,
    text,
)


class Stats(BaseModel):
    mean: float
    count: int


@tool
def get_numbers(name: str) -> list[int]:
    """Numbers of a data set."""
    return [1, 2, 3, 4]


ASK = {"messages": [{"role": "user", "content": "Mean and count of 1, 2, 3, 4?"}]}


async def run(agent: Any, mode: str) -> dict[str, Any]:
    if mode == "invoke":
        out: dict[str, Any] = agent.invoke(ASK)
        return out
    return dict(await agent.ainvoke(ASK))


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
async def test_provider_strategy_with_code_execution_in_one_request(
    server: GeminiTestServer, make_llm: Any, mode: str
) -> None:
    server.enqueue(
        response(code("print(sum([1,2,3,4])/4)"), result("2.5\n"), text('{"mean":2.5,"count":4}'))
    )
    agent = create_agent(model=make_llm(), tools=[], response_format=ProviderStrategy(Stats))
    out = await run(agent, mode)
    assert out["structured_response"] == Stats(mean=2.5, count=4)
    (request,) = server.model_requests
    assert request.body["tools"] == [{"codeExecution": {}}]
    generation = request.body["generationConfig"]
    assert generation["responseMimeType"] == "application/json"
    assert generation["responseJsonSchema"]["properties"].keys() == {"mean", "count"}
    # The code the model ran stays in the agent's message.
    types = [b["type"] for b in out["messages"][-1].content_blocks]
    assert "server_tool_call" in types and "server_tool_result" in types


async def test_auto_strategy_picks_provider_output_on_gemini_3_with_tools(
    server: GeminiTestServer, make_llm: Any
) -> None:
    server.enqueue(response(text('{"mean": 2.5, "count": 4}')))
    agent = create_agent(model=make_llm(), tools=[get_numbers], response_format=Stats)
    out = agent.invoke(ASK)
    assert out["structured_response"] == Stats(mean=2.5, count=4)
    body = server.last_request.body
    assert body["generationConfig"]["responseJsonSchema"]["title"] == "Stats"
    assert {"codeExecution": {}} in body["tools"]
    assert body["toolConfig"]["includeServerSideToolInvocations"] is True


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
async def test_tool_strategy(server: GeminiTestServer, make_llm: Any, mode: str) -> None:
    # Scripted Gemini: calls get_numbers, then (forced) the Stats tool.
    agent = create_agent(
        model=make_llm(), tools=[get_numbers], response_format=ToolStrategy(Stats)
    )
    out = await run(agent, mode)
    assert isinstance(out["structured_response"], Stats)
    names = [c["name"] for m in out["messages"] if isinstance(m, AIMessage) for c in m.tool_calls]
    assert names == ["get_numbers", "Stats"]
    last = server.last_request.body
    assert last["toolConfig"]["functionCallingConfig"]["mode"] == "ANY"


def test_provider_strategy_on_gemini_2_with_code_execution_is_refused_clearly(
    server: GeminiTestServer, make_llm: Any
) -> None:
    agent = create_agent(
        model=make_llm(model="gemini-2.5-flash"), response_format=ProviderStrategy(Stats)
    )
    with pytest.raises(InvalidMessageError, match="ToolStrategy"):
        agent.invoke(ASK)
    assert server.requests == []


def test_gemini_2_without_code_execution_takes_provider_strategy(
    server: GeminiTestServer, make_llm: Any
) -> None:
    llm = make_llm(model="gemini-2.5-flash", code_execution=False)
    server.enqueue(response(text('{"mean": 2.5, "count": 4}')))
    out = create_agent(model=llm, response_format=Stats).invoke(ASK)
    assert out["structured_response"] == Stats(mean=2.5, count=4)
    assert "tools" not in server.last_request.body


def test_bind_tools_takes_what_the_agent_factory_passes(make_llm: Any) -> None:
    llm = make_llm()
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    bound = llm.bind_tools(
        [get_numbers],
        response_format={"type": "json_schema", "json_schema": {"name": "A", "schema": schema}},
        strict=True,
    )
    _, body = llm._build_request([HumanMessage("hi")], None, dict(bound.kwargs))
    assert body["generationConfig"] == {
        "responseMimeType": "application/json",
        "responseJsonSchema": schema,
    }
    json_mode = llm.bind_tools([], response_format={"type": "json_object"})
    _, body = llm._build_request([HumanMessage("hi")], None, dict(json_mode.kwargs))
    assert body["generationConfig"] == {"responseMimeType": "application/json"}
    with pytest.raises(InvalidMessageError, match="response_format"):
        llm.bind_tools([], response_format=42)


def test_tool_rate_limited_inside_an_agent_goes_on_to_the_final_answer(
    server: GeminiTestServer, make_llm: Any
) -> None:
    compute = GeminiCodeExecutionTool(llm=make_llm())  # defaults: no handle_tool_error set
    server.enqueue(
        response(function_call("gemini_code_execution", {"task": "mean of 1,2,3,4"}, id="c1")),
        Reply.error(429, "Resource has been exhausted (e.g. check quota)."),
        response(text("I could not compute it now; the mean of 1..4 is 2.5.")),
    )
    agent = create_agent(model=make_llm(code_execution=False), tools=[compute])
    out = agent.invoke(ASK)
    tool_message = next(m for m in out["messages"] if isinstance(m, ToolMessage))
    assert tool_message.status == "error"
    for word in ("429", "rate limit", "quota", "Do not retry"):
        assert word in tool_message.content
    assert out["messages"][-1].text.startswith("I could not compute it now")


def test_configurable_fields_switch_the_model_at_run_time(
    server: GeminiTestServer, make_llm: Any
) -> None:
    from langchain_core.runnables import ConfigurableField

    llm = make_llm(model="gemini-2.5-flash").configurable_fields(
        model=ConfigurableField(id="model"), temperature=ConfigurableField(id="temperature")
    )
    server.enqueue(response(text("ok")), response(text("ok")))
    llm.invoke("hi")
    assert server.last_request.model == "gemini-2.5-flash"
    config = {"configurable": {"model": "gemini-3-flash-preview", "temperature": 0.5}}
    llm.invoke("hi", config=config)  # type: ignore[arg-type]
    assert server.last_request.model == "gemini-3-flash-preview"
    assert server.last_request.body["generationConfig"] == {"temperature": 0.5}


def test_tool_offers_files_only_when_configured(make_llm: Any, tmp_path: Any) -> None:
    bare = GeminiCodeExecutionTool(llm=make_llm())
    assert set(bare.args) == {"task"}
    (tmp_path / "a.csv").write_text("x\n1\n")
    with_files = GeminiCodeExecutionTool(llm=make_llm(), files_dir=tmp_path)
    assert set(with_files.args) == {"task", "files"}
    assert bare.handle_tool_error is True
