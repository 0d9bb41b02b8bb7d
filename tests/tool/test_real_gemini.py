"""The tool against real Gemini: replayed from `cassettes/` offline, recorded with credentials.

`--gemini-record-mode=once` with GOOGLE_API_KEY / GEMINI_API_KEY records a missing
cassette; without a cassette and credentials a test skips.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from langchain_gemini_codeexec import CodeExecutionReport, GeminiCodeExecutionTool

pytestmark = [
    pytest.mark.integration,
    # Replays tests/tool/cassettes/ offline; records them with credentials and
    # --gemini-record-mode=once (see README, "Testing your pipeline offline"); else skips.
    pytest.mark.usefixtures("gemini_cassette"),
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
