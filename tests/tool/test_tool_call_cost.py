"""What a tool call costs beyond its model call: `_run`'s type hints resolved once at
import (LangChain reads them on every call), and the model's options resolved once.

Through the real SDK to the loopback server, sync and async: LangChain still hands the
tool its run manager (the model call is a child run of the tool run) and no config.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.callbacks.manager import (
    AsyncCallbackManagerForToolRun,
    CallbackManagerForToolRun,
)
from langchain_core.tools.base import _get_runnable_config_param
from langchain_core.utils._signature import _signature_parameters

from langchain_gemini_codeexec import ChatGeminiCodeExecution, GeminiCodeExecutionTool
from langchain_gemini_codeexec._core import options as _options
from langchain_gemini_codeexec.report import CodeExecutionReport
from langchain_gemini_codeexec.testing import GeminiTestServer, code, response, result, text
from tests.support import MakeLLM, MakeTool, tool_call


def _answer() -> dict[str, Any]:
    return response(code("print(6 * 7)"), result("42\n"), text("It is 42."))


@pytest.mark.parametrize(
    ("method", "manager"),
    [("_run", CallbackManagerForToolRun), ("_arun", AsyncCallbackManagerForToolRun)],
)
def test_run_hints_are_types_not_strings(method: str, manager: type) -> None:
    function = getattr(GeminiCodeExecutionTool, method)
    assert function.__annotations__ == {
        "task": str,
        "files": list[str] | None,
        "run_manager": manager | None,
        "return": tuple[str, CodeExecutionReport],
    }
    assert typing.get_type_hints(function) == function.__annotations__
    signature = inspect.signature(function)
    assert list(signature.parameters) == ["self", "task", "files", "run_manager"]
    assert signature.parameters["run_manager"].annotation == manager | None


class _Runs(BaseCallbackHandler):
    def __init__(self) -> None:
        self.tool_run: UUID | None = None
        self.model_parent: UUID | None = None

    def on_tool_start(self, serialized: Any, input_str: str, *, run_id: UUID, **_: Any) -> None:
        self.tool_run = run_id

    def on_chat_model_start(
        self,
        serialized: Any,
        messages: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **_: Any,
    ) -> None:
        self.model_parent = parent_run_id


def test_langchain_still_passes_the_run_manager_and_no_config(
    server: GeminiTestServer, make_tool: MakeTool
) -> None:
    tool = make_tool()
    assert _signature_parameters(tool._run).get("run_manager") is not None
    assert _get_runnable_config_param(tool._run) is None
    assert tool._injected_args_keys == frozenset()
    server.enqueue(_answer())
    runs = _Runs()
    message = tool.invoke(tool_call(tool, task="six times seven"), {"callbacks": [runs]})
    assert "It is 42." in message.content
    assert runs.tool_run is not None and runs.model_parent == runs.tool_run


async def test_async_tool_calls_are_child_runs_too(
    server: GeminiTestServer, make_tool: MakeTool
) -> None:
    tool = make_tool()
    server.enqueue(_answer())
    runs = _Runs()
    message = await tool.ainvoke(tool_call(tool, task="six times seven"), {"callbacks": [runs]})
    assert "It is 42." in message.content
    assert runs.tool_run is not None and runs.model_parent == runs.tool_run
    await tool.llm.aclose()


def test_tool_calls_reuse_the_models_resolved_options(
    server: GeminiTestServer,
    make_llm: MakeLLM,
    make_tool: MakeTool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resolved: list[dict[str, Any]] = []
    real = _options.resolve

    def counting(defaults: Any, kwargs: Any, stop: Any = None) -> _options.CallOptions:
        resolved.append(dict(kwargs))
        return real(defaults, kwargs, stop)

    monkeypatch.setattr(_options, "resolve", counting)
    tool = make_tool(make_llm(temperature=0.1))
    server.enqueue(_answer(), _answer())
    for _ in range(2):
        tool.invoke({"task": "six times seven"})
    assert resolved == [{}]  # once, for the model's own options
    assert [r.body["tools"] for r in server.requests] == [[{"codeExecution": {}}]] * 2
    assert server.last_request.body["generationConfig"] == {"temperature": 0.1}


@pytest.mark.parametrize("hook", ["_generate", "_agenerate"])
def test_the_models_hook_signature_is_computed_once(hook: str) -> None:
    """LangChain reads it per call to decide whether to pass `run_manager`."""
    function = getattr(ChatGeminiCodeExecution, hook)
    assert isinstance(function.__dict__.get("__signature__"), inspect.Signature)
    stored = function.__signature__
    del function.__signature__
    try:
        assert inspect.signature(function) == stored
    finally:
        function.__signature__ = stored
    assert "run_manager" in _signature_parameters(
        getattr(ChatGeminiCodeExecution(api_key="k"), hook)
    )
