"""The binding `bind`/`bind_tools` return: bound options reach this model's own methods.

LangChain's `RunnableBinding` forwards an attribute it lacks (`submit_batch`,
`create_cache`, token counts) to the model but drops the bound keyword arguments, so
`llm.bind_tools([...]).submit_batch(...)` would silently leave the tools out of the job.
This subclass adds those methods and passes the bound options along, outer binds winning.
It serializes and behaves as a plain `RunnableBinding` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import RunnableBinding

if TYPE_CHECKING:
    from langchain_gemini_codeexec.batch import GeminiBatchJob
    from langchain_gemini_codeexec.chat_models import ChatGeminiCodeExecution


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

    def submit_batch(
        self,
        inputs: Sequence[LanguageModelInput] | None,
        keys: Sequence[str] | None = None,
        display_name: str | None = None,
        **call_options: Any,
    ) -> GeminiBatchJob:
        """`ChatGeminiCodeExecution.submit_batch` with the bound tools and options."""
        return self._model.submit_batch(
            inputs, keys, display_name, **self._with_bound(call_options)
        )

    async def asubmit_batch(
        self,
        inputs: Sequence[LanguageModelInput] | None,
        keys: Sequence[str] | None = None,
        display_name: str | None = None,
        **call_options: Any,
    ) -> GeminiBatchJob:
        """Async `submit_batch`."""
        return await self._model.asubmit_batch(
            inputs, keys, display_name, **self._with_bound(call_options)
        )

    def create_cache(self, messages: LanguageModelInput, **kwargs: Any) -> str:
        """`ChatGeminiCodeExecution.create_cache` holding the bound tools and options."""
        return self._model.create_cache(messages, **self._with_bound(kwargs))

    async def acreate_cache(self, messages: LanguageModelInput, **kwargs: Any) -> str:
        """Async `create_cache`."""
        return await self._model.acreate_cache(messages, **self._with_bound(kwargs))

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
