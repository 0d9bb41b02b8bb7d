"""A file job's results download: the same timeout meaning on every path, linear in size.

The model's `timeout` means, for the responses file: the head within it, then each read
within it. A head trickled a byte at a time is cut at the timeout; a healthy file
streaming steadily for longer than the timeout is read whole. Lines are split in linear
time, a line over the cap is that result's error, and results far out of order are held
on disk, not in memory. Through the real SDK on every HTTP path (sync httpx2/httpx,
async aiohttp/httpx2/httpx).
"""

from __future__ import annotations

import asyncio
import json
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from langchain_gemini_codeexec import (
    GeminiBatchJob,
    GeminiTimeoutError,
    IncompleteResponseError,
)
from langchain_gemini_codeexec.batch import BatchResult, asubmit_batch, submit_batch
from langchain_gemini_codeexec.batch import _http as batch_http
from langchain_gemini_codeexec.batch._http import LineBuffer, OversizedLine
from langchain_gemini_codeexec.testing import GeminiTestServer, Reply, response, text
from tests.support import PATHS, check_path, path_llm

FAST = {"poll_interval": 0.01, "timeout": 30.0, "progress": False}
# The reader's timeout: its attach (a good answer) must fit in it on a loaded machine.
READ_TIMEOUT = 0.3


@pytest.fixture
def server() -> Any:
    with GeminiTestServer(responder=lambda req: response(text(f"echo {req.text}"))) as srv:
        yield srv


def file_job_results(
    server: GeminiTestServer,
    path: str,
    inputs: list[str],
    *,
    timeout: float,
    before_download: Callable[[], None] = lambda: None,
) -> list[BatchResult]:
    """Submit a file job (generous timeout), then read its results with `timeout`."""
    keys = [f"k{i}" for i in range(len(inputs))]
    submitter = path_llm(server.base_url, path, timeout=30, max_retries=0)
    reader = path_llm(server.base_url, path, timeout=timeout, max_retries=0)
    check_path(reader, path)
    if path.startswith("sync"):
        job = submit_batch(submitter, inputs, keys=keys, input_mode="file")
        job.poll_until_done(**FAST)
        before_download()
        return list(GeminiBatchJob.attach(job.name, llm=reader, keys=keys).results())

    async def run() -> list[BatchResult]:
        job = await asubmit_batch(submitter, inputs, keys=keys, input_mode="file")
        await job.apoll_until_done(**FAST)
        before_download()
        attached = await GeminiBatchJob.aattach(job.name, llm=reader, keys=keys)
        return [r async for r in attached.aresults()]

    return asyncio.run(run())


# --- 4. the head of the download within the timeout -----------------------------------------


@pytest.mark.parametrize("path", PATHS)
def test_a_trickled_download_head_is_cut_at_the_timeout(
    server: GeminiTestServer, path: str
) -> None:
    """The head and body arrive a byte every sixth of the timeout (about 7 s in all): every
    socket read gets its byte in time, so only a deadline on the head stops it, at
    `timeout`."""
    interval = READ_TIMEOUT / 6
    trickle = Reply.trickle(b'{"key":"k0"}\n' * 4, interval=interval, head_too=True)
    started: list[float] = []

    def trickle_next() -> None:
        server.batch.download_faults.append(trickle)
        started.append(time.perf_counter())

    with pytest.raises(GeminiTimeoutError):
        file_job_results(server, path, ["a"], timeout=READ_TIMEOUT, before_download=trickle_next)
    elapsed = time.perf_counter() - started[0]  # attaching, then the download's head
    assert READ_TIMEOUT * 0.9 <= elapsed < READ_TIMEOUT + 1.5, elapsed


