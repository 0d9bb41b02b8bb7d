"""Bulk code execution on Gemini's Batch API: 300 questions, one job, half the price.

Each question asks Gemini to compute a statistic of some readings with code. The whole set
goes as one batch job (`submit_batch`), is polled with a progress display, and the answers
come back as the same AIMessages `invoke` gives, summarised as CodeExecutionReports.

Uses real Gemini when GOOGLE_API_KEY / GEMINI_API_KEY (or Vertex AI settings) are set:
a real batch job, usually done within minutes, at most 24 hours (Ctrl-C, then rerun with
`--attach NAME` to resume it). Otherwise (or with --offline) the bundled offline Gemini
endpoint runs the job. The first line printed says which.

    python examples/bulk_analysis.py [--offline] [--tasks N] [--attach batches/...]
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import re
from contextlib import ExitStack

from langchain_gemini_codeexec import (
    ChatGeminiCodeExecution,
    CodeExecutionReport,
    GeminiBatchJob,
)
from langchain_gemini_codeexec.batch import submit_batch
from langchain_gemini_codeexec.cost import sum_costs
from langchain_gemini_codeexec.testing import (
    BatchScript,
    GeminiTestServer,
    ScriptedGemini,
    has_gemini_credentials,
)

NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def make_tasks(count: int) -> tuple[list[str], list[str], list[float]]:
    """(keys, prompts, expected means): deterministic readings per station."""
    rng = random.Random(7)
    keys, prompts, expected = [], [], []
    for i in range(count):
        readings = [round(rng.uniform(0, 30), 2) for _ in range(rng.randint(3, 6))]
        keys.append(f"station-{i:03d}")
        prompts.append(
            f"Station {i} measured these temperatures in degrees C: "
            f"{', '.join(map(str, readings))}. What is "
            f"({' + '.join(map(str, readings))}) / {len(readings)}? Run code for it."
        )
        expected.append(sum(readings) / len(readings))
    return keys, prompts, expected


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--offline", action="store_true", help="use the offline endpoint")
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--attach", help="resume a job submitted earlier (its name)")
    args = parser.parse_args(argv)
    # Without tqdm installed, progress is a log line per poll: show it.
    logging.basicConfig(format="%(message)s")
    logging.getLogger("langchain_gemini_codeexec.batch").setLevel(logging.INFO)
    keys, prompts, expected = make_tasks(args.tasks)
    with ExitStack() as stack:
        if has_gemini_credentials() and not args.offline:
            print("Using real Gemini (credentials found in the environment): a real batch job.")
            llm = ChatGeminiCodeExecution(model=os.environ.get("GEMINI_MODEL", "gemini-2.5-flash"))
            poll_interval = 30.0
        else:
            print(
                "Using the offline Gemini endpoint (no GOOGLE_API_KEY/GEMINI_API_KEY set, or "
                "--offline): the bundled server runs the batch job."
            )
            server = stack.enter_context(GeminiTestServer(responder=ScriptedGemini()))
            server.batch.script = BatchScript(pending_polls=2, running_polls=6)
            llm = ChatGeminiCodeExecution(api_key="offline", base_url=server.base_url)
            poll_interval = 0.05

        if args.attach:
            job = GeminiBatchJob.attach(args.attach, llm=llm, keys=keys)
            print(f"Attached to {job.name} ({job.state}).")
        else:
            job = submit_batch(llm, prompts, keys=keys, display_name="bulk-analysis-example")
            print(f"Submitted {job.name}: {len(prompts)} requests, {job.state}.")
            print(f"(If this stops, resume with: --attach {job.name})")

        job.poll_until_done(poll_interval=poll_interval, timeout=24 * 3600)
        print(f"Job {job.state}: {job.succeeded_count} succeeded, {job.failed_count} failed.")

        answered = correct = runs = tokens = 0
        failures: list[str] = []
        results = list(job.results())
        for result, want in zip(results, expected, strict=True):
            if result.message is None:
                failures.append(f"{result.key}: {result.error}")
                continue
            answered += 1
            report = CodeExecutionReport.from_message(result.message)
            runs += len(report.runs)
            tokens += (result.message.usage_metadata or {}).get("total_tokens", 0)
            outputs = " ".join(run.output for run in report.runs) + " " + report.answer
            if any(abs(float(n) - want) < 0.01 for n in NUMBER.findall(outputs)):
                correct += 1
        print(
            f"Answered {answered} of {len(prompts)}; {correct} with the expected mean in the "
            f"code output or answer; {runs} code runs; {tokens} tokens."
        )
        for line in failures[:5]:
            print(f"  failed: {line}")
        spent = sum_costs(r.message for r in results)  # priced at the Batch API's rate
        print(f"Cost: ${spent.total_cost:.6f} at the batch rate for {spent.calls} answers.")
    return 0 if answered == len(prompts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
