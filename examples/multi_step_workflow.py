"""A LangGraph workflow in which one step computes with Gemini and later steps use its report.

    describe_data -> compute -> check --(problems, first try)--> compute
                                     \\--(fine, or tried twice)--> summarize

`describe_data` writes a self-contained task from the CSV's header; `compute` calls
`GeminiCodeExecutionTool` (async, with the CSV attached) and keeps the
`CodeExecutionReport`; `check` reads the report's runs (outcomes, printed figures) and
sends the task back once if something is off; `summarize` writes the result from the
report and saves any chart.

Uses real Gemini when GOOGLE_API_KEY / GEMINI_API_KEY (or Vertex AI settings) are set;
otherwise (or with --offline) the bundled offline Gemini endpoint, whose scripted answer
is computed from the CSV the request carried. The first line printed says which.

    python examples/multi_step_workflow.py [--offline] [--out DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import re
import statistics
import sys
from collections import defaultdict
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, TypedDict

try:  # with langgraph installed, a StateGraph; else (`pip install .` alone) run_steps below
    from langgraph.graph import END, START, StateGraph
except ImportError:
    StateGraph = None

from langchain_gemini_codeexec import (
    ChatGeminiCodeExecution,
    CodeExecutionReport,
    GeminiCodeExecutionTool,
)
from langchain_gemini_codeexec.cost import get_gemini_cost_callback
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    RecordedRequest,
    code,
    has_gemini_credentials,
    response,
    result,
    text,
)

DATA_DIR = Path(__file__).resolve().parent / "data"
DATASET = "measurements.csv"
LINE = re.compile(
    r"site=(?P<site>\w+) mean=(?P<mean>-?[\d.]+) min=(?P<min>-?[\d.]+) "
    r"max=(?P<max>-?[\d.]+) slope=(?P<slope>-?[\d.]+)"
)
MAX_ATTEMPTS = 2


class Workflow(TypedDict, total=False):
    dataset: str
    sites: list[str]
    task: str
    attempts: int
    report: CodeExecutionReport
    figures: dict[str, dict[str, float]]
    problems: list[str]
    summary: str
    charts: list[str]


# --- the steps ------------------------------------------------------------------------


def describe_data(state: Workflow) -> Workflow:
    """A self-contained task: the sandbox sees only the file and these words."""
    with (DATA_DIR / state["dataset"]).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    sites = sorted({row["site"] for row in rows})
    columns = ", ".join(rows[0])
    task = (
        f"{state['dataset']} has {len(rows)} daily temperature readings (columns: {columns}) "
        f"from the sites {', '.join(sites)}. For each site compute the mean, minimum and "
        "maximum temperature and the linear trend in degrees C per day (least-squares slope "
        "over the day number). Print exactly one line per site in this form: "
        "site=<name> mean=<x> min=<x> max=<x> slope=<x> (numbers rounded to 3 decimals)."
    )
    return {"sites": sites, "task": task, "attempts": 0}


def make_compute(tool: GeminiCodeExecutionTool) -> Any:
    async def compute(state: Workflow) -> Workflow:
        call = {"type": "tool_call", "id": f"compute-{state['attempts']}", "name": tool.name}
        args = {"task": state["task"], "files": [state["dataset"]]}
        message = await tool.ainvoke({**call, "args": args})
        return {"report": message.artifact, "attempts": state["attempts"] + 1}

    return compute


def check(state: Workflow) -> Workflow:
    """Read the report: did the code run, and are the printed figures sane?"""
    report = state["report"]
    problems = []
    if not any(run.ok for run in report.runs):
        outcomes = [run.outcome for run in report.runs]
        problems.append(f"no code run succeeded (outcomes: {outcomes})")
    figures: dict[str, dict[str, float]] = {}
    for run in report.runs:
        for match in LINE.finditer(run.output):
            values = {k: float(v) for k, v in match.groupdict().items() if k != "site"}
            figures[match["site"]] = values
    missing = sorted(set(state["sites"]) - set(figures))
    if missing:
        problems.append(f"no figures printed for {', '.join(missing)}")
    for site, values in figures.items():
        if not values["min"] <= values["mean"] <= values["max"]:
            problems.append(f"{site}: mean outside [min, max]")
    if problems:
        hint = " Previous attempt: " + "; ".join(problems) + ". Print the lines exactly."
        return {"figures": figures, "problems": problems, "task": state["task"] + hint}
    return {"figures": figures, "problems": []}


def route(state: Workflow) -> str:
    if state["problems"] and state["attempts"] < MAX_ATTEMPTS:
        return "compute"
    return "summarize"


def make_summarize(out_dir: Path) -> Any:
    def summarize(state: Workflow) -> Workflow:
        report, figures = state["report"], state["figures"]
        lines = [f"Temperature trends in {state['dataset']}:"]
        failed = [run for run in report.runs if not run.ok]
        if failed:
            last_line = (failed[0].output.strip().splitlines() or ["no output"])[-1]
            lines.append(f"(Gemini's sandbox had {len(failed)} failed run(s), e.g. {last_line})")
        for site, values in sorted(figures.items(), key=lambda item: -item[1]["slope"]):
            lines.append(
                f"- {site}: mean {values['mean']:.1f} C (range {values['min']:.1f} to "
                f"{values['max']:.1f}), trend {values['slope']:+.3f} C/day"
            )
        if figures:
            fastest = max(figures, key=lambda site: figures[site]["slope"])
            lines.append(f"Warming fastest: {fastest}.")
        if state["problems"]:
            lines.append(f"Unresolved after {state['attempts']} attempts: {state['problems']}")
        lines.append(f"Gemini's own summary: {report.answer.strip()}")
        usage = report.usage or {}
        lines.append(
            f"({len(report.runs)} code run(s) in {state['attempts']} attempt(s), "
            f"{usage.get('total_tokens', '?')} tokens on the last attempt)"
        )
        charts = [str(path) for path in report.save_images(out_dir)]
        return {"summary": "\n".join(lines), "charts": charts}

    return summarize


class Steps:
    """The same graph walked by hand (what `StateGraph.astream(stream_mode="updates")`
    yields), for when langgraph is not installed."""

    def __init__(self, tool: GeminiCodeExecutionTool, out_dir: Path) -> None:
        self.nodes = {
            "describe_data": describe_data,
            "compute": make_compute(tool),
            "check": check,
            "summarize": make_summarize(out_dir),
        }

    async def astream(self, state: dict[str, Any], stream_mode: str = "updates") -> Any:
        step: str | None = "describe_data"
        while step is not None:
            node = self.nodes[step]
            change = node(state)
            if asyncio.iscoroutine(change):
                change = await change
            state = {**state, **change}
            yield {step: change}
            if step == "describe_data":
                step = "compute"
            elif step == "compute":
                step = "check"
            elif step == "check":
                step = route(state)  # type: ignore[arg-type]
            else:
                step = None


def build_workflow(tool: GeminiCodeExecutionTool, out_dir: Path) -> Any:
    if StateGraph is None:
        return Steps(tool, out_dir)
    graph = StateGraph(Workflow)
    graph.add_node("describe_data", describe_data)
    graph.add_node("compute", make_compute(tool))
    graph.add_node("check", check)
    graph.add_node("summarize", make_summarize(out_dir))
    graph.add_edge(START, "describe_data")
    graph.add_edge("describe_data", "compute")
    graph.add_edge("compute", "check")
    graph.add_conditional_edges("check", route, ["compute", "summarize"])
    graph.add_edge("summarize", END)
    return graph.compile()


# --- the offline Gemini: a scripted turn computed from the CSV it was sent -------------

STATS_CODE = """\
import numpy as np
import pandas as pd

