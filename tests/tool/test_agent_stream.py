"""The tool's own Gemini call stays inside the tool: an agent streamed with
`stream_mode="messages"` shows the agent's messages and the tool's result, never the
chunks of the tool's inner model call; tracing still shows that call as the tool's child.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from langchain.agents import create_agent
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage

from langchain_gemini_codeexec import ChatGeminiCodeExecution, GeminiCodeExecutionTool
from langchain_gemini_codeexec.testing import GeminiTestServer
from tests.tool.test_agent import ToolCallingModel, cube


class RunTree(BaseCallbackHandler):
    """Records each run's kind, name and parent, as a tracer sees them."""

    def __init__(self) -> None:
        self.runs: dict[UUID, tuple[str, str, UUID | None, list[str]]] = {}

    def _add(
        self, kind: str, serialized: Any, run_id: UUID, parent: UUID | None, **kw: Any
    ) -> None:
        name = kw.get("name") or (serialized or {}).get("name") or ""
        self.runs[run_id] = (kind, str(name), parent, list(kw.get("tags") or []))

    def on_chat_model_start(
        self,
        serialized: Any,
        messages: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kw: Any,
    ) -> None:
        self._add("llm", serialized, run_id, parent_run_id, **kw)

    def on_tool_start(
        self,
        serialized: Any,
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kw: Any,
    ) -> None:
        self._add("tool", serialized, run_id, parent_run_id, **kw)


def inner_calls_are_children_of_the_tool(tree: RunTree, server: GeminiTestServer) -> None:
    tools = {rid for rid, (kind, *_rest) in tree.runs.items() if kind == "tool"}
    inner = [run for run in tree.runs.values() if run[0] == "llm" and run[2] in tools]
    assert len(tools) == 2 and len(inner) == 2  # one Gemini call per tool call, each a child
    assert len(server.model_requests) == 2


def streamed_by_node(items: list[tuple[BaseMessage, dict[str, Any]]]) -> dict[str, list[str]]:
    by_node: dict[str, list[str]] = {}
    for message, metadata in items:
        by_node.setdefault(metadata["langgraph_node"], []).append(type(message).__name__)
    return by_node


def check_stream(items: list[tuple[BaseMessage, dict[str, Any]]]) -> None:
    by_node = streamed_by_node(items)
    # The tools node streams only its ToolMessages: no chunk of the inner Gemini answer.
    assert by_node["tools"] == ["ToolMessage", "ToolMessage"], by_node
    assert not any(
        isinstance(m, (AIMessage, AIMessageChunk))
        for m, meta in items
        if meta["langgraph_node"] == "tools"
    )
    said = "".join(m.text for m, meta in items if meta["langgraph_node"] == "model")
    assert "3 cubed is 27." in said and "11 cubed is 1331." in said  # the agent's own answer


@pytest.mark.parametrize("streaming", [False, True], ids=["invoke", "streaming"])
def test_stream_messages_leaves_out_the_tools_inner_model(
    server: GeminiTestServer,
    make_llm: Callable[..., ChatGeminiCodeExecution],
    make_tool: Callable[..., GeminiCodeExecutionTool],
    streaming: bool,
) -> None:
    server.responder = cube
    agent = create_agent(ToolCallingModel(), tools=[make_tool(make_llm(streaming=streaming))])
    tree = RunTree()
    items = list(
        agent.stream(
            {"messages": [{"role": "user", "content": "cubes of 3 and 11?"}]},
            {"callbacks": [tree]},
            stream_mode="messages",
        )
    )
    check_stream(items)
    inner_calls_are_children_of_the_tool(tree, server)


async def test_astream_messages_leaves_out_the_tools_inner_model(
    server: GeminiTestServer,
    make_llm: Callable[..., ChatGeminiCodeExecution],
    make_tool: Callable[..., GeminiCodeExecutionTool],
    close_async: list[ChatGeminiCodeExecution],
) -> None:
    server.responder = cube
    llm = make_llm()
    close_async.append(llm)
    agent = create_agent(ToolCallingModel(), tools=[make_tool(llm)])
    tree = RunTree()
    items = [
        item
        async for item in agent.astream(
            {"messages": [{"role": "user", "content": "cubes?"}]},
            {"callbacks": [tree]},
            stream_mode="messages",
        )
    ]
    check_stream(items)
    inner_calls_are_children_of_the_tool(tree, server)
