"""Google Search and URL context beside code execution, answered with citations (issue 19,
point 2): `bind_tools([{"google_search": {}}, {"url_context": {}}])` on Gemini 2.5 and 3,
and the same built-ins handed to `create_agent`; the loopback `ScriptedGemini` grounds its
answer when those tools are on, as Gemini does."""

from __future__ import annotations

from typing import Any

import pytest
from langchain.agents import create_agent

from langchain_gemini_codeexec.testing import GeminiTestServer
from tests.support import GEMINI_3, GEMINI_25

PROMPT = "Compute 6 * 7 and check https://docs.example/answers for what it means."
BUILTINS = [{"google_search": {}}, {"url_context": {}}]


def citations(message: Any) -> list[dict[str, Any]]:
    return [
        cite
        for block in message.content_blocks
        if block["type"] == "text"
        for cite in block.get("annotations", [])
    ]


@pytest.mark.parametrize("model", [GEMINI_3, GEMINI_25])
async def test_search_and_url_context_beside_code_execution(
    server: GeminiTestServer, ask: Any, model: str
) -> None:
    llm = ask.model(model=model).bind_tools(BUILTINS)
    answer = await ask(llm, PROMPT)
    body = server.last_request.body
    assert body["tools"] == [{"codeExecution": {}}, {"googleSearch": {}}, {"urlContext": {}}]
    assert "toolConfig" not in body  # built-ins alone need no flag, on 2.5 as on 3
    msg = answer.message
    kinds = [b["type"] for b in msg.content_blocks]
    assert "server_tool_call" in kinds and "server_tool_result" in kinds  # it computed
    cites = citations(msg)
    assert [c["url"] for c in cites][:1] == ["https://docs.example/answers"]
    assert any(c["url"].startswith("https://search.example/") for c in cites)
    last_text = [b for b in msg.content_blocks if b["type"] == "text"][-1]
    for cite in cites:
        assert last_text["text"][cite["start_index"] : cite["end_index"]] == cite["cited_text"]
    grounding = msg.response_metadata["grounding_metadata"]
    assert grounding["webSearchQueries"] and grounding["searchEntryPoint"]["renderedContent"]
    assert msg.response_metadata["url_context_metadata"]["urlMetadata"][0]["retrievedUrl"] == (
        "https://docs.example/answers"
    )


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
async def test_agent_with_search_answers_with_citations(
    server: GeminiTestServer, make_llm: Any, mode: str
) -> None:
    agent = create_agent(model=make_llm(), tools=BUILTINS)
    question = {"messages": [{"role": "user", "content": PROMPT}]}
    out = agent.invoke(question) if mode == "invoke" else await agent.ainvoke(question)
    body = server.last_request.body
    assert {"googleSearch": {}} in body["tools"] and {"codeExecution": {}} in body["tools"]
    assert citations(out["messages"][-1])
