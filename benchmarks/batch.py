"""Batch API benchmark: result mapping cost, memory while reading results, request counts.

    python -m benchmarks.batch            # full sizes (about a minute)
    python -m benchmarks.batch --quick    # tiny sizes: checks that every row still runs

Rows:
- mapping: per result, `GeminiBatchJob` reading a responses-file line (JSON parse, key,
  `invoke`'s own mapping) against `invoke`'s mapping of the same answer (JSON parse of the
  body, then `ChatGeminiCodeExecution._result`), interleaved, medians; the issue's bar is
  a ratio of at most 1.2.
- memory: peak traced memory (tracemalloc) of `job.results()` streaming a responses file of
  N results downloaded from a loopback server in another process (so only the client is
  measured), for N small and N ten times larger; the bar is a ratio of at most 1.5.
- requests: HTTP requests a job makes, by kind, inline and file input.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langchain_gemini_codeexec.batch import submit_batch

if __package__ in (None, ""):  # `python benchmarks/batch.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._data import MODEL, exchange_response
from langchain_gemini_codeexec import ChatGeminiCodeExecution, GeminiBatchJob
from langchain_gemini_codeexec.batch._results import Orderer, file_records
from langchain_gemini_codeexec.testing import GeminiTestServer, RecordedRequest, Reply

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "bench-key-not-a-secret"
CHART = 2 * 1024  # a small chart per answer: the memory rows measure per-result overhead


def _answer(i: int) -> dict[str, Any]:
    return exchange_response(i % 50, chart_size=CHART)


# --- mapping --------------------------------------------------------------------------------


def bench_mapping(results: int, repeats: int) -> dict[str, float]:
    llm = ChatGeminiCodeExecution(api_key=API_KEY, base_url="http://127.0.0.1:9")
    keys = [f"k{i}" for i in range(results)]
    answers = [_answer(i) for i in range(results)]
    bodies = [json.dumps(a, separators=(",", ":")) for a in answers]
    lines = [
        json.dumps({"key": k, "response": a}, separators=(",", ":")).encode()
        for k, a in zip(keys, answers, strict=True)
    ]
    job = GeminiBatchJob("batches/bench", llm, keys=keys, model=MODEL)

    def invoke_mapping() -> None:
        for body in bodies:
            ChatGeminiCodeExecution._result(json.loads(body), MODEL)

    def batch_mapping() -> None:
        # The responses file's path through results(): (key, item, raw line) per line.
        for _ in job._finish(Orderer(keys), file_records(lines)):
            pass

    samples: dict[str, list[float]] = {"invoke": [], "batch": []}
    for i in range(repeats + 1):
        order = [("invoke", invoke_mapping), ("batch", batch_mapping)]
        for name, run in order if i % 2 else order[::-1]:
            gc.collect()
            start = time.perf_counter()
            run()
            if i:  # the first round warms up
                samples[name].append((time.perf_counter() - start) / results)
    invoke, batch = (statistics.median(samples[k]) for k in ("invoke", "batch"))
    return {"invoke_us": invoke * 1e6, "batch_us": batch * 1e6, "ratio": batch / invoke}


# --- memory ---------------------------------------------------------------------------------


def _serve_forever() -> None:
    """Child process: a loopback server answering every batch request the same way."""
    answer = _answer(0)
    with GeminiTestServer(responder=lambda req: Reply.json(answer)) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()  # until the parent closes our stdin


@contextmanager
def _child_server() -> Iterator[str]:
    path = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.batch", "--serve"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"the benchmark server did not start: {url!r}")
        yield url
    finally:
        if child.stdin is not None:
            child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _peak_reading(base_url: str, results: int) -> tuple[int, int]:
    """(peak bytes while reading all results, results read) of one finished file job."""
    llm = ChatGeminiCodeExecution(api_key=API_KEY, base_url=base_url)
    job = submit_batch(llm, [f"q{i}" for i in range(results)], input_mode="file")
    job.poll_until_done(poll_interval=0.01, timeout=600, progress=False)
    gc.collect()
    tracemalloc.start()
    count = 0
    for result in job.results():
        count += result.message is not None
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    llm.genai_client.close()
    return peak, count


def bench_memory(small: int) -> dict[str, float]:
    with _child_server() as url:
        _peak_reading(url, 50)  # warm-up: imports, first connection
        low, n_low = _peak_reading(url, small)
        high, n_high = _peak_reading(url, small * 10)
    if (n_low, n_high) != (small, small * 10):
        raise RuntimeError(f"read {n_low}/{small} and {n_high}/{small * 10} results")
    return {"small": small, "peak_small": low, "peak_large": high, "ratio": high / low}


# --- requests -------------------------------------------------------------------------------


def bench_requests(results: int) -> dict[str, dict[str, int]]:
    answer = _answer(0)
    counts: dict[str, dict[str, int]] = {}
    for mode in ("inline", "file"):
        with GeminiTestServer(responder=lambda req: Reply.json(answer)) as server:
            llm = ChatGeminiCodeExecution(api_key=API_KEY, base_url=server.base_url)
            job = submit_batch(llm, [f"q{i}" for i in range(results)], input_mode=mode)
            job.poll_until_done(poll_interval=0.01, timeout=600, progress=False)
            assert sum(r.ok for r in job.results()) == results
            counts[mode] = dict(Counter(_kind(r) for r in server.requests))
            llm.genai_client.close()
    return counts


def _kind(request: RecordedRequest) -> str:
    path = request.path
    if path.endswith(":batchGenerateContent"):
        return "create"
    if request.api == "files":
        return "upload"
    if path.endswith(":download"):
        return "download"
    if "/batches/" in path:
        return "poll"
    return path


# --- main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.serve:
        _serve_forever()
        return 0
    mapping = bench_mapping(100 if args.quick else 1000, 2 if args.quick else 9)
    memory = bench_memory(100 if args.quick else 1000)
    requests = bench_requests(20 if args.quick else 200)
    if args.json:
        print(json.dumps({"mapping": mapping, "memory": memory, "requests": requests}))
        return 0
    print("Batch API benchmark (loopback server; medians)")
    print(
        f"mapping per result: batch {mapping['batch_us']:.1f} us, invoke's mapping "
        f"{mapping['invoke_us']:.1f} us, ratio {mapping['ratio']:.2f} (bar: <= 1.2)"
    )
    print(
        f"peak memory reading results: {memory['small']:.0f} -> "
        f"{memory['peak_small'] / 1024:.0f} KiB, {memory['small'] * 10:.0f} -> "
        f"{memory['peak_large'] / 1024:.0f} KiB, ratio {memory['ratio']:.2f} (bar: <= 1.5)"
    )
    for mode, counts in requests.items():
        print(f"requests, {mode} input: {json.dumps(counts, sort_keys=True)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
