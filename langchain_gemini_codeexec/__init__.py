"""Gemini code execution for LangChain and LangGraph.

- `ChatGeminiCodeExecution`: a chat model whose answers keep every part Gemini sent.
- `GeminiCodeExecutionTool`: Gemini's sandbox as a tool for an agent on any model.
- `CodeExecutionReport`: the answer, the code runs, their outputs and charts.
- `langchain_gemini_codeexec.testing`: an offline Gemini endpoint for tests.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_gemini_codeexec.batch import BatchResult, GeminiBatchJob
    from langchain_gemini_codeexec.chat_models import ChatGeminiCodeExecution
    from langchain_gemini_codeexec.errors import (
        BatchJobError,
        BatchRequestError,
        BatchTimeoutError,
        BlockedPromptError,
        CacheGoneError,
        GeminiAPIError,
        GeminiAuthenticationError,
        GeminiCodeExecutionError,
        GeminiConnectionError,
        GeminiContextOverflowError,
        GeminiInvalidRequestError,
        GeminiNotFoundError,
        GeminiPermissionDeniedError,
        GeminiRateLimitError,
        GeminiRedirectError,
        GeminiRequestTimeoutError,
        GeminiServerError,
        GeminiTimeoutError,
        IncompleteResponseError,
        InvalidMessageError,
    )
    from langchain_gemini_codeexec.report import CodeExecutionReport, CodeRun
    from langchain_gemini_codeexec.tools import GeminiCodeExecutionTool

# Imported on first use: a plain `import langchain_gemini_codeexec` stays cheap.
_EXPORTS = {
    "ChatGeminiCodeExecution": "chat_models",
    "GeminiCodeExecutionTool": "tools",
    "CodeExecutionReport": "report",
    "CodeRun": "report",
    "GeminiBatchJob": "batch",
    "BatchResult": "batch",
    "BatchJobError": "errors",
    "BatchRequestError": "errors",
    "BatchTimeoutError": "errors",
    "BlockedPromptError": "errors",
    "CacheGoneError": "errors",
    "GeminiAPIError": "errors",
    "GeminiAuthenticationError": "errors",
    "GeminiCodeExecutionError": "errors",
    "GeminiConnectionError": "errors",
    "GeminiContextOverflowError": "errors",
    "GeminiInvalidRequestError": "errors",
    "GeminiNotFoundError": "errors",
    "GeminiPermissionDeniedError": "errors",
    "GeminiRateLimitError": "errors",
    "GeminiRedirectError": "errors",
    "GeminiRequestTimeoutError": "errors",
    "GeminiServerError": "errors",
    "GeminiTimeoutError": "errors",
    "IncompleteResponseError": "errors",
    "InvalidMessageError": "errors",
}

__all__ = [
    "BatchJobError",
    "BatchRequestError",
    "BatchResult",
    "BatchTimeoutError",
    "BlockedPromptError",
    "CacheGoneError",
    "ChatGeminiCodeExecution",
    "CodeExecutionReport",
    "CodeRun",
    "GeminiAPIError",
    "GeminiAuthenticationError",
    "GeminiBatchJob",
    "GeminiCodeExecutionError",
    "GeminiCodeExecutionTool",
    "GeminiConnectionError",
    "GeminiContextOverflowError",
    "GeminiInvalidRequestError",
    "GeminiNotFoundError",
    "GeminiPermissionDeniedError",
    "GeminiRateLimitError",
    "GeminiRedirectError",
    "GeminiRequestTimeoutError",
    "GeminiServerError",
    "GeminiTimeoutError",
    "IncompleteResponseError",
    "InvalidMessageError",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'langchain_gemini_codeexec' has no attribute {name!r}")
    value = getattr(import_module(f"langchain_gemini_codeexec.{module}"), name)
    globals()[name] = value
    return value
