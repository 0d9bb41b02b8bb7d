"""`create_agent` with LangChain's refusal and fallback middleware (issue 19, point 1).

The real `langchain.agents.create_agent`, `ModelRefusalMiddleware` and
`ModelFallbackMiddleware`, the real google-genai SDK, the loopback server answered by
`ScriptedGemini` (refusing what matches its `refuse` / `block` patterns).
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import ModelFallbackMiddleware

try:
    from langchain.agents.middleware import ModelRefusalMiddleware
except ImportError:  # a langchain older than the middleware (the floor venv may pick one)
    pytest.skip("this langchain has no ModelRefusalMiddleware", allow_module_level=True)
from langchain.agents.structured_output import ProviderStrategy
from langchain_core.exceptions import ModelRefusalError
from langchain_core.messages import AIMessage
from pydantic import BaseModel

from langchain_gemini_codeexec import BlockedPromptError
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    Reply,
    ScriptedGemini,
    blocked,
    refused,
    stream_chunks,
    text,
)


class Stats(BaseModel):
    mean: float
    count: int


@pytest.fixture
def server_responder(server_responder: ScriptedGemini) -> ScriptedGemini:
    return ScriptedGemini(refuse=r"\bweapon\b", block=r"\bforbidden\b")


def ask(question: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": question}]}


async def run(agent: Any, question: str, mode: str) -> dict[str, Any]:
    if mode == "invoke":
        return dict(agent.invoke(ask(question)))
    if mode == "ainvoke":
        return dict(await agent.ainvoke(ask(question)))
    # "messages" makes the model node stream its answer (the refusal comes last).
    modes = ["messages", "values"]
    last: dict[str, Any] = {}
    streamed = 0
    if mode == "stream":
        for kind, item in agent.stream(ask(question), stream_mode=modes):
            streamed += kind == "messages"
            last = item if kind == "values" else last
    else:
        async for kind, item in agent.astream(ask(question), stream_mode=modes):
            streamed += kind == "messages"
            last = item if kind == "values" else last
    assert streamed, "the model did not stream"
    return last


MODES = ["invoke", "ainvoke", "stream", "astream"]


@pytest.mark.parametrize("mode", MODES)
async def test_refusal_middleware_raises_for_a_refused_candidate(
    server: GeminiTestServer, make_llm: Any, mode: str
) -> None:
    agent = create_agent(model=make_llm(), tools=[], middleware=[ModelRefusalMiddleware()])
    with pytest.raises(ModelRefusalError) as caught:
        await run(agent, "how to build a weapon", mode)
    raw = caught.value.raw_message
    assert isinstance(raw, AIMessage)
    assert raw.content_blocks[-1]["type"] == "refusal"
    assert raw.content_blocks[-1]["extras"]["finish_reason"] == "SAFETY"


@pytest.mark.parametrize("mode", ["invoke", "astream"])
async def test_without_the_middleware_the_refusal_is_the_answer(
    server: GeminiTestServer, make_llm: Any, mode: str
) -> None:
    agent = create_agent(model=make_llm(), tools=[])
    out = await run(agent, "how to build a weapon", mode)
    last = out["messages"][-1]
    assert [b["type"] for b in last.content_blocks] == ["refusal"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("verdict", ["refused", "blocked"])
async def test_fallback_catches_refusals_and_blocked_prompts(
    server: GeminiTestServer, make_llm: Any, mode: str, verdict: str
) -> None:
    """Listed before the refusal middleware, the fallback model answers instead."""
    primary = make_llm()
    fallback = make_llm(model="gemini-2.5-pro")
    first = refused(text("I will not"), reason="SAFETY") if verdict == "refused" else blocked()
    answer = refused(text("Here is a safe answer."), reason="STOP")
    streamed = "stream" in mode
    for reply in (first, answer):
        server.enqueue(Reply.stream(stream_chunks(reply)) if streamed else reply)
    question = "a question"
    agent = create_agent(
        model=primary,
        tools=[],
        middleware=[ModelFallbackMiddleware(fallback), ModelRefusalMiddleware()],
    )
    out = await run(agent, question, mode)
    assert out["messages"][-1].text == "Here is a safe answer."
    models = [r.model for r in server.model_requests]
    assert models == [primary.model, "gemini-2.5-pro"]
    assert [r.stream for r in server.model_requests] == [streamed, streamed]


async def test_blocked_prompt_reaches_the_agent_as_a_model_refusal_error(
    server: GeminiTestServer, make_llm: Any
) -> None:
    agent = create_agent(model=make_llm(), tools=[], middleware=[ModelRefusalMiddleware()])
    with pytest.raises(ModelRefusalError) as caught:
        await agent.ainvoke(ask("something forbidden"))
    assert isinstance(caught.value, BlockedPromptError)
    assert caught.value.reason == "SAFETY"


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
async def test_refused_structured_answer_is_a_refusal_not_a_validation_error(
    server: GeminiTestServer, make_llm: Any, mode: str
) -> None:
    agent = create_agent(
        model=make_llm(),
        tools=[],
        response_format=ProviderStrategy(Stats),
        middleware=[ModelRefusalMiddleware()],
    )
    server.enqueue(refused(text('{"mean": '), reason="RECITATION"))
    with pytest.raises(ModelRefusalError) as caught:
        await run(agent, "stats of 1, 2", mode)
    assert caught.value.raw_message is not None
