"""A LangGraph agent whose model is Gemini 3 with code execution plus one function tool.

The agent answers a question about order values: it calls `fetch_orders` (our function,
run locally) for the data, then Gemini writes and runs Python on it in Google's sandbox
and answers. One model, both kinds of tools: Gemini 3 combines the built-in code
execution tool with function tools (`ChatGeminiCodeExecution` sets
`toolConfig.includeServerSideToolInvocations` for it), and every part of each turn (text,
function call and its thought signature, code, result) goes back to Gemini unchanged.

Uses real Gemini when GOOGLE_API_KEY / GEMINI_API_KEY (or Vertex AI settings) are set;
otherwise (or with --offline) the bundled offline Gemini endpoint, whose scripted turns
are computed from what the agent actually sends it. The first line printed says which.

    python examples/react_agent.py [--offline] [--question "..."]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
from contextlib import ExitStack
from typing import Any

try:  # with langchain installed, its agent; else (`pip install .` alone) tool_loop below
    from langchain.agents import create_agent
except ImportError:
    create_agent = None
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.tools import tool

from langchain_gemini_codeexec import ChatGeminiCodeExecution
from langchain_gemini_codeexec.cost import get_gemini_cost_callback
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    RecordedRequest,
    Reply,
    code,
    function_call,
    has_gemini_credentials,
    response,
    result,
    stream_chunks,
    text,
)

MODEL = "gemini-3-flash-preview"
QUESTION = (
    "What was the average order value in the north region last quarter, and how spread "
    "out were the orders (standard deviation)? Fetch the orders, then compute with code."
)
# Our "database": the function tool reads it, Gemini never sees it except through the tool.
ORDERS = {
    "north": [120.5, 89.9, 240.0, 75.25, 310.4, 98.0, 150.75, 205.1],
    "south": [60.0, 45.5, 99.9, 130.0],
}


@tool
def fetch_orders(region: str) -> str:
    """Fetch last quarter's order values (in EUR) for a sales region: 'north' or 'south'."""
    values = ORDERS.get(region.strip().lower())
    if values is None:
        return json.dumps({"error": f"unknown region {region!r}; use 'north' or 'south'"})
    return json.dumps({"region": region, "currency": "EUR", "orders": values})


# --- the offline endpoint's side of the conversation -----------------------------------------

_SIGNATURE = base64.b64encode(b"offline-thought-signature").decode()


def scripted_gemini(request: RecordedRequest) -> Reply:
    """What Gemini 3 does here: call the function, then run code on what it returned."""
    last = request.contents[-1]["parts"]
    answers = [p["functionResponse"] for p in last if "functionResponse" in p]
    if not answers:
        turn = response(
            text("I'll fetch the north region's orders first."),
            function_call("fetch_orders", {"region": "north"}, id="call-1", signature=_SIGNATURE),
            model_version=MODEL,
            response_id="offline-turn-1",
        )
    else:
        orders = answers[0]["response"]["orders"]
        program = (
            "import statistics\n"
            f"orders = {orders}\n"
            "print(f'count={len(orders)}')\n"
            "print(f'mean={statistics.mean(orders):.2f}')\n"
            "print(f'stdev={statistics.stdev(orders):.2f}')\n"
        )
        mean, stdev = statistics.mean(orders), statistics.stdev(orders)
        output = f"count={len(orders)}\nmean={mean:.2f}\nstdev={stdev:.2f}\n"
        turn = response(
            code(program),
            result(output),
            text(
                f"Across {len(orders)} orders the average order value was EUR {mean:.2f}, "
                f"with a standard deviation of EUR {stdev:.2f}: the orders were fairly "
                "spread out."
            ),
            model_version=MODEL,
            response_id="offline-turn-2",
        )
    return Reply.stream(stream_chunks(turn)) if request.stream else Reply.json(turn)


# --- the agent ------------------------------------------------------------------------------


def run(llm: ChatGeminiCodeExecution, question: str = QUESTION) -> list[BaseMessage]:
    """Run the agent on one question; returns the whole conversation."""
    system_prompt = (
        "You answer questions about sales. Get data with the tools you are given and "
        "compute with code execution; never guess numbers."
    )
    if create_agent is None:
        state = tool_loop(llm, [fetch_orders], [HumanMessage(question)], system_prompt)
    else:
        agent = create_agent(llm, [fetch_orders], system_prompt=system_prompt)
        state = agent.invoke({"messages": [HumanMessage(question)]})
    messages: list[BaseMessage] = state["messages"]
    return messages


def tool_loop(
    model: Any, tools: list[Any], messages: list[Any], system_prompt: str | None = None
) -> dict[str, Any]:
    """What `create_agent` does, by hand with langchain-core, when langchain is absent.

    The model answers; each tool call it makes runs and its ToolMessage goes back; until
    an answer without tool calls (at most 10 turns). Returns `{"messages": [...]}` as the
    agent's state does (without the system prompt).
    """
    by_name = {t.name: t for t in tools}
    bound = model.bind_tools(tools)
    history: list[Any] = [SystemMessage(system_prompt)] if system_prompt else []
    history += [HumanMessage(m["content"]) if isinstance(m, dict) else m for m in messages]
    for _ in range(10):
        answer = bound.invoke(history)
        history.append(answer)
        if not answer.tool_calls:
            break
        for call in answer.tool_calls:
            history.append(by_name[call["name"]].invoke({**call, "type": "tool_call"}))
    return {"messages": history[1:] if system_prompt else history}


def show(messages: list[BaseMessage]) -> None:
    for message in messages:
        if isinstance(message, HumanMessage):
            print(f"\nUser: {message.text}")
        elif isinstance(message, ToolMessage):
            print(f"[{message.name} returned] {message.text}")
        elif isinstance(message, AIMessage):
            for block in message.content_blocks:
                kind = block["type"]
                if kind == "text" and block["text"].strip():
                    print(f"Gemini: {block['text'].strip()}")
                elif kind == "tool_call":
                    print(f"[calls {block['name']}({json.dumps(block['args'])})]")
                elif kind == "server_tool_call":
                    print("[runs code in Google's sandbox]")
                    print(str(block.get("args", {}).get("code", "")).rstrip())
                elif kind == "server_tool_result":
                    outcome = block.get("extras", {}).get("outcome", block.get("status"))
                    print(f"[code result: {outcome}]")
                    print(str(block.get("output", "")).rstrip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offline", action="store_true", help="use the offline endpoint")
    parser.add_argument("--question", default=QUESTION)
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        if has_gemini_credentials() and not args.offline:
            model = os.environ.get("GEMINI_MODEL", MODEL)
            print(f"Using real Gemini ({model}; credentials found in the environment).")
            llm = ChatGeminiCodeExecution(model=model)
        else:
            print(
                "Using the offline Gemini endpoint (no GOOGLE_API_KEY/GEMINI_API_KEY set, or "
                "--offline): scripted Gemini 3 turns."
            )
            server = stack.enter_context(GeminiTestServer(responder=scripted_gemini))
            llm = ChatGeminiCodeExecution(model=MODEL, api_key="offline", base_url=server.base_url)
        with get_gemini_cost_callback() as spent:  # every Gemini call of the run
            messages = run(llm, args.question)
        show(messages)
        print(f"\nAnswer: {messages[-1].text.strip()}")
        print(f"Gemini cost: ${spent.total_cost:.6f} ({spent.calls} call(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
