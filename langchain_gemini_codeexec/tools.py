"""`GeminiCodeExecutionTool`: Gemini's code sandbox as a LangChain tool for any agent.

An agent on any model (OpenAI, Anthropic, a local model, Gemini with function calling)
hands the tool a self-contained task; Gemini writes and runs Python for it and answers.
The agent reads plain text (the answer, then each run's code, outcome and output, cut to
a budget); Python code gets the whole `CodeExecutionReport` as the tool message artifact.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import typing
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, ToolException
from pydantic import BaseModel, Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from langchain_gemini_codeexec._core import caches as _caching
from langchain_gemini_codeexec._core import checks as _checks
from langchain_gemini_codeexec._sandbox import describe as _describe
from langchain_gemini_codeexec._sandbox import file_cache as _file_cache
from langchain_gemini_codeexec._sandbox.catalog import FileCatalog
from langchain_gemini_codeexec._sandbox.names import FileSource, LoadedFile
from langchain_gemini_codeexec._sandbox.upload import file_block
from langchain_gemini_codeexec._transport.flow import Flow, invoke
from langchain_gemini_codeexec.chat_models import ChatGeminiCodeExecution
from langchain_gemini_codeexec.errors import (
    BlockedPromptError,
    GeminiAPIError,
    GeminiCodeExecutionError,
    GeminiConnectionError,
    GeminiTimeoutError,
    IncompleteResponseError,
    InvalidMessageError,
)
from langchain_gemini_codeexec.report import CodeExecutionReport
from langchain_gemini_codeexec.report._render import cut

DEFAULT_NAME = "gemini_code_execution"
DEFAULT_DESCRIPTION = (
    "Runs Python code in Google Gemini's code-execution sandbox to solve a task, and "
    "returns the answer with the code it ran and the output. Use it for exact arithmetic, "
    "statistics and data analysis, for charts and plots, and to check your own reasoning "
    "or numbers with code. Each call is self-contained: the sandbox remembers nothing from "
    "earlier calls, so put every number, data value and instruction it needs into `task`. "
    "It has no internet access and cannot install packages (numpy, pandas, matplotlib, "
    "scipy, scikit-learn and sympy are available)."
)
DEFAULT_INSTRUCTIONS = (
    "You are a computation tool called by another AI agent, not by a person. Solve the "
    "task by writing and running Python code, and take every number you report from the "
    "code's output. Files attached to this request are available in the code execution "
    "environment. End with a short, self-contained answer that states the results (with "
    "units where they apply) and what any chart shows."
)


class CodeExecutionInput(BaseModel):
    """Arguments of `GeminiCodeExecutionTool`."""

    task: str = Field(
        description=(
            "A self-contained instruction: what to compute or analyse, with every number "
            "and piece of data it needs (the sandbox sees nothing else)."
        )
    )
    files: list[str] = Field(
        default_factory=list,
        description=(
            "Names of files to put in the sandbox, chosen only from the files this tool "
            "lists in its description. Leave empty when the tool lists none."
        ),
    )


class TaskInput(BaseModel):
    """Arguments of `GeminiCodeExecutionTool` when it has no files to offer."""

    task: str = Field(description=CodeExecutionInput.model_fields["task"].description)


class GeminiCodeExecutionTool(BaseTool):
    """Gemini code execution as a tool: a task in, an answer and a `CodeExecutionReport` out.

    Errors: a call that gets no answer (rate limit, API error, blocked prompt, refused file
    name) comes back to the agent as an error `ToolMessage` (`status="error"`) that says
    what happened and whether trying again can help, so the agent goes on (to another
    approach, or to its final answer) instead of the run ending. Owners who want the
    exception instead set `handle_tool_error=False` (it is then a `ToolException`). A run
    whose code failed is a normal result that says so.

    The agent is offered a `files` argument only when files are configured (`files_dir`
    or `files`).

    Example:
        ```python
        from langchain_gemini_codeexec import GeminiCodeExecutionTool

        tool = GeminiCodeExecutionTool(files_dir="data/")
        message = tool.invoke({
            "type": "tool_call", "id": "1", "name": tool.name,
            "args": {"task": "Mean of column 'price'", "files": ["sales.csv"]},
        })
        print(message.content)           # what an agent reads
        report = message.artifact        # CodeExecutionReport
        report.save_images("charts/")
        ```
    """

    name: str = DEFAULT_NAME
    description: str = DEFAULT_DESCRIPTION
    args_schema: type[BaseModel] = CodeExecutionInput
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    handle_tool_error: bool | str | Callable[[ToolException], str] | None = True
    """Default True: failures go back to the agent as an error ToolMessage; False raises."""

    llm: ChatGeminiCodeExecution = Field(default_factory=ChatGeminiCodeExecution)
    """The Gemini model that runs the code (default: `ChatGeminiCodeExecution()` from the
    environment). Code execution is switched on for every call."""
    instructions: str | None = DEFAULT_INSTRUCTIONS
    """System instruction sent with every task; None sends none."""
    files_dir: str | os.PathLike[str] | None = None
    """A directory whose regular files (of a supported type) the agent may name."""
    files: dict[str, FileSource] = Field(default_factory=dict)
    """`{name: path, bytes or gs:// / https:// URI}` the agent may name; wins over files_dir.
    Files are configured at construction (build a new tool to change them)."""
    max_file_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    """Files larger than this are refused."""
    max_files: int = Field(default=20, gt=0)
    """Most files one call may attach (each is read into memory before sending)."""
    inline_max_bytes: int = Field(default=1024 * 1024, ge=0)
    """Files up to this size go inline; larger ones through the Files API (Developer API)."""
    max_output_chars: int | None = Field(default=4000, ge=0)
    """Each run's output is cut to this many characters in the content an agent reads
    (the artifact keeps it whole). None: no limit."""
    max_code_chars: int | None = Field(default=None, ge=0)
    """Each run's code is cut to this many characters in the content. None: no limit."""
    cache_files: bool = False
    """Keep the files an agent names in a Gemini context cache (one per content, model and
    instructions), so later calls send and bill only the task; files below Gemini's
    minimum cacheable size (counted with `countTokens`) go inline as without it."""
    cache_ttl: int | float | str | timedelta = 3600
    """Lifetime of each file cache (seconds, `"3600s"`, `"90m"`, timedelta); a cache in
    use is extended before it runs out."""
    cache_min_tokens: int | None = Field(default=None, gt=0)
    """Smallest cache to create; default: Gemini's minimum for the model."""

    _catalog: FileCatalog = PrivateAttr()

    @field_validator(
        "max_file_bytes",
        "max_files",
        "inline_max_bytes",
        "max_output_chars",
        "max_code_chars",
        mode="before",
    )
    @classmethod
    def _limit_not_bool(cls, value: Any, info: ValidationInfo) -> Any:
        return _checks.reject_bool(str(info.field_name), value)  # True is not a size

    _created_caches: set[str] = PrivateAttr(default_factory=set)

    @model_validator(mode="after")
    def _setup(self) -> GeminiCodeExecutionTool:
        self._catalog = FileCatalog(self.files_dir, self.files, self.max_file_bytes)
        _caching.ttl_seconds(self.cache_ttl, "cache_ttl")
        if self._catalog.empty and "args_schema" not in self.model_fields_set:
            self.args_schema = TaskInput  # no files to offer: no `files` argument
        if "description" not in self.model_fields_set and not self._catalog.empty:
            names = self._catalog.names()
            listed = _describe.listing(self._catalog, names) if names else "(none yet)"
            self.description = (
                f"{DEFAULT_DESCRIPTION} Files you may attach by name in `files` "
                f"(they appear in the sandbox, where the code reads them): {listed}."
            )
        return self

    # --- the call ---------------------------------------------------------------------

    def _messages(
        self, task: str | None, loaded: Sequence[LoadedFile], blocks: Sequence[dict[str, Any]]
    ) -> list[BaseMessage]:
        """System and user message; `task=None` gives the files alone (what gets cached)."""
        content: list[str | dict[str, Any]] = []
        if loaded:
            content.append({"type": "text", "text": _describe.SANDBOX_NOTE})
        for position, (file, block) in enumerate(zip(loaded, blocks, strict=True)):
            text = _describe.describe(file, position, len(loaded))
            content.append({"type": "text", "text": text})
            content.append(block)
        if task is not None:
            content.append({"type": "text", "text": task})
        messages: list[BaseMessage] = []
        if self.instructions:
            messages.append(SystemMessage(self.instructions))
        messages.append(HumanMessage(content=content))
        return messages

    def _prepare(self, task: Any, files: Any) -> list[LoadedFile]:
        if not isinstance(task, str) or not task.strip():
            raise ToolException(
                "task is empty: describe what to compute, with all the data it needs"
            )
        if files is None:
            files = []
        if isinstance(files, str) or not isinstance(files, (list, tuple)):
            raise ToolException("files must be a list of file names")
        count = len({str(name) for name in files})
        if count > self.max_files:
            raise ToolException(
                f"{count} files requested; at most {self.max_files} may be attached to one "
                "call. Split the task, or attach only the files it needs"
            )
        return self._catalog.load(list(files))

    def _code_execution(self) -> dict[str, Any]:
        """The call option switching code execution on, when the model has it off (a call
        that passes no option reuses the model's resolved options)."""
        return {} if self.llm.code_execution else {"code_execution": True}

    def _finish(self, message: BaseMessage) -> tuple[str, CodeExecutionReport]:
        try:
            report = CodeExecutionReport.from_message(message)
        except ValueError as exc:
            why = f"{self.name} failed: Gemini's answer is unreadable ({exc})"
            raise ToolException(why) from exc
        if not report.text.strip() and not report.runs and not report.images:
            refusal = next((b for b in message.content_blocks if b["type"] == "refusal"), None)
            if refusal is not None:
                said = refusal.get("refusal")
                raise ToolException(
                    f"{self.name} failed: Gemini refused the task (finish_reason="
                    f"{report.finish_reason}{': ' + said if said else ''}). Rephrase the "
                    "task; retrying it unchanged is unlikely to help."
                )
            raise ToolException(
                f"{self.name} failed: Gemini returned an empty answer (finish_reason="
                f"{report.finish_reason}). Rephrase the task or try again."
            )
        content = report.to_text(self.max_output_chars, self.max_code_chars)
        return content, report

    def _run(
        self,
        task: str,
        files: list[str] | None = None,
        run_manager: CallbackManagerForToolRun | None = None,
    ) -> tuple[str, CodeExecutionReport]:
        try:
            flow = self._answer(self._prepare(task, files), task, run_manager)
            return self.llm._get_transport().drive(flow)
        except ToolException as exc:  # the agent reads it: bounded like run output
            raise _cut_error(exc, self.max_output_chars) from exc.__cause__

    async def _arun(
        self,
        task: str,
        files: list[str] | None = None,
        run_manager: AsyncCallbackManagerForToolRun | None = None,
    ) -> tuple[str, CodeExecutionReport]:
        try:
            flow = self._answer(self._prepare(task, files), task, run_manager)
            return await self.llm._get_transport().adrive(flow)
        except ToolException as exc:
            raise _cut_error(exc, self.max_output_chars) from exc.__cause__

    def _answer(
        self,
        loaded: list[LoadedFile],
        task: str,
        run_manager: CallbackManagerForToolRun | AsyncCallbackManagerForToolRun | None,
    ) -> Flow[tuple[str, CodeExecutionReport]]:
        """The whole call, written once: driven with blocking I/O by `_run`, with asyncio
        by `_arun` (see `_transport.flow`)."""
        config = _inner_config(run_manager)
        try:
            message = None
            if self.cache_files and loaded:
                message = yield from _file_cache.invoke_cached(self, task, loaded, config)
            if message is None:
                client = self.llm.genai_client
                blocks = []
                for file in loaded:
                    blocks.append((yield from file_block(file, client, self.inline_max_bytes)))
                messages = self._messages(task, loaded, blocks)
                message = yield from invoke(self.llm, messages, config, **self._code_execution())
        except GeminiCodeExecutionError as exc:
            raise _tool_error(self.name, exc) from exc
        return self._finish(message)

    # --- helpers for owners -----------------------------------------------------------

    def available_files(self) -> list[str]:
        """The file names an agent may pass right now."""
        return self._catalog.names()

    def delete_file_caches(self) -> list[str]:
        """Delete the context caches this tool created (`cache_files=True`) now, instead of
        letting them run out; returns their names. Later calls create new ones as needed."""
        return self.llm._get_transport().drive(self._delete_file_caches())

    async def adelete_file_caches(self) -> list[str]:
        """Async `delete_file_caches`."""
        return await self.llm._get_transport().adrive(self._delete_file_caches())

    def _delete_file_caches(self) -> Flow[list[str]]:
        names = sorted(self._created_caches)
        client = self.llm.genai_client
        for name in names:
            with contextlib.suppress(GeminiAPIError):  # already gone is fine
                yield from _caching.delete(client, name)
            self._created_caches.discard(name)
        return names


