"""ModelFallbackMiddleware from Gemini to GPT or Claude, mid-conversation, with
PortableHistoryMiddleware: the fallback model's request (sent over real HTTP to a local
stand-in for OpenAI / Anthropic) fits its SDK's request type and carries the code, the
outputs and the charts; Gemini's own calls still get Gemini's parts.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import ModelFallbackMiddleware
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from langchain_gemini_codeexec import ChatGeminiCodeExecution
from langchain_gemini_codeexec.middleware import PortableHistoryMiddleware
from langchain_gemini_codeexec.testing import GeminiTestServer, Reply
from tests.interop.conftest import TARGETS, Providers
from tests.interop.sdk_types import check, errors
from tests.interop.test_portable_payloads import (
    code_answer,
    everything_is_kept,
)

ANSWER = "Saved; the mean is 6."
_REPLIES: dict[str, dict[str, Any]] = {
    "/v1/chat/completions": {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": ANSWER},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    },
    "/v1/responses": {
        "id": "resp_1",
        "object": "response",
        "created_at": 0,
        "status": "completed",
        "model": "gpt-4o",
        "output": [
            {
                "type": "message",
                "id": "msg_1",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": ANSWER, "annotations": []}],
            }
        ],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": 1,
            "output_tokens": 1,
            "total_tokens": 2,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        },
    },
    "/v1/messages": {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": [{"type": "text", "text": ANSWER}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1},
    },
}


class OtherProvider:
    """A local stand-in for the OpenAI and Anthropic APIs: records each request body."""

    def __init__(self) -> None:
        self.bodies: list[tuple[str, dict[str, Any]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.bodies.append((self.path, body))
                reply = json.dumps(_REPLIES[self.path]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        # A short poll: shutdown() waits up to one poll interval (0.5 s by default).
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def other() -> Iterator[OtherProvider]:
    provider = OtherProvider()
    yield provider
    provider.close()


@tool
def save_result(value: int) -> str:
    """Save a computed value."""
    return "saved"


def agent_for(gemini: ChatGeminiCodeExecution, fallback: Any, portable: bool = True) -> Any:
    middleware: list[Any] = [ModelFallbackMiddleware(fallback)]
    if portable:
        middleware.append(PortableHistoryMiddleware())
    return create_agent(gemini, tools=[save_result], middleware=middleware)


def fallback_model(providers: Providers, target: str, url: str) -> Any:
    """The next model, on the local stand-in (no retries: a failure is the test's)."""
    base_url = url if target == "anthropic" else f"{url}/v1"
    return providers.model(target, base_url=base_url, max_retries=0)


def check_run(
    state: dict[str, Any], server: GeminiTestServer, other: OtherProvider, request_type: Any
) -> None:
    messages = state["messages"]
    assert isinstance(messages[-1], AIMessage) and messages[-1].text == ANSWER
    assert any(isinstance(m, ToolMessage) and m.content == "saved" for m in messages)
    # Gemini's second call (which failed) got Gemini's own parts, untouched.
    second = server.model_requests[1]
    kinds = {key for c in second.contents for p in c["parts"] for key in p}
    assert {"executableCode", "codeExecutionResult", "inlineData", "functionCall"} <= kinds
    ((_path, body),) = other.bodies
    check(body, request_type)
    everything_is_kept(body)


@pytest.mark.parametrize("target", TARGETS)
def test_fallback_mid_conversation(
    target: str,
    server: GeminiTestServer,
    make_llm: Any,
    other: OtherProvider,
    providers: Providers,
) -> None:
    server.enqueue(code_answer(), Reply.error(503, "The model is overloaded."))
    gemini = make_llm(model="gemini-3-flash-preview", max_retries=0)
    agent = agent_for(gemini, fallback_model(providers, target, other.url))
    state = agent.invoke({"messages": [HumanMessage("Mean of 4, 6, 8? Save it.")]})
    check_run(state, server, other, providers.request_types[target])


# One target in the fast suite (the sync test covers all three); the rest in the slow set.
SLOW_TARGETS = [
    pytest.param(t, marks=() if t == "chat-completions" else pytest.mark.slow) for t in TARGETS
]


@pytest.mark.parametrize("target", SLOW_TARGETS)
async def test_async_fallback_mid_conversation(
    target: str,
    server: GeminiTestServer,
    make_llm: Any,
    other: OtherProvider,
    providers: Providers,
    close_async: list[ChatGeminiCodeExecution],
) -> None:
    server.enqueue(code_answer(), Reply.error(503, "The model is overloaded."))
    gemini = make_llm(model="gemini-3-flash-preview", max_retries=0)
    close_async.append(gemini)
    agent = agent_for(gemini, fallback_model(providers, target, other.url))
    state = await agent.ainvoke({"messages": [HumanMessage("Mean of 4, 6, 8? Save it.")]})
    check_run(state, server, other, providers.request_types[target])


@pytest.mark.parametrize("target", SLOW_TARGETS)
def test_without_the_middleware_the_request_does_not_fit(
    target: str,
    server: GeminiTestServer,
    make_llm: Any,
    other: OtherProvider,
    providers: Providers,
) -> None:
    """The gap the middleware closes: the raw history gives a request the SDK's types
    refuse (and the real APIs answer 400 to)."""
    server.enqueue(code_answer(), Reply.error(503, "The model is overloaded."))
    gemini = make_llm(model="gemini-3-flash-preview", max_retries=0)
    fallback = fallback_model(providers, target, other.url)
    agent = agent_for(gemini, fallback, portable=False)
    agent.invoke({"messages": [HumanMessage("Mean of 4, 6, 8? Save it.")]})
    ((_path, body),) = other.bodies
    assert errors(body, providers.request_types[target])


def test_gemini_calls_are_left_alone(server: GeminiTestServer, make_llm: Any) -> None:
    """When the call goes to Gemini, the history is not rewritten."""
    server.enqueue(
        code_answer(),
        {
            "candidates": [
                {"content": {"role": "model", "parts": [{"text": "Done."}]}, "finishReason": "STOP"}
            ]
        },
    )
    gemini = make_llm(model="gemini-3-flash-preview", max_retries=0)
    agent = create_agent(gemini, tools=[save_result], middleware=[PortableHistoryMiddleware()])
    state = agent.invoke({"messages": [HumanMessage("Mean? Save it.")]})
    assert state["messages"][-1].text == "Done."
    model_turn = next(c for c in server.model_requests[1].contents if c["role"] == "model")
    assert model_turn["parts"][3]["executableCode"]["code"].startswith("import statistics")


def test_importing_without_langchain_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(sys.modules):
        if name.startswith("langchain_gemini_codeexec.middleware"):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "langchain.agents.middleware", None)
    with pytest.raises(ImportError, match=r"pip install 'langchain-gemini-codeexec\[agents\]'"):
        from langchain_gemini_codeexec.middleware import PortableHistoryMiddleware  # noqa: F401
