"""Batch jobs and context caches record and replay like any other call.

The stand-in Gemini is a `GeminiTestServer` answered by `ScriptedGemini` (its batch and
cachedContents endpoints included). A batch job's display names and the upload's temporary
file name are made up per run: replay leaves them out of matching by default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from langchain_gemini_codeexec import ChatGeminiCodeExecution, GeminiCodeExecutionTool
from langchain_gemini_codeexec.batch import asubmit_batch, submit_batch
from langchain_gemini_codeexec.testing import GeminiTestServer, ScriptedGemini

KEY = "AIzaSyBq7Xk2Lm9Rt4Vw8Yz1Cd5Fg3Hj6Np0Qs8Ux"
FAST: dict[str, Any] = {"poll_interval": 0.01, "timeout": 10.0, "progress": False}
QUESTIONS = ["What is 2 + 2?", "What is 3 * 7?"]


def _llm(base_url: str) -> ChatGeminiCodeExecution:
    return ChatGeminiCodeExecution(
        model="gemini-2.5-flash", api_key=KEY, base_url=base_url, max_retries=0
    )


def _batch(base_url: str) -> list[list[tuple[str, str]]]:
    out = []
    for mode in ("inline", "file"):
        job = submit_batch(_llm(base_url), QUESTIONS, input_mode=mode)
        job.poll_until_done(**FAST)
        out.append([(r.key, r.message.text if r.message else repr(r.error)) for r in job.results()])
    return out


async def _abatch(base_url: str) -> list[tuple[str, str]]:
    job = await asubmit_batch(_llm(base_url), QUESTIONS)
    await job.apoll_until_done(**FAST)
    return [(r.key, r.message.text if r.message else repr(r.error)) async for r in job.aresults()]


def test_batch_jobs_replay_inline_and_file_input(tmp_path: Path) -> None:
    path = tmp_path / "batch.json"
    with (
        GeminiTestServer(responder=ScriptedGemini()) as upstream,
        GeminiTestServer(cassette=path, record=True, upstream=upstream.base_url) as recorder,
    ):
        recorded = _batch(recorder.base_url)
    assert [text for _, text in recorded[0]] == ["The result is 4.", "The result is 21."]
    kinds = {(r.method, r.path.split("/")[-1].split(":")[-1]) for r in recorder.requests}
    assert ("POST", "batchGenerateContent") in kinds and ("POST", "files") in kinds
    assert any(r.path.startswith("/download/") for r in recorder.requests)
    with GeminiTestServer(cassette=path) as replay:
        assert _batch(replay.base_url) == recorded
        assert [r.path for r in replay.requests] == [r.path for r in recorder.requests]


async def test_an_async_batch_job_replays(tmp_path: Path) -> None:
    path = tmp_path / "batch.json"
    with (
        GeminiTestServer(responder=ScriptedGemini()) as upstream,
        GeminiTestServer(cassette=path, record=True, upstream=upstream.base_url) as rec,
    ):
        recorded = await _abatch(rec.base_url)
    with GeminiTestServer(cassette=path) as replay:
        assert await _abatch(replay.base_url) == recorded
    assert [text for _, text in recorded] == ["The result is 4.", "The result is 21."]


def test_a_cached_file_session_replays(tmp_path: Path) -> None:
    """countTokens, cachedContents create, answers on the cache, and its deletion."""
    (tmp_path / "sales.csv").write_text(
        "region,revenue\n" + "".join(f"r{i},{i * 10}\n" for i in range(3000))
    )
    path = tmp_path / "cache.json"

    def session(base_url: str) -> list[Any]:
        tool = GeminiCodeExecutionTool(llm=_llm(base_url), files_dir=tmp_path, cache_files=True)
        answers = [
            tool.invoke({"task": f"What is 2 + {i}?", "files": ["sales.csv"]}) for i in range(3)
        ]
        return [answers, tool.delete_file_caches()]

    with (
        GeminiTestServer(responder=ScriptedGemini()) as upstream,
        GeminiTestServer(cassette=path, record=True, upstream=upstream.base_url) as recorder,
    ):
        recorded = session(recorder.base_url)
    methods = [(r.method, r.path.rsplit("/", 1)[-1]) for r in recorder.requests]
    assert methods[:2] == [
        ("POST", "gemini-2.5-flash:countTokens"),
        ("POST", "cachedContents"),
    ]
    assert methods[-1][0] == "DELETE" and len(recorded[1]) == 1
    with GeminiTestServer(cassette=path) as replay:
        assert session(replay.base_url) == recorded
        assert len(replay.requests) == len(recorder.requests)


def test_a_changed_batch_request_is_not_replayed(tmp_path: Path) -> None:
    path = tmp_path / "batch.json"
    with (
        GeminiTestServer(responder=ScriptedGemini()) as upstream,
        GeminiTestServer(cassette=path, record=True, upstream=upstream.base_url) as recorder,
    ):
        submit_batch(_llm(recorder.base_url), QUESTIONS)
    with GeminiTestServer(cassette=path) as replay, pytest.raises(Exception) as info:
        submit_batch(_llm(replay.base_url), [*QUESTIONS, "And 5 - 1?"])
    assert "was not recorded" in str(info.value)
    assert "batch.inputConfig.requests.requests[2]" in str(info.value)
