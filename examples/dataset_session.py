"""An analysis session: ten questions on one CSV, the file cached once by Gemini.

`GeminiCodeExecutionTool(cache_files=True)` puts the CSV (with the tool's instructions and
the code execution tool) into a Gemini context cache at the first question; every later
question sends only its text and names the cache. For each question the script prints the
input tokens billed at full price and those served from the cache.

Uses real Gemini when GOOGLE_API_KEY / GEMINI_API_KEY (or Vertex AI settings) are set;
otherwise (or with --offline) the bundled offline Gemini endpoint, which keeps the cache,
counts tokens as the README explains, and answers from the CSV the cache holds. The first
line printed says which. The CSV (about 150 KB of weather readings) is generated into
--out.

    python examples/dataset_session.py [--offline] [--out DIR]
"""

from __future__ import annotations

import argparse
import base64
import csv
import io
import os
import random
import statistics
import sys
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
    response,
    result,
    text,
    usage,
)

SITES = ("Harbor", "Ridge", "Valley", "Airport")
QUESTIONS = (
    "How many readings does readings.csv hold?",
    "What is the mean temperature_c over all readings?",
    "What is the highest temperature_c, and at which site?",
    "Which site has the lowest mean temperature_c?",
    "What is the mean humidity_pct per site?",
    "How many readings have wind_kmh above 40?",
    "What is the median temperature_c at Ridge?",
    "On which date was the mean temperature_c highest?",
    "What is the standard deviation of humidity_pct?",
    "What share of readings (in %) are at the Airport site?",
)


def write_readings(path: Path, days: int = 900) -> None:
    """Deterministic weather readings: four sites, one row per site and day."""
    rng = random.Random(11)
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["date", "site", "temperature_c", "humidity_pct", "wind_kmh"])
        for day in range(days):
            date = f"{2023 + day // 360:04d}-{day % 360 // 30 + 1:02d}-{day % 30 + 1:02d}"
            for n, site in enumerate(SITES):
                out.writerow(
                    [
                        date,
                        site,
                        f"{8 + n * 1.5 + 10 * rng.random():.1f}",
                        f"{40 + 50 * rng.random():.0f}",
                        f"{60 * rng.random():.1f}",
                    ]
                )


# --- the offline Gemini: answers computed from the CSV the request (or its cache) holds ---


def _csv_in(request: RecordedRequest, server: GeminiTestServer) -> bytes:
    name = (request.body or {}).get("cachedContent")
    if name:
        contents = server.caches.caches[name].contents
        for content in contents:
            for part in content.get("parts") or []:
                if "inlineData" in part:
                    return base64.b64decode(part["inlineData"]["data"])
    (data,) = request.inline_data()
    return data


def _answer(question: int, rows: list[dict[str, str]]) -> tuple[str, str]:
    """(pandas code, printed output) for one question, computed here from the rows."""
    temps = [float(r["temperature_c"]) for r in rows]
    by_site = {s: [float(r["temperature_c"]) for r in rows if r["site"] == s] for s in SITES}
    hum = [float(r["humidity_pct"]) for r in rows]
    if question == 0:
        return "print(len(df))", f"{len(rows)}"
    if question == 1:
        return "print(round(df.temperature_c.mean(), 2))", f"{statistics.mean(temps):.2f}"
    if question == 2:
        top = max(rows, key=lambda r: float(r["temperature_c"]))
        return (
            "print(df.loc[df.temperature_c.idxmax(), ['temperature_c', 'site']])",
            f"{top['temperature_c']} {top['site']}",
        )
    if question == 3:
        low = min(SITES, key=lambda s: statistics.mean(by_site[s]))
        return "print(df.groupby('site').temperature_c.mean().idxmin())", low
    if question == 4:
        lines = []
        for s in sorted(SITES):
            mean = statistics.mean(float(r["humidity_pct"]) for r in rows if r["site"] == s)
            lines.append(f"{s} {mean:.2f}")
        return "print(df.groupby('site').humidity_pct.mean().round(2))", "\n".join(lines)
    if question == 5:
        return (
            "print((df.wind_kmh > 40).sum())",
            f"{sum(float(r['wind_kmh']) > 40 for r in rows)}",
        )
    if question == 6:
        ridge = by_site["Ridge"]
        return (
            "print(df[df.site == 'Ridge'].temperature_c.median())",
            f"{statistics.median(ridge):.2f}",
        )
    if question == 7:
        per_day: dict[str, list[float]] = {}
        for r in rows:
            per_day.setdefault(r["date"], []).append(float(r["temperature_c"]))
        best = max(per_day, key=lambda d: statistics.mean(per_day[d]))
        return "print(df.groupby('date').temperature_c.mean().idxmax())", best
    if question == 8:
        return "print(round(df.humidity_pct.std(), 2))", f"{statistics.stdev(hum):.2f}"
    share = 100 * sum(r["site"] == "Airport" for r in rows) / len(rows)
    return "print(round(100 * (df.site == 'Airport').mean(), 1))", f"{share:.1f}"


