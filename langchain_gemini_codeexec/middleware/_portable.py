"""`PortableHistoryMiddleware`: Gemini's code runs in a form the next model accepts.

For `create_agent`: when the model about to be called is not `ChatGeminiCodeExecution`
(a fallback to Claude or GPT, a model picked by other middleware), the request's messages
go through `portable_messages` first; calls to Gemini get the history as it is, so Gemini
still receives its own parts byte for byte. The agent's state is never changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

try:
    from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
except ImportError as exc:  # pragma: no cover - exercised by a test that hides langchain
    raise ImportError(
        "langchain_gemini_codeexec.middleware needs LangChain's agents (langchain>=1.0); "
        "install them with: pip install 'langchain-gemini-codeexec[agents]'"
    ) from exc

from langchain_gemini_codeexec.chat_models import ChatGeminiCodeExecution
from langchain_gemini_codeexec.portable import portable_messages


def _for_model(request: ModelRequest[Any]) -> ModelRequest[Any]:
    if isinstance(request.model, ChatGeminiCodeExecution):
        return request
    messages = portable_messages(request.messages)
    return request.override(messages=messages)  # type: ignore[arg-type]


class PortableHistoryMiddleware(AgentMiddleware[Any, Any]):
    """Rewrites Gemini's code-execution blocks for any model that is not Gemini.

    Put it after `ModelFallbackMiddleware` in `middleware=[...]` (later is inner), so that
    it sees the fallback model each attempt calls:

        create_agent(
            ChatGeminiCodeExecution(...),
            middleware=[ModelFallbackMiddleware(claude, gpt), PortableHistoryMiddleware()],
        )
    """

    def wrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], ModelResponse[Any]],
    ) -> ModelResponse[Any]:
        return handler(_for_model(request))

    async def awrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> ModelResponse[Any]:
        return await handler(_for_model(request))
