"""`bind` / `bind_tools` return a binding whose options reach the model's own methods.

LangChain's plain `RunnableBinding` forwards `submit_batch`, `create_cache` and token
counts to the model without the bound keyword arguments; these tests fail if the tools
bound with `bind_tools` are left out of what those methods send.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from langchain_core.load import dumpd
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.runnables import RunnableBinding
from pydantic import BaseModel, Field

from langchain_gemini_codeexec import ChatGeminiCodeExecution
from langchain_gemini_codeexec.caching import acreate_cache, create_cache
from langchain_gemini_codeexec.testing import GeminiTestServer

HISTORY = [SystemMessage("You are terse."), HumanMessage("The table is below. " * 400)]


class Weather(BaseModel):
    """Weather in a city."""

    city: str = Field(description="The city")


def _declared(body: dict[str, object]) -> bool:
    return "functionDeclarations" in json.dumps(body.get("tools", []))


def test_create_cache_through_bind_tools_holds_the_bound_tools(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    bound = make_llm(model="gemini-3-flash-preview").bind_tools([Weather], tool_choice="any")
    name = create_cache(bound, HISTORY, ttl=600)
    body = server.requests[-1].body
    assert name.startswith("cachedContents/")
    assert _declared(body) and body["toolConfig"]["functionCallingConfig"]["mode"] == "ANY"


async def test_acreate_cache_through_bind_tools_holds_the_bound_tools(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    bound = make_llm(model="gemini-3-flash-preview").bind_tools([Weather])
    await acreate_cache(bound, HISTORY, ttl=600)
    assert _declared(server.requests[-1].body)


async def test_token_counts_through_a_binding_include_bound_tools_and_options(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    llm = make_llm(model="gemini-3-flash-preview")
    bound = llm.bind_tools([Weather]).bind(temperature=0.25)
    bound.get_num_tokens_from_messages(HISTORY)  # type: ignore[attr-defined]
    await bound.aget_num_tokens_from_messages(HISTORY)  # type: ignore[attr-defined]
    llm.get_num_tokens_from_messages(HISTORY)
    sync_body, async_body, plain_body = (r.body for r in server.requests[-3:])
    assert sync_body == async_body != plain_body
    assert "Weather" in json.dumps(sync_body) and "Weather" not in json.dumps(plain_body)
    assert "0.25" in json.dumps(sync_body)


def test_the_binding_serializes_as_a_plain_runnable_binding(
    make_llm: Callable[..., ChatGeminiCodeExecution],
) -> None:
    bound = make_llm().bind(temperature=0.5).bind(top_k=3)
    assert isinstance(bound, RunnableBinding)
    assert bound.kwargs == {"temperature": 0.5, "top_k": 3}  # chained binds merge
    assert dumpd(bound)["id"] == RunnableBinding.lc_id()
