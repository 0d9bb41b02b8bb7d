"""Agent middleware for LangChain's `create_agent` (needs the `agents` extra:
`pip install 'langchain-gemini-codeexec[agents]'`).

- `GeminiBudgetMiddleware`: stops the agent once its Gemini spend passes a limit.
- `PortableHistoryMiddleware`: gives a model that is not Gemini (a fallback to Claude or
  GPT) the history with Gemini's code runs as text and its charts as images.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_gemini_codeexec.middleware._budget import (
        GeminiBudgetExceededError,
        GeminiBudgetMiddleware,
        GeminiBudgetState,
    )
    from langchain_gemini_codeexec.middleware._portable import PortableHistoryMiddleware

# Imported on first use: each needs `langchain`, an optional dependency.
_EXPORTS = {
    "GeminiBudgetMiddleware": "_budget",
    "GeminiBudgetExceededError": "_budget",
    "GeminiBudgetState": "_budget",
    "PortableHistoryMiddleware": "_portable",
}

__all__ = [
    "GeminiBudgetExceededError",
    "GeminiBudgetMiddleware",
    "GeminiBudgetState",
    "PortableHistoryMiddleware",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(
            f"module 'langchain_gemini_codeexec.middleware' has no attribute {name!r}"
        )
    value = getattr(import_module(f"langchain_gemini_codeexec.middleware.{module}"), name)
    globals()[name] = value
    return value
