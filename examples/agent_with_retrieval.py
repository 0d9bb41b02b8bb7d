"""An agent that looks figures up and then computes with them.

A LangChain agent (`langchain.agents.create_agent`) gets two tools: a retriever over a
small bundled document set (Northwind Robotics' reports) and `GeminiCodeExecutionTool`.
The question needs both: the figures are in the documents, the answer is a computation.

The agent's own model is not Gemini's code execution: offline it is a scripted stand-in
for any tool-calling model (OpenAI, Anthropic, a local model); with credentials it is
Gemini with function calling only (`ChatGeminiCodeExecution(code_execution=False)`),
which on Gemini 2.x cannot combine code execution and function tools itself.

Uses real Gemini when GOOGLE_API_KEY / GEMINI_API_KEY (or Vertex AI settings) are set;
otherwise (or with --offline) the bundled offline Gemini endpoint, whose scripted answer
is computed from the task the agent sent. The first line printed says which.

    python examples/agent_with_retrieval.py [--offline]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

try:  # with langchain installed, its agent; else (`pip install .` alone) tool_loop below
    from langchain.agents import create_agent
except ImportError:
    create_agent = None
from langchain_core.callbacks import CallbackManagerForLLMRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.tools import create_retriever_tool

from langchain_gemini_codeexec import ChatGeminiCodeExecution, GeminiCodeExecutionTool
from langchain_gemini_codeexec.cost import get_gemini_cost_callback
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    RecordedRequest,
    code,
    has_gemini_credentials,
    response,
    result,
    text,
)

DOCS_DIR = Path(__file__).resolve().parent / "data" / "docs"
QUESTION = (
    "By how many percent did Northwind Robotics' revenue per employee change from 2023 "
    "to 2024? Use year-end employee counts."
)
SYSTEM_PROMPT = (
    "You answer questions about Northwind Robotics. Look facts up with search_documents; "
    "never guess a figure. For any calculation call gemini_code_execution with a "
    "self-contained task that states every number it needs. Cite the documents you used."
)


# --- retrieval over the bundled documents --------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")


class KeywordRetriever(BaseRetriever):
    """Documents ranked by how many of the query's words they contain (no embeddings)."""

    documents: list[Document]
    k: int = 2

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        words = set(_WORD.findall(query.lower()))
        scored = [
            (len(words & set(_WORD.findall(doc.page_content.lower()))), i, doc)
            for i, doc in enumerate(self.documents)
        ]
        scored.sort(key=lambda item: (-item[0], item[1]))
        return [doc for score, _, doc in scored[: self.k] if score > 0]


def load_documents() -> list[Document]:
    return [
        Document(page_content=path.read_text(encoding="utf-8"), metadata={"source": path.name})
        for path in sorted(DOCS_DIR.glob("*.md"))
    ]


# --- the offline stand-ins ------------------------------------------------------------

_REPORT = re.compile(
    r"annual report (\d{4}).*?Revenue: EUR ([\d.]+) million.*?Employees at year end: ([\d,]+)",
    re.DOTALL,
)
_TASK_FIGURES = re.compile(r"EUR ([\d.]+) million in (\d{4}) with ([\d,]+) employees")


class ScriptedAgentModel(BaseChatModel):
    """A stand-in for any tool-calling chat model: searches, computes, then answers.

    It reads the conversation like a model would: after the search it takes the figures
    from the retrieved text, after the computation it answers with the tool's result.
    """

    @property
    def _llm_type(self) -> str:
        return "scripted-agent"

    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._next(messages))])

    @staticmethod
    def _next(messages: list[BaseMessage]) -> AIMessage:
        results = [m for m in messages if isinstance(m, ToolMessage)]
        if not results:
            query = "Northwind annual report revenue employees 2023 2024"
            return _call("search_documents", {"query": query}, "call_search")
        last = results[-1]
        if last.name == "search_documents":
            figures = sorted(_REPORT.findall(str(last.content)))
            stated = " and ".join(
                f"EUR {revenue} million in {year} with {staff} employees"
                for year, revenue, staff in figures
            )
            task = (
                f"Revenue was {stated}. Compute the revenue per employee in EUR for each "
                "year and its change from the first to the second year in percent."
            )
            return _call("gemini_code_execution", {"task": task}, "call_compute")
        if last.status == "error":
            return AIMessage(f"I could not compute the answer: {last.content}")
        answer = str(last.content).split("\n\n")[0].removeprefix("Answer:\n")
        return AIMessage(
            f"{answer} (Figures from annual_report_2023.md and annual_report_2024.md; "
            "computed with Gemini code execution.)"
        )


