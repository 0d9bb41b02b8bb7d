"""CSV in, numbers and a chart out: GeminiCodeExecutionTool on a bundled sales file.

The tool's owner gives it a directory of files; the caller (here this script, usually an
agent) names a file from it. Gemini loads the CSV in its sandbox, computes, draws a chart;
the script prints what an agent would read and saves the chart from the report.

Uses real Gemini when GOOGLE_API_KEY / GEMINI_API_KEY (or Vertex AI settings) are set;
otherwise (or with --offline) the bundled offline Gemini endpoint, whose scripted answer
is computed from the CSV the request carried. The first line printed says which.

    python examples/csv_analysis.py [--offline] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import struct
import sys
import zlib
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from langchain_gemini_codeexec import (
    ChatGeminiCodeExecution,
    CodeExecutionReport,
    GeminiCodeExecutionTool,
)
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    RecordedRequest,
    code,
    has_gemini_credentials,
    image,
    response,
    result,
    text,
    usage,
)

DATA_DIR = Path(__file__).resolve().parent / "data"
TASK = (
    "sales.csv holds monthly sales per region in 2024 (columns: month, region, units, "
    "revenue_eur). Compute the total 2024 revenue per region and overall, and the month "
    "with the highest total revenue. Print each number, then draw a bar chart of total "
    "revenue per region with matplotlib."
)


# --- the offline Gemini: a scripted turn computed from the CSV it was sent -------------

ANALYSIS_CODE = """\
import pandas as pd

df = pd.read_csv("sales.csv")
by_region = df.groupby("region")["revenue_eur"].sum().sort_values(ascending=False)
for region, total in by_region.items():
    print(f"{region}: {total:,.2f}")
print(f"Total: {df['revenue_eur'].sum():,.2f}")
by_month = df.groupby("month")["revenue_eur"].sum()
print(f"Best month: {by_month.idxmax()} ({by_month.max():,.2f})")
"""
CHART_CODE = """\
import matplotlib.pyplot as plt

by_region.plot(kind="bar", title="Revenue per region, 2024 (EUR)")
plt.tight_layout()
plt.show()
"""


def bar_chart_png(values: list[float], width: int = 360, height: int = 220) -> bytes:
    """A small bar chart as PNG bytes, drawn without any plotting library."""
    pixels = [[(255, 255, 255)] * width for _ in range(height)]
    colors = [(66, 133, 244), (219, 68, 55), (244, 180, 0), (15, 157, 88)]
    slot = width // max(1, len(values))
    top = max(values) or 1.0
    for i, value in enumerate(values):
        bar = int((height - 20) * value / top)
        for y in range(height - 10 - bar, height - 10):
            for x in range(i * slot + 10, (i + 1) * slot - 10):
                pixels[y][x] = colors[i % len(colors)]
    raw = b"".join(b"\x00" + bytes(c for px in row for c in px) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def offline_answer(request: RecordedRequest) -> dict[str, Any]:
    """What Gemini would answer, computed from the CSV in the request."""
    (data,) = request.inline_data()
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    by_region: dict[str, float] = defaultdict(float)
    by_month: dict[str, float] = defaultdict(float)
    for row in rows:
        by_region[row["region"]] += float(row["revenue_eur"])
        by_month[row["month"]] += float(row["revenue_eur"])
    ranked = sorted(by_region.items(), key=lambda item: -item[1])
    total = sum(by_region.values())
    best = max(by_month, key=lambda month: by_month[month])
    output = "".join(f"{region}: {value:,.2f}\n" for region, value in ranked)
    output += f"Total: {total:,.2f}\nBest month: {best} ({by_month[best]:,.2f})\n"
    leader, runner_up = ranked[0], ranked[1]
    return response(
        text("I'll load the CSV with pandas and group the revenue by region and month.\n\n"),
        code(ANALYSIS_CODE),
        result(output),
        code(CHART_CODE),
        result(""),
        image(bar_chart_png([value for _, value in ranked])),
        text(
            f"Total 2024 revenue was EUR {total:,.2f}. {leader[0]} led with EUR "
            f"{leader[1]:,.2f}, ahead of {runner_up[0]} (EUR {runner_up[1]:,.2f}); the best "
            f"month was {best} with EUR {by_month[best]:,.2f}. The bar chart shows total "
            "revenue per region."
        ),
        usage=usage(prompt=1480, candidates=310, tool_use_prompt=520),
        response_id="offline-csv-analysis",
    )


# --- the example ---------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offline", action="store_true", help="use the offline endpoint")
    parser.add_argument("--out", type=Path, default=Path("csv_analysis_output"))
    args = parser.parse_args(argv)

    with ExitStack() as stack:
        if has_gemini_credentials() and not args.offline:
            model = os.environ.get("GEMINI_MODEL", "gemini-2.5-flash")
            print(f"Using real Gemini ({model}; credentials found in the environment).")
            llm = ChatGeminiCodeExecution(model=model)
        else:
            why = "--offline" if args.offline else "no GOOGLE_API_KEY/GEMINI_API_KEY set"
            print(
                f"Using the offline Gemini endpoint ({why}): a scripted answer computed "
                "from the CSV the request carries."
            )
            server = stack.enter_context(GeminiTestServer(responder=offline_answer))
            llm = ChatGeminiCodeExecution(api_key="offline", base_url=server.base_url)

        # The owner decides which files exist for the tool; the caller only names them.
        tool = GeminiCodeExecutionTool(llm=llm, files_dir=DATA_DIR)
        print(f"Files the tool offers: {', '.join(tool.available_files())}\n")
        call = {"type": "tool_call", "id": "csv-1", "name": tool.name}
        message = tool.invoke({**call, "args": {"task": TASK, "files": ["sales.csv"]}})

        print("What an agent reads (ToolMessage.content):\n")
        print(message.content)

        report: CodeExecutionReport = message.artifact
        print("\nThe report (ToolMessage.artifact):")
        for i, run in enumerate(report.runs, start=1):
            print(
                f"  run {i}: {run.outcome}, {len(run.output)} characters of output, "
                f"{len(run.images)} image(s)"
            )
        charts = report.save_images(args.out)
        for path in charts:
            print(f"  chart saved to {path} ({path.stat().st_size} bytes)")
        if not charts:
            print("  (Gemini drew no chart this time)")
        print(f"  model {report.model}, finish {report.finish_reason}, usage {report.usage}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
