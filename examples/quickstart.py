"""Quick start: Google's own code-execution question, answered through LangChain.

Uses real Gemini when GOOGLE_API_KEY / GEMINI_API_KEY (or Vertex AI settings) are set,
unless `--offline` is given; otherwise the bundled offline Gemini endpoint answers
(`langchain_gemini_codeexec.testing.offline()`: a scripted reply in the shape of Gemini's
real answers, its values computed locally, not recorded from Gemini). The first line
printed says which.

    python examples/quickstart.py [--offline] [--out DIR]

It prints the answer and each code run from `CodeExecutionReport` (the summary object
this package builds from any answer) and saves the chart Gemini drew.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import ExitStack
from pathlib import Path

from langchain_gemini_codeexec import ChatGeminiCodeExecution, CodeExecutionReport
from langchain_gemini_codeexec.testing import has_gemini_credentials, offline
from langchain_gemini_codeexec.testing.demo import SUM_OF_PRIMES_PROMPT

QUESTION = f"{SUM_OF_PRIMES_PROMPT} Then plot the primes against their position as a chart."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--offline", action="store_true", help="use the offline endpoint, even with a key set"
    )
    parser.add_argument("--out", type=Path, default=Path("quickstart_output"))
    args = parser.parse_args(argv)

    with ExitStack() as stack:
        if has_gemini_credentials() and not args.offline:
            model = os.environ.get("GEMINI_MODEL", "gemini-2.5-flash")
            print(f"Using real Gemini ({model}; credentials found in the environment).")
            llm = ChatGeminiCodeExecution(model=model)
        else:
            why = "--offline" if args.offline else "no GOOGLE_API_KEY/GEMINI_API_KEY set"
            print(
                f"Using the offline Gemini endpoint ({why}): a scripted answer, computed "
                "locally, not Gemini's."
            )
            # Every model built inside talks to the loopback server; a key in the
            # environment is set aside until the block ends.
            stack.enter_context(offline())
            llm = ChatGeminiCodeExecution(model="gemini-2.5-flash")

        print(f"\nQ: {QUESTION}\n")
        message = llm.invoke(QUESTION)

        # The report: answer, every code run (code, outcome, output, images), usage.
        report = CodeExecutionReport.from_message(message)
        for number, run in enumerate(report.runs, start=1):
            print(f"--- code run {number} ({run.language}): {run.outcome} ---")
            print(run.code.rstrip())
            print(f"--- output ---\n{run.output.rstrip() or '(no output)'}")
        charts = report.save_images(args.out)
        for path in charts:
            print(f"--- chart saved to {path} ---")

        print("\nAnswer:", report.answer.strip())
        print(f"\n{len(report.runs)} code run(s), {len(charts)} chart(s); usage: {report.usage}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
