"""Bound options everywhere: what `bind`/`bind_tools` return, and how features read it.

The feature functions (`batch.submit_batch`, `caching.create_cache`, ...) take the model or
a binding of it; `unwrap` finds the model and the options bound on the way, outer binds
winning, so `submit_batch(llm.bind_tools([...]), inputs)` sends the tools too.

LangChain's `RunnableBinding` forwards an attribute it lacks (token counts, the deprecated
feature methods) to the model but drops the bound keyword arguments; `GeminiBinding` passes
them along. It serializes and behaves as a plain `RunnableBinding` otherwise.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import RunnableBinding

from langchain_gemini_codeexec.errors import InvalidMessageError

if TYPE_CHECKING:
    from langchain_gemini_codeexec.batch import GeminiBatchJob
    from langchain_gemini_codeexec.chat_models import ChatGeminiCodeExecution


_M = TypeVar("_M")


def unwrap(runnable: Any, model_type: type[_M], feature: str) -> tuple[_M, dict[str, Any]]:
    """The chat model under `bind`/`bind_tools` layers, and the options bound on the way."""
    bound: dict[str, Any] = {}
    while isinstance(runnable, RunnableBinding):
        bound = {**runnable.kwargs, **bound}
        runnable = runnable.bound
    if not isinstance(runnable, model_type):
        raise InvalidMessageError(
            f"{feature}: needs a {model_type.__name__} (or one with bound tools or "
            f"options), got {type(runnable).__name__}"
        )
    return runnable, bound


def deprecated_method(name: str, replacement: str) -> None:
    """Warn once per call site that method `name` moved to free function `replacement`."""
    warnings.warn(
        f"{name}() as a method is deprecated and will be removed in 0.3; "
        f"call {replacement}(llm, ...) instead",
        DeprecationWarning,
        stacklevel=3,
    )


class GeminiBinding(RunnableBinding[LanguageModelInput, AIMessage]):
    """A `RunnableBinding` over `ChatGeminiCodeExecution` that keeps its options everywhere."""

    @classmethod
    def lc_id(cls) -> list[str]:
        # Serialized as, and loaded back into, a plain RunnableBinding.
        return RunnableBinding.lc_id()

    @property
    def _model(self) -> ChatGeminiCodeExecution:
        return self.bound  # type: ignore[return-value]  # only the model's bind makes these

    def _with_bound(self, call_options: dict[str, Any]) -> dict[str, Any]:
        return {**self.kwargs, **call_options}

    # Deprecated aliases of the free functions (kept for one release).
    def submit_batch(
        self,
        inputs: Sequence[LanguageModelInput] | None,
        keys: Sequence[str] | None = None,
        display_name: str | None = None,
        **call_options: Any,
    ) -> GeminiBatchJob:
        """Deprecated: use `langchain_gemini_codeexec.batch.submit_batch(bound, inputs)`."""
        deprecated_method("submit_batch", "langchain_gemini_codeexec.batch.submit_batch")
        from langchain_gemini_codeexec.batch import submit_batch

        return submit_batch(self, inputs, keys, display_name, **call_options)

    async def asubmit_batch(
        self,
        inputs: Sequence[LanguageModelInput] | None,
        keys: Sequence[str] | None = None,
        display_name: str | None = None,
        **call_options: Any,
    ) -> GeminiBatchJob:
        """Deprecated: use `langchain_gemini_codeexec.batch.asubmit_batch(bound, inputs)`."""
        deprecated_method("asubmit_batch", "langchain_gemini_codeexec.batch.asubmit_batch")
        from langchain_gemini_codeexec.batch import asubmit_batch

        return await asubmit_batch(self, inputs, keys, display_name, **call_options)

    def create_cache(self, messages: LanguageModelInput, **kwargs: Any) -> str:
        """Deprecated: use `langchain_gemini_codeexec.caching.create_cache(bound, ...)`."""
        deprecated_method("create_cache", "langchain_gemini_codeexec.caching.create_cache")
        from langchain_gemini_codeexec.caching import create_cache

        return create_cache(self, messages, **kwargs)

    async def acreate_cache(self, messages: LanguageModelInput, **kwargs: Any) -> str:
        """Deprecated: use `langchain_gemini_codeexec.caching.acreate_cache(bound, ...)`."""
        deprecated_method("acreate_cache", "langchain_gemini_codeexec.caching.acreate_cache")
        from langchain_gemini_codeexec.caching import acreate_cache

        return await acreate_cache(self, messages, **kwargs)

    def get_num_tokens_from_messages(
        self, messages: list[BaseMessage], tools: Sequence[Any] | None = None, **kwargs: Any
    ) -> int:
        """Tokens of the request `invoke` would send through this binding."""
        options = self._with_bound(kwargs if tools is None else {**kwargs, "tools": tools})
        return self._model.get_num_tokens_from_messages(messages, **options)

    async def aget_num_tokens_from_messages(
        self, messages: list[BaseMessage], tools: Sequence[Any] | None = None, **kwargs: Any
    ) -> int:
        """Async `get_num_tokens_from_messages`."""
        options = self._with_bound(kwargs if tools is None else {**kwargs, "tools": tools})
        return await self._model.aget_num_tokens_from_messages(messages, **options)
