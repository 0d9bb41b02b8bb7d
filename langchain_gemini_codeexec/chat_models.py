"""`ChatGeminiCodeExecution`: a LangChain chat model for Gemini with code execution on."""

from __future__ import annotations

import copy
import inspect
import os
import threading
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.base import LangSmithParams
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import (
    Runnable,
    RunnableLambda,
    RunnableMap,
    RunnablePassthrough,
)
from langchain_core.tools import BaseTool
from langchain_core.utils import secret_from_env
from pydantic import (
    AliasChoices,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from langchain_gemini_codeexec._core import caches as _caching
from langchain_gemini_codeexec._core import checks as _checks
from langchain_gemini_codeexec._core import foreign_names as _foreign_names
from langchain_gemini_codeexec._core import options as _options
from langchain_gemini_codeexec._core import pricing as _pricing
from langchain_gemini_codeexec._core import profiles as _profiles
from langchain_gemini_codeexec._core import request as _request
from langchain_gemini_codeexec._core.binding import DeprecatedAlias, GeminiBinding, Later
from langchain_gemini_codeexec._core.options import DEFAULT_MODEL, GenerationOptions
from langchain_gemini_codeexec._mapping import function_tools as _function_tools
from langchain_gemini_codeexec._mapping import structured as _structured
from langchain_gemini_codeexec._mapping.from_gemini import (
    first_candidate,
    response_to_message_fields,
)
from langchain_gemini_codeexec._mapping.streaming import StreamState, blocked_error
from langchain_gemini_codeexec._mapping.to_gemini import is_legacy_model
from langchain_gemini_codeexec._transport.config import build_client, check_api_key, model_path
from langchain_gemini_codeexec._transport.flow import Flow, call, sdk_call
from langchain_gemini_codeexec._transport.retry import RetryPolicy
from langchain_gemini_codeexec._transport.transport import Transport
from langchain_gemini_codeexec.errors import (
    IncompleteResponseError,
    InvalidMessageError,
)

if TYPE_CHECKING:
    from langchain_core.language_models.model_profile import ModelProfile

if TYPE_CHECKING:  # google.genai loads when the first client is built (see _sdk._LazyModule)
    from google.genai import Client

    # mypy reads the deprecated aliases' signatures from the functions they call
    from langchain_gemini_codeexec import batch as _batch
    from langchain_gemini_codeexec import caching as _caching_api
else:  # imported at the first call: both modules import this one
    _batch = Later("langchain_gemini_codeexec.batch")
    _caching_api = Later("langchain_gemini_codeexec.caching")

_T = TypeVar("_T")

# Re-exported: tests and users import it from here.
__all__ = ["DEFAULT_MODEL", "ChatGeminiCodeExecution"]

# Settings the client and transport are built from: changing one means a new client.
_CONNECTION_SETTINGS = frozenset(
    {
        "api_key",
        "vertexai",
        "project",
        "location",
        "credentials",
        "base_url",
        "api_version",
        "timeout",
        "max_retries",
        "retry_initial_delay",
        "retry_max_delay",
        "default_headers",
        "client",
    }
)


def _generation(client: Client, model: str, body: dict[str, Any]) -> Flow[dict[str, Any]]:
    """generateContent, the body checked against (and trimmed to) the cache it names."""
    sent = yield from _caching.apply(client, model, body)
    return (yield from call("post", f"{model_path(client, model)}:generateContent", sent))


def _counted(client: Client, model: str, body: dict[str, Any]) -> Flow[int]:
    """Gemini's countTokens of `body`."""
    answer = yield from call("post", f"{model_path(client, model)}:countTokens", body)
    return int(answer.get("totalTokens", 0))


_SDK_CALL_ADVICE = "make the call on `llm.genai_client` directly"


def _run_sdk_call(llm: ChatGeminiCodeExecution, call: Callable[[], _T]) -> _T:
    """Run a call on `genai_client` (e.g. a Files API upload) the way the model runs its
    own requests: retried by its retry settings, bounded by its `timeout`, and failing
    with this package's typed errors."""
    return llm._get_transport().drive(sdk_call(call, None))


async def _arun_sdk_call(llm: ChatGeminiCodeExecution, call: Callable[[], Awaitable[_T]]) -> _T:
    """Async `run_sdk_call` (for calls on `genai_client.aio`)."""
    return await llm._get_transport().adrive(sdk_call(None, call))


def _env_flag(name: str) -> bool | None:
    value = os.environ.get(name)
    if value is None:
        return None
    return value.strip().lower() in ("1", "true", "yes")


def _priced(chunk: AIMessageChunk, usage: Any, model: str) -> AIMessageChunk:
    """The cost goes once, on the chunk that ends the answer (Gemini's usage counts are
    running totals, complete by then): adding the chunks up gives `invoke`'s record."""
    if chunk.chunk_position == "last":
        chunk.response_metadata["cost"] = _pricing.price(usage, model)
    return chunk


class ChatGeminiCodeExecution(BaseChatModel, GenerationOptions):
    """Gemini with its built-in code execution tool, as a LangChain chat model.

    The model writes Python, Google runs it in a sandbox, the model reads the result and
    answers. Every part of the answer (text, code, results, charts, thoughts, signatures,
    function calls) becomes a standard v1 content block, and goes back to Gemini unchanged
    when the message is part of a later conversation.

    Configured like the google-genai SDK: the Gemini Developer API with `api_key` (or
    `GOOGLE_API_KEY` / `GEMINI_API_KEY`), or Vertex AI with `vertexai=True`, `project`,
    `location` (or `GOOGLE_GENAI_USE_VERTEXAI`, `GOOGLE_CLOUD_PROJECT`,
    `GOOGLE_CLOUD_LOCATION`).

    Example:
        ```python
        from langchain_gemini_codeexec import ChatGeminiCodeExecution

        llm = ChatGeminiCodeExecution(model="gemini-2.5-flash")
        msg = llm.invoke("What is the sum of the first 50 prime numbers? Run code for it.")
        for block in msg.content_blocks:
            print(block["type"], block)
        ```
    """

    # A misspelt parameter is an error, not silently ignored; and no validation error
    # echoes the input (it would print the API key).
    model_config = ConfigDict(
        populate_by_name=True,
        arbitrary_types_allowed=True,
        extra="forbid",
        hide_input_in_errors=True,
        ignored_types=(DeprecatedAlias,),
    )

    # Generation options (model, code_execution, temperature, max_output_tokens, ...)
    # are declared once, in `_options.GenerationOptions`, and inherited.

    api_key: SecretStr | None = Field(
        default_factory=secret_from_env(["GOOGLE_API_KEY", "GEMINI_API_KEY"], default=None),
        validation_alias=AliasChoices("api_key", "google_api_key"),
    )
    """Gemini API key; read from `GOOGLE_API_KEY`, then `GEMINI_API_KEY`."""
    vertexai: bool | None = None
    """Use Vertex AI; default from `GOOGLE_GENAI_USE_VERTEXAI`."""
    project: str | None = None
    """Google Cloud project for Vertex AI; default from `GOOGLE_CLOUD_PROJECT`."""
    location: str | None = None
    """Vertex AI location; default from `GOOGLE_CLOUD_LOCATION`, else `global`."""
    credentials: Any = Field(default=None, exclude=True)
    """`google.auth` credentials for Vertex AI (default: application default credentials)."""
    base_url: str | None = None
    """Override the API endpoint (a proxy, or `langchain_gemini_codeexec.testing`)."""
    api_version: str | None = None
    """API version (`v1beta`, `v1`, ...); default: the SDK's."""
    timeout: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    """Seconds to wait for Gemini, per attempt (each retry gets the whole timeout again): to
    connect and for the whole answer; for a stream, for its first chunk, then each next
    chunk. Holds on every HTTP path, even against a server that trickles bytes. At most a
    day (86400); larger values are refused."""
    max_retries: int = Field(default=2, ge=0)
    """Retries of 408/429/5xx answers and connection errors, with backoff."""
    retry_initial_delay: float = Field(default=1.0, ge=0, allow_inf_nan=False)
    """First backoff delay in seconds (doubled each retry, with jitter)."""
    retry_max_delay: float = Field(default=60.0, ge=0, allow_inf_nan=False)
    """Cap on one retry delay, also on a delay the server asks for."""
    default_headers: dict[str, str] | None = None
    """Extra HTTP headers sent with every request (`additional_headers` is the same)."""
    client_args: dict[str, Any] | None = Field(default=None, exclude=True)
    """Arguments for the SDK's HTTP clients, sync and async (e.g. `{"proxy": url}`)."""

    streaming: bool = False
    """`invoke` streams under the hood (LangChain then adds the chunks up itself)."""

    client: Any = Field(default=None, exclude=True)
    """A prebuilt `google.genai.Client` to use instead of building one. It is set not to
    follow redirects (so the key goes only to its endpoint); closing it is up to you."""

    output_version: str | None = "v1"

    _client: Client | None = PrivateAttr(default=None)
    _transport: Transport | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _own_options: _options.OwnOptions | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _familiar_names(cls, data: Any) -> Any:
        """`ChatGoogleGenerativeAI`'s names: the same setting here, or an error naming ours."""
        if not isinstance(data, dict):
            return data
        data = _foreign_names.translate_client_settings(data)
        extra = data.pop("model_kwargs", None) or {}
        if not isinstance(extra, dict):
            raise ValueError("model_kwargs: pass a dict of generation options")
        extra = _foreign_names.translate_options(extra, "model_kwargs")
        for name, value in extra.items():
            if name not in _options.CALL_OPTION_NAMES or name in ("tools", "tool_choice"):
                raise ValueError(
                    f"model_kwargs: {name!r} is not a generation option of this model; pass "
                    "options as constructor arguments (temperature=..., top_k=...) and raw "
                    "generationConfig fields as generation_config={...}"
                )
            if name in data and data[name] != value:
                raise ValueError(f"model_kwargs: {name!r} is also given as an argument")
            data[name] = value
        return data

    @field_validator(
        "max_retries", "retry_initial_delay", "retry_max_delay", "timeout", mode="before"
    )
    @classmethod
    def _setting_not_bool(cls, value: Any, info: ValidationInfo) -> Any:
        return _checks.reject_bool(str(info.field_name), value)

    @field_validator("retry_initial_delay", "retry_max_delay")
    @classmethod
    def _check_delay(cls, value: float, info: ValidationInfo) -> float:
        # A day at most: a larger sleep overflows the timers (1e300 s raised OverflowError).
        _checks.check_duration(str(info.field_name), value, maximum=_checks.MAX_TIMEOUT, zero=True)
        return value

    @field_validator("timeout", "base_url", "default_headers")
    @classmethod
    def _check_connection(cls, value: Any, info: ValidationInfo) -> Any:
        check: dict[str, Callable[[Any], Any]] = {
            "timeout": _checks.check_timeout,
            "base_url": _checks.check_base_url,
            "default_headers": _checks.check_headers,
        }
        return check[str(info.field_name)](value)

    @model_validator(mode="after")
    def _check_settings(self) -> ChatGeminiCodeExecution:
        if self.client is not None:
            from google.genai import Client  # given a client, the SDK is loaded already

            if not isinstance(self.client, Client):
                raise ValueError("client: pass a google.genai.Client (or leave it unset)")
        if self.vertexai is None:
            # As google-genai and langchain-google-genai decide: the environment flag,
            # else Vertex AI when credentials or a project are given.
            flag = _env_flag("GOOGLE_GENAI_USE_VERTEXAI")
            self.vertexai = (
                flag
                if flag is not None
                else (self.credentials is not None or self.project is not None)
            )
        if self.vertexai:
            self.project = self.project or os.environ.get("GOOGLE_CLOUD_PROJECT")
            self.location = self.location or os.environ.get("GOOGLE_CLOUD_LOCATION") or "global"
        for name in ("api_version", "project", "location"):  # parts of the request URL
            _checks.check_segment(name, getattr(self, name))
        if (
            self.client is None
            and not self.vertexai
            and (self.api_key is None or not self.api_key.get_secret_value())
        ):
            raise ValueError(
                "api_key: no Gemini API key. Pass api_key=..., set GOOGLE_API_KEY or "
                "GEMINI_API_KEY, or use Vertex AI (vertexai=True with project/location)"
            )
        if self.api_key is not None and self.api_key.get_secret_value():
            check_api_key(self.api_key.get_secret_value())
        if self.retry_max_delay < self.retry_initial_delay:
            raise ValueError("retry_max_delay must be >= retry_initial_delay")
        if self.profile is None:
            self.profile = cast("ModelProfile", self._default_profile())
        unknown = _profiles.unknown_model_warning(self.model)
        if unknown is not None:
            # 4: past pydantic's and langchain's __init__, at the line that built the model
            warnings.warn(unknown, UserWarning, stacklevel=4)
        return self

    def _default_profile(self) -> dict[str, Any]:
        """This model's profile; Gemini 1.x/2.x cannot answer in a schema with code
        execution on, so for them it claims no provider-native structured output."""
        profile = _profiles.profile_for(self.model)
        if self.code_execution and is_legacy_model(self.model) and not self.allow_mixed_tools:
            profile["structured_output"] = False
        return profile

    # --- LangChain plumbing ------------------------------------------------------------

    @property
    def _llm_type(self) -> str:
        return "gemini-code-execution"

    @property
    def lc_secrets(self) -> dict[str, str]:
        return {"api_key": "GOOGLE_API_KEY", "google_api_key": "GOOGLE_API_KEY"}

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["langchain_gemini_codeexec", "chat_models"]

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "code_execution": self.code_execution,
            "vertexai": self.vertexai,
            "temperature": self.temperature,
            "max_output_tokens": self.max_output_tokens,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "thinking_budget": self.thinking_budget,
            "thinking_level": self.thinking_level,
        }

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        try:
            options = self._resolve_options(stop, kwargs)
        except InvalidMessageError:
            options = _options.CallOptions.model_construct(
                **{name: getattr(self, name) for name in _options.SHARED_FIELDS}
            )  # the call itself raises the clear error; tracing shows the model's settings
        params = LangSmithParams(
            ls_provider="google_genai", ls_model_name=options.model, ls_model_type="chat"
        )
        if options.temperature is not None:
            params["ls_temperature"] = options.temperature
        if options.max_output_tokens is not None:
            params["ls_max_tokens"] = options.max_output_tokens
        if options.stop:
            params["ls_stop"] = options.stop
        return params

    # --- client --------------------------------------------------------------------------

    def _get_transport(self) -> Transport:
        """One client per model instance, built on first use and then reused.

        The one package-internal accessor to the transport, for modules that cooperate
        with the model (batch, caching, the tool): they drive their flows through it."""
        transport = self._private("_transport")
        if transport is not None:
            return cast("Transport", transport)
        with self._lock:
            if self._transport is None:
                client = self.client or build_client(
                    api_key=self.api_key.get_secret_value() if self.api_key else None,
                    vertexai=bool(self.vertexai),
                    project=self.project,
                    location=self.location,
                    credentials=self.credentials,
                    base_url=self.base_url,
                    api_version=self.api_version,
                    headers=self.default_headers,
                    client_args=self.client_args,
                    async_client_args=self.client_args,
                )
                retry = RetryPolicy(
                    self.max_retries, self.retry_initial_delay, self.retry_max_delay
                )
                self._client = client
                self._transport = Transport(client, retry, self.timeout)
            return self._transport

    @property
    def genai_client(self) -> Client:
        """The `google.genai.Client` this model talks through (e.g. for the Files API)."""
        return self._get_transport().client

    def close(self) -> None:
        """Close the connections of the client this model built (a client you passed in
        stays open: it is yours). The model stays usable: it builds a new client on its
        next call."""
        with self._lock:
            client, self._client, self._transport = self._client, None, None
        if client is not None and client is not self.client:
            client.close()

    async def aclose(self) -> None:
        """`close`, also closing the async connections (aiohttp sessions, httpx pools)."""
        with self._lock:
            client, self._client, self._transport = self._client, None, None
        if client is not None and client is not self.client:
            client.close()
            await client.aio.aclose()

    def model_copy(
        self, *, update: Mapping[str, Any] | None = None, deep: bool = False
    ) -> ChatGeminiCodeExecution:
        """A copy with its own client (built from its own settings on first use).

        An `api_key` given as a plain string in `update` is kept as a secret, as the
        constructor keeps it.
        """
        if update:
            update = dict(update)
            for name in ("api_key", "google_api_key"):
                if isinstance(update.get(name), str):
                    check_api_key(update[name])
                    update["api_key"] = SecretStr(update.pop(name))
        return super().model_copy(update=update, deep=deep)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("api_key", "google_api_key") and isinstance(value, str):
            check_api_key(value)
            name, value = "api_key", SecretStr(value)
        super().__setattr__(name, value)
        if name in _CONNECTION_SETTINGS and self.__pydantic_private__:
            # The next call builds a client from the new settings.
            with self._lock:
                self._client = self._transport = None

    def _private(self, name: str) -> Any:
        """A private attribute's value, read from pydantic's documented store: on the
        hot path (twice or more per call) `self._name` costs ~10 us (pydantic probes the
        attribute's descriptor through a caught AttributeError)."""
        return (self.__pydantic_private__ or {}).get(name)

    def _reset_private(self) -> None:
        """A copy gets its own client, built from its own settings on first use."""
        self._client = None
        self._transport = None
        self._lock = threading.Lock()
        self._own_options = None

    def __getstate__(self) -> dict[Any, Any]:
        # Pickle the settings, not the client, transport or lock (they hold sockets and
        # locks): an unpickled model builds its own client on first use, like a copy.
        state = super().__getstate__()
        state["__pydantic_private__"] = None
        return state

    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__(state)
        object.__setattr__(self, "__pydantic_private__", {})
        self._reset_private()

    def __copy__(self) -> ChatGeminiCodeExecution:
        new = super().__copy__()
        new._reset_private()
        return new

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> ChatGeminiCodeExecution:
        memo = {} if memo is None else memo
        # A client you passed in and credentials are shared, not copied (they hold
        # sockets, locks and tokens); everything else is copied.
        for shared in (self.client, self.credentials):
            if shared is not None:
                memo[id(shared)] = shared
        cls = type(self)
        new = cls.__new__(cls)
        memo[id(self)] = new
        object.__setattr__(new, "__dict__", copy.deepcopy(self.__dict__, memo))
        object.__setattr__(new, "__pydantic_extra__", copy.deepcopy(self.__pydantic_extra__, memo))
        object.__setattr__(new, "__pydantic_fields_set__", set(self.__pydantic_fields_set__))
        object.__setattr__(new, "__pydantic_private__", {})
        new._reset_private()
        return new

    # --- request -------------------------------------------------------------------------

    def _resolve_options(
        self, stop: list[str] | None, kwargs: dict[str, Any]
    ) -> _options.CallOptions:
        """This model's options with a call's `kwargs` on top, validated (see `_options`)."""
        if _options.passes_none(kwargs, stop):
            cached = self._private("_own_options")
            own = _options.own_options(self, cached)
            if own is not cached:
                self._own_options = own
            return own.options
        return _options.resolve(self, kwargs, stop)

    def _build_request(
        self, messages: Sequence[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """(model, request body) exactly as `invoke(messages, stop=stop, **kwargs)` sends it
        (built by `_core.request`, as batch jobs, token counting and caches build theirs)."""
        return _request.build(
            self._resolve_options(stop, kwargs),
            messages,
            vertexai=bool(self.vertexai),
            files_base=self._get_transport().files_base,
        )

    # --- responses -----------------------------------------------------------------------

    @staticmethod
    def _result(response: dict[str, Any], model: str, *, batch: bool = False) -> ChatResult:
        blocked = blocked_error(response, model)
        if blocked is not None:
            raise blocked
        if first_candidate(response) is None:
            # Not blocked, yet nothing generated: a failure, not an empty answer.
            raise IncompleteResponseError(
                "Gemini's answer has no candidate and no promptFeedback.blockReason; "
                f"nothing was generated (keys: {sorted(response)}). Retry the request."
            )
        fields = response_to_message_fields(response, model)
        metadata = fields["response_metadata"]
        metadata["cost"] = _pricing.price(
            response.get("usageMetadata"), metadata["model_name"], batch=batch
        )
        message = AIMessage(**fields)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        model, body = self._build_request(messages, stop, kwargs)
        flow = _generation(self.genai_client, model, body)
        return self._result(self._get_transport().drive(flow), model)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        model, body = self._build_request(messages, stop, kwargs)
        flow = _generation(self.genai_client, model, body)
        return self._result(await self._get_transport().adrive(flow), model)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        model, body = self._build_request(messages, stop, kwargs)
        transport = self._get_transport()
        body = transport.drive(_caching.apply(transport.client, model, body))
        state = StreamState(model)
        usage: Any = None
        version: Any = None
        for response in transport.stream(model, body):
            usage = response.get("usageMetadata") or usage
            version = version or response.get("modelVersion")
            message = _priced(state.chunk(response), usage, version or model)
            chunk = ChatGenerationChunk(message=message)
            if run_manager is not None:
                run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk
        state.check_complete()

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        model, body = self._build_request(messages, stop, kwargs)
        transport = self._get_transport()
        body = await transport.adrive(_caching.apply(transport.client, model, body))
        state = StreamState(model)
        usage: Any = None
        version: Any = None
        async for response in transport.astream(model, body):
            usage = response.get("usageMetadata") or usage
            version = version or response.get("modelVersion")
            message = _priced(state.chunk(response), usage, version or model)
            chunk = ChatGenerationChunk(message=message)
            if run_manager is not None:
                await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk
        state.check_complete()

    def _count_request(
        self, messages: list[BaseMessage], tools: Sequence[Any] | None, kwargs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """(model, countTokens body) for what `invoke(messages, **kwargs)` would send."""
        call = dict(kwargs)
        if tools:
            call["tools"] = [
                *(call.get("tools") or ()),
                *(_function_tools.normalize_tool(t) for t in tools),
            ]
        model, body = self._build_request(messages, call.pop("stop", None), call)
        return model, _request.count_body(model, body, vertexai=bool(self.vertexai))

    def get_num_tokens_from_messages(
        self,
        messages: list[BaseMessage],
        tools: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> int:
        """Tokens of a request, as Gemini's `countTokens` counts them.

        Counts what `invoke(messages, **kwargs)` would send: the system instruction, the
        code execution tool, bound `tools` and options included. On a binding, call it
        with the bound options: `llm.get_num_tokens_from_messages(msgs, **bound.kwargs)`.
        """
        model, body = self._count_request(messages, tools, kwargs)
        return self._get_transport().drive(_counted(self.genai_client, model, body))

    async def aget_num_tokens_from_messages(
        self,
        messages: list[BaseMessage],
        tools: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> int:
        """Async `get_num_tokens_from_messages`."""
        model, body = self._count_request(messages, tools, kwargs)
        return await self._get_transport().adrive(_counted(self.genai_client, model, body))

    def get_num_tokens(self, text: str) -> int:
        """Tokens of `text` as one user message, counted by Gemini's `countTokens`.

        Only the text itself: no system instruction or tools (for those, use
        `get_num_tokens_from_messages`).
        """
        body = self._text_count_body(text)
        if not body:
            return 0
        return self._get_transport().drive(_counted(self.genai_client, self.model, body))

    async def aget_num_tokens(self, text: str) -> int:
        """Async `get_num_tokens`."""
        body = self._text_count_body(text)
        if not body:
            return 0
        return await self._get_transport().adrive(_counted(self.genai_client, self.model, body))

    @staticmethod
    def _text_count_body(text: str) -> dict[str, Any]:
        if not isinstance(text, str):
            raise InvalidMessageError(f"get_num_tokens: pass a str, got {type(text).__name__}")
        if not text:
            # Gemini refuses empty text; counting it needs no request.
            return {}
        return {"contents": [{"role": "user", "parts": [{"text": text}]}]}

    # --- deprecated aliases of the feature functions (kept for one release) --------------

    submit_batch = DeprecatedAlias(_batch.submit_batch)
    """Deprecated (removed in 0.3): `batch.submit_batch(llm, ...)`."""
    asubmit_batch = DeprecatedAlias(_batch.asubmit_batch)
    """Deprecated (removed in 0.3): `batch.asubmit_batch(llm, ...)`."""
    create_cache = DeprecatedAlias(_caching_api.create_cache)
    """Deprecated (removed in 0.3): `caching.create_cache(llm, ...)`."""
    acreate_cache = DeprecatedAlias(_caching_api.acreate_cache)
    """Deprecated (removed in 0.3): `caching.acreate_cache(llm, ...)`."""
    update_cache = DeprecatedAlias(_caching_api.update_cache)
    """Deprecated (removed in 0.3): `caching.update_cache(llm, ...)`."""
    aupdate_cache = DeprecatedAlias(_caching_api.aupdate_cache)
    """Deprecated (removed in 0.3): `caching.aupdate_cache(llm, ...)`."""
    get_cache = DeprecatedAlias(_caching_api.get_cache)
    """Deprecated (removed in 0.3): `caching.get_cache(llm, ...)`."""
    aget_cache = DeprecatedAlias(_caching_api.aget_cache)
    """Deprecated (removed in 0.3): `caching.aget_cache(llm, ...)`."""
    delete_cache = DeprecatedAlias(_caching_api.delete_cache)
    """Deprecated (removed in 0.3): `caching.delete_cache(llm, ...)`."""
    adelete_cache = DeprecatedAlias(_caching_api.adelete_cache)
    """Deprecated (removed in 0.3): `caching.adelete_cache(llm, ...)`."""
    # Plumbing the tool once used; nothing of the package calls it now.
    run_sdk_call = DeprecatedAlias(_run_sdk_call, _SDK_CALL_ADVICE)
    """Deprecated (removed in 0.3): make the call on `genai_client` directly."""
    arun_sdk_call = DeprecatedAlias(_arun_sdk_call, _SDK_CALL_ADVICE)
    """Deprecated (removed in 0.3): make the call on `genai_client.aio` directly."""

    # --- tools and structured output -----------------------------------------------------

    # The base returns its private `_ChatModelBinding`; ours passes bound options to features.
    def bind(self, **kwargs: Any) -> GeminiBinding:  # type: ignore[override]
        """Bind call options (`temperature=...`, `tools=...`), validated now, not at the call."""
        call = {k: v for k, v in kwargs.items() if k != "stop"}
        self._resolve_options(kwargs.get("stop"), call)
        return GeminiBinding(bound=self, kwargs=kwargs, config={})

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | bool | list[str] | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind function tools (and Gemini built-ins) beside code execution.

        Accepts LangChain tools, functions, pydantic models, TypedDicts, JSON schemas and
        built-in tool dicts (`{"code_execution": {}}`, `{"google_search": {}}`,
        `{"url_context": {}}`). `tool_choice`: `"auto"`, `"any"` (or `"required"`,
        `True`), `"none"`, or a bound tool's name (or a list of names).

        Gemini 3 models combine built-in and function tools: the request then carries
        `toolConfig.includeServerSideToolInvocations`, and the built-in calls come back as
        `toolCall`/`toolResponse` parts (kept as `non_standard` blocks and sent back as
        they came). Gemini 1.x/2.x models cannot, and get an error here naming the two
        ways out; `allow_mixed_tools=True` sends such requests anyway.
        """
        normalized = [_function_tools.normalize_tool(tool) for tool in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        try:
            options = self._resolve_options(None, {**kwargs, "tools": normalized})
        except InvalidMessageError as error:
            raise InvalidMessageError(f"bind_tools: {error}") from None
        # Validated now, not at the first call.
        _request.request_tools(options, vertexai=bool(self.vertexai), where="bind_tools")
        bound: Runnable[LanguageModelInput, AIMessage] = self.bind(tools=normalized, **kwargs)
        return bound

    def with_structured_output(
        self,
        schema: dict[str, Any] | type,
        *,
        include_raw: bool = False,
        method: Literal["json_schema", "function_calling", "json_mode"] = "json_schema",
        two_step: bool | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | Any]:
        """Answers in a schema: a pydantic model, a TypedDict or a JSON schema dict.

        Methods: `json_schema` (default; Gemini's `responseJsonSchema`), `function_calling`
        (a forced call of the schema as a function) and `json_mode`
        (`responseMimeType: application/json`, the prompt describes the keys).

        Gemini 3 models take the schema and code execution in one request: the model runs
        code, then answers in the schema. Gemini 1.x/2.x models reject a schema, JSON mode
        or a function tool together with code execution, so for them (when code execution
        is on) the answer takes two requests, `two_step`: the model first computes with
        code execution, then a second call without tools formats that computation in the
        schema. `two_step=True` asks for this on any model, `two_step=False` refuses it
        (an error for Gemini 1.x/2.x with code execution on). With `include_raw=True` the
        result is `{"raw", "parsed", "parsing_error"}`, plus `"computation"` (the computing
        message, with its code and results) in two steps. `strict` is accepted for
        LangChain compatibility and changes nothing: Gemini always holds to the schema.
        """
        del strict
        if kwargs:
            raise InvalidMessageError(
                f"with_structured_output: unknown argument(s) {sorted(kwargs)}; supported: "
                "include_raw, method, two_step"
            )
        if method not in _structured.STRUCTURED_METHODS:
            raise InvalidMessageError(
                f"method: {method!r} is not one of {', '.join(_structured.STRUCTURED_METHODS)}"
            )
        if not isinstance(schema, (dict, type)):
            raise InvalidMessageError(
                f"with_structured_output: {schema!r:.80} is not a schema; pass a pydantic "
                "model, a TypedDict or a JSON schema dict"
            )
        if isinstance(schema, dict):  # checked now: Gemini would answer 400 (or 500) to it
            errors = _function_tools.schema_errors(_structured.response_schema(schema), "schema")
            if errors:
                raise InvalidMessageError(f"with_structured_output: {'; '.join(errors[:3])}")
        cannot_combine = (
            self.code_execution and is_legacy_model(self.model) and not self.allow_mixed_tools
        )
        if two_step or (two_step is None and cannot_combine):
            return self._two_step_structured_output(schema, method, include_raw)
        if cannot_combine:
            raise InvalidMessageError(
                f"with_structured_output: {self.model} cannot answer in a schema (method "
                f"{method!r}) with code execution on in one request. Leave two_step unset (or "
                "True) to compute first and format in a second call, use a Gemini 3 model, or "
                "construct the model with code_execution=False."
            )
        output_format = {"kwargs": {"method": method}, "schema": schema}
        llm: Runnable[LanguageModelInput, BaseMessage]
        if method == "function_calling":
            llm = self.bind_tools(
                [schema],
                tool_choice=_structured.schema_name(schema),
                ls_structured_output_format=output_format,
            )
        else:
            bind: dict[str, Any] = {"response_mime_type": "application/json"}
            if method == "json_schema":
                bind["response_json_schema"] = _structured.response_schema(schema)
            llm = self.bind(ls_structured_output_format=output_format, **bind)
        parser = _structured.structured_parser(schema, method)
        if not include_raw:
            return llm | parser
        parsed = RunnablePassthrough.assign(
            parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
        )
        no_parse = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=llm) | parsed.with_fallbacks(
            [no_parse], exception_key="parsing_error"
        )

    def _two_step_structured_output(
        self, schema: dict[str, Any] | type, method: str, include_raw: bool
    ) -> Runnable[LanguageModelInput, dict[str, Any] | Any]:
        """Compute with code execution, then format that answer with a tool-less call."""
        formatter = self.model_copy(update={"code_execution": False}).with_structured_output(
            schema,
            method=method,  # type: ignore[arg-type]
            include_raw=include_raw,
            two_step=False,
        )

        def to_messages(value: LanguageModelInput) -> list[BaseMessage]:
            return _request.to_messages(value)

        def format_request(state: dict[str, Any]) -> list[BaseMessage]:
            return [
                *state["messages"],
                AIMessage(content=_structured.transcript(state["computation"])),
                HumanMessage(content=_structured.FORMAT_REQUEST),
            ]

        def finish(state: dict[str, Any]) -> Any:
            if include_raw:
                return {**state["answer"], "computation": state["computation"]}
            return state["answer"]

        def answer_or_refusal(state: dict[str, Any]) -> Any:
            # A refused computation has nothing to format: the refusal is the answer.
            refused = _structured.refusal_error(state["computation"])
            if refused is None:
                return RunnableLambda(format_request) | formatter
            if include_raw:
                return {"raw": state["computation"], "parsed": None, "parsing_error": refused}
            raise refused

        compute = RunnableMap(messages=RunnablePassthrough(), computation=self)
        answer = RunnablePassthrough.assign(answer=RunnableLambda(answer_or_refusal))
        return RunnableLambda(to_messages) | compute | answer | RunnableLambda(finish)


# LangChain reads `_generate`'s signature on every call (does it take `run_manager`?);
# `inspect.signature` returns a function's `__signature__` as is: computed once, here.
for _hook in ("_generate", "_agenerate"):
    _function = getattr(ChatGeminiCodeExecution, _hook)
    _function.__signature__ = inspect.signature(_function)
