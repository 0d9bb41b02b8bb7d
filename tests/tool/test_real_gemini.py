"""The tool against real Gemini; skipped without GOOGLE_API_KEY / GEMINI_API_KEY or Vertex."""

from __future__ import annotations

from pathlib import Path

import pytest

from langchain_gemini_codeexec import CodeExecutionReport, GeminiCodeExecutionTool
from langchain_gemini_codeexec.testing import has_gemini_credentials

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not has_gemini_credentials(), reason="needs Gemini credentials"),
]


def test_real_gemini_runs_code_for_the_tool() -> None:
    tool = GeminiCodeExecutionTool()
    message = tool.invoke(
        {
            "type": "tool_call",
            "id": "real-1",
            "name": tool.name,
            "args": {"task": "Compute the sum of the first 50 prime numbers with code."},
        }
    )
    report = message.artifact
    assert isinstance(report, CodeExecutionReport)
    assert report.runs and any(run.ok for run in report.runs)
    assert "5117" in message.content


async def test_real_gemini_reads_an_attached_csv(tmp_path: Path) -> None:
    (tmp_path / "values.csv").write_text("value\n" + "\n".join(str(i) for i in range(1, 101)))
    tool = GeminiCodeExecutionTool(files_dir=tmp_path)
    content = await tool.ainvoke(
        {
            "task": "Load values.csv and print the sum of the 'value' column.",
            "files": ["values.csv"],
        }
    )
    assert "5050" in content
