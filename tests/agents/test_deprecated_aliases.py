"""The feature methods moved to free functions; the old methods warn and still work.

`llm.create_cache(...)` -> `caching.create_cache(llm, ...)`, `llm.submit_batch(...)` ->
`batch.submit_batch(llm, ...)`, on the model and on what `bind_tools` returns, for one release.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel

from langchain_gemini_codeexec import ChatGeminiCodeExecution, GeminiBatchJob
from langchain_gemini_codeexec.testing import GeminiTestServer

HISTORY = [SystemMessage("You are terse."), HumanMessage("The table is below. " * 400)]


class Weather(BaseModel):
    """Weather in a city."""

    city: str


def _deprecated(call: Callable[[], Any], name: str) -> Any:
    with pytest.warns(DeprecationWarning, match=rf"{name}\(\) as a method is deprecated") as got:
        result = call()
    assert got[0].filename == __file__  # the warning points at the caller's line
    return result


def test_cache_methods_warn_and_still_work(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    llm = make_llm(model="gemini-3-flash-preview")
    name = _deprecated(lambda: llm.create_cache(HISTORY, ttl=600), "create_cache")
    assert name.startswith("cachedContents/")
    assert server.requests[-1].body["systemInstruction"]["parts"][0]["text"] == "You are terse."
    got = _deprecated(lambda: llm.get_cache(name), "get_cache")
    assert got["name"] == name
    updated = _deprecated(lambda: llm.update_cache(name, ttl=900), "update_cache")
    assert updated["name"] == name and server.requests[-1].body == {"ttl": "900s"}
    _deprecated(lambda: llm.delete_cache(name), "delete_cache")
    assert server.requests[-1].method == "DELETE"


async def test_async_cache_methods_warn_and_still_work(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    llm = make_llm(model="gemini-3-flash-preview")
    with pytest.warns(DeprecationWarning, match="acreate_cache"):
        name = await llm.acreate_cache(HISTORY)
    with pytest.warns(DeprecationWarning, match="aget_cache"):
        assert (await llm.aget_cache(name))["name"] == name
    with pytest.warns(DeprecationWarning, match="aupdate_cache"):
        await llm.aupdate_cache(name, ttl=60)
    with pytest.warns(DeprecationWarning, match="adelete_cache"):
        await llm.adelete_cache(name)
    assert server.requests[-1].method == "DELETE"


def test_binding_aliases_keep_the_bound_tools(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    bound: Any = make_llm(model="gemini-3-flash-preview").bind_tools([Weather])
    _deprecated(lambda: bound.create_cache(HISTORY), "create_cache")
    declared = server.requests[-1].body["tools"]
    assert any("functionDeclarations" in tool for tool in declared)
    job = _deprecated(lambda: bound.submit_batch(["a"]), "submit_batch")
    assert isinstance(job, GeminiBatchJob)
    sent = server.requests[-1].body["batch"]["inputConfig"]["requests"]["requests"][0]
    assert any("functionDeclarations" in tool for tool in sent["request"]["tools"])


async def test_batch_methods_warn_and_still_work(
    make_llm: Callable[..., ChatGeminiCodeExecution],
) -> None:
    llm = make_llm()
    job = _deprecated(lambda: llm.submit_batch(["a"]), "submit_batch")
    assert isinstance(job, GeminiBatchJob) and job.keys == ["request-000000"]
    with pytest.warns(DeprecationWarning, match="asubmit_batch"):
        assert isinstance(await llm.asubmit_batch(["b"]), GeminiBatchJob)
    with pytest.warns(DeprecationWarning, match="asubmit_batch"):
        assert isinstance(
            await llm.bind(temperature=0.2).asubmit_batch(["c"]),  # type: ignore[attr-defined]
            GeminiBatchJob,
        )


def test_aliases_show_their_targets_signature_and_docstring() -> None:
    import inspect

    from langchain_gemini_codeexec import caching

    llm = ChatGeminiCodeExecution(api_key="test-key-for-signatures")
    params = list(inspect.signature(llm.create_cache).parameters)
    assert params == ["messages", "ttl", "display_name", "kwargs"]
    unbound = inspect.signature(ChatGeminiCodeExecution.create_cache)
    assert next(iter(unbound.parameters)) == "self"
    assert inspect.iscoroutinefunction(llm.acreate_cache)
    assert not inspect.iscoroutinefunction(llm.create_cache)
    doc = llm.bind(temperature=0.1).aget_cache.__doc__  # type: ignore[attr-defined]
    assert doc.startswith("Deprecated: use `langchain_gemini_codeexec.caching.aget_cache(")
    assert (caching.aget_cache.__doc__ or "") in doc
