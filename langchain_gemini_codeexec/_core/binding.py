"""Bound options everywhere: what `bind`/`bind_tools` return, and how features read it.

The feature functions (`batch.submit_batch`, `caching.create_cache`, ...) take the model or
a binding of it; `unwrap` finds the model and the options bound on the way, outer binds
winning, so `submit_batch(llm.bind_tools([...]), inputs)` sends the tools too.

LangChain's `RunnableBinding` forwards an attribute it lacks (token counts, the deprecated
feature methods) to the model but drops the bound keyword arguments; `GeminiBinding` passes
them along. It serializes and behaves as a plain `RunnableBinding` otherwise.
"""

from __future__ import annotations

import importlib
import inspect
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import RunnableBinding
from pydantic import ConfigDict

from langchain_gemini_codeexec.errors import InvalidMessageError

if TYPE_CHECKING:
    from langchain_gemini_codeexec.chat_models import ChatGeminiCodeExecution


_M = TypeVar("_M")
R = TypeVar("R")


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


def deprecated_method(name: str, replacement: str, advice: str | None = None) -> None:
    """Warn once per call site that method `name` moved to free function `replacement`
    (or, with `advice`, what to do instead)."""
    warnings.warn(
        f"{name}() as a method is deprecated and will be removed in 0.3; "
        f"{advice or f'call {replacement}(llm, ...) instead'}",
        DeprecationWarning,
        stacklevel=3,
    )


class Later:
    """A module's functions, imported at their first call: the deprecated aliases point up
    the layers (to `caching`, `batch`), which import the chat model themselves."""

    def __init__(self, module: str) -> None:
        self.module = module

    def __getattr__(self, name: str) -> _Target:
        return _Target(self.module, name)


class _Target:
    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def resolve(self) -> Callable[..., Any]:
        function: Callable[..., Any] = getattr(importlib.import_module(self.module), self.name)
        return function


if TYPE_CHECKING:  # mypy reads the real functions' signatures
    from langchain_gemini_codeexec import batch as _batch
    from langchain_gemini_codeexec import caching as _caching
else:
    _batch = Later("langchain_gemini_codeexec.batch")
    _caching = Later("langchain_gemini_codeexec.caching")


class DeprecatedAlias(Generic[R]):
    """A method kept for one release: warns, then calls `target(self, ...)`.

    One line per alias (`create_cache = DeprecatedAlias(_caching.create_cache)`) instead
    of a hand-written method and its async twin; the signature and docstring shown by
    `help()` are the target's, and mypy reads the return type from the target (not the
    parameters: `Concatenate` would need the targets' `llm` to be positional-only).
    """

    def __init__(self, target: Callable[..., R], advice: str | None = None) -> None:
        self._target: Any = target
        self._advice = advice
        self._method: Callable[..., Any] | None = None
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def _build(self) -> Callable[..., Any]:
        target: Any = self._target
        module = target.module if isinstance(target, _Target) else target.__module__
        if isinstance(target, _Target):  # named by its public module, not where it is defined
            target = target.resolve()
        name, replacement, advice = self._name, f"{module}.{target.__name__}", self._advice
        method: Callable[..., Any]
        if inspect.iscoroutinefunction(target):

            async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
                deprecated_method(name, replacement, advice)
                return await target(self, *args, **kwargs)

        else:

            def method(self: Any, *args: Any, **kwargs: Any) -> Any:
                deprecated_method(name, replacement, advice)
                return target(self, *args, **kwargs)

        signature = inspect.signature(target)
        first, *rest = signature.parameters.values()
        method.__signature__ = signature.replace(  # type: ignore[union-attr]
            parameters=[first.replace(name="self", annotation=inspect.Parameter.empty), *rest]
        )
        method.__name__ = method.__qualname__ = name
        use = advice or f"use `{replacement}(llm, ...)`"
        method.__doc__ = f"Deprecated: {use}.\n\n{target.__doc__ or ''}"
        return method

    def __get__(self, obj: object, owner: type | None = None) -> Callable[..., R]:
        if self._method is None:  # built at first use: the target's module is loaded then
            self._method = self._build()
        method: Callable[..., R] = (
            self._method if obj is None else self._method.__get__(obj, owner)
        )
        return method


class GeminiBinding(RunnableBinding[LanguageModelInput, AIMessage]):
    """A `RunnableBinding` over `ChatGeminiCodeExecution` that keeps its options everywhere."""

    model_config = ConfigDict(ignored_types=(DeprecatedAlias,))

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
    submit_batch = DeprecatedAlias(_batch.submit_batch)
    """Deprecated (removed in 0.3): `batch.submit_batch(llm, ...)`."""
    asubmit_batch = DeprecatedAlias(_batch.asubmit_batch)
    """Deprecated (removed in 0.3): `batch.asubmit_batch(llm, ...)`."""
    create_cache = DeprecatedAlias(_caching.create_cache)
    """Deprecated (removed in 0.3): `caching.create_cache(llm, ...)`."""
    acreate_cache = DeprecatedAlias(_caching.acreate_cache)
    """Deprecated (removed in 0.3): `caching.acreate_cache(llm, ...)`."""

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