# --- 5. a healthy download is not cut --------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
def test_a_download_streaming_steadily_past_the_timeout_is_read_whole(
    server: GeminiTestServer, path: str
) -> None:
    """The file arrives 150 bytes every tenth of the timeout, over twice the timeout in
    all, each read well within it: every result comes back (aiohttp used to cut at the
    timeout in all)."""
    inputs = [f"question {i}" for i in range(12)]
    piece, interval = 150, READ_TIMEOUT / 10

    def pace() -> None:
        server.batch.download_pace = (piece, interval)

    results = file_job_results(server, path, inputs, timeout=READ_TIMEOUT, before_download=pace)
    assert [r.message.text if r.message else r.error for r in results] == [
        f"echo {q}" for q in inputs
    ]
    (download,) = [r for r in server.requests if r.path.endswith(":download")]
    size = len(server.files[download.path.split("/v1beta/")[1].removesuffix(":download")].data)
    assert size / piece * interval > 2 * READ_TIMEOUT, "the file takes over twice the timeout"


# --- 6. lines: linear, capped; out of order: on disk ---------------------------------------


@pytest.mark.parametrize("path", PATHS)
def test_a_line_over_the_cap_is_that_results_error(
    server: GeminiTestServer, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch_http, "MAX_LINE_BYTES", 4096)
    inputs = ["short", "long " + "x" * 20_000, "short again"]
    results = file_job_results(server, path, inputs, timeout=30)
    assert [r.key for r in results] == ["k0", "k1", "k2"]
    assert results[0].message is not None and results[2].message is not None
    assert results[2].message.text == "echo short again"
    error = results[1].error
    assert isinstance(error, IncompleteResponseError) and results[1].message is None
    assert "over the 4096-byte limit" in str(error)


def _feed_time(size: int, lines: int, chunk: int = 1024) -> float:
    line = b"x" * (size // lines - 1) + b"\n"
    data = line * lines
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    best = float("inf")
    for _ in range(5):
        buf = LineBuffer(max_line=size * 2)
        start = time.perf_counter()
        out = sum(len(buf.feed(piece)) for piece in pieces)
        best = min(best, time.perf_counter() - start)
        assert out == lines
    return best


def test_line_splitting_is_linear_in_the_line_length() -> None:
    """8 MiB as one line costs about what the same bytes in 256 lines cost, fed 1 KiB at a
    time (searching from the line's start at each chunk made the one line ~200x dearer;
    the bound is loose for a loaded machine)."""
    one, many = _feed_time(8 << 20, 1), _feed_time(8 << 20, 256)
    assert one < 30 * many, (one, many)


@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_oversized_lines_are_skipped_not_held(chunk: int) -> None:
    data = b'{"key":"a"}\n' + b'{"key":"big","pad":"' + b"y" * 5000 + b'"}\n{"key":"c"}'
    buf = LineBuffer(max_line=1000)
    lines: list[bytes] = []
    peak = 0
    for i in range(0, len(data), chunk):
        lines += buf.feed(data[i : i + chunk])
        peak = max(peak, buf._size)
    lines += buf.rest()
    assert lines[0] == b'{"key":"a"}' and lines[2] == b'{"key":"c"}'
    assert isinstance(lines[1], OversizedLine) and lines[1].size == len(data.split(b"\n")[1])
    assert lines[1].startswith(b'{"key":"big"')
    assert peak <= 1000


def test_results_far_out_of_order_are_held_on_disk(tmp_path: Path) -> None:
    """2,000 results listed last to first: the peak of memory traced while reading them is
    a fraction of the file (each held result is an offset in a temporary file)."""
    from langchain_gemini_codeexec import ChatGeminiCodeExecution

    keys = [f"k{i}" for i in range(2000)]
    file = tmp_path / "responses.jsonl"
    with file.open("w") as handle:
        for key in reversed(keys):
            answer = response(text(f"{key} " + "z" * 5000))
            handle.write(json.dumps({"key": key, "response": answer}) + "\n")
    llm = ChatGeminiCodeExecution(api_key="dummy-key-0123456789", base_url="http://127.0.0.1:9")
    job = GeminiBatchJob("batches/local", llm, keys=keys)
    tracemalloc.start()
    try:
        count = 0
        for result in job.read_results(file):
            assert result.key == keys[count] and result.message is not None
            count += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 2000
    assert peak < file.stat().st_size / 3, (peak, file.stat().st_size)
