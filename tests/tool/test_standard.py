"""langchain-tests standard suites for GeminiCodeExecutionTool (integration: loopback server)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from langchain_core.tools import BaseTool
from langchain_tests.integration_tests import ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests

from langchain_gemini_codeexec import ChatGeminiCodeExecution, GeminiCodeExecutionTool
from langchain_gemini_codeexec.testing import GeminiTestServer, code, image, response, result, text
from tests.support import API_KEY

EXAMPLE_ARGS = {"task": "What is 6 times 7? Run code to check.", "files": []}


def answer(request: Any) -> dict[str, Any]:
    return response(
        text("Checking. "), code("print(6 * 7)"), result("42\n"), image(b"\x89PNG\r\n"), text("42")
    )


class TestGeminiCodeExecutionToolUnit(ToolsUnitTests):
    @property
    def tool_constructor(self) -> type[GeminiCodeExecutionTool]:
        return GeminiCodeExecutionTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        llm = ChatGeminiCodeExecution(api_key=API_KEY, base_url="http://127.0.0.1:9")
        return {"llm": llm}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return EXAMPLE_ARGS

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return {"GOOGLE_API_KEY": "key-from-env"}, {}, {"name": "gemini_code_execution"}


@pytest.fixture(scope="module")
def standard_server() -> Iterator[GeminiTestServer]:
    with GeminiTestServer(responder=answer) as srv:
        yield srv


class TestGeminiCodeExecutionToolIntegration(ToolsIntegrationTests):
    @property
    def tool_constructor(self) -> type[GeminiCodeExecutionTool]:
        return GeminiCodeExecutionTool

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return EXAMPLE_ARGS

    @pytest.fixture
    async def tool(self, standard_server: GeminiTestServer) -> AsyncIterator[BaseTool]:
        llm = ChatGeminiCodeExecution(api_key=API_KEY, base_url=standard_server.base_url)
        yield GeminiCodeExecutionTool(llm=llm)
        await llm.genai_client.aio.aclose()
        llm.genai_client.close()
