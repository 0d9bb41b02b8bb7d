"""What the benchmark sends and what the loopback server answers, built once per run.

Every contender gets the same server responses; each conversation history is produced by
the library that sends it (our AIMessages, langchain-google-genai's AIMessages, the SDK's
own `types.Content`), from the same scripted answers, so that each library is timed on
the input its users would really hold.
"""

from __future__ import annotations

import random
from typing import Any

from langchain_gemini_codeexec.testing import (
    code,
    image,
    response,
    result,
    text,
    usage,
)

MODEL = "gemini-2.5-flash"
QUESTION = "What is the sum of the integers below 10? Run code for it."
ANSWER = "The sum is **45**."
CHART_BYTES = 50 * 1024
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def short_response() -> dict[str, Any]:
    """A typical code-execution answer: text, code, its result, the answer."""
    return response(
        text("I'll compute it with Python.\n\n"),
        code("print(sum(range(10)))"),
        result("45\n"),
        text(ANSWER),
        usage=usage(prompt=27, candidates=96, tool_use_prompt=40),
        model_version=MODEL,
        response_id="bench-short",
    )


def chart(seed: int, size: int = CHART_BYTES) -> bytes:
    """A PNG-like chart: PNG magic then incompressible bytes, distinct per seed."""
    return _PNG_MAGIC + random.Random(seed).randbytes(size - len(_PNG_MAGIC))


def exchange_response(i: int, chart_size: int = CHART_BYTES) -> dict[str, Any]:
    """Answer `i` of a long session: text, code, result, a chart, and a closing text."""
    return response(
        text(f"Plotting series {i}."),  # no trailing space: the peer strips it
        code(
            "import matplotlib.pyplot as plt\n"
            f"xs = list(range({i + 10}))\n"
            "plt.plot(xs, [x * x for x in xs])\nplt.savefig('chart.png')\nprint(len(xs))\n"
        ),
        result(f"{i + 10}\n"),
        image(chart(i, chart_size)),
        text(f"Here is the chart of series {i}; it has {i + 10} points."),
        usage=usage(prompt=100 + i, candidates=80, tool_use_prompt=60),
        model_version=MODEL,
        response_id=f"bench-exchange-{i}",
    )


def exchange_question(i: int) -> str:
    return f"Plot the squares of the first {i + 10} integers."


def stream_response_chunks(n: int) -> list[dict[str, Any]]:
    """SSE chunks of one answer streamed in exactly `n` chunks (`n` >= 4).

    Text deltas around one code call and its result, as Gemini streams a code-execution
    answer: deltas share an index, code and result come whole, usage is a running total,
    only the last chunk has `finishReason`.
    """
    if n < 4:
        raise ValueError("a streamed answer needs at least 4 chunks")
    first = (n - 2) // 2
    parts = [
        *(text(f"word{i:04d} ") for i in range(first)),
        code("print(sum(range(10)))"),
        result("45\n"),
        *(text(f"word{i:04d} ") for i in range(first, n - 2)),
    ]
    chunks = []
    for i, part in enumerate(parts):
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": [part]}, "index": 0}
        if i == n - 1:
            candidate["finishReason"] = "STOP"
        chunks.append(
            {
                "candidates": [candidate],
                "usageMetadata": usage(prompt=27, candidates=2 * (i + 1), tool_use_prompt=40),
                "modelVersion": MODEL,
                "responseId": "bench-stream",
            }
        )
    return chunks


def stream_text(chunks: list[dict[str, Any]]) -> str:
    """All answer text of a stream, for checking what a contender read."""
    return "".join(
        part.get("text", "")
        for chunk in chunks
        for part in chunk["candidates"][0]["content"].get("parts", [])
    )
