"""Quick start: Google's own code-execution question, answered through LangChain.

Uses real Gemini when GOOGLE_API_KEY / GEMINI_API_KEY (or Vertex AI settings) are set,
unless `--offline` is given; otherwise the bundled offline Gemini endpoint answers with a
scripted reply (written for this example in the shape of Gemini's real answers, computed
here, not recorded from Gemini). The first line printed says which.

    python examples/quickstart.py [--offline] [--out DIR]

It prints the answer and each code run from `CodeExecutionReport` (the summary object
this package builds from any answer) and saves the chart Gemini drew.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
import zlib
from contextlib import ExitStack
from pathlib import Path

from langchain_gemini_codeexec import ChatGeminiCodeExecution, CodeExecutionReport
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    Reply,
    code,
    has_gemini_credentials,
    image,
    response,
    result,
    stream_chunks,
    text,
    usage,
)
from langchain_gemini_codeexec.testing.demo import SUM_OF_PRIMES_PROMPT

QUESTION = f"{SUM_OF_PRIMES_PROMPT} Then plot the primes against their position as a chart."

PRIMES_CODE = """\
primes, n = [], 2
while len(primes) < 50:
    if all(n % p for p in primes if p * p <= n):
        primes.append(n)
    n += 1
print(f"{primes=}")
print(f"sum={sum(primes)}")
"""
PLOT_CODE = """\
import matplotlib.pyplot as plt
plt.plot(range(1, 51), primes, marker="o")
plt.xlabel("position"); plt.ylabel("prime"); plt.title("The first 50 primes")
plt.show()
"""


def _first_primes(count: int) -> list[int]:
    primes: list[int] = []
    n = 2
    while len(primes) < count:
        if all(n % p for p in primes if p * p <= n):
            primes.append(n)
        n += 1
    return primes


def _chart_png(values: list[int], width: int = 200, height: int = 120) -> bytes:
    """A small PNG line-of-dots chart (what matplotlib would draw, in miniature)."""
    pixels = [[(255, 255, 255)] * width for _ in range(height)]
    top = max(values)
    for i, value in enumerate(values):
        x = 5 + i * (width - 10) // len(values)
        y = height - 5 - (height - 10) * value // top
        for dx in (0, 1):
            for dy in (0, 1):
                pixels[min(y + dy, height - 1)][x + dx] = (31, 119, 180)
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


def scripted_answer() -> Reply:
    """The offline endpoint's reply: Gemini's answer shape, with values computed here."""
    primes = _first_primes(50)
    whole = response(
        text("I will compute the first 50 primes with code, add them up, then plot them.\n\n"),
        code(PRIMES_CODE),
        result(f"primes={primes}\nsum={sum(primes)}\n"),
        code(PLOT_CODE),
        result(),
        image(_chart_png(primes)),
        text(
            f"The first 50 prime numbers run from 2 to {primes[-1]}, and their sum is "
            f"**{sum(primes)}**. The chart shows them growing a little faster than linearly."
        ),
        usage=usage(prompt=40, candidates=260, tool_use_prompt=420),
        model_version="gemini-2.5-flash",
        response_id="offline-quickstart",
    )
    return Reply.stream(stream_chunks(whole, text_pieces=2))


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
                f"Using the offline Gemini endpoint ({why}): a scripted answer, written for "
                "this example, not Gemini's."
            )
            server = stack.enter_context(GeminiTestServer())
            server.enqueue(scripted_answer())
            # An explicit key and endpoint: a key in the environment is never used here.
            llm = ChatGeminiCodeExecution(api_key="offline", base_url=server.base_url)

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
