"""Context caching and cached files against real Gemini (skipped without credentials).

Run: `pytest -m integration tests/integration/test_real_caching.py` (creates two caches with
a 5-minute TTL and deletes them at the end).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from langchain_gemini_codeexec import ChatGeminiCodeExecution, GeminiCodeExecutionTool
from langchain_gemini_codeexec.caching import create_cache, delete_cache, update_cache
from langchain_gemini_codeexec.testing import has_gemini_credentials

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not has_gemini_credentials(),
        reason="real Gemini needs GOOGLE_API_KEY / GEMINI_API_KEY or Vertex AI settings",
    ),
    pytest.mark.timeout(300),
]

MODEL = os.environ.get("GEMINI_TEST_MODEL", "gemini-2.5-flash")
ROWS = "".join(f"{i},{['north', 'south'][i % 2]},{i % 17}\n" for i in range(3000))
CSV = "order,region,units\n" + ROWS


def test_explicit_cache_is_read_and_deleted() -> None:
    llm = ChatGeminiCodeExecution(model=MODEL, temperature=0, max_retries=4, timeout=240)
    name = create_cache(llm,
        [SystemMessage("Answer with a number only."), HumanMessage(f"Orders:\n{CSV}")],
        ttl=300,
        display_name="langchain-gemini-codeexec integration",
    )
    try:
        answer = llm.invoke(
            "How many orders are listed? Count them with code.", cached_content=name
        )
        assert answer.usage_metadata is not None
        assert answer.usage_metadata["input_token_details"]["cache_read"] > 1000
        assert "3000" in answer.text.replace(",", "")
        assert update_cache(llm, name, ttl=600)["name"] == name
    finally:
        delete_cache(llm, name)


def test_tool_caches_the_file_and_reads_it(tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text(CSV)
    llm = ChatGeminiCodeExecution(model=MODEL, temperature=0, max_retries=4, timeout=240)
    tool = GeminiCodeExecutionTool(llm=llm, files_dir=tmp_path, cache_files=True, cache_ttl=300)
    try:
        for task in ("Total units in orders.csv?", "Total units for region north?"):
            call = {"type": "tool_call", "id": "1", "name": tool.name}
            report = tool.invoke({**call, "args": {"task": task, "files": ["orders.csv"]}}).artifact
            assert report.cached_input_tokens > 1000, report.usage
    finally:
        tool.delete_file_caches()
