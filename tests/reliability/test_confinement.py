"""What the tool sends and what the agent reads, through the real SDK on one sync and one
async HTTP path (the rules act before a request or after the answer, whatever the HTTP
library), invoked and streamed: files_dir confinement (links inside the directory that break the
name rules, a directory swapped for a link while the tool runs), file names and listings
an agent reads, error text cut like run output, and save_images writing only new files.

The units (every link shape, the 10,000-swap race) are in tests/tool/test_confinement.py.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import ToolException

from langchain_gemini_codeexec import CodeExecutionReport, GeminiCodeExecutionTool
from langchain_gemini_codeexec._sandbox.names import MAX_LISTED_NAMES, MAX_LISTING_CHARS
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    Reply,
    code,
    image,
    response,
    result,
    text,
)
from tests.support import check_path, path_llm

SECRET = b"API_KEY=hunter2\n"
SAFE = b"region,total\nnorth,10\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"chart" * 30
ANSWER = response(code("print(1)", id="c1"), result("1\n", id="c1"), text("Done."))
MODES = ("invoke", "stream")  # stream: a model with streaming=True under the tool


@pytest.fixture(params=["sync-httpx2", "async-aiohttp"])
def path(request: pytest.FixtureRequest) -> str:
    """One sync and one async HTTP path (the SDK's defaults), not all five."""
    return str(request.param)


def _tool(server: GeminiTestServer, path: str, mode: str, **kw: Any) -> GeminiCodeExecutionTool:
    llm = path_llm(server.base_url, path, streaming=mode == "stream", max_retries=0)
    check_path(llm, path)
    kw.setdefault("handle_tool_error", False)  # these tests read the raised ToolException
    return GeminiCodeExecutionTool(llm=llm, **kw)


def _calls(tool: GeminiCodeExecutionTool, path: str, *args: dict[str, Any]) -> list[Any]:
    """Tool calls in order on `path` (async ones on one event loop, as the SDK's async
    clients belong to one); each the ToolMessage or the exception it raised."""
    calls = [
        {"type": "tool_call", "id": f"call-{i}", "name": tool.name, "args": a}
        for i, a in enumerate(args)
    ]
    out: list[Any] = []
    if path.startswith("sync"):
        for call in calls:
            try:
                out.append(tool.invoke(call))
            except ToolException as exc:
                out.append(exc)
        return out

    async def run() -> None:
        for call in calls:
            try:
                out.append(await tool.ainvoke(call))
            except ToolException as exc:
                out.append(exc)

    asyncio.run(run())
    return out


def _call(tool: GeminiCodeExecutionTool, path: str, **args: Any) -> Any:
    (outcome,) = _calls(tool, path, args)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def _sent(server: GeminiTestServer) -> list[bytes]:
    """Every inline file the server received."""
    return [data for request in server.model_requests for data in request.inline_data()]


@pytest.fixture
def box(tmp_path: Path) -> Path:
    root = tmp_path / "box"
    root.mkdir()
    (root / "sales.csv").write_bytes(SAFE)
    (root / ".env").write_bytes(SECRET)
    (root / ".git").mkdir()
    (root / ".git" / "config.txt").write_bytes(SECRET)
    (root / "notes.csv").symlink_to(".env")
    (root / "config.txt").symlink_to(".git/config.txt")
    (tmp_path / "outside.csv").write_bytes(SECRET)
    (root / "report.csv").symlink_to("../outside.csv")
    return root


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("notes.csv", "hidden file or directory"),
        ("config.txt", "hidden file or directory"),
        ("report.csv", "not a regular file inside the tool's directory"),
    ],
)
def test_links_in_files_dir_that_break_the_rules_send_nothing(
    server: GeminiTestServer, box: Path, path: str, mode: str, name: str, why: str
) -> None:
    tool = _tool(server, path, mode, files_dir=box)
    assert tool.available_files() == ["sales.csv"]
    assert "notes.csv" not in tool.description and "sales.csv" in tool.description
    with pytest.raises(ToolException) as info:
        _call(tool, path, task="sum it", files=["sales.csv", name])
    assert why in str(info.value) and "hunter2" not in str(info.value)
    assert server.requests == []
    # The agent gets the refusal as a message when the owner asks for that.
    handled = _tool(server, path, mode, files_dir=box, handle_tool_error=True)
    message = _call(handled, path, task="sum it", files=[name])
    assert isinstance(message, ToolMessage) and message.status == "error"
    assert why in message.content and "hunter2" not in message.content
    assert server.requests == []


