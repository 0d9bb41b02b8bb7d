"""`GeminiBudgetMiddleware`: stop a `create_agent` agent once its Gemini spend passes a limit.

Spend is read from the cost records on the agent's messages (docs/cost.md): each model
answer's `response_metadata["cost"]`, and the cost of the Gemini call inside each
`GeminiCodeExecutionTool` result (its `CodeExecutionReport` artifact). The exits are those
of LangChain's `ModelCallLimitMiddleware`: end with a message, or raise.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal

from typing_extensions import NotRequired

try:
    from langchain.agents.middleware.types import (
        AgentMiddleware,
        AgentState,
        ContextT,
        OmitFromInput,
        PrivateStateAttr,
        ResponseT,
        hook_config,
    )
    from langgraph.channels.untracked_value import UntrackedValue
except ImportError as exc:  # pragma: no cover - exercised in a venv without langchain
    raise ImportError(
        "langchain_gemini_codeexec.middleware needs LangChain's agents (langchain>=1.0): "
        "pip install 'langchain-gemini-codeexec[agents]'"
    ) from exc
from langchain_core.messages import AIMessage, AnyMessage, ToolMessage

if TYPE_CHECKING:
    from langgraph.runtime import Runtime

__all__ = ["GeminiBudgetExceededError", "GeminiBudgetMiddleware", "GeminiBudgetState"]

logger = logging.getLogger(__name__)


class GeminiBudgetState(AgentState[ResponseT]):
    """Agent state with the Gemini spend, in USD."""

    run_gemini_cost: NotRequired[Annotated[float, UntrackedValue, OmitFromInput]]
    """This run's spend (one `invoke` of the agent): model answers and tool calls."""
    thread_gemini_cost: NotRequired[Annotated[float, PrivateStateAttr]]
    """The thread's spend across runs (kept by a checkpointer)."""
    run_gemini_unpriced_calls: NotRequired[Annotated[int, UntrackedValue, OmitFromInput]]
    """Calls of this run without a price (unknown model): not in the spend."""


def _limit_message(
    run_cost: float, thread_cost: float, run_limit: float | None, thread_limit: float | None
) -> str:
    passed = []
    if thread_limit is not None and thread_cost >= thread_limit:
        passed.append(f"thread spend ${thread_cost:.6f} of ${thread_limit:.6f}")
    if run_limit is not None and run_cost >= run_limit:
        passed.append(f"run spend ${run_cost:.6f} of ${run_limit:.6f}")
    return f"Gemini budget exceeded: {', '.join(passed)}"


class GeminiBudgetExceededError(Exception):
    """Raised with `exit_behavior="error"` once the spend reaches a limit."""

    def __init__(
        self,
        run_cost: float,
        thread_cost: float,
        run_limit: float | None,
        thread_limit: float | None,
    ) -> None:
        self.run_cost = run_cost
        self.thread_cost = thread_cost
        self.run_limit = run_limit
        self.thread_limit = thread_limit
        super().__init__(_limit_message(run_cost, thread_cost, run_limit, thread_limit))


def message_cost(message: Any) -> float | None:
    """USD a message's Gemini call(s) cost; None when a call has no price; 0.0 for
    messages that carry no Gemini call."""
    if isinstance(message, AIMessage):
        record = message.response_metadata.get("cost")
    elif isinstance(message, ToolMessage):
        record = getattr(message.artifact, "cost", None)
    else:
        return 0.0
    if not isinstance(record, dict):
        return 0.0
    total = record.get("total")
    return float(total) if isinstance(total, (int, float)) else None


def _since_last_answer(messages: list[AnyMessage]) -> list[AnyMessage]:
    """The messages after the last AI message (the tool results the next call reads)."""
    for position in range(len(messages) - 1, -1, -1):
        if isinstance(messages[position], AIMessage):
            return messages[position + 1 :]
    return []


