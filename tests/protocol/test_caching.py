"""Explicit context caching through the real SDK over HTTP: create, use, update, delete.

What each request carries and leaves out, errors before sending, usage, in each mode of
the `ask` fixture (invoke, stream, ainvoke, astream).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from google import genai
from google.genai import types
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from langchain_gemini_codeexec import ChatGeminiCodeExecution, InvalidMessageError
from langchain_gemini_codeexec.caching import (
    acreate_cache,
    adelete_cache,
    aget_cache,
    aupdate_cache,
    create_cache,
    delete_cache,
    update_cache,
)
from langchain_gemini_codeexec.testing import GeminiTestServer, Reply, response, text, usage
from tests.support import API_KEY

MODEL = "gemini-2.5-flash"
DOC = "Quarterly sales by region. " + "north 12 south 9 east 14 west 7. " * 200  # ~1.6k tokens
SYSTEM = "You are a careful analyst."


def cached_messages() -> list[Any]:
    return [SystemMessage(SYSTEM), HumanMessage(DOC)]


def answer(t: str = "ok") -> dict[str, Any]:
    return response(text(t), usage=usage(prompt=5, candidates=3))


def generate_requests(server: GeminiTestServer) -> list[Any]:
    return [r for r in server.requests if r.action in ("generateContent", "streamGenerateContent")]


def cache_requests(server: GeminiTestServer) -> list[Any]:
    return [r for r in server.requests if r.api == "caches"]


# --------------------------------------------------------------------- create


def test_create_cache_sends_what_invoke_would(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    llm = make_llm()
    server.enqueue(answer())
    llm.invoke(cached_messages())
    invoked = server.last_request.body
    name = create_cache(llm, cached_messages(), ttl=3600, display_name="sales")
    created = server.last_request
    assert created.method == "POST" and created.path == "/v1beta/cachedContents"
    assert created.body["model"] == f"models/{MODEL}"
    for key in ("contents", "systemInstruction", "tools"):
        assert created.body[key] == invoked[key], key
    assert created.body["tools"] == [{"codeExecution": {}}]
    assert created.body["ttl"] == "3600s"
    assert created.body["displayName"] == "sales"
    assert "generationConfig" not in created.body
    assert name.startswith("cachedContents/") and server.caches.caches[name].tokens > 1024


def test_create_cache_with_bound_tools_and_tool_choice(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    def lookup(city: str) -> str:
        """Look a city up."""
        return city

    llm = make_llm(model="gemini-3-flash-preview")
    create_cache(llm, cached_messages(), tools=[lookup], tool_choice="auto")
    body = server.last_request.body
    names = [d["name"] for t in body["tools"] for d in t.get("functionDeclarations", [])]
    assert names == ["lookup"] and {"codeExecution": {}} in body["tools"]
    assert body["toolConfig"]["functionCallingConfig"]["mode"] == "AUTO"


async def test_acreate_update_get_delete(
    server: GeminiTestServer, async_transport: str, make_llm: Callable[..., Any]
) -> None:
    llm = make_llm()
    name = await acreate_cache(llm, cached_messages(), ttl="90m")
    assert server.last_request.body["ttl"] == "5400s"
    resource = await aupdate_cache(llm, name, ttl=dt.timedelta(hours=2))
    patch = server.last_request
    assert patch.method == "PATCH" and patch.path == f"/v1beta/{name}"
    assert patch.query == {"updateMask": "ttl"} and patch.body == {"ttl": "7200s"}
    assert resource["name"] == name and "expireTime" in resource
    got = await aget_cache(llm, name)
    assert server.last_request.method == "GET" and got["model"] == f"models/{MODEL}"
    await adelete_cache(llm, name)
    assert server.last_request.method == "DELETE" and not server.caches.live()
    await llm.aclose()


def test_update_with_expire_time(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    llm = make_llm()
    name = create_cache(llm, cached_messages())
    assert "ttl" not in server.last_request.body  # Gemini's default (one hour)
    when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=3)
    update_cache(llm, name, ttl=when)
    assert server.last_request.query == {"updateMask": "expireTime"}
    assert server.last_request.body["expireTime"].startswith(when.strftime("%Y-%m-%dT%H:%M"))


@pytest.mark.parametrize(
    "ttl",
    [0, -5, "soon", "3600 seconds", True, float("inf"), [], dt.timedelta(seconds=-1)],
)
def test_bad_ttl_is_refused_before_sending(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution], ttl: Any
) -> None:
    llm = make_llm()
    with pytest.raises(ValueError, match="ttl"):
        create_cache(llm, cached_messages(), ttl=ttl)
    with pytest.raises(ValueError, match="ttl"):
        update_cache(llm, "cachedContents/abc", ttl=ttl)
    assert server.requests == []


def test_ttl_in_the_past_or_naive_is_refused(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    llm = make_llm()
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
    with pytest.raises(ValueError, match="in the past"):
        create_cache(llm, cached_messages(), ttl=past)
    with pytest.raises(ValueError, match="no time zone"):
        update_cache(llm, "cachedContents/abc", ttl=dt.datetime(2999, 1, 1))
    assert server.requests == []


def test_too_small_cache_is_geminis_400(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    from langchain_gemini_codeexec import GeminiAPIError

    with pytest.raises(GeminiAPIError, match="too small"):
        create_cache(make_llm(), [HumanMessage("tiny")])


# --------------------------------------------------------------------- use


async def test_cached_call_sends_only_new_turns(server: GeminiTestServer, ask: Any) -> None:
    llm = ask.model()
    name = create_cache(llm, cached_messages())
    tokens = server.caches.caches[name].tokens
    server.enqueue(answer("42"))
    history = [*cached_messages(), HumanMessage("Total for north?")]
    result = await ask(llm, history, cached_content=name)
    sent = generate_requests(server)[-1].body
    assert sent["cachedContent"] == name
    assert "systemInstruction" not in sent and "tools" not in sent and "toolConfig" not in sent
    assert sent["contents"] == [{"role": "user", "parts": [{"text": "Total for north?"}]}]
    details = result.message.usage_metadata["input_token_details"]
    assert details["cache_read"] == tokens
    assert result.message.usage_metadata["input_tokens"] == tokens + 4  # 16 chars / 4


async def test_constructor_cache_and_only_new_question(server: GeminiTestServer, ask: Any) -> None:
    name = create_cache(ask.model(), cached_messages())
    llm = ask.model(cached_content=name)
    server.enqueue(answer())
    await ask(llm, "Which region is last?")
    sent = generate_requests(server)[-1].body
    assert sent["cachedContent"] == name and "tools" not in sent


def test_per_call_cache_applies_to_that_call_only(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    llm = make_llm()
    name = create_cache(llm, cached_messages())
    server.enqueue(answer(), answer())
    llm.invoke("q1", cached_content=name)
    llm.invoke("q2")
    first, second = generate_requests(server)
    assert first.body["cachedContent"] == name and "tools" not in first.body
    assert "cachedContent" not in second.body and second.body["tools"] == [{"codeExecution": {}}]


async def test_streamed_cache_read_adds_up_to_invokes(server: GeminiTestServer, ask: Any) -> None:
    from langchain_gemini_codeexec.testing import stream_chunks

    llm = ask.model()
    name = create_cache(llm, cached_messages())
    server.enqueue(Reply.stream(stream_chunks(answer("a longer answer here"))))
    result = await ask(llm, "q", cached_content=name)
    assert result.message.usage_metadata["input_token_details"]["cache_read"] == (
        server.caches.caches[name].tokens
    )
    if result.streamed:
        per_chunk = [
            (c.usage_metadata or {}).get("input_token_details", {}).get("cache_read", 0)
            for c in result.chunks
        ]
        assert sum(per_chunk) == server.caches.caches[name].tokens


# --------------------------------------------------------------------- refused before sending


def test_system_message_differing_from_cache_is_refused(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    llm = make_llm()
    name = create_cache(llm, cached_messages())
    with pytest.raises(InvalidMessageError) as err:
        llm.invoke([SystemMessage("Be terse."), HumanMessage("q")], cached_content=name)
    assert "Be terse." in str(err.value) and SYSTEM in str(err.value)
    assert generate_requests(server) == []
    # The same system message is fine: it is the cache's, and is not sent again.
    server.enqueue(answer())
    llm.invoke([SystemMessage(SYSTEM), HumanMessage("q")], cached_content=name)
    assert "systemInstruction" not in generate_requests(server)[-1].body


def test_tools_differing_from_cache_are_refused(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    def lookup(city: str) -> str:
        """Look a city up."""
        return city

    llm = make_llm(model="gemini-3-flash-preview")
    name = create_cache(llm, cached_messages())
    with pytest.raises(InvalidMessageError, match="tools differ") as err:
        llm.bind_tools([lookup]).invoke("q", cached_content=name)
    assert "lookup" in str(err.value) and "codeExecution" in str(err.value)
    with pytest.raises(InvalidMessageError, match="tools differ"):
        llm.invoke("q", cached_content=name, code_execution=False)
    assert generate_requests(server) == []


def test_other_model_is_refused(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    name = create_cache(make_llm(), cached_messages())
    with pytest.raises(InvalidMessageError, match=r"gemini-2\.5-pro"):
        make_llm(model="gemini-2.5-pro").invoke("q", cached_content=name)
    assert generate_requests(server) == []


@pytest.mark.parametrize("status", [403, 404, 400])
async def test_unknown_cache_name_is_refused_before_generating(
    server: GeminiTestServer, ask: Any, status: int
) -> None:
    server.caches.gone_status = status
    llm = ask.model()
    with pytest.raises(InvalidMessageError, match="does not exist"):
        await ask.raises(llm, "q", cached_content="cachedContents/nope")
    assert [r.method for r in server.requests] == ["GET"]


@pytest.mark.parametrize("name", ["files/abc", "cachedContents/../x", "cachedContents/a b"])
def test_malformed_cache_name_is_refused_without_requests(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution], name: str
) -> None:
    with pytest.raises(InvalidMessageError, match="cache name"):
        make_llm().invoke("q", cached_content=name)
    assert server.requests == []


def test_deleted_cache_is_refused(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    llm = make_llm()
    name = create_cache(llm, cached_messages())
    delete_cache(llm, name)
    with pytest.raises(InvalidMessageError, match="does not exist"):
        llm.invoke("q", cached_content=name)
    assert generate_requests(server) == []


def test_foreign_cache_is_checked_once_and_system_refused(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    client = genai.Client(api_key=API_KEY, http_options=types.HttpOptions(base_url=server.base_url))
    cache = client.caches.create(
        model=MODEL,
        config=types.CreateCachedContentConfig(contents=[DOC], system_instruction=SYSTEM),
    )
    assert cache.name
    llm = make_llm()
    with pytest.raises(InvalidMessageError, match="cannot be checked"):
        llm.invoke([SystemMessage(SYSTEM), HumanMessage("q")], cached_content=cache.name)
    server.enqueue(answer(), answer())
    llm.invoke("q1", cached_content=cache.name)
    llm.invoke("q2", cached_content=cache.name)
    assert [r.method for r in server.requests if r.api == "caches"] == ["POST", "GET"]
    assert all("tools" not in r.body for r in generate_requests(server))


def test_expired_cache_answers_gone(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    from langchain_gemini_codeexec import GeminiAPIError

    llm = make_llm()
    name = create_cache(llm, cached_messages(), ttl=60)
    server.caches.advance(61)
    with pytest.raises(GeminiAPIError) as err:
        llm.invoke("q", cached_content=name)
    assert err.value.code == 403 and "CachedContent not found" in str(err.value)


def test_history_that_is_not_the_cached_prefix_is_sent_whole(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    llm = make_llm()
    name = create_cache(llm, cached_messages())
    server.enqueue(answer())
    msgs = [HumanMessage("other"), AIMessage("fine"), HumanMessage("q")]
    llm.invoke(msgs, cached_content=name)
    assert len(generate_requests(server)[-1].body["contents"]) == 3


# --------------------------------------------------------------------- the server itself


def test_server_refuses_tools_or_system_next_to_cache(server: GeminiTestServer) -> None:
    client = genai.Client(api_key=API_KEY, http_options=types.HttpOptions(base_url=server.base_url))
    cache = client.caches.create(
        model=MODEL, config=types.CreateCachedContentConfig(contents=[DOC], ttl="60s")
    )
    for config in (
        types.GenerateContentConfig(cached_content=cache.name, system_instruction="x"),
        types.GenerateContentConfig(
            cached_content=cache.name,
            tools=[types.Tool(code_execution=types.ToolCodeExecution())],
        ),
    ):
        with pytest.raises(genai.errors.ClientError) as err:
            client.models.generate_content(model=MODEL, contents="q", config=config)
        assert err.value.code == 400 and "CachedContent can not be used" in str(err.value)
    server.enqueue(answer())
    reply = client.models.generate_content(
        model=MODEL, contents="q", config=types.GenerateContentConfig(cached_content=cache.name)
    )
    assert reply.usage_metadata and reply.usage_metadata.cached_content_token_count == (
        server.caches.caches[str(cache.name)].tokens
    )
    client.caches.update(name=str(cache.name), config=types.UpdateCachedContentConfig(ttl="5s"))
    client.caches.delete(name=str(cache.name))
    with pytest.raises(genai.errors.ClientError) as gone:
        client.caches.get(name=str(cache.name))
    assert gone.value.code == 403 and gone.value.status == "PERMISSION_DENIED"


def test_foreign_cache_refuses_function_tools_it_cannot_check(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    def lookup(city: str) -> str:
        """Look a city up."""
        return city

    client = genai.Client(api_key=API_KEY, http_options=types.HttpOptions(base_url=server.base_url))
    cache = client.caches.create(
        model=MODEL, config=types.CreateCachedContentConfig(contents=[DOC])
    )
    llm = make_llm(model=MODEL)
    with pytest.raises(InvalidMessageError, match="lookup"):
        llm.bind_tools([lookup], allow_mixed_tools=True).invoke("q", cached_content=cache.name)
    assert generate_requests(server) == []
    listed = client.caches.list()
    assert [c.name for c in listed] == [cache.name]


async def test_cache_past_its_expiry_is_refused_before_generating(
    server: GeminiTestServer, ask: Any
) -> None:
    from langchain_gemini_codeexec._core import caches as _caching

    llm = ask.model()
    name = create_cache(llm, cached_messages(), ttl=60)
    record = _caching.record(name)
    assert record is not None
    record.expire_at = 0.0  # our clock says it ran out; Gemini is asked, and says gone
    server.caches.expire(name)
    with pytest.raises(InvalidMessageError, match="does not exist or has expired"):
        await ask.raises(llm, "q", cached_content=name)
    assert generate_requests(server) == [] and server.last_request.method == "GET"
