"""A LangChain agent on a non-Gemini model calls the tool (in parallel) and uses its answers."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from langchain.agents import create_agent
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from langchain_gemini_codeexec import (
    ChatGeminiCodeExecution,
    CodeExecutionReport,
    GeminiCodeExecutionTool,
)
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    RecordedRequest,
    code,
    response,
    result,
    text,
)


class ToolCallingModel(BaseChatModel):
    """A stand-in for any provider's tool-calling model: asks two questions at once,
    then answers with what the tool messages said."""

    tool_names: list[str] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "fake-tool-caller"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        return self.model_copy(update={"tool_names": [t.name for t in tools]})

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        results = [m for m in messages if isinstance(m, ToolMessage)]
        if not results:
            (name,) = self.tool_names
            calls = [
                {"name": name, "args": {"task": f"cube {n}"}, "id": f"cube-{n}"} for n in (3, 11)
            ]
            message = AIMessage("", tool_calls=calls)
        else:
            said = " | ".join(str(r.content).split("\n\n")[0] for r in results)
            message = AIMessage(f"Tool said: {said}")
        return ChatResult(generations=[ChatGeneration(message=message)])


def cube(request: RecordedRequest) -> dict[str, Any]:
    n = int(re.findall(r"cube (\d+)", request.text)[-1])
    return response(code(f"print({n} ** 3)"), result(f"{n**3}\n"), text(f"{n} cubed is {n**3}."))


def check_agent_state(state: dict[str, Any], server: GeminiTestServer) -> None:
    tool_messages = [m for m in state["messages"] if isinstance(m, ToolMessage)]
    by_id = {m.tool_call_id: m for m in tool_messages}
    assert set(by_id) == {"cube-3", "cube-11"}
    for n in (3, 11):
        report = by_id[f"cube-{n}"].artifact
        assert isinstance(report, CodeExecutionReport)
        assert report.answer == f"{n} cubed is {n**3}." and report.runs[0].output == f"{n**3}\n"
    final = state["messages"][-1]
    assert isinstance(final, AIMessage)
    assert "3 cubed is 27." in final.text and "11 cubed is 1331." in final.text
    assert len(server.model_requests) == 2


def test_agent_on_another_model_uses_the_tool(
    server: GeminiTestServer, make_tool: Callable[..., GeminiCodeExecutionTool]
) -> None:
    server.responder = cube
    agent = create_agent(ToolCallingModel(), tools=[make_tool()])
    state = agent.invoke({"messages": [{"role": "user", "content": "cubes of 3 and 11?"}]})
    check_agent_state(state, server)


async def test_async_agent_runs_parallel_tool_calls(
    server: GeminiTestServer,
    make_llm: Callable[..., ChatGeminiCodeExecution],
    make_tool: Callable[..., GeminiCodeExecutionTool],
    close_async: list[ChatGeminiCodeExecution],
) -> None:
    server.responder = cube
    llm = make_llm()
    close_async.append(llm)
    agent = create_agent(ToolCallingModel(), tools=[make_tool(llm)])
    state = await agent.ainvoke({"messages": [{"role": "user", "content": "cubes?"}]})
    check_agent_state(state, server)
