"""Peers on one code-execution answer: what each sends back next turn, and how fast.

    python -m benchmarks.peers [--rounds N]

Each library answers the same scripted Gemini answer from one loopback server (a thought
with its signature, code with its signature, the code's result, a chart, the answer),
the way its users call it; then the answer goes back as history with a second question,
and the parts each library sent back are compared with the parts Gemini sent, one by
one, as Gemini reads them (keys in either spelling, inline data by its bytes). A second
answer adds a part type newer than the SDK (`futurePart`). The timing is
the median of the first turn over `--rounds` rounds (model, agent or client built once, as
its users do), libraries interleaved.

Needs, next to this package: langchain-google-genai (the `bench` extra), and for the
peers outside LangChain `pip install "pydantic-ai-slim[google]" google-adk` (not in any
extra: google-adk brings a large tree). A library that is not installed is left out.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

from langchain_core.messages import HumanMessage

from langchain_gemini_codeexec import ChatGeminiCodeExecution
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    Reply,
    b64decode_any,
    chart_png,
    code,
    image,
    offline,
    response,
    result,
    text,
)

MODEL = "gemini-2.5-flash"
QUESTION = "What is the sum of the first 50 prime numbers? Run code, then plot them."
FOLLOW_UP = "And the sum of the first 10?"
NAMES = ["thought + signature", "code + signature", "result", "chart", "answer"]


def answer_parts() -> list[dict[str, Any]]:
    return [
        text("I will compute the primes, then plot them.", thought=True, signature="c2lnLTE="),
        code("primes = [2, 3, 5]\nprint(sum(primes))\n", signature="c2lnLTI="),
        result("10\n"),
        image(chart_png([2.0, 3.0, 5.0])),
        text("The sum is **10**."),
    ]


FUTURE_PART = {"futurePart": {"kind": "something Gemini adds later", "n": 1}}


# --- each library, two turns ----------------------------------------------------------------


def ours() -> Callable[[bool], Any]:
    llm = ChatGeminiCodeExecution(model=MODEL)

    def run(second: bool) -> Any:
        first = llm.invoke(QUESTION)
        if second:
            llm.invoke([HumanMessage(QUESTION), first, HumanMessage(FOLLOW_UP)])
        return first

    return run


def lc_google_genai() -> Callable[[bool], Any]:
    from langchain_google_genai import ChatGoogleGenerativeAI

    llm = ChatGoogleGenerativeAI(model=MODEL).bind_tools([{"code_execution": {}}])

    def run(second: bool) -> Any:
        first = llm.invoke(QUESTION)
        if second:
            llm.invoke([HumanMessage(QUESTION), first, HumanMessage(FOLLOW_UP)])
        return first

    return run


def raw_sdk() -> Callable[[bool], Any]:
    from google import genai
    from google.genai import types

    config = types.GenerateContentConfig(
        tools=[types.Tool(code_execution=types.ToolCodeExecution())]
    )

    client = genai.Client()

    def run(second: bool) -> Any:
        first = client.models.generate_content(model=MODEL, contents=QUESTION, config=config)
        if second:
            history = [
                types.Content(role="user", parts=[types.Part(text=QUESTION)]),
                first.candidates[0].content,
                types.Content(role="user", parts=[types.Part(text=FOLLOW_UP)]),
            ]
            client.models.generate_content(model=MODEL, contents=history, config=config)
        return first

    return run


def pydantic_ai() -> Callable[[bool], Any]:
    from pydantic_ai import Agent, CodeExecutionTool
    from pydantic_ai.capabilities import NativeTool

    agent = Agent(f"google:{MODEL}", capabilities=[NativeTool(CodeExecutionTool())])

    def run(second: bool) -> Any:
        first = agent.run_sync(QUESTION)
        if second:
            agent.run_sync(FOLLOW_UP, message_history=first.all_messages())
        return first

    return run


def google_adk() -> Callable[[bool], Any]:
    from google.adk.agents import LlmAgent
    from google.adk.code_executors import BuiltInCodeExecutor
    from google.adk.runners import InMemoryRunner
    from google.genai import types

    agent = LlmAgent(name="calc", model=MODEL, code_executor=BuiltInCodeExecutor())
    runner = InMemoryRunner(agent=agent, app_name="bench")
    loop = asyncio.new_event_loop()

    async def turns(second: bool) -> list[Any]:
        session = await runner.session_service.create_session(app_name="bench", user_id="u")
        events = []
        for question in (QUESTION, FOLLOW_UP) if second else (QUESTION,):
            message = types.Content(role="user", parts=[types.Part(text=question)])
            async for event in runner.run_async(
                user_id="u", session_id=session.id, new_message=message
            ):
                events.append(event)
        return events

    return lambda second: loop.run_until_complete(turns(second))


CONTENDERS: dict[str, Callable[[], Callable[[bool], Any]]] = {
    "this package": ours,
    "langchain-google-genai": lc_google_genai,
    "raw google-genai SDK": raw_sdk,
    "pydantic-ai": pydantic_ai,
    "Google ADK": google_adk,
}


def available() -> dict[str, Callable[[], Callable[[bool], Any]]]:
    found = {}
    for name, make in CONTENDERS.items():
        try:
            with offline():
                make()
        except ImportError:
            print(f"({name} is not installed: left out)")
        else:
            found[name] = make
    return found


# --- measuring -------------------------------------------------------------------------------


def sent_back(server: GeminiTestServer) -> list[dict[str, Any]]:
    """The model parts of the last request's history (what the library sent back)."""
    body = server.requests[-1].body
    return [p for c in body["contents"] if c.get("role") == "model" for p in c["parts"]]


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(word.title() for word in rest)