@pytest.mark.parametrize("path", ["sync-httpx2", "async-aiohttp"])
def test_swapping_files_dir_for_a_link_during_calls_sends_nothing_from_outside(
    server: GeminiTestServer, tmp_path: Path, path: str
) -> None:
    """A thread flips files_dir between itself and a link to a directory with a secret
    under the same name while the tool is called; the server never receives it."""
    box = tmp_path / "box"
    box.mkdir()
    (box / "data.csv").write_bytes(SAFE)
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "data.csv").write_bytes(SECRET)
    server.responder = lambda request: ANSWER
    tool = _tool(server, path, "invoke", files_dir=box, handle_tool_error=True)
    parked = tmp_path / "box.parked"
    stop = threading.Event()
    swaps = 0

    def swapper() -> None:
        nonlocal swaps
        while not stop.is_set():
            os.rename(box, parked)
            os.symlink(evil, box)
            os.unlink(box)
            os.rename(parked, box)
            swaps += 2

    thread = threading.Thread(target=swapper)
    thread.start()
    try:
        calls = _calls(tool, path, *[{"task": "t", "files": ["data.csv"]}] * 60)
    finally:
        stop.set()
        thread.join(30)
    assert swaps > 0
    assert all(isinstance(m, ToolMessage) for m in calls)
    assert SECRET not in _sent(server)
    assert all(data == SAFE for data in _sent(server))
    again = _tool(server, path, "invoke", files_dir=box)
    assert _call(again, path, task="t", files=["data.csv"]).status == "success"


# --- what the agent reads is bounded and clean ----------------------------------------------


def test_listing_in_the_description_is_capped(server: GeminiTestServer, tmp_path: Path) -> None:
    for i in range(MAX_LISTED_NAMES + 50):
        (tmp_path / f"table_{i:04d}.csv").write_bytes(b"1")
    (tmp_path / "evil\u202egpj.csv").write_bytes(b"1")
    (tmp_path / "two\u2028lines.csv").write_bytes(b"1")
    tool = _tool(server, "sync-httpx2", "invoke", files_dir=tmp_path)
    assert "\u202e" not in tool.description and "\u2028" not in tool.description
    listed = tool.description.split("Files you may attach")[1]
    assert len(listed) <= MAX_LISTING_CHARS + 200
    more = re.search(r" \(and (\d+) more\)\.$", listed)
    assert more is not None
    shown = listed.count(".csv")
    assert shown <= MAX_LISTED_NAMES and shown + int(more.group(1)) == MAX_LISTED_NAMES + 50
    assert len(tool.available_files()) == MAX_LISTED_NAMES + 50


@pytest.mark.parametrize("mode", MODES)
def test_a_huge_server_error_is_cut_for_the_agent(
    server: GeminiTestServer, path: str, mode: str
) -> None:
    """A 1 MB error message from the server becomes at most max_output_chars (plus the
    cut marker) in the ToolException and in the error ToolMessage."""
    huge = "upstream exploded " * 60_000  # ~1 MB
    server.responder = lambda request: Reply.error(400, huge)
    tool = _tool(server, path, mode, max_output_chars=500)
    with pytest.raises(ToolException) as info:
        _call(tool, path, task="t")
    message = str(info.value)
    assert message.startswith("gemini_code_execution failed: Gemini rejected the request")
    assert len(message) <= 500 + 60 and message.endswith("more characters]")
    assert "[error cut:" in message
    reply = _call(
        _tool(server, path, mode, max_output_chars=500, handle_tool_error=True), path, task="t"
    )
    assert reply.status == "error" and len(reply.content) <= 560


