"""What pricing adds to a short `invoke` (target: under 2%).

    python -m benchmarks.pricing            # 2,000 calls per sample
    python -m benchmarks.pricing --quick    # a few hundred: checks that it runs

Two measures against one loopback Gemini server, on a short question whose answer has a
code run and every token class (prompt, cached, tool use, output, thoughts):

1. the time `invoke` takes, and the time pricing one answer takes (`_core.pricing.price`
   on usage counts that change every call, as real answers' do); their ratio is the
   overhead per call;
2. `invoke` with pricing on, against `invoke` with pricing replaced by a no-op,
   interleaved sample by sample (noisier on a busy machine: it includes the whole call).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python benchmarks/pricing.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from langchain_gemini_codeexec import ChatGeminiCodeExecution
from langchain_gemini_codeexec._core import pricing
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    code,
    response,
    result,
    text,
    usage,
)

MODEL = "gemini-2.5-flash"
TARGET = 2.0  # percent of a short invoke


def usage_for(n: int) -> dict[str, Any]:
    return usage(
        prompt=1200 + n % 97, cached=1000, tool_use_prompt=40 + n % 13, candidates=50, thoughts=30
    )


def per_call(run: Callable[[int], Any], calls: int) -> float:
    """Seconds per call of `run(i)` over `calls` calls (GC off while timing)."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for i in range(calls):
            run(i)
        return (time.perf_counter() - start) / calls
    finally:
        gc.enable()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    calls, repeats = (50, 3) if args.quick else (400, 7)
    answers = [
        response(code("print(6 * 7)"), result("42\n"), text("42"), usage=usage_for(n))
        for n in range(97)
    ]
    counter = iter(range(10**9))
    with GeminiTestServer(responder=lambda _: answers[next(counter) % 97]) as server:
        llm = ChatGeminiCodeExecution(api_key="offline", base_url=server.base_url, model=MODEL)
        for _ in range(20):  # warm up: client, connections, the price table
            llm.invoke("6 * 7?")
        real_price = pricing.price
        invoke, priced, without = [], [], []
        for _ in range(repeats):
            invoke.append(per_call(lambda _: llm.invoke("6 * 7?"), calls))
            priced.append(per_call(lambda i: real_price(usage_for(i), MODEL), calls * 10))
            pricing.price = lambda meta, model, **kw: {}  # type: ignore[assignment,misc]
            try:
                without.append(per_call(lambda _: llm.invoke("6 * 7?"), calls))
            finally:
                pricing.price = real_price  # type: ignore[assignment]
        llm.close()
    t_invoke, t_price, t_without = (statistics.median(x) for x in (invoke, priced, without))
    share = 100 * t_price / t_invoke
    print(f"short invoke (loopback, pricing on): {t_invoke * 1e6:9.1f} us  (median of {repeats})")
    print(f"short invoke, pricing a no-op:       {t_without * 1e6:9.1f} us")
    print(f"pricing one answer:                  {t_price * 1e6:9.1f} us")
    print(f"pricing overhead per call: {share:.2f}% of a short invoke (target under {TARGET}%)")
    print(f"invoke on / off: {100 * (t_invoke / t_without - 1):+.2f}% (includes machine noise)")
    print("target met" if share < TARGET else "TARGET MISSED")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
