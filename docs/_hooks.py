"""MkDocs hooks: the pages' pictures, made by the offline endpoint at every build.

The quick start's chart is written to docs/assets/quickstart-chart.png (committed, 1 KB,
so GitHub shows it too; tests/docs/test_site.py checks it is current), and the
`<!-- report-html -->` marker in a page becomes the Jupyter rendering of the quick start's
`CodeExecutionReport` (its `_repr_html_`, charts inline).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

QUESTION = (
    "What is the sum of the first 50 prime numbers? Run code for it, then plot the primes "
    "against their position as a chart."
)
CHART = Path(__file__).parent / "assets" / "quickstart-chart.png"
MARKER = "<!-- report-html -->"
_html: list[str] = []


def render_quickstart() -> tuple[bytes, str]:
    """(the chart's PNG bytes, the report's HTML) for QUESTION, answered offline."""
    from langchain_gemini_codeexec import ChatGeminiCodeExecution, CodeExecutionReport
    from langchain_gemini_codeexec.testing import offline

    with offline():
        message = ChatGeminiCodeExecution(model="gemini-2.5-flash").invoke(QUESTION)
    report = CodeExecutionReport.from_message(message)
    (chart,) = [image.data for run in report.runs for image in run.images]
    return chart, report._repr_html_()


def on_pre_build(config: Any) -> None:
    chart, html = render_quickstart()
    if not CHART.exists() or CHART.read_bytes() != chart:
        CHART.write_bytes(chart)
    _html[:] = [html]


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, f'<div class="report-output">\n{_html[0]}\n</div>')