# LangGraph's tag for a run whose tokens stay out of `stream_mode="messages"`
# (langgraph.constants.TAG_NOSTREAM): the tool's own Gemini call is the tool's business,
# not the agent's words; tracers still see it as the tool's child run.
NOSTREAM_TAG = "nostream"


def _inner_config(
    run_manager: CallbackManagerForToolRun | AsyncCallbackManagerForToolRun | None,
) -> RunnableConfig:
    """The config of the tool's own model call: a child of the tool's run, not streamed."""
    return {
        "callbacks": run_manager.get_child() if run_manager else None,
        "tags": [NOSTREAM_TAG],
    }


def _cut_error(exc: ToolException, limit: int | None) -> ToolException:
    """`exc` with its message cut to `limit` characters like run output: the agent reads
    it (a proxy's 1 MB error page must not become a 1 MB ToolMessage)."""
    text = str(exc)
    if limit is None or len(text) <= limit:
        return exc
    return ToolException(cut(text, limit, "error"))


def _tool_error(name: str, exc: GeminiCodeExecutionError) -> ToolException:
    """A message an agent can act on, for a call that produced no answer."""
    if isinstance(exc, BlockedPromptError):
        why = (
            f"Gemini refused the task (blockReason={exc.reason}). Rephrase the task, or "
            "solve it without this tool."
        )
    elif isinstance(exc, GeminiAPIError):
        what = f"{exc.code} {exc.status}: {exc.message}"
        if exc.code == 429:
            why = (
                f"Gemini is rate limited or out of quota (429 rate limit / quota: {what}). "
                "Do not retry now: it was already retried. Continue without this tool, "
                "or answer with what you have."
            )
        elif exc.code is not None and 400 <= exc.code < 500:
            why = (
                f"Gemini rejected the request ({what}). Retrying the same call will fail "
                "again. Change the task or files."
            )
        else:
            why = f"Gemini had a server error ({what}). You may retry once."
    elif isinstance(exc, GeminiTimeoutError):
        why = f"Gemini did not answer in time ({exc}). You may retry once, or split the task."
    elif isinstance(exc, GeminiConnectionError):
        why = f"Gemini could not be reached ({exc}). You may retry later."
    elif isinstance(exc, IncompleteResponseError):
        why = f"Gemini's answer broke off ({exc}). You may retry once."
    elif isinstance(exc, InvalidMessageError):
        why = f"the request could not be built: {exc}. Retrying the same call will fail again."
    else:
        why = str(exc)
    return ToolException(f"{name} failed: {why}")


def _hints_resolved_once(method: Callable[..., Any]) -> None:
    """LangChain reads `_run`'s type hints on every call (`get_type_hints`, looking for a
    RunnableConfig parameter; `inspect.signature`, for `run_manager`), and this module's
    postponed annotations made each read compile every annotation again. Resolve them
    once, at import: `__annotations__` then holds the types themselves and `__signature__`
    (which `inspect.signature` returns as is) carries them, as if annotations were not
    postponed. Subclasses that override `_run` are unaffected."""
    method.__annotations__ = typing.get_type_hints(method)
    method.__signature__ = inspect.signature(method)  # type: ignore[attr-defined]


_hints_resolved_once(GeminiCodeExecutionTool._run)
_hints_resolved_once(GeminiCodeExecutionTool._arun)

__all__ = ["CodeExecutionInput", "GeminiCodeExecutionTool"]
