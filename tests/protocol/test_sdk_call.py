"""`run_sdk_call` / `arun_sdk_call` (deprecated, removed in 0.3): a google-genai call (here
a Files API upload, as the tool makes) run the way the model runs its own requests:
retried, typed errors; the methods warn."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest

from langchain_gemini_codeexec.errors import GeminiAPIError
from langchain_gemini_codeexec.testing import GeminiTestServer, Reply
from tests.support import path_llm


def _failing_uploads(server: GeminiTestServer, code: int, times: int) -> list[str]:
    """The next `times` upload starts answer `code`; returns the actions seen."""
    original = server._files
    seen: list[str] = []

    def files(req: Any, groups: Any) -> Reply:
        seen.append(req.action)
        if req.action == "upload" and seen.count("upload") <= times:
            return Reply.error(code, "try again later" if code >= 500 else "bad file")
        return original(req, groups)

    server._files = files  # type: ignore[method-assign]
    return seen


@pytest.mark.parametrize("path", ["sync-httpx2", "async-aiohttp", "async-httpx"])
def test_sdk_call_is_retried_like_a_request(server: GeminiTestServer, path: str) -> None:
    seen = _failing_uploads(server, 503, times=1)
    llm = path_llm(server.base_url, path, max_retries=2)
    client = llm.genai_client
    config = {"mime_type": "text/csv", "display_name": "a.csv"}
    with pytest.warns(DeprecationWarning, match="run_sdk_call.*llm.genai_client"):
        if path.startswith("sync"):
            sent = llm.run_sdk_call(
                lambda: client.files.upload(file=io.BytesIO(b"a\n1\n"), config=config)
            )
        else:
            sent = asyncio.run(
                llm.arun_sdk_call(
                    lambda: client.aio.files.upload(file=io.BytesIO(b"a\n1\n"), config=config)
                )
            )
    assert seen.count("upload") == 2
    assert sent.name in server.files and server.files[sent.name].data == b"a\n1\n"


@pytest.mark.parametrize("path", ["sync-httpx2", "async-aiohttp"])
def test_sdk_call_failure_is_typed_and_not_retried(server: GeminiTestServer, path: str) -> None:
    seen = _failing_uploads(server, 400, times=5)
    llm = path_llm(server.base_url, path, max_retries=2)
    client = llm.genai_client
    config = {"mime_type": "text/plain"}
    with pytest.raises(GeminiAPIError, match="bad file"), pytest.warns(DeprecationWarning):
        if path.startswith("sync"):
            llm.run_sdk_call(lambda: client.files.upload(file=io.BytesIO(b"x"), config=config))
        else:
            asyncio.run(
                llm.arun_sdk_call(
                    lambda: client.aio.files.upload(file=io.BytesIO(b"x"), config=config)
                )
            )
    assert seen.count("upload") == 1
