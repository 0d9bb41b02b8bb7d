"""Fixtures for the agent tests: the real google-genai SDK over HTTP to the loopback server.

- `server`: a `GeminiTestServer` answered by `ScriptedGemini` (anything enqueued first).
- `make_llm`: `ChatGeminiCodeExecution` pointed at it (Gemini 3 Flash unless told).
- `MODES` / `ask`: one call through invoke, stream, ainvoke or astream; the streamed
  chunks are added up and returned as the message to assert on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.runnables import Runnable

from langchain_gemini_codeexec import ChatGeminiCodeExecution
from langchain_gemini_codeexec.testing import GeminiTestServer, ScriptedGemini

API_KEY = "test-key-not-a-secret-0123456789"
GEMINI_3 = "gemini-3-flash-preview"
GEMINI_25 = "gemini-2.5-flash"
MODES = ("invoke", "stream", "ainvoke", "astream")

MakeLLM = Callable[..., ChatGeminiCodeExecution]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[GeminiTestServer]:
    for name in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI"):
        monkeypatch.delenv(name, raising=False)
    with GeminiTestServer(responder=ScriptedGemini()) as srv:
        yield srv


@pytest.fixture
def make_llm(server: GeminiTestServer) -> MakeLLM:
    def make(**settings: Any) -> ChatGeminiCodeExecution:
        params: dict[str, Any] = {
            "model": GEMINI_3,
            "api_key": API_KEY,
            "base_url": server.base_url,
            "max_retries": 0,
        }
        return ChatGeminiCodeExecution(**{**params, **settings})

    return make


def as_message(chunk: AIMessageChunk) -> AIMessage:
    """An added-up stream as the AIMessage `invoke` gives (stream `index` keys dropped)."""
    content = [
        {k: v for k, v in block.items() if k != "index"} if isinstance(block, dict) else block
        for block in chunk.content
    ]
    return AIMessage(
        content=content,
        tool_calls=chunk.tool_calls,
        response_metadata=chunk.response_metadata,
        usage_metadata=chunk.usage_metadata,
        id=chunk.id,
    )


def _added_dicts(outputs: list[dict[str, Any]]) -> dict[str, Any]:
    """`include_raw` streams yield pieces of one dict: messages add up, the rest is replaced."""
    total: dict[str, Any] = {}
    for piece in outputs:
        for key, value in piece.items():
            if isinstance(value, AIMessageChunk) and isinstance(total.get(key), AIMessageChunk):
                total[key] = total[key] + value
            else:
                total[key] = value
    return {k: as_message(v) if isinstance(v, AIMessageChunk) else v for k, v in total.items()}


async def ask(runnable: Runnable[Any, Any], value: Any, mode: str, **kwargs: Any) -> Any:
    """`runnable` called in `mode`; streamed outputs are added up (messages) or the last kept."""
    if mode == "invoke":
        return runnable.invoke(value, **kwargs)
    if mode == "ainvoke":
        return await runnable.ainvoke(value, **kwargs)
    outputs = (
        list(runnable.stream(value, **kwargs))
        if mode == "stream"
        else [o async for o in runnable.astream(value, **kwargs)]
    )
    assert outputs, "the stream yielded nothing"
    if isinstance(outputs[0], dict) and {"raw", "computation"} & set(outputs[0]):
        return _added_dicts(outputs)
    if not isinstance(outputs[0], AIMessageChunk):
        return outputs[-1]
    total = outputs[0]
    for chunk in outputs[1:]:
        total = total + chunk
    assert total.chunk_position == "last"
    return as_message(total)