def _call(name: str, args: dict[str, Any], call_id: str) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": call_id}])


def offline_gemini(request: RecordedRequest) -> dict[str, Any]:
    """Gemini's code execution, scripted: the numbers come from the task it was sent."""
    figures = [
        (int(year), float(revenue) * 1e6, int(staff.replace(",", "")))
        for revenue, year, staff in _TASK_FIGURES.findall(request.text)
    ]
    (y1, r1, e1), (y2, r2, e2) = sorted(figures)
    per1, per2 = r1 / e1, r2 / e2
    change = (per2 / per1 - 1) * 100
    program = (
        f"rev = {{{y1}: {r1:.0f}, {y2}: {r2:.0f}}}\n"
        f"staff = {{{y1}: {e1}, {y2}: {e2}}}\n"
        "per = {y: rev[y] / staff[y] for y in rev}\n"
        "for y, v in per.items():\n"
        "    print(y, round(v, 2))\n"
        f"print('change %', round((per[{y2}] / per[{y1}] - 1) * 100, 2))\n"
    )
    return response(
        code(program),
        result(f"{y1} {per1:.2f}\n{y2} {per2:.2f}\nchange % {change:.2f}\n"),
        text(
            f"Revenue per employee rose from EUR {per1:,.2f} in {y1} to EUR {per2:,.2f} in "
            f"{y2}, a change of {change:+.2f}%."
        ),
        response_id="offline-agent-compute",
    )


# --- the example ---------------------------------------------------------------------


def build_agent(agent_model: BaseChatModel, gemini: ChatGeminiCodeExecution) -> Any:
    search = create_retriever_tool(
        KeywordRetriever(documents=load_documents()),
        "search_documents",
        "Search Northwind Robotics' documents (annual reports, company overview, "
        "policies). Input: a few keywords.",
    )
    # A failed call comes back to the agent as an error message (the tool's default).
    compute = GeminiCodeExecutionTool(llm=gemini)
    if create_agent is None:
        return RunnableLambda(
            lambda state: tool_loop(
                agent_model, [search, compute], state["messages"], SYSTEM_PROMPT
            )
        )
    return create_agent(agent_model, tools=[search, compute], system_prompt=SYSTEM_PROMPT)


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


def _show(message: BaseMessage, say: Callable[[str], None]) -> None:
    if isinstance(message, AIMessage) and message.tool_calls:
        for call in message.tool_calls:
            say(f"[agent] calls {call['name']}({call['args']})")
    elif isinstance(message, ToolMessage):
        lines = [line for line in str(message.content).splitlines() if line.strip()][:3]
        say(f"[{message.name}] {' / '.join(lines)}")
    elif isinstance(message, AIMessage):
        say(f"[agent] {message.text}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offline", action="store_true", help="use the offline endpoint")
    args = parser.parse_args(argv)

    with ExitStack() as stack:
        agent_model: BaseChatModel
        if has_gemini_credentials() and not args.offline:
            model = os.environ.get("GEMINI_MODEL", "gemini-2.5-flash")
            print(f"Using real Gemini ({model}; credentials found in the environment).")
            gemini = ChatGeminiCodeExecution(model=model)
            agent_model = ChatGeminiCodeExecution(model=model, code_execution=False)
        else:
            why = "--offline" if args.offline else "no GOOGLE_API_KEY/GEMINI_API_KEY set"
            print(
                f"Using the offline Gemini endpoint ({why}): scripted model turns; the "
                "agent model is a scripted stand-in for any tool-calling model."
            )
            server = stack.enter_context(GeminiTestServer(responder=offline_gemini))
            gemini = ChatGeminiCodeExecution(api_key="offline", base_url=server.base_url)
            agent_model = ScriptedAgentModel()

        agent = build_agent(agent_model, gemini)
        print(f"\nQ: {QUESTION}\n")
        with get_gemini_cost_callback() as spent:  # the tool's inner Gemini calls too
            state = agent.invoke({"messages": [{"role": "user", "content": QUESTION}]})
        for message in state["messages"][1:]:
            _show(message, print)

        reports = [
            m.artifact
            for m in state["messages"]
            if isinstance(m, ToolMessage) and m.name == "gemini_code_execution" and m.artifact
        ]
        for report in reports:
            print(f"\nCode execution report: {len(report.runs)} run(s), all ok: {report.ok}")
            for run in report.runs:
                print(f"  {run.outcome}, output:")
                print("".join(f"    {line}\n" for line in run.output.splitlines()), end="")
        print(f"\nFinal answer: {state['messages'][-1].text}")
        print(f"Gemini cost: ${spent.total_cost:.6f} ({spent.calls} call(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