def _same(value: Any) -> Any:
    """What Gemini reads: keys in camelCase (the API takes both spellings) and inline data
    decoded (base64 and base64url of the same bytes are the same data)."""
    if isinstance(value, list):
        return [_same(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {_camel(k): _same(v) for k, v in value.items()}
    blob = out.get("inlineData")
    if isinstance(blob, dict) and isinstance(blob.get("data"), str):
        out["inlineData"] = {**blob, "data": b64decode_any(blob["data"])}
    return out


def _kind(part: dict[str, Any]) -> str:
    return next((k for k in part if k not in ("thought", "thoughtSignature")), "")


def round_trip(make: Callable[[], Callable[[bool], Any]], parts: list[dict[str, Any]]) -> list[str]:
    """For each of `parts`: "kept" (sent back unchanged), "changed" or "dropped"."""
    with offline() as server:
        run = make()
        server.enqueue(Reply.json(response(*parts)), Reply.json(response(text("55"))))
        run(True)
        back = [_same(p) for p in sent_back(server)]
    kinds = {_kind(p) for p in back}
    return [
        "kept" if _same(part) in back else "changed" if _kind(part) in kinds else "dropped"
        for part in parts
    ]


def first_turn_ms(
    makers: dict[str, Callable[[], Callable[[bool], Any]]], rounds: int
) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in makers}
    whole = Reply.json(response(*answer_parts()))
    with offline() as server:
        runs = {name: make() for name, make in makers.items()}  # built once, as users do
        for r in range(rounds + 1):
            order = list(runs.items())
            order = order[r % len(order) :] + order[: r % len(order)]
            for name, run in order:
                server.enqueue(whole)
                start = time.perf_counter()
                run(False)
                if r:  # the first round warms imports and caches
                    times[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    makers = available()
    timing = first_turn_ms(makers, args.rounds)
    print("| library | first turn (median ms) | parts sent back unchanged | newer part kept |")
    print("|---|---|---|---|")
    for name, make in makers.items():
        fates = round_trip(make, answer_parts())
        try:
            newer = round_trip(make, [*answer_parts(), FUTURE_PART])[-1]
        except Exception as exc:  # a library that fails on it says so
            newer = f"refused: {type(exc).__name__}"
        lost = ", ".join(f"{n} {f}" for n, f in zip(NAMES, fates, strict=True) if f != "kept")
        kept = fates.count("kept")
        summary = f"{kept} of {len(fates)}" + (f" ({lost})" if lost else "")
        print(f"| {name} | {timing[name]:.2f} | {summary} | {newer} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