df = pd.read_csv("measurements.csv", parse_dates=["date"])
df["day"] = (df["date"] - df["date"].min()).dt.days
for site, g in df.groupby("site"):
    slope = np.polyfit(g["day"], g["temperature_c"], 1)[0]
    t = g["temperature_c"]
    print(f"site={site} mean={t.mean():.3f} min={t.min():.3f} max={t.max():.3f} slope={slope:.3f}")
"""


def offline_answer(request: RecordedRequest) -> dict[str, Any]:
    """What Gemini would answer, computed from the CSV in the request."""
    (data,) = request.inline_data()
    series: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for row in csv.DictReader(io.StringIO(data.decode("utf-8"))):
        series[row["site"]].append((int(row["date"][-2:]), float(row["temperature_c"])))
    lines = []
    for site, points in sorted(series.items()):
        days = [d - points[0][0] for d, _ in points]
        temps = [t for _, t in points]
        slope = statistics.linear_regression(days, temps).slope
        lines.append(
            f"site={site} mean={statistics.fmean(temps):.3f} min={min(temps):.3f} "
            f"max={max(temps):.3f} slope={slope:.3f}\n"
        )
    return response(
        # Gemini often fixes its own first attempt within one answer; so does this script.
        code(STATS_CODE.replace('"temperature_c"', '"temp"')),
        result(
            "Traceback (most recent call last):\n  ...\nKeyError: 'temp'\n",
            outcome="OUTCOME_FAILED",
        ),
        text("The column is called temperature_c; fixing that.\n\n"),
        code(STATS_CODE),
        result("".join(lines)),
        text(
            f"Computed the statistics for {len(series)} sites; the lines above give the "
            "mean, range and daily trend of each."
        ),
        response_id="offline-workflow",
    )


# --- the example ---------------------------------------------------------------------


async def run(offline: bool, out_dir: Path) -> int:
    async with AsyncExitStack() as stack:
        if has_gemini_credentials() and not offline:
            model = os.environ.get("GEMINI_MODEL", "gemini-2.5-flash")
            print(f"Using real Gemini ({model}; credentials found in the environment).")
            llm = ChatGeminiCodeExecution(model=model)
        else:
            why = "--offline" if offline else "no GOOGLE_API_KEY/GEMINI_API_KEY set"
            print(
                f"Using the offline Gemini endpoint ({why}): a scripted answer computed "
                "from the CSV the request carries."
            )
            server = await stack.enter_async_context(GeminiTestServer(responder=offline_answer))
            llm = ChatGeminiCodeExecution(api_key="offline", base_url=server.base_url)
        stack.push_async_callback(llm.genai_client.aio.aclose)

        tool = GeminiCodeExecutionTool(llm=llm, files_dir=DATA_DIR)
        workflow = build_workflow(tool, out_dir)
        async with get_gemini_cost_callback() as spent:  # every step's Gemini calls
            async for update in workflow.astream({"dataset": DATASET}, stream_mode="updates"):
                for step, change in update.items():
                    print(f"[{step}] {', '.join(sorted(change or {}))}")
                    if step == "check" and change.get("problems"):
                        print(f"    problems: {change['problems']}")
                    if step == "summarize":
                        print("\n" + change["summary"])
                        for path in change["charts"]:
                            print(f"Chart saved to {path}")
        print(f"Gemini cost: ${spent.total_cost:.6f} ({spent.calls} call(s))")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offline", action="store_true", help="use the offline endpoint")
    parser.add_argument("--out", type=Path, default=Path("workflow_output"))
    args = parser.parse_args(argv)
    return asyncio.run(run(args.offline, args.out))


if __name__ == "__main__":
    sys.exit(main())