class GeminiBudgetMiddleware(AgentMiddleware[GeminiBudgetState[ResponseT], ContextT, ResponseT]):
    """Stops the agent once its Gemini spend (USD) reaches a limit.

    The hooks only read the state (no I/O), so the async agent runs them as they are.
    Before each model call the spend so far is checked: the model's answers and the
    Gemini calls of `GeminiCodeExecutionTool` results. Calls without a price (an unknown
    model) are counted in `run_gemini_unpriced_calls` and logged, not guessed.

    Example:
        ```python
        from langchain.agents import create_agent
        from langchain_gemini_codeexec.middleware import GeminiBudgetMiddleware

        budget = GeminiBudgetMiddleware(run_limit=0.05, exit_behavior="end")
        agent = create_agent(llm, tools=[tool], middleware=[budget])
        out = agent.invoke({"messages": [...]})
        out["run_gemini_cost"]  # what this run spent, in USD
        ```
    """

    state_schema = GeminiBudgetState

    def __init__(
        self,
        *,
        run_limit: float | None = None,
        thread_limit: float | None = None,
        exit_behavior: Literal["end", "error"] = "end",
    ) -> None:
        """`run_limit`: USD per run (one `invoke`); `thread_limit`: USD per thread, across
        runs. `exit_behavior`: `"end"` jumps to the end with an AI message saying which
        limit was passed; `"error"` raises `GeminiBudgetExceededError`."""
        super().__init__()
        if run_limit is None and thread_limit is None:
            raise ValueError("At least one limit must be specified (run_limit or thread_limit)")
        for name, limit in (("run_limit", run_limit), ("thread_limit", thread_limit)):
            if limit is not None and (
                isinstance(limit, bool) or not isinstance(limit, (int, float)) or not limit >= 0
            ):
                raise ValueError(f"{name}: pass a number of US dollars >= 0, got {limit!r}")
        if exit_behavior not in {"end", "error"}:
            raise ValueError(f"Invalid exit_behavior: {exit_behavior}. Must be 'end' or 'error'")
        self.run_limit = run_limit
        self.thread_limit = thread_limit
        self.exit_behavior = exit_behavior

    def _spend(self, state: Any, messages: Sequence[AnyMessage]) -> dict[str, Any]:
        """The state's spend with `messages`' costs added."""
        run = float(state.get("run_gemini_cost", 0.0))
        thread = float(state.get("thread_gemini_cost", 0.0))
        unpriced = int(state.get("run_gemini_unpriced_calls", 0))
        for message in messages:
            cost = message_cost(message)
            if cost is None:
                unpriced += 1
                logger.warning("a Gemini call has no price; the budget does not count it")
            else:
                run += cost
                thread += cost
        return {
            "run_gemini_cost": run,
            "thread_gemini_cost": thread,
            "run_gemini_unpriced_calls": unpriced,
        }

    @hook_config(can_jump_to=["end"])
    def before_model(
        self, state: GeminiBudgetState[ResponseT], runtime: Runtime[ContextT]
    ) -> dict[str, Any] | None:
        """Add the tool results' cost, then stop if a limit is reached."""
        tools = [m for m in _since_last_answer(state["messages"]) if isinstance(m, ToolMessage)]
        spend = self._spend(state, tools)
        run, thread = spend["run_gemini_cost"], spend["thread_gemini_cost"]
        passed = (self.run_limit is not None and run >= self.run_limit) or (
            self.thread_limit is not None and thread >= self.thread_limit
        )
        if passed:
            if self.exit_behavior == "error":
                raise GeminiBudgetExceededError(run, thread, self.run_limit, self.thread_limit)
            text = _limit_message(run, thread, self.run_limit, self.thread_limit)
            return {**spend, "jump_to": "end", "messages": [AIMessage(content=text)]}
        return spend

    def after_model(
        self, state: GeminiBudgetState[ResponseT], runtime: Runtime[ContextT]
    ) -> dict[str, Any] | None:
        """Add the cost of the model's answer."""
        answers = [m for m in state["messages"][-1:] if isinstance(m, AIMessage)]
        return self._spend(state, answers)