def test_a_huge_file_name_from_the_agent_is_cut(server: GeminiTestServer, box: Path) -> None:
    tool = _tool(server, "sync-httpx2", "invoke", files_dir=box, handle_tool_error=True)
    message = _call(tool, "sync-httpx2", task="t", files=["x" * 1_000_000 + ".csv"])
    assert message.status == "error" and len(message.content) <= 4100
    assert "sales.csv" in message.content  # still says what is allowed
    assert server.requests == []


def test_error_text_without_a_limit_is_whole(server: GeminiTestServer) -> None:
    server.responder = lambda request: Reply.error(400, "e" * 10_000)
    tool = _tool(server, "sync-httpx2", "invoke", max_output_chars=None)
    with pytest.raises(ToolException, match=r"e{10000}"):
        _call(tool, "sync-httpx2", task="t")


# --- save_images writes only its own files ---------------------------------------------------


def _chart_report(server: GeminiTestServer, path: str, mode: str, images: int) -> Any:
    server.responder = lambda request: response(
        code("plot()", id="c1"),
        result("", id="c1"),
        *[image(PNG) for _ in range(images)],
        text("Charts."),
    )
    tool = _tool(server, path, mode)
    report = _call(tool, path, task="draw").artifact
    assert isinstance(report, CodeExecutionReport)
    assert len(report.images) == images
    return report


@pytest.mark.parametrize("mode", MODES)
def test_save_images_never_follows_a_planted_link(
    server: GeminiTestServer, tmp_path: Path, path: str, mode: str
) -> None:
    report = _chart_report(server, path, mode, 2)
    charts = tmp_path / "charts"
    charts.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious\n")
    (charts / "chart-1-1.png").symlink_to(victim)  # planted, named like the first chart
    (charts / "chart-1-2.png").write_bytes(b"an earlier chart")
    paths = report.save_images(charts)
    assert victim.read_bytes() == b"precious\n"
    assert (charts / "chart-1-2.png").read_bytes() == b"an earlier chart"
    assert [p.name for p in paths] == ["chart-1-1_2.png", "chart-1-2_2.png"]
    assert [p.read_bytes() for p in paths] == [PNG, PNG]


@pytest.mark.parametrize("mode", MODES)
def test_save_images_caps_the_number_per_call(
    server: GeminiTestServer, tmp_path: Path, path: str, mode: str
) -> None:
    report = _chart_report(server, path, mode, 5)
    with pytest.raises(ValueError, match=r"5 images, over max_images=4; nothing was written"):
        report.save_images(tmp_path / "a", max_images=4)
    assert not (tmp_path / "a").exists()
    assert len(report.save_images(tmp_path / "b", max_images=5)) == 5


def test_the_number_of_files_per_call_is_capped(server: GeminiTestServer, tmp_path: Path) -> None:
    for i in range(6):
        (tmp_path / f"f{i}.csv").write_bytes(b"1")
    tool = _tool(server, "sync-httpx2", "invoke", files_dir=tmp_path, max_files=5)
    names = [f"f{i}.csv" for i in range(6)]
    with pytest.raises(ToolException, match="6 files requested; at most 5"):
        _call(tool, "sync-httpx2", task="t", files=names)
    assert server.requests == []
    server.responder = lambda request: ANSWER
    assert _call(tool, "sync-httpx2", task="t", files=names[:5] + names[:5]).status == "success"
    assert len(server.last_request.inline_data()) == 5


def test_csv_headers_in_the_description_are_clean(server: GeminiTestServer, box: Path) -> None:
    """The description quotes each CSV's header row: no bidi or format characters, and
    never the header of a file reached through a link out of files_dir or a hidden one."""
    (box / "sales.csv").write_text("region\u202e,total\u200b,\u2028note\n1,2,3\n")
    tool = _tool(server, "sync-httpx2", "invoke", files_dir=box)
    assert "columns: region ,total , note" in tool.description
    for char in ("\u202e", "\u200b", "\u2028"):
        assert char not in tool.description
    assert "hunter2" not in tool.description and "API_KEY" not in tool.description
