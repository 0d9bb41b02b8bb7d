"""Agent spend: totals that include the tool's inner Gemini calls, and the budget middleware.

The real `create_agent`, our model as the agent's model, `GeminiCodeExecutionTool` (its
own Gemini call inside), the real SDK over the loopback server.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import pytest
from langchain.agents import create_agent
from langgraph.checkpoint.memory import InMemorySaver

from langchain_gemini_codeexec import GeminiCodeExecutionTool
from langchain_gemini_codeexec._core import pricing
from langchain_gemini_codeexec.cost import get_gemini_cost_callback
from langchain_gemini_codeexec.middleware import (
    GeminiBudgetExceededError,
    GeminiBudgetMiddleware,
)
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    RecordedRequest,
    code,
    function_call,
    response,
    result,
    text,
    usage,
)
from tests.support import GEMINI_3, MakeLLM

TOOL_MODEL = "gemini-2.5-flash"
CALL_USAGE = usage(prompt=1000, candidates=15)
FINAL_USAGE = usage(prompt=1500, candidates=10)
TOOL_USAGE = usage(prompt=900, candidates=40, thoughts=20, tool_use_prompt=60)
ASK = {"messages": [{"role": "user", "content": "What is 6 * 7?"}]}


def price(meta: dict[str, Any], model: str) -> float:
    total = pricing.price(meta, model)["total"]
    assert isinstance(total, float)
    return total


CALL, FINAL, TOOL = (
    price(CALL_USAGE, GEMINI_3),
    price(FINAL_USAGE, GEMINI_3),
    price(TOOL_USAGE, TOOL_MODEL),
)


def gemini(request: RecordedRequest) -> dict[str, Any]:
    """The agent's model asks the tool, then answers; the tool's own call runs code."""
    body = request.body or {}
    declares = any("functionDeclarations" in t for t in body.get("tools", []))
    if not declares:
        return response(
            code("print(6 * 7)"),
            result("42\n"),
            text("42"),
            usage=TOOL_USAGE,
            model_version=TOOL_MODEL,
        )
    parts = [p for c in body["contents"] for p in c.get("parts", [])]
    if any("functionResponse" in p for p in parts):
        return response(text("It is 42."), usage=FINAL_USAGE, model_version=GEMINI_3)
    (declaration,) = [d for t in body["tools"] for d in t.get("functionDeclarations", [])]
    call = function_call(declaration["name"], {"task": "6 * 7"}, id="c1")
    return response(call, usage=CALL_USAGE, model_version=GEMINI_3)


@pytest.fixture
def agent_parts(server: GeminiTestServer, make_llm: MakeLLM) -> tuple[Any, GeminiCodeExecutionTool]:
    server.responder = gemini
    return make_llm(), GeminiCodeExecutionTool(llm=make_llm(model=TOOL_MODEL, max_retries=0))


async def run(agent: Any, mode: str, value: Any = ASK, **kwargs: Any) -> dict[str, Any]:
    if mode == "invoke":
        return dict(agent.invoke(value, **kwargs))
    return dict(await agent.ainvoke(value, **kwargs))


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
async def test_block_total_includes_the_tools_inner_call(
    agent_parts: tuple[Any, GeminiCodeExecutionTool], mode: str
) -> None:
    llm, tool = agent_parts
    agent = create_agent(llm, tools=[tool])
    async with get_gemini_cost_callback() as cost:
        out = await run(agent, mode)
    assert out["messages"][-1].text == "It is 42."
    assert cost.by_model[GEMINI_3].calls == 2 and cost.by_model[TOOL_MODEL].calls == 1
    assert cost.by_model[TOOL_MODEL].cost == TOOL
    assert cost.total_cost == pytest.approx(CALL + FINAL + TOOL, rel=1e-12)


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
async def test_within_budget_the_run_spend_is_in_the_state(
    server: GeminiTestServer, agent_parts: tuple[Any, GeminiCodeExecutionTool], mode: str
) -> None:
    llm, tool = agent_parts
    agent = create_agent(llm, tools=[tool], middleware=[GeminiBudgetMiddleware(run_limit=1.0)])
    out = await run(agent, mode)
    assert out["messages"][-1].text == "It is 42."
    assert out["run_gemini_cost"] == pytest.approx(CALL + TOOL + FINAL, rel=1e-12)
    assert out["run_gemini_unpriced_calls"] == 0
    assert len(server.model_requests) == 3


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
async def test_end_behaviour_stops_before_the_next_model_call(
    server: GeminiTestServer, agent_parts: tuple[Any, GeminiCodeExecutionTool], mode: str
) -> None:
    """The first answer and the tool's call pass the limit: the agent ends with a message
    instead of asking the model again."""
    llm, tool = agent_parts
    budget = GeminiBudgetMiddleware(run_limit=CALL + TOOL / 2, exit_behavior="end")
    agent = create_agent(llm, tools=[tool], middleware=[budget])
    out = await run(agent, mode)
    last = out["messages"][-1]
    assert last.text.startswith("Gemini budget exceeded: run spend")
    assert out["run_gemini_cost"] == pytest.approx(CALL + TOOL, rel=1e-12)
    assert len(server.model_requests) == 2  # the agent's first call and the tool's


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
async def test_error_behaviour_raises_with_the_figures(
    server: GeminiTestServer, agent_parts: tuple[Any, GeminiCodeExecutionTool], mode: str
) -> None:
    llm, tool = agent_parts
    budget = GeminiBudgetMiddleware(run_limit=CALL / 2, exit_behavior="error")
    agent = create_agent(llm, tools=[tool], middleware=[budget])
    with pytest.raises(GeminiBudgetExceededError) as caught:
        await run(agent, mode)
    assert caught.value.run_cost == pytest.approx(CALL + TOOL, rel=1e-12)
    assert caught.value.run_limit == CALL / 2
    assert "run spend" in str(caught.value)
    assert len(server.model_requests) == 2


def test_thread_limit_holds_across_runs_while_run_spend_restarts(
    server: GeminiTestServer, agent_parts: tuple[Any, GeminiCodeExecutionTool]
) -> None:
    llm, tool = agent_parts
    budget = GeminiBudgetMiddleware(thread_limit=CALL + TOOL + FINAL)
    agent = create_agent(llm, tools=[tool], middleware=[budget], checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t1"}}
    first = agent.invoke(ASK, config)
    assert first["messages"][-1].text == "It is 42."
    second = agent.invoke(ASK, config)
    assert second["messages"][-1].text.startswith("Gemini budget exceeded: thread spend")
    assert second["run_gemini_cost"] == 0  # nothing spent in the second run
    assert len(server.model_requests) == 3


def test_limits_are_checked_when_built() -> None:
    with pytest.raises(ValueError, match="At least one limit"):
        GeminiBudgetMiddleware()
    with pytest.raises(ValueError, match="run_limit"):
        GeminiBudgetMiddleware(run_limit=-1)
    with pytest.raises(ValueError, match="thread_limit"):
        GeminiBudgetMiddleware(thread_limit=True)
    with pytest.raises(ValueError, match="exit_behavior"):
        GeminiBudgetMiddleware(run_limit=1, exit_behavior="stop")  # type: ignore[arg-type]


def test_without_langchain_the_import_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [n for n in sys.modules if n.startswith("langchain_gemini_codeexec.middleware")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "langchain.agents.middleware.types", None)
    middleware = importlib.import_module("langchain_gemini_codeexec.middleware")
    with pytest.raises(ImportError, match=r"langchain-gemini-codeexec\[agents\]"):
        middleware.GeminiBudgetMiddleware  # noqa: B018 - the lazy import is the test
