"""What did it cost? Totals of Gemini spend for a block of work.

Every answer of `ChatGeminiCodeExecution` carries its price in
`response_metadata["cost"]` (docs/cost.md). `get_gemini_cost_callback()` adds them up,
by model, the way `get_openai_callback()` does for OpenAI::

    with get_gemini_cost_callback() as cost:
        agent.invoke({"messages": [...]})
    print(cost.total_cost, cost.by_model)

It counts every Gemini call that reports to LangChain's callbacks while it is open: in
this thread or task, in `batch`/`abatch` and async tasks (they copy the context), and the
calls `GeminiCodeExecutionTool` makes inside an agent. A thread you start yourself copies
it with `contextvars.copy_context().run(...)`, or pass the handler as a callback:
`config={"callbacks": [cost]}`. Blocks nest: an inner total is also counted outside.
`sum_costs(messages)` adds up messages you already have (e.g. batch results).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from langchain_core.tracers.context import register_configure_hook

__all__ = ["GeminiCostCallbackHandler", "ModelCost", "get_gemini_cost_callback", "sum_costs"]

_PARTS = ("input", "cached_input", "tool_use_input", "output", "thoughts")


@dataclass
class ModelCost:
    """Totals of one model's calls."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cached_input_tokens: int = 0
    cost: float = 0.0
    """USD of the priced calls."""
    parts: dict[str, float] = field(default_factory=lambda: dict.fromkeys(_PARTS, 0.0))
    saved_by_cache: float = 0.0
    unpriced_calls: int = 0
    """Calls without a price (the reasons are in the handler's `unpriced`)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.total_tokens,
            "cached_input_tokens": self.cached_input_tokens,
            "cost": self.cost,
            "parts": dict(self.parts),
            "saved_by_cache": self.saved_by_cache,
            "unpriced_calls": self.unpriced_calls,
        }


class GeminiCostCallbackHandler(BaseCallbackHandler):
    """Adds up the tokens and cost of the Gemini answers it sees, by model (thread-safe)."""

    def __init__(self, parent: GeminiCostCallbackHandler | None = None) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._parent = parent
        self.by_model: dict[str, ModelCost] = {}
        self.unpriced: list[str] = []
        """Why calls got no price, one line per call ("model: reason")."""
        self.currency = "USD"

    # --- reading --------------------------------------------------------------------

    @property
    def total_cost(self) -> float:
        """USD of every priced call (see `unpriced` for calls without a price)."""
        with self._lock:
            return sum(m.cost for m in self.by_model.values())

    @property
    def calls(self) -> int:
        with self._lock:
            return sum(m.calls for m in self.by_model.values())

    @property
    def total_tokens(self) -> int:
        with self._lock:
            return sum(m.total_tokens for m in self.by_model.values())

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: currency, total, calls, by model, and the unpriced calls' reasons."""
        with self._lock:
            models = {name: m.to_dict() for name, m in self.by_model.items()}
            unpriced = list(self.unpriced)
        return {
            "currency": self.currency,
            "total_cost": sum(m["cost"] for m in models.values()),
            "calls": sum(m["calls"] for m in models.values()),
            "by_model": models,
            "unpriced": unpriced,
        }

    def __repr__(self) -> str:
        data = self.to_dict()
        lines = [
            f"Gemini calls: {data['calls']}",
            f"Total cost ({self.currency}): ${data['total_cost']:.6f}",
        ]
        for name, m in data["by_model"].items():
            lines.append(
                f"  {name}: {m['calls']} calls, {m['input_tokens']:,} input tokens "
                f"({m['cached_input_tokens']:,} cached), {m['output_tokens']:,} output "
                f"tokens, ${m['cost']:.6f}"
            )
        lines += [f"  unpriced: {why}" for why in data["unpriced"]]
        return "\n".join(lines)

    __str__ = __repr__

    # --- counting -------------------------------------------------------------------

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        for generations in response.generations:
            for generation in generations:
                if isinstance(generation, ChatGeneration):
                    self.add(generation.message)

    def add(self, message: BaseMessage) -> None:
        """Count one message (those without a Gemini cost record are skipped)."""
        record = message.response_metadata.get("cost")
        if not isinstance(record, dict):
            return
        usage = getattr(message, "usage_metadata", None) or {}
        model = str(message.response_metadata.get("model_name") or record.get("model"))
        handler: GeminiCostCallbackHandler | None = self
        while handler is not None:
            handler._count(model, record, usage)
            handler = handler._parent

    def _count(self, model: str, record: dict[str, Any], usage: Any) -> None:
        with self._lock:
            totals = self.by_model.setdefault(model, ModelCost())
            totals.calls += 1
            totals.input_tokens += int(usage.get("input_tokens") or 0)
            totals.output_tokens += int(usage.get("output_tokens") or 0)
            totals.total_tokens += int(usage.get("total_tokens") or 0)
            details = usage.get("input_token_details") or {}
            totals.cached_input_tokens += int(details.get("cache_read") or 0)
            if record.get("total") is None:
                totals.unpriced_calls += 1
                self.unpriced.append(f"{model}: {record.get('reason', 'no price')}")
                return
            totals.cost += float(record["total"])
            totals.saved_by_cache += float(record.get("saved_by_cache") or 0.0)
            for part, value in (record.get("parts") or {}).items():
                totals.parts[part] = totals.parts.get(part, 0.0) + float(value)


# One variable for the whole process (LangChain's configure hooks are never removed):
# callback managers built while it holds a handler add that handler to the call.
_current: ContextVar[GeminiCostCallbackHandler | None] = ContextVar(
    "langchain_gemini_codeexec_cost", default=None
)
register_configure_hook(_current, inheritable=True)


class get_gemini_cost_callback:  # named like langchain's get_openai_callback
    """Context manager (`with` or `async with`) yielding a `GeminiCostCallbackHandler`
    that counts every Gemini call made inside the block."""

    def __init__(self) -> None:
        self.handler = GeminiCostCallbackHandler()
        self._token: Token[GeminiCostCallbackHandler | None] | None = None

    def __enter__(self) -> GeminiCostCallbackHandler:
        if self._token is not None:
            raise RuntimeError("get_gemini_cost_callback() is already open; make a new one")
        self.handler._parent = _current.get()  # an enclosing block counts these calls too
        self._token = _current.set(self.handler)
        return self.handler

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            _current.reset(self._token)

    async def __aenter__(self) -> GeminiCostCallbackHandler:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)


def sum_costs(messages: Iterable[BaseMessage | None]) -> GeminiCostCallbackHandler:
    """The totals of messages you already have (e.g. `[r.message for r in job.results()]`;
    `None` entries, failed batch requests, are skipped)."""
    handler = GeminiCostCallbackHandler()
    for message in messages:
        if message is not None:
            handler.add(message)
    return handler
