"""Every failure typed, every input checked (batch jobs, caches, the tool's file cache).

- An answer of the wrong JSON shape (a string where a list was, a list where an object
  was, text where a number was) is a typed error (`IncompleteResponseError`), never a bare
  `AttributeError`/`KeyError`/`TypeError`/`ValueError`; in the tool it becomes an error
  `ToolMessage`. Answers whose text becomes a URL path (a job name, a responses file) are
  taken only when they are names.
- Durations (`ttl`, `cache_ttl`, `poll_interval`, `timeout`, retry delays) are checked
  once, in `_core.checks.check_duration`: finite, in bounds, an `InvalidMessageError`
  naming the field before any request; the CLI makes them usage errors (exit 2); the test
  server answers a bad duration with Gemini's 400.

Through the real SDK over HTTP on every path (sync httpx2/httpx, async aiohttp/httpx2/httpx).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.messages import ToolMessage
from pydantic import ValidationError

from langchain_gemini_codeexec import (
    ChatGeminiCodeExecution,
    GeminiBatchJob,
    GeminiCodeExecutionTool,
    IncompleteResponseError,
    InvalidMessageError,
    caching,
)
from langchain_gemini_codeexec.batch._cli import main as cli
from langchain_gemini_codeexec.testing import GeminiTestServer, Reply, response, text
from tests.support import PATHS, SECRET_API_KEY, check_path, path_llm

SYNC = [p for p in PATHS if p.startswith("sync")]
# Refused before any request: the HTTP library does not matter (the matrix rule).
ONE_EACH = ("sync-httpx2", "async-aiohttp")
DONE = {"metadata": {"state": "BATCH_STATE_SUCCEEDED"}}


@pytest.fixture(scope="module")
def server() -> Iterator[GeminiTestServer]:
    with GeminiTestServer() as srv:
        yield srv


@pytest.fixture
def hostile(server: GeminiTestServer) -> Iterator[Callable[..., None]]:
    """`hostile(batch=..., cache=..., tokens=...)`: answer those requests with that JSON."""
    batch, caches, count = server.batch.answer, server.caches.handle, server.count_tokens

    def install(batch_json: Any = None, cache_json: Any = None, tokens: Any = None) -> None:
        if batch_json is not None:
            server.batch.answer = lambda req: Reply.json(batch_json)  # type: ignore[method-assign]
        if cache_json is not None:
            server.caches.handle = lambda *a: Reply.json(cache_json)  # type: ignore[method-assign]
        if tokens is not None:
            server.count_tokens = lambda req: tokens

    server.clear()
    yield install
    server.batch.answer, server.caches.handle = batch, caches  # type: ignore[method-assign]
    server.count_tokens = count
    server.clear()


def _run(path: str, sync: Callable[[], Any], async_: Callable[[], Any]) -> Any:
    return sync() if path.startswith("sync") else asyncio.run(async_())


def _llm(server: GeminiTestServer, path: str) -> ChatGeminiCodeExecution:
    llm = path_llm(server.base_url, path, max_retries=0)
    check_path(llm, path)
    return llm


# --- 10. wrong-typed answers are typed errors -------------------------------------------


@pytest.mark.parametrize(
    "page",
    [
        {"operations": "not a list"},
        {"operations": {"a": 1}},
        {"operations": [{"metadata": {"displayName": "mine"}}]},  # the match has no name
        {"operations": [{"name": "../../x", "metadata": {"displayName": "mine"}}]},
    ],
)
@pytest.mark.parametrize("path", SYNC)
def test_find_on_a_page_of_the_wrong_shape_raises_a_typed_error(
    server: GeminiTestServer, hostile: Any, path: str, page: Any
) -> None:
    hostile(batch_json=page)
    with pytest.raises(IncompleteResponseError):
        GeminiBatchJob.find("mine", llm=_llm(server, path))


@pytest.mark.parametrize("path", SYNC)
def test_find_skips_entries_that_are_not_jobs(
    server: GeminiTestServer, hostile: Any, path: str
) -> None:
    page = {
        "operations": [1, "x", {"metadata": "m"}, {"name": "batches/ok", "metadata": {
            "displayName": "mine", "state": "BATCH_STATE_RUNNING"}}],
        "nextPageToken": ["not", "a", "token"],
    }  # fmt: skip
    hostile(batch_json=page)
    job = GeminiBatchJob.find("mine", llm=_llm(server, path))
    assert job is not None and job.name == "batches/ok"


@pytest.mark.parametrize("path", PATHS)
def test_attach_keeps_its_own_model_and_name_when_the_answer_has_other_types(
    server: GeminiTestServer, hostile: Any, path: str
) -> None:
    hostile(batch_json={"name": "../../v1beta/models/x", "metadata": {"model": 5}})
    llm = _llm(server, path)
    job = _run(
        path,
        lambda: GeminiBatchJob.attach("batches/abc", llm=llm),
        lambda: GeminiBatchJob.aattach("batches/abc", llm=llm),
    )
    assert (job.name, job.model) == ("batches/abc", llm.model)


@pytest.mark.parametrize(
    "answer",
    [
        {**DONE, "response": {"inlinedResponses": {"inlinedResponses": 5}}},
        {**DONE, "response": {"inlinedResponses": "text"}},
        {**DONE, "response": {"responsesFile": {"a": 1}}},
        {**DONE, "response": {"responsesFile": "../../v1beta/models/gemini-2.5-flash:x"}},
    ],
)
@pytest.mark.parametrize("path", PATHS)
def test_results_of_the_wrong_shape_raise_a_typed_error(
    server: GeminiTestServer, hostile: Any, path: str, answer: Any
) -> None:
    hostile(batch_json=answer)
    llm = _llm(server, path)

    async def aresults() -> list[Any]:
        job = await GeminiBatchJob.aattach("batches/abc", llm=llm)
        return [r async for r in job.aresults()]

    with pytest.raises(IncompleteResponseError):
        _run(path, lambda: list(GeminiBatchJob.attach("batches/abc", llm=llm).results()), aresults)
    assert [r.path for r in server.requests if "models" in r.path] == []  # no other path


@pytest.mark.parametrize("path", PATHS)
def test_a_result_of_the_wrong_shape_is_that_results_error(
    server: GeminiTestServer, hostile: Any, path: str
) -> None:
    items = [
        {"response": response(text("fine")), "metadata": {"key": "a"}},
        {"response": {"candidates": "x"}, "metadata": {"key": "b"}},
        5,
        {"error": [1, 2], "metadata": {"key": "d"}},
    ]
    hostile(batch_json={**DONE, "response": {"inlinedResponses": {"inlinedResponses": items}}})
    llm = _llm(server, path)

    async def aresults() -> list[Any]:
        job = await GeminiBatchJob.aattach("batches/abc", llm=llm, keys=["a", "b", "c", "d"])
        return [r async for r in job.aresults()]

    def results() -> list[Any]:
        job = GeminiBatchJob.attach("batches/abc", llm=llm, keys=["a", "b", "c", "d"])
        return list(job.results())

    got = _run(path, results, aresults)
    assert [r.key for r in got] == ["a", "b", "c", "d"]
    assert got[0].message is not None and got[0].message.text == "fine"
    assert all(r.message is None and r.error is not None for r in got[1:])


CACHE_ANSWERS = [
    {"name": "cachedContents/c1", "usageMetadata": "not an object"},
    {"name": "cachedContents/c1", "usageMetadata": {"totalTokenCount": "many"}},
    {"name": "cachedContents/c1", "usageMetadata": {"totalTokenCount": [1]}},
]


@pytest.mark.parametrize("answer", CACHE_ANSWERS)
@pytest.mark.parametrize("path", PATHS)
def test_create_cache_of_the_wrong_shape_raises_a_typed_error(
    server: GeminiTestServer, hostile: Any, path: str, answer: Any
) -> None:
    hostile(cache_json=answer)
    llm = _llm(server, path)
    with pytest.raises(IncompleteResponseError, match=r"cachedContents\.create"):
        _run(
            path,
            lambda: caching.create_cache(llm, "a long enough text " * 5, ttl=600),
            lambda: caching.acreate_cache(llm, "a long enough text " * 5, ttl=600),
        )


@pytest.mark.parametrize("answer", CACHE_ANSWERS)
@pytest.mark.parametrize("path", PATHS)
def test_a_cache_lookup_of_the_wrong_shape_raises_a_typed_error(
    server: GeminiTestServer, hostile: Any, path: str, answer: Any
) -> None:
    hostile(cache_json={**answer, "model": "models/gemini-2.5-flash"})
    llm = _llm(server, path)
    name = "cachedContents/not-known-here-" + path
    with pytest.raises(IncompleteResponseError, match="lookup of cache"):
        _run(
            path,
            lambda: llm.invoke("hi", cached_content=name),
            lambda: llm.ainvoke("hi", cached_content=name),
        )


@pytest.mark.parametrize("tokens", ["many", [1], {"n": 1}])
@pytest.mark.parametrize("path", PATHS)
def test_the_tools_file_cache_turns_a_wrong_shape_into_an_error_tool_message(
    server: GeminiTestServer, hostile: Any, tmp_path: Path, path: str, tokens: Any
) -> None:
    hostile(tokens=tokens)
    (tmp_path / "data.csv").write_text("x\n1\n")
    tool = GeminiCodeExecutionTool(llm=_llm(server, path), files_dir=tmp_path, cache_files=True)
    call = {
        "type": "tool_call",
        "id": "call-1",
        "name": tool.name,
        "args": {"task": "sum x", "files": ["data.csv"]},
    }
    message = _run(path, lambda: tool.invoke(call), lambda: tool.ainvoke(call))
    assert isinstance(message, ToolMessage) and message.status == "error"
    assert "countTokens" in str(message.content)


# --- 11. durations are checked like every other input ------------------------------------

BAD_SECONDS = [1e-10, 0, -1, 10**400, math.inf, -math.inf, math.nan, "9" * 400 + "s", "0s"]


@pytest.mark.parametrize("ttl", BAD_SECONDS)
@pytest.mark.parametrize("path", ONE_EACH)
def test_a_bad_ttl_is_refused_before_any_request(
    server: GeminiTestServer, hostile: Any, path: str, ttl: Any
) -> None:
    llm = _llm(server, path)
    with pytest.raises(InvalidMessageError, match=r"^ttl: must be a finite number of seconds"):
        _run(
            path,
            lambda: caching.create_cache(llm, "a long enough text " * 5, ttl=ttl),
            lambda: caching.acreate_cache(llm, "a long enough text " * 5, ttl=ttl),
        )
    with pytest.raises(InvalidMessageError, match=r"^ttl: "):
        caching.update_cache(llm, "cachedContents/c1", ttl=ttl)
    assert server.requests == []


@pytest.mark.parametrize("ttl", BAD_SECONDS)
def test_a_bad_cache_ttl_is_refused_at_construction(tmp_path: Path, ttl: Any) -> None:
    llm = ChatGeminiCodeExecution(api_key=SECRET_API_KEY, base_url="http://127.0.0.1:9")
    with pytest.raises(ValidationError, match="cache_ttl: must be a finite number of seconds"):
        GeminiCodeExecutionTool(llm=llm, files_dir=tmp_path, cache_ttl=ttl)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"poll_interval": math.inf}, "poll_interval"),
        ({"poll_interval": 10**400}, "poll_interval"),
        ({"poll_interval": 0}, "poll_interval"),
        ({"poll_interval": math.nan}, "poll_interval"),
        ({"timeout": 1e300}, "timeout"),
        ({"timeout": 10**400}, "timeout"),
        ({"timeout": -1}, "timeout"),
        ({"timeout": math.nan}, "timeout"),
    ],
)
@pytest.mark.parametrize("path", ONE_EACH)
def test_bad_poll_durations_are_refused_before_any_request(
    server: GeminiTestServer, hostile: Any, path: str, kwargs: dict[str, Any], field: str
) -> None:
    job = GeminiBatchJob("batches/abc", _llm(server, path))
    with pytest.raises(InvalidMessageError, match=rf"^{field}: must be a finite number"):
        _run(
            path,
            lambda: job.poll_until_done(progress=False, **kwargs),
            lambda: job.apoll_until_done(progress=False, **kwargs),
        )
    assert server.requests == []


@pytest.mark.parametrize(
    "setting",
    [
        {"timeout": 1e300},
        {"timeout": 10**400},
        {"retry_max_delay": 1e300},
        {"retry_initial_delay": 10**400, "retry_max_delay": 10**401},
    ],
)
def test_bad_model_durations_are_refused_at_construction(setting: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match=next(iter(setting))) as caught:
        ChatGeminiCodeExecution(api_key=SECRET_API_KEY, **setting)
    assert "Overflow" not in str(caught.value)


@pytest.mark.parametrize(
    "flags",
    [
        ["--poll-interval", "inf"],
        ["--poll-interval", "nan"],
        ["--poll-interval", "0"],
        ["--poll-interval", "soon"],
        ["--timeout", "1e300"],
        ["--timeout", "-1"],
    ],
)
def test_the_cli_makes_a_bad_duration_a_usage_error(
    server: GeminiTestServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    flags: list[str],
) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "cli-test-key-0123456789")
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text('{"prompt": "2+2"}\n')
    code = cli([str(tasks), str(tmp_path / "out"), "--base-url", server.base_url, *flags])
    assert code == 2
    err = capsys.readouterr().err
    assert f"argument {flags[0]}" in err and "Traceback" not in err
    assert server.requests == [] and not (tmp_path / "out").exists()


@pytest.mark.parametrize("ttl", ["1" + "0" * 400 + "s", "0s", "315576000001s", "abc"])
def test_the_test_server_answers_a_bad_duration_with_geminis_400(
    server: GeminiTestServer, ttl: str
) -> None:
    with httpx.Client(base_url=server.base_url) as http:
        created = http.post(
            "/v1beta/cachedContents",
            json={"model": "models/gemini-2.5-flash", "contents": [], "ttl": ttl},
        )
        assert created.status_code == 400, created.text
        assert created.json()["error"]["status"] == "INVALID_ARGUMENT"
        assert "ttl" in created.json()["error"]["message"]