def offline_gemini(server: GeminiTestServer) -> Any:
    def answer(request: RecordedRequest) -> dict[str, Any]:
        rows = list(csv.DictReader(io.StringIO(_csv_in(request, server).decode())))
        question = next(i for i, q in enumerate(QUESTIONS) if q in request.text)
        snippet, output = _answer(question, rows)
        return response(
            code(f"import pandas as pd\ndf = pd.read_csv('input_file_0.csv')\n{snippet}"),
            result(output + "\n"),
            text(f"The answer is {output}."),
            usage=usage(prompt=0, candidates=40, tool_use_prompt=60),
        )

    return answer


# --- the example ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offline", action="store_true", help="use the offline endpoint")
    parser.add_argument("--out", type=Path, default=Path("dataset_session_output"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    write_readings(args.out / "readings.csv")

    with ExitStack() as stack:
        server: GeminiTestServer | None = None
        if has_gemini_credentials() and not args.offline:
            model = os.environ.get("GEMINI_MODEL", "gemini-2.5-flash")
            print(f"Using real Gemini ({model}; credentials found in the environment).")
            llm = ChatGeminiCodeExecution(model=model)
        else:
            why = "--offline" if args.offline else "no GOOGLE_API_KEY/GEMINI_API_KEY set"
            print(
                f"Using the offline Gemini endpoint ({why}): it keeps the cache, counts "
                "tokens as the README explains, and answers from the cached CSV."
            )
            server = stack.enter_context(GeminiTestServer(count_usage=True))
            server.responder = offline_gemini(server)
            llm = ChatGeminiCodeExecution(api_key="offline", base_url=server.base_url)

        tool = GeminiCodeExecutionTool(
            llm=llm, files_dir=args.out, cache_files=True, cache_ttl="30m"
        )
        size = (args.out / "readings.csv").stat().st_size
        print(f"readings.csv: {size:,} bytes; ten questions, the file cached at the first.\n")
        print(f"{'#':>2}  {'full price':>10}  {'from cache':>10}  answer")
        full_total = cached_total = 0
        cost = saved = 0.0
        try:
            for i, question in enumerate(QUESTIONS, start=1):
                call = {"type": "tool_call", "id": f"q{i}", "name": tool.name}
                args_ = {"task": question, "files": ["readings.csv"]}
                report: CodeExecutionReport = tool.invoke({**call, "args": args_}).artifact
                full, cached = report.full_price_input_tokens, report.cached_input_tokens
                full_total += full
                cached_total += cached
                cost += report.cost_usd or 0.0
                saved += (report.cost or {}).get("saved_by_cache") or 0.0
                answer = " ".join(report.answer.split())[:70]
                print(f"{i:>2}  {full:>10,}  {cached:>10,}  {answer}")
        finally:
            deleted = tool.delete_file_caches()  # do not pay for storage after the session
        print(f"\nTotal input tokens: {full_total:,} at full price, {cached_total:,} from cache.")
        print(f"Cost: ${cost:.6f}; caching saved ${saved:.6f} against the uncached price.")
        print(f"Question 10: {report.cache_summary()}")
        print(f"Caches deleted at the end: {len(deleted)}")
        if server is not None:
            asked = [r for r in server.requests if r.action == "generateContent"]
            sent = [len(b) for r in asked for b in r.inline_data()]
            creates = [r for r in server.requests if r.action == "create"]
            cached_bytes = sum(len(b) for r in creates for b in r.inline_data())
            print(
                f"At the server: file bytes in the cache creation {cached_bytes:,}; in the "
                f"ten questions {sum(sent):,}."
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
