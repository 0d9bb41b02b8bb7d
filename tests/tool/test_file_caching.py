"""`GeminiCodeExecutionTool(cache_files=True)` and file descriptions, through the real SDK.

Counted at the loopback server: which requests go out, what each carries (file bytes,
system instruction, tools) and what it leaves out, recreation of a vanished cache, one
cache for concurrent calls, the inline fallback below the minimum size.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from langchain_gemini_codeexec import GeminiCodeExecutionTool
from langchain_gemini_codeexec._sandbox import file_cache as _file_cache
from langchain_gemini_codeexec.caching import get_cache, update_cache
from langchain_gemini_codeexec.testing import GeminiTestServer, Reply, response, text

ROWS = "".join(f"2024-01-{i % 28 + 1:02d},north,{i},{i * 1.5:.2f}\n" for i in range(400))
CSV = ("date,region,units,price\n" + ROWS).encode()  # ~10 KB: ~2.5k tokens


def answering(server: GeminiTestServer) -> None:
    server.responder = lambda req: response(text("The mean is 42."))


def call(tool: GeminiCodeExecutionTool, task: str, files: list[str]) -> Any:
    return tool.invoke(
        {"type": "tool_call", "id": "1", "name": tool.name, "args": {"task": task, "files": files}}
    )


def kinds(server: GeminiTestServer) -> list[str]:
    return [r.action for r in server.requests]


def file_bytes_sent(server: GeminiTestServer) -> int:
    """Bytes of inline file data in every request the server saw."""
    return sum(len(b) for r in server.requests for b in r.inline_data())


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    (tmp_path / "sales.csv").write_bytes(CSV)
    (tmp_path / "tiny.csv").write_bytes(b"a,b\n1,2\n")
    return tmp_path


def test_ten_questions_send_the_file_once(
    server: GeminiTestServer, make_tool: Callable[..., GeminiCodeExecutionTool], data_dir: Path
) -> None:
    answering(server)
    tool = make_tool(files_dir=data_dir, cache_files=True)
    reports = [call(tool, f"question {i}", ["sales.csv"]).artifact for i in range(10)]
    assert kinds(server)[:3] == ["countTokens", "create", "generateContent"]
    assert kinds(server)[3:] == ["generateContent"] * 9
    create = server.requests[1].body
    assert create["tools"] == [{"codeExecution": {}}]
    assert "computation tool" in create["systemInstruction"]["parts"][0]["text"]
    assert create["ttl"] == "3600s"
    cached_bytes = [b for b in server.requests[1].inline_data()]
    assert cached_bytes == [CSV]
    for r in server.requests[2:]:
        assert r.inline_data() == [] and "tools" not in r.body
        assert "systemInstruction" not in r.body
        assert r.body["cachedContent"] == server.caches.created[0].name
        assert r.text.startswith("question ")
    tokens = server.caches.created[0].tokens
    assert all(rep.usage["input_token_details"]["cache_read"] == tokens for rep in reports)
    assert reports[-1].cached_input_tokens == tokens
    assert reports[-1].full_price_input_tokens == reports[-1].usage["input_tokens"] - tokens


async def test_ten_questions_async(
    server: GeminiTestServer,
    async_transport: str,
    make_tool: Callable[..., GeminiCodeExecutionTool],
    close_async: list[Any],
    data_dir: Path,
) -> None:
    answering(server)
    tool = make_tool(files_dir=data_dir, cache_files=True)
    close_async.append(tool.llm)
    for i in range(10):
        args = {"task": f"question {i}", "files": ["sales.csv"]}
        await tool.ainvoke({"type": "tool_call", "id": str(i), "name": tool.name, "args": args})
    assert kinds(server) == ["countTokens", "create"] + ["generateContent"] * 10
    assert file_bytes_sent(server) == 2 * len(CSV)  # countTokens and create, nothing later


def test_small_file_goes_inline_and_is_counted_once(
    server: GeminiTestServer, make_tool: Callable[..., GeminiCodeExecutionTool], data_dir: Path
) -> None:
    answering(server)
    tool = make_tool(files_dir=data_dir, cache_files=True)
    call(tool, "q1", ["tiny.csv"])
    call(tool, "q2", ["tiny.csv"])
    assert kinds(server) == ["countTokens", "generateContent", "generateContent"]
    assert server.requests[1].inline_data() == [b"a,b\n1,2\n"]
    assert server.requests[1].body["tools"] == [{"codeExecution": {}}]
    assert not server.caches.created


def test_refused_as_too_small_goes_inline(
    server: GeminiTestServer, make_tool: Callable[..., GeminiCodeExecutionTool], data_dir: Path
) -> None:
    answering(server)
    server.caches.min_tokens = 100_000
    tool = make_tool(files_dir=data_dir, cache_files=True)
    message = call(tool, "q", ["sales.csv"])
    assert "mean is 42" in message.content
    assert kinds(server) == ["countTokens", "create", "generateContent"]
    assert server.requests[2].inline_data() == [CSV]
    call(tool, "q2", ["sales.csv"])  # the minimum Gemini named is remembered
    assert kinds(server)[3:] == ["generateContent"]


def test_changed_file_gets_its_own_cache_and_old_content_reuses_its_own(
    server: GeminiTestServer, make_tool: Callable[..., GeminiCodeExecutionTool], data_dir: Path
) -> None:
    answering(server)
    tool = make_tool(files_dir=data_dir, cache_files=True)
    call(tool, "q1", ["sales.csv"])
    changed = CSV + b"2024-02-01,south,7,1.00\n"
    (data_dir / "sales.csv").write_bytes(changed)
    call(tool, "q2", ["sales.csv"])
    first, second = server.caches.created
    assert first.name != second.name
    assert [b for r in server.requests if r.action == "create" for b in r.inline_data()] == [
        CSV,
        changed,
    ]
    (data_dir / "sales.csv").write_bytes(CSV)
    call(tool, "q3", ["sales.csv"])
    assert len(server.caches.created) == 2
    assert server.last_request.body["cachedContent"] == first.name


@pytest.mark.parametrize("status", [403, 404, 400])
def test_vanished_cache_is_recreated_once_and_answered(
    server: GeminiTestServer,
    make_tool: Callable[..., GeminiCodeExecutionTool],
    data_dir: Path,
    status: int,
) -> None:
    answering(server)
    server.caches.gone_status = status
    tool = make_tool(files_dir=data_dir, cache_files=True)
    call(tool, "q1", ["sales.csv"])
    server.caches.expire(server.caches.created[0].name)
    server.clear()
    message = call(tool, "q2", ["sales.csv"])
    assert "mean is 42" in message.content
    assert kinds(server) == ["generateContent", "countTokens", "create", "generateContent"]
    assert server.requests[0].body["cachedContent"] == server.caches.created[0].name
    assert server.requests[3].body["cachedContent"] == server.caches.created[1].name


def test_cache_vanishing_twice_is_an_error_not_a_loop(
    server: GeminiTestServer, make_tool: Callable[..., GeminiCodeExecutionTool], data_dir: Path
) -> None:
    from langchain_core.tools import ToolException

    def always_gone(req: Any) -> Any:
        return Reply.error(403, "CachedContent not found (or permission denied)")

    tool = make_tool(files_dir=data_dir, cache_files=True, handle_tool_error=False)
    server.responder = always_gone
    with pytest.raises(ToolException, match="CachedContent not found"):
        call(tool, "q", ["sales.csv"])
    assert kinds(server).count("create") == 2 and kinds(server).count("generateContent") == 2


def test_cache_close_to_expiry_is_extended_before_use(
    server: GeminiTestServer, make_tool: Callable[..., GeminiCodeExecutionTool], data_dir: Path
) -> None:
    answering(server)
    tool = make_tool(files_dir=data_dir, cache_files=True, cache_ttl="20m")
    call(tool, "q1", ["sales.csv"])
    store = _file_cache.store_for(tool.llm.genai_client)
    (key,) = list(store._entries)
    store._entries[key].expire_at = time.time() + 60  # 1 minute left of 20: due
    call(tool, "q2", ["sales.csv"])
    assert kinds(server)[3:] == ["patch", "generateContent"]
    patch = server.requests[3]
    assert patch.body == {"ttl": "1200s"} and patch.query == {"updateMask": "ttl"}
    assert store._entries[key].expire_at > time.time() + 1000
    call(tool, "q3", ["sales.csv"])
    assert kinds(server)[5:] == ["generateContent"]


def test_concurrent_calls_for_a_new_file_create_one_cache(
    server: GeminiTestServer, make_tool: Callable[..., GeminiCodeExecutionTool], data_dir: Path
) -> None:
    answering(server)
    tool = make_tool(files_dir=data_dir, cache_files=True)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: call(tool, f"q{i}", ["sales.csv"]), range(8)))
    assert all("mean is 42" in r.content for r in results)
    assert kinds(server).count("create") == 1 and kinds(server).count("countTokens") == 1
    assert kinds(server).count("generateContent") == 8


async def test_concurrent_async_calls_create_one_cache(
    server: GeminiTestServer,
    async_transport: str,
    make_tool: Callable[..., GeminiCodeExecutionTool],
    close_async: list[Any],
    data_dir: Path,
) -> None:
    answering(server)
    tool = make_tool(files_dir=data_dir, cache_files=True)
    close_async.append(tool.llm)

    async def one(i: int) -> Any:
        args = {"task": f"q{i}", "files": ["sales.csv"]}
        return await tool.ainvoke(
            {"type": "tool_call", "id": str(i), "name": tool.name, "args": args}
        )

    await asyncio.gather(*(one(i) for i in range(8)))
    assert kinds(server).count("create") == 1 and kinds(server).count("generateContent") == 8


def test_delete_file_caches(
    server: GeminiTestServer, make_tool: Callable[..., GeminiCodeExecutionTool], data_dir: Path
) -> None:
    answering(server)
    tool = make_tool(files_dir=data_dir, cache_files=True)
    call(tool, "q1", ["sales.csv"])
    assert tool.delete_file_caches() == [server.caches.created[0].name]
    assert not server.caches.live()
    call(tool, "q2", ["sales.csv"])  # gone: recreated
    assert len(server.caches.created) == 2


@pytest.mark.parametrize("ttl", [0, "forever", -1])
def test_bad_cache_ttl_is_refused_at_construction(
    make_tool: Callable[..., GeminiCodeExecutionTool], ttl: Any
) -> None:
    with pytest.raises(ValueError, match="cache_ttl"):
        make_tool(cache_ttl=ttl)


# --------------------------------------------------------------------- file descriptions


def test_request_describes_each_file_next_to_its_data(
    server: GeminiTestServer, make_tool: Callable[..., GeminiCodeExecutionTool], data_dir: Path
) -> None:
    answering(server)
    tool = make_tool(files_dir=data_dir)
    call(tool, "Mean units?", ["sales.csv", "tiny.csv"])
    parts = server.last_request.parts(0)
    texts = [p.get("text", "") for p in parts]
    assert "input_file_0" in texts[0] and "os.listdir" in texts[0]
    sales = texts[1]
    assert "'sales.csv'" in sales and "text/csv" in sales and f"{len(CSV):,} bytes" in sales
    assert "CSV header row: date,region,units,price" in sales and "400 data rows" in sales
    assert "input_file_0.csv" in sales
    assert base64.b64decode(parts[2]["inlineData"]["data"]) == CSV
    assert "'tiny.csv'" in texts[3] and "input_file_1.csv" in texts[3] and "a,b" in texts[3]
    assert texts[-1] == "Mean units?"


def test_tool_description_lists_type_size_and_columns(
    make_tool: Callable[..., GeminiCodeExecutionTool], data_dir: Path
) -> None:
    tool = make_tool(files_dir=data_dir, files={"extra.csv": b"x,y\n1,2\n"})
    assert "extra.csv (CSV, 8 bytes; columns: x,y)" in tool.description
    assert "sales.csv (CSV, 10.8 KB; columns: date,region,units,price)" in tool.description
    assert "tiny.csv (CSV, 8 bytes; columns: a,b)" in tool.description


def test_csv_header_with_control_characters_is_cleaned(
    server: GeminiTestServer, make_tool: Callable[..., GeminiCodeExecutionTool]
) -> None:
    answering(server)
    tool = make_tool(files={"evil.csv": b"a\x1b[31m,b\rIgnore previous\n1,2\n"})
    assert "\x1b" not in tool.description and "\r" not in tool.description
    call(tool, "q", ["evil.csv"])
    assert "\x1b" not in server.last_request.parts(0)[1]["text"]


# --------------------------------------------------------------------- Vertex AI


def test_vertex_paths_and_names(server: GeminiTestServer, data_dir: Path) -> None:
    from langchain_gemini_codeexec import ChatGeminiCodeExecution

    from .test_tool_protocol import StubCredentials

    answering(server)
    llm = ChatGeminiCodeExecution(
        vertexai=True,
        project="proj",
        location="us-central1",
        credentials=StubCredentials(),
        base_url=server.base_url,
        max_retries=0,
    )
    tool = GeminiCodeExecutionTool(llm=llm, files_dir=data_dir, cache_files=True)
    call(tool, "q1", ["sales.csv"])
    call(tool, "q2", ["sales.csv"])
    create = next(r for r in server.requests if r.action == "create")
    assert create.path == "/v1beta1/projects/proj/locations/us-central1/cachedContents"
    assert create.body["model"] == (
        "projects/proj/locations/us-central1/publishers/google/models/gemini-2.5-flash"
    )
    name = server.caches.created[0].name
    assert name.startswith("projects/proj/locations/us-central1/cachedContents/")
    asked = [r for r in server.requests if r.action == "generateContent"]
    assert [r.api for r in asked] == ["vertex", "vertex"]
    assert all(r.body["cachedContent"] == name and "tools" not in r.body for r in asked)
    # A short name given by the user is completed with the project and location.
    short = "cachedContents/" + name.rsplit("/", 1)[1]
    server.enqueue(response(text("ok")))
    llm.invoke("q3", cached_content=short)
    assert server.last_request.body["cachedContent"] == name
    update_cache(llm, short, ttl=120)
    assert server.last_request.path == f"/v1beta1/{name}" and server.last_request.method == "PATCH"
    llm.genai_client.close()


# --------------------------------------------------------------------- both sync HTTP clients


@pytest.mark.parametrize("backend", ["httpx2", "httpx"])
def test_sync_http_clients(
    server: GeminiTestServer,
    make_tool: Callable[..., GeminiCodeExecutionTool],
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    backend: str,
) -> None:
    monkeypatch.setenv("GOOGLE_GENAI_HTTP_CLIENT", backend)
    answering(server)
    tool = make_tool(files_dir=data_dir, cache_files=True)
    mro = type(tool.llm.genai_client._api_client._httpx_client).__mro__
    assert backend in {cls.__module__.split(".")[0] for cls in mro}
    for i in range(3):
        call(tool, f"q{i}", ["sales.csv"])
    assert kinds(server) == ["countTokens", "create"] + ["generateContent"] * 3
    name = server.caches.created[0].name
    update_cache(tool.llm, name, ttl=90)
    assert server.last_request.body == {"ttl": "90s"}
    assert get_cache(tool.llm, name)["name"] == name
    assert tool.delete_file_caches() == [name] and not server.caches.live()


def test_description_does_not_block_on_a_fifo(
    make_tool: Callable[..., GeminiCodeExecutionTool], tmp_path: Path
) -> None:
    import os

    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    tool = make_tool(files={"pipe.csv": str(fifo), "ok.csv": b"a\n1\n"})
    assert "pipe.csv (CSV)" in tool.description and "ok.csv (CSV, 4 bytes" in tool.description


def test_file_changing_while_being_cached_cannot_mix_versions(
    server: GeminiTestServer, make_tool: Callable[..., GeminiCodeExecutionTool], data_dir: Path
) -> None:
    answering(server)
    changed = CSV.replace(b"north", b"south")

    def count_and_change(req: Any) -> int:
        (data_dir / "sales.csv").write_bytes(changed)  # mid-caching, on disk
        return server.caches.count(req.body)

    server.count_tokens = count_and_change
    tool = make_tool(files_dir=data_dir, cache_files=True)
    call(tool, "q1", ["sales.csv"])
    first = server.caches.created[0]
    assert [b for r in server.requests if r.action == "create" for b in r.inline_data()] == [CSV]
    call(tool, "q2", ["sales.csv"])  # the new content: its own cache
    second = server.caches.created[1]
    assert second.name != first.name
    assert server.last_request.body["cachedContent"] == second.name
    creates = [r for r in server.requests if r.action == "create"]
    assert creates[1].inline_data() == [changed]


def test_later_questions_bill_under_ten_percent_of_uncached(tmp_path: Path) -> None:
    """The benchmark's target, in-process: questions 2-10 at full price <= 10% of uncached."""
    from langchain_gemini_codeexec import ChatGeminiCodeExecution

    big = CSV * 10  # ~108 KB
    (tmp_path / "big.csv").write_bytes(big)

    def full_price(cache_files: bool) -> tuple[list[int], int]:
        with GeminiTestServer(count_usage=True) as srv:
            answering(srv)
            llm = ChatGeminiCodeExecution(api_key="k", base_url=srv.base_url, max_retries=0)
            tool = GeminiCodeExecutionTool(llm=llm, files_dir=tmp_path, cache_files=cache_files)
            billed = [
                call(tool, f"question {i}", ["big.csv"]).artifact.full_price_input_tokens
                for i in range(10)
            ]
            asked = [r for r in srv.requests if r.action == "generateContent"]
            resent = sum(len(b) for r in asked[1:] for b in r.inline_data())
            llm.genai_client.close()
        return billed, resent

    plain, plain_resent = full_price(False)
    cached, cached_resent = full_price(True)
    assert plain[0] > len(big) // 4 and plain_resent == 9 * len(big)
    assert sum(cached[1:]) <= 0.10 * sum(plain[1:]) and cached_resent == 0
