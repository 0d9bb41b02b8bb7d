"""Side-by-side benchmark: ChatGeminiCodeExecution against the raw google-genai SDK.

    python -m benchmarks.run            # full sizes (a few minutes)
    python -m benchmarks.run --quick    # tiny sizes: checks that every scenario still runs

One process times every contender (the raw SDK, ours, langchain-google-genai when it is
installed, and a trivial LangChain wrapper around the SDK) against one loopback Gemini
server, interleaved call by call (the order rotates each repeat), and prints medians and
ratios to the raw SDK doing the same request. Before timing, it checks that every
contender sends the same `contents` and tools for the long history.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python benchmarks/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._contenders import (
    API_KEY,
    Contender,
    OursDirect,
    OursTool,
    build_histories,
    contenders,
)
from benchmarks._data import (
    ANSWER,
    MODEL,
    QUESTION,
    stream_response_chunks,
    stream_text,
)
from benchmarks._server import ROOT, serve
from langchain_gemini_codeexec.testing import GeminiTestServer, b64decode_any

SCENARIOS = ("short", "long", "stream", "concurrent", "cold", "memory", "growth")
# Run only when named in --only (the default table stays the comparison with the SDK).
EXTRA_SCENARIOS = ("tool",)
LABELS = {
    "sdk": "raw google-genai",
    "ours": "ChatGeminiCodeExecution",
    "lc_google_genai": "langchain-google-genai",
    "floor": "trivial LC wrapper",
}


@dataclass(frozen=True)
class Sizes:
    repeats: int = 15
    warmup: int = 3
    short_batch: int = 20  # calls per timed sample of the short call
    exchanges: int = 100
    chart: int = 50 * 1024
    stream_chunks: int = 500
    concurrency: int = 200
    concurrent_repeats: int = 10
    cold_repeats: int = 11
    memory_repeats: int = 3
    growth: tuple[int, ...] = (50, 100, 200, 400)
    growth_repeats: int = 7


QUICK = Sizes(
    repeats=2,
    warmup=1,
    short_batch=2,
    exchanges=3,
    chart=2048,
    stream_chunks=20,
    concurrency=10,
    concurrent_repeats=2,
    cold_repeats=1,
    memory_repeats=1,
    growth=(2, 4, 8, 16),
    growth_repeats=1,
)


@dataclass
class Row:
    """One line of the table: a value per contender, ratios to `baseline`."""

    scenario: str
    unit: str
    values: dict[str, float]
    baseline: str = "sdk"
    target: float | None = None  # bound on ours/baseline
    higher_is_better: bool = False
    ratios: bool = True
    notes: list[str] = field(default_factory=list)

    def ratio(self, name: str) -> float | None:
        if not self.ratios or name not in self.values or not self.values.get(self.baseline):
            return None
        return self.values[name] / self.values[self.baseline]

    def _better(self, a: float, b: float) -> bool:
        return a >= b if self.higher_is_better else a <= b

    @property
    def met(self) -> bool | None:
        value = self.ratio("ours") if self.ratios else self.values.get("ours")
        if self.target is None or value is None:
            return None
        return self._better(value, self.target)

    @property
    def beats_peer(self) -> bool | None:
        if not self.ratios or "lc_google_genai" not in self.values:
            return None  # e.g. linearity: read it against the raw SDK's own figure
        return self._better(self.values["ours"], self.values["lc_google_genai"])


# --- timing ------------------------------------------------------------------------------


def _rotations(items: list[Contender], rounds: int) -> list[list[Contender]]:
    """Each round calls every contender once; the order rotates so no one is always first."""
    return [items[r % len(items) :] + items[: r % len(items)] for r in range(rounds)]


def interleaved(
    kinds: list[Contender],
    measure: Callable[[Contender], dict[str, float]],
    repeats: int,
    warmup: int,
) -> dict[str, dict[str, float]]:
    """Median of each metric per contender, over `repeats` interleaved rounds."""
    samples: dict[str, dict[str, list[float]]] = {c.name: {} for c in kinds}
    for round_no, order in enumerate(_rotations(kinds, warmup + repeats)):
        for contender in order:
            gc.collect()
            metrics = measure(contender)
            if round_no >= warmup:
                for key, value in metrics.items():
                    samples[contender.name].setdefault(key, []).append(value)
    return {
        name: {key: statistics.median(values) for key, values in metrics.items()}
        for name, metrics in samples.items()
    }


def _expect(contender: Contender, answer: str, wanted: str) -> None:
    if wanted not in answer:
        raise AssertionError(f"{contender.name} read {answer[:200]!r}, expected {wanted!r}")


def _timed_calls(
    conversations: dict[str, list[Any]], batch: int
) -> Callable[[Contender], dict[str, float]]:
    def measure(contender: Contender) -> dict[str, float]:
        conversation = conversations[contender.name]
        answer = ""
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(batch):
            answer = contender.invoke(conversation)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        _expect(contender, answer, ANSWER)
        return {"ms": elapsed * 1000 / batch, "cpu": cpu * 1000 / batch}

    return measure


def _conversation(contender: Contender, history: list[Any] | None) -> list[Any]:
    return [*(history or ()), *contender.question(QUESTION)]


# --- scenarios ---------------------------------------------------------------------------


def short_call(kinds: list[Contender], sizes: Sizes) -> list[Row]:
    conversations = {c.name: _conversation(c, None) for c in kinds}
    medians = interleaved(
        kinds, _timed_calls(conversations, sizes.short_batch), sizes.repeats, sizes.warmup
    )
    return [
        Row(
            "short invoke of a code-execution answer",
            "ms/call",
            {n: m["ms"] for n, m in medians.items()},
            target=1.25,
        )
    ]


def _history_conversations(
    kinds: list[Contender], histories: dict[str, list[Any]], exchanges: int
) -> tuple[list[Contender], dict[str, list[Any]]]:
    able = [c for c in kinds if c.name in histories]
    return able, {c.name: _conversation(c, histories[c.name][: 2 * exchanges]) for c in able}


def long_history(
    kinds: list[Contender], sizes: Sizes, histories: dict[str, list[Any]]
) -> list[Row]:
    able, conversations = _history_conversations(kinds, histories, sizes.exchanges)
    medians = interleaved(able, _timed_calls(conversations, 1), sizes.repeats, sizes.warmup)
    return [
        Row(
            f"long history: {sizes.exchanges} exchanges with code, result, "
            f"{sizes.chart // 1024} KB chart",
            "ms/call",
            {n: m["ms"] for n, m in medians.items()},
            target=1.10,
        )
    ]


def streaming(kinds: list[Contender], sizes: Sizes) -> list[Row]:
    conversations = {c.name: _conversation(c, None) for c in kinds}
    expected = stream_text(stream_response_chunks(sizes.stream_chunks)).split()

    def measure(contender: Contender) -> dict[str, float]:
        streamed = contender.stream(conversations[contender.name])
        if streamed.text.split() != expected:
            raise AssertionError(f"{contender.name} streamed {streamed.text[:200]!r}")
        return {"first": streamed.first * 1000, "total": streamed.total * 1000}

    medians = interleaved(kinds, measure, sizes.repeats, sizes.warmup)
    name = f"stream of {sizes.stream_chunks} chunks"
    return [
        Row(f"{name}: first chunk", "ms", {n: m["first"] for n, m in medians.items()}),
        Row(
            f"{name}: aggregated message",
            "ms",
            {n: m["total"] for n, m in medians.items()},
            target=1.15,
        ),
    ]


def concurrent(kinds: list[Contender], sizes: Sizes, loop: asyncio.AbstractEventLoop) -> list[Row]:
    conversations = {c.name: _conversation(c, None) for c in kinds}
    n = sizes.concurrency

    async def burst(contender: Contender) -> float:
        conversation = conversations[contender.name]
        start = time.perf_counter()
        answers = await asyncio.gather(*(contender.ainvoke(conversation) for _ in range(n)))
        elapsed = time.perf_counter() - start
        for answer in answers:
            _expect(contender, answer, ANSWER)
        return elapsed

    def measure(contender: Contender) -> dict[str, float]:
        return {"rate": n / loop.run_until_complete(burst(contender))}

    medians = interleaved(kinds, measure, sizes.concurrent_repeats, sizes.warmup)
    return [
        Row(
            f"{n} concurrent ainvoke: throughput",
            "calls/s",
            {name: m["rate"] for name, m in medians.items()},
            target=0.90,
            higher_is_better=True,
        )
    ]


def tool_call(base_url: str, sizes: Sizes) -> list[Row]:
    """The tool against the same request through `llm.invoke`: what the tool adds
    (LangChain's tool machinery, the report) to the model call it makes."""
    kinds: list[Contender] = [OursDirect(base_url), OursTool(base_url)]
    check_tool_request()
    conversations = {c.name: _conversation(c, None) for c in kinds}
    medians = interleaved(
        kinds, _timed_calls(conversations, sizes.short_batch), sizes.repeats, sizes.warmup
    )
    return [
        Row(
            "tool call: GeminiCodeExecutionTool.invoke (baseline: the same request "
            "through ChatGeminiCodeExecution.invoke)",
            "ms/call",
            {"invoke": medians["invoke"]["ms"], "ours": medians["tool"]["ms"]},
            baseline="invoke",
            target=1.30,
        )
    ]


def check_tool_request() -> None:
    """The tool and `OursDirect` send the same request body."""
    bodies = []
    with GeminiTestServer(responder=lambda _: json.loads(_short_json())) as server:
        for kind in (OursDirect, OursTool):
            contender = kind(server.base_url)
            contender.invoke(_conversation(contender, None))
            bodies.append(server.last_request.body)
    if bodies[0] != bodies[1]:
        raise AssertionError("the tool does not send the request OursDirect times")


def _fresh_process_seconds(code: str) -> float:
    """Run `code` in a new interpreter; it prints the seconds it measured itself.

    Bytecode caching is left on (a warm-up round writes the `.pyc` files), as in any
    installed wheel, even when the caller's environment sets PYTHONDONTWRITEBYTECODE.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
    )
    if done.returncode:
        raise RuntimeError(f"fresh process failed:\n{code}\n{done.stderr[-2000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def _fresh_rounds(codes: dict[str, str], repeats: int) -> dict[str, float]:
    """Median milliseconds per statement, fresh processes, order rotating each round."""
    names = list(codes)
    samples: dict[str, list[float]] = {n: [] for n in names}
    for round_no in range(1 + repeats):  # round 0 warms the .pyc and OS caches
        shift = round_no % len(names)
        for name in names[shift:] + names[:shift]:
            seconds = _fresh_process_seconds(codes[name])
            if round_no:
                samples[name].append(seconds * 1000)
    return {n: statistics.median(v) for n, v in samples.items()}


def _timed_code(statement: str) -> str:
    return f"import time\nt = time.perf_counter()\n{statement}\nprint(time.perf_counter() - t)"


COLD_STARTS = {
    "sdk": (
        "from google import genai\nfrom google.genai import types\n"
        "client = genai.Client(api_key=KEY, http_options=types.HttpOptions(base_url=URL))\n"
        "config = types.GenerateContentConfig("
        "tools=[types.Tool(code_execution=types.ToolCodeExecution())])\n"
        "reply = client.models.generate_content(model=MODEL, contents=QUESTION, config=config)\n"
        "text = ''.join(p.text for p in reply.candidates[0].content.parts if p.text)"
    ),
    "ours": (
        "from langchain_gemini_codeexec import ChatGeminiCodeExecution\n"
        "llm = ChatGeminiCodeExecution(model=MODEL, api_key=KEY, base_url=URL)\n"
        "text = llm.invoke(QUESTION).text"
    ),
    "lc_google_genai": (
        "from langchain_google_genai import ChatGoogleGenerativeAI\n"
        "llm = ChatGoogleGenerativeAI(model=MODEL, google_api_key=KEY, base_url=URL)\n"
        "text = llm.bind_tools([{'code_execution': {}}]).invoke(QUESTION).text"
    ),
}


def cold_start(kinds: list[Contender], sizes: Sizes, base_url: str) -> list[Row]:
    """Import, construct and make the first call in a fresh process (a serverless start).

    One figure per library for everything a user waits for before the first answer, so a
    deferred import cannot hide in it: we load `google.genai` at the first call, the SDK
    and langchain-google-genai at import; each snippet checks the answer it got.
    """
    present = {c.name for c in kinds}
    head = f"MODEL, KEY, URL, QUESTION = {MODEL!r}, {API_KEY!r}, {base_url!r}, {QUESTION!r}\n"
    codes = {
        name: head + _timed_code(code + f"\nassert {ANSWER!r} in text, text")
        for name, code in COLD_STARTS.items()
        if name in present
    }
    values = _fresh_rounds(codes, sizes.cold_repeats)
    return [
        Row(
            "cold start: import + construct + first call, fresh process",
            "ms",
            values,
            notes=[
                "cold start: each library's own import, client or model construction and "
                "first code-execution call, timed inside a fresh interpreter (bytecode "
                f"cached), median of {sizes.cold_repeats} rounds in rotating order"
            ],
        )
    ]


def _peak_bytes(call: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        call()
        return tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()


def memory(kinds: list[Contender], sizes: Sizes, histories: dict[str, list[Any]]) -> list[Row]:
    able, conversations = _history_conversations(kinds, histories, sizes.exchanges)

    def measure(contender: Contender) -> dict[str, float]:
        conversation = conversations[contender.name]
        peak = _peak_bytes(lambda: contender.invoke(conversation))
        return {"mib": peak / 2**20}

    medians = interleaved(able, measure, sizes.memory_repeats, 0)
    return [
        Row(
            f"peak memory (tracemalloc) of the {sizes.exchanges}-exchange history call",
            "MiB",
            {n: m["mib"] for n, m in medians.items()},
            target=1.2,
        )
    ]


def growth(kinds: list[Contender], sizes: Sizes, histories: dict[str, list[Any]]) -> list[Row]:
    """Time per call at each history size; linearity from the client's own CPU time.

    Wall time per exchange also moves with the machine (the server parsing megabytes on
    another core, other processes, the CPU cache once the request outgrows it); the
    benchmark process's CPU time is the wrappers' own work, so linearity is judged on it.
    """
    rows = []
    wall: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    for exchanges in sizes.growth:
        able, conversations = _history_conversations(kinds, histories, exchanges)
        medians = interleaved(able, _timed_calls(conversations, 1), sizes.growth_repeats, 1)
        for name, metrics in medians.items():
            wall.setdefault(name, []).append(metrics["ms"] / exchanges)
            cpu.setdefault(name, []).append(metrics["cpu"] / exchanges)
        values = {n: m["ms"] for n, m in medians.items()}
        rows.append(Row(f"growth: history of {exchanges} exchanges", "ms/call", values))
    first, last = sizes.growth[0], sizes.growth[-1]
    rows.append(
        Row(
            f"growth: wall time per exchange at {last} / at {first}",
            "x",
            {n: costs[-1] / costs[0] for n, costs in wall.items()},
            ratios=False,
        )
    )
    rows.append(
        Row(
            f"growth: client CPU per exchange at {last} / at {first} (1.0 = linear)",
            "x",
            {n: costs[-1] / costs[0] for n, costs in cpu.items()},
            target=1.25,
            ratios=False,
        )
    )
    return rows


# --- checks ------------------------------------------------------------------------------


def _canonical_part(part: dict[str, Any]) -> dict[str, Any]:
    out = dict(part)
    for key in ("inlineData", "inline_data"):
        if key in out:
            blob = out.pop(key)
            out["inlineData"] = {
                "mimeType": blob.get("mimeType") or blob.get("mime_type"),
                "data": b64decode_any(blob["data"]),
            }
    return out


def _canonical(body: dict[str, Any]) -> tuple[Any, Any]:
    contents = [
        (c.get("role"), [_canonical_part(p) for p in c.get("parts", [])]) for c in body["contents"]
    ]
    return contents, body.get("tools")


def check_same_requests(
    kinds: list[Contender], histories: dict[str, list[Any]], exchanges: int
) -> list[str]:
    """Every contender sends the same contents and tools for the long history."""
    bodies: dict[str, Any] = {}
    with GeminiTestServer(responder=lambda _: json.loads(_short_json())) as server:
        for contender in kinds:
            if contender.name not in histories:
                continue
            local = type(contender)(server.base_url)
            history = histories[contender.name][: 2 * exchanges]
            local.invoke(_conversation(local, history))
            bodies[contender.name] = _canonical(server.last_request.body)
            server.requests.clear()
    reference = bodies["sdk"]
    for name, body in bodies.items():
        if body != reference:
            raise AssertionError(f"{name} does not send the same contents and tools as the SDK")
    images = sum(1 for _, parts in reference[0] for p in parts if "inlineData" in p)
    return [f"{name}: {len(reference[0])} contents, {images} charts" for name in bodies]


def _short_json() -> str:
    from benchmarks._data import short_response

    return json.dumps(short_response())


# --- report ------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for package in (
        "langchain-gemini-codeexec",
        "google-genai",
        "langchain-core",
        "langchain-google-genai",
        "pydantic",
        "httpx",
        "httpx2",
        "aiohttp",
    ):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "-"
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "os": platform.platform(terse=True),
        **versions,
    }


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    if unit == "x":
        return f"{value:.2f}"
    return f"{value:.0f}" if value >= 100 else f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}x"


def table(rows: list[Row]) -> str:
    head = (
        "| scenario | unit | baseline | ours | ours / baseline | target | met "
        "| langchain-google-genai | its ratio | ours beats it | trivial LC wrapper | its ratio |"
    )
    lines = [head, "|" + "---|" * 12]
    for row in rows:
        op = ">=" if row.higher_is_better else "<="
        target = "–" if row.target is None else f"{op} {row.target:g}"
        met = {True: "yes", False: "NO", None: "–"}[row.met]
        beats = {True: "yes", False: "NO", None: "–"}[row.beats_peer]
        baseline = row.values.get(row.baseline)
        lines.append(
            f"| {row.scenario} | {row.unit} | {_fmt(baseline, row.unit)} "
            f"| {_fmt(row.values.get('ours'), row.unit)} | {_ratio(row.ratio('ours'))} "
            f"| {target} | {met} "
            f"| {_fmt(row.values.get('lc_google_genai'), row.unit)} "
            f"| {_ratio(row.ratio('lc_google_genai'))} | {beats} "
            f"| {_fmt(row.values.get('floor'), row.unit)} | {_ratio(row.ratio('floor'))} |"
        )
    return "\n".join(lines)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help=f"comma-separated subset of {SCENARIOS + EXTRA_SCENARIOS} (default: {SCENARIOS})",
    )
    parser.add_argument("--repeats", type=int, help="timed rounds per scenario")
    parser.add_argument(
        "--server",
        choices=("process", "thread"),
        default="process",
        help="run the loopback server in its own process (default) or in a thread of this one",
    )
    parser.add_argument("--no-peer", action="store_true", help="leave langchain-google-genai out")
    parser.add_argument("--json", type=Path, help="also write the rows and machine as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    sizes = QUICK if args.quick else Sizes()
    if args.repeats:
        sizes = replace(sizes, repeats=args.repeats)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(chosen) - set(SCENARIOS + EXTRA_SCENARIOS)
    if unknown:
        raise SystemExit(
            f"--only: unknown scenario(s) {sorted(unknown)}; use {SCENARIOS + EXTRA_SCENARIOS}"
        )
    host = machine()
    print("machine: " + ", ".join(f"{k} {v}" for k, v in host.items()), flush=True)
    rows: list[Row] = []
    notes: list[str] = [f"server: loopback GeminiTestServer in a {args.server}"]
    with serve(args.server, sizes.stream_chunks) as base_url:
        kinds = contenders(base_url, peer=not args.no_peer)
        notes.append("contenders: " + ", ".join(LABELS[c.name] for c in kinds))
        histories: dict[str, list[Any]] = {}
        if {"long", "memory", "growth"} & set(chosen):
            most = max((sizes.exchanges, *(sizes.growth if "growth" in chosen else ())))
            print(f"building {most}-exchange histories ...", flush=True)
            histories = build_histories(kinds, most, sizes.chart)
            notes += check_same_requests(kinds, histories, sizes.exchanges)
        # Every library's histories live in this one process, which no application has:
        # keep them out of the garbage collector's way so that one contender's data does
        # not slow the collections that another contender's calls trigger.
        gc.collect()
        gc.freeze()
        loop = asyncio.new_event_loop()
        try:
            for scenario in chosen:
                print(f"running {scenario} ...", flush=True)
                if scenario == "short":
                    rows += short_call(kinds, sizes)
                elif scenario == "long":
                    rows += long_history(kinds, sizes, histories)
                elif scenario == "stream":
                    rows += streaming(kinds, sizes)
                elif scenario == "concurrent":
                    rows += concurrent(kinds, sizes, loop)
                elif scenario == "cold":
                    rows += cold_start(kinds, sizes, base_url)
                elif scenario == "memory":
                    rows += memory(kinds, sizes, histories)
                elif scenario == "growth":
                    rows += growth(kinds, sizes, histories)
                elif scenario == "tool":
                    rows += tool_call(base_url, sizes)
        finally:
            loop.close()
    print()
    print(table(rows))
    print()
    for note in notes + [n for row in rows for n in row.notes]:
        print(f"- {note}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"machine": host, "sizes": asdict(sizes), "rows": [asdict(r) for r in rows]},
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
