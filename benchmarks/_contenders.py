"""The contenders: the same request done by each library the way its users do it.

- `sdk`: the raw google-genai SDK (`client.models.generate_content`, `..._stream`,
  `client.aio`), `types.Content` history with chart bytes in `inline_data`, reading the
  parts of `candidates[0]` (the cheapest way to read an answer: no `.text` warnings).
- `ours`: `ChatGeminiCodeExecution` (`invoke`, `stream`, `ainvoke`).
- `lc_google_genai`: `ChatGoogleGenerativeAI(...).bind_tools([{"code_execution": {}}])`,
  when `langchain-google-genai` is installed (the `bench` extra).
- `floor`: a trivial LangChain chat model around the raw SDK (text in, text out): the
  least any LangChain wrapper costs. Timed on the calls a text-only model can make.
- `tool` and `invoke` (the `tool` scenario only): `GeminiCodeExecutionTool` called with a
  tool call, against `ChatGeminiCodeExecution.invoke` of the same request.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from google import genai
from google.genai import types
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from benchmarks._data import MODEL, exchange_question, exchange_response
from langchain_gemini_codeexec import ChatGeminiCodeExecution, GeminiCodeExecutionTool
from langchain_gemini_codeexec.testing import GeminiTestServer
from langchain_gemini_codeexec.tools import DEFAULT_INSTRUCTIONS

API_KEY = "bench-key"


@dataclass
class Streamed:
    first: float  # seconds to the first chunk
    total: float  # seconds to the aggregated message
    text: str


def _parts_text(parts: list[types.Part] | None) -> str:
    return "".join(p.text for p in parts or () if p.text and not p.thought)


def sdk_client(base_url: str) -> genai.Client:
    return genai.Client(api_key=API_KEY, http_options=types.HttpOptions(base_url=base_url))


CODE_EXECUTION = types.GenerateContentConfig(
    tools=[types.Tool(code_execution=types.ToolCodeExecution())]
)


class Contender:
    """One library doing the benchmark's calls; `history` is what its users hold."""

    name = ""
    label = ""
    histories = True  # can it send a code-execution history?

    def question(self, text: str) -> list[Any]:
        return [HumanMessage(text)]

    def invoke(self, conversation: list[Any]) -> str:
        raise NotImplementedError

    async def ainvoke(self, conversation: list[Any]) -> str:
        raise NotImplementedError

    def stream(self, conversation: list[Any]) -> Streamed:
        raise NotImplementedError

    def exchange(self, question: str) -> list[Any]:
        """Ask once (no history) and return [question, answer] as this library keeps them."""
        raise NotImplementedError


class RawSdk(Contender):
    name = "sdk"
    label = "raw google-genai"

    def __init__(self, base_url: str) -> None:
        self.client = sdk_client(base_url)

    def question(self, text: str) -> list[Any]:
        return [types.Content(role="user", parts=[types.Part(text=text)])]

    def invoke(self, conversation: list[Any]) -> str:
        reply = self.client.models.generate_content(
            model=MODEL, contents=conversation, config=CODE_EXECUTION
        )
        return _parts_text(reply.candidates[0].content.parts)  # type: ignore[index,union-attr]

    async def ainvoke(self, conversation: list[Any]) -> str:
        reply = await self.client.aio.models.generate_content(
            model=MODEL, contents=conversation, config=CODE_EXECUTION
        )
        return _parts_text(reply.candidates[0].content.parts)  # type: ignore[index,union-attr]

    def stream(self, conversation: list[Any]) -> Streamed:
        start = time.perf_counter()
        first = 0.0
        parts: list[types.Part] = []
        for chunk in self.client.models.generate_content_stream(
            model=MODEL, contents=conversation, config=CODE_EXECUTION
        ):
            if not first:
                first = time.perf_counter() - start
            parts.extend(chunk.candidates[0].content.parts or ())  # type: ignore[index,union-attr]
        text = _parts_text(parts)
        return Streamed(first, time.perf_counter() - start, text)

    def exchange(self, question: str) -> list[Any]:
        asked = self.question(question)
        reply = self.client.models.generate_content(
            model=MODEL, contents=asked, config=CODE_EXECUTION
        )
        return [*asked, reply.candidates[0].content]  # type: ignore[index]


class _LangChain(Contender):
    """A LangChain chat model: `invoke`, `ainvoke`, and `stream` summed with `+`."""

    llm: Any

    def invoke(self, conversation: list[Any]) -> str:
        return str(self.llm.invoke(conversation).text)

    async def ainvoke(self, conversation: list[Any]) -> str:
        return str((await self.llm.ainvoke(conversation)).text)

    def stream(self, conversation: list[Any]) -> Streamed:
        start = time.perf_counter()
        first = 0.0
        full: AIMessageChunk | None = None
        for chunk in self.llm.stream(conversation):
            if full is None:
                first = time.perf_counter() - start
                full = chunk
            else:
                full = full + chunk
        assert full is not None
        text = full.text
        return Streamed(first, time.perf_counter() - start, text)

    def exchange(self, question: str) -> list[Any]:
        asked = self.question(question)
        return [*asked, self.llm.invoke(asked)]


class Ours(_LangChain):
    name = "ours"
    label = "ChatGeminiCodeExecution"

    def __init__(self, base_url: str) -> None:
        self.llm = ChatGeminiCodeExecution(model=MODEL, api_key=API_KEY, base_url=base_url)


def tool_request(task: str) -> list[BaseMessage]:
    """The messages `GeminiCodeExecutionTool` sends for `task` (no files): its default
    instructions, then the task as one text block."""
    return [SystemMessage(DEFAULT_INSTRUCTIONS), HumanMessage([{"type": "text", "text": task}])]


class OursTool(Contender):
    """`GeminiCodeExecutionTool` called as an agent calls it (a tool call in, a
    ToolMessage out), on a model of its own with the same settings as `Ours`."""

    name = "tool"
    label = "GeminiCodeExecutionTool"
    histories = False

    def __init__(self, base_url: str) -> None:
        llm = ChatGeminiCodeExecution(model=MODEL, api_key=API_KEY, base_url=base_url)
        self.tool = GeminiCodeExecutionTool(llm=llm)

    def question(self, text: str) -> list[Any]:
        return [text]

    def invoke(self, conversation: list[Any]) -> str:
        call = {"type": "tool_call", "id": "bench", "name": self.tool.name}
        message = self.tool.invoke({**call, "args": {"task": conversation[0]}})
        return str(message.content)


class OursDirect(Ours):
    """`ChatGeminiCodeExecution.invoke` of the very request the tool sends."""

    name = "invoke"
    label = "ChatGeminiCodeExecution.invoke"
    histories = False

    def question(self, text: str) -> list[Any]:
        return tool_request(text)


class LcGoogleGenai(_LangChain):
    name = "lc_google_genai"
    label = "langchain-google-genai"

    def __init__(self, base_url: str) -> None:
        from langchain_google_genai import ChatGoogleGenerativeAI

        # It warns "Output may vary each run" on every code-execution answer.
        warnings.filterwarnings(
            "ignore", message=r"\s*Warning: Output may vary", category=UserWarning
        )
        model = ChatGoogleGenerativeAI(model=MODEL, google_api_key=API_KEY, base_url=base_url)
        self.llm = model.bind_tools([{"code_execution": {}}])


class _FloorChat(BaseChatModel):
    """The least a LangChain chat model can do: text in, the SDK call, text out."""

    client: Any

    @property
    def _llm_type(self) -> str:
        return "floor"

    @staticmethod
    def _contents(messages: list[BaseMessage]) -> list[types.Content]:
        return [
            types.Content(
                role="user" if m.type == "human" else "model", parts=[types.Part(text=m.text)]
            )
            for m in messages
        ]

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = self.client.models.generate_content(
            model=MODEL, contents=self._contents(messages), config=CODE_EXECUTION
        )
        text = _parts_text(reply.candidates[0].content.parts)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = await self.client.aio.models.generate_content(
            model=MODEL, contents=self._contents(messages), config=CODE_EXECUTION
        )
        text = _parts_text(reply.candidates[0].content.parts)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for chunk in self.client.models.generate_content_stream(
            model=MODEL, contents=self._contents(messages), config=CODE_EXECUTION
        ):
            text = _parts_text(chunk.candidates[0].content.parts)
            yield ChatGenerationChunk(message=AIMessageChunk(content=text))

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        raise NotImplementedError
        yield  # pragma: no cover


class Floor(_LangChain):
    name = "floor"
    label = "trivial LangChain wrapper"
    histories = False

    def __init__(self, base_url: str) -> None:
        self.llm = _FloorChat(client=sdk_client(base_url))


def have_lc_google_genai() -> bool:
    try:
        import langchain_google_genai  # noqa: F401
    except ImportError:
        return False
    return True


def contenders(base_url: str, *, peer: bool = True, floor: bool = True) -> list[Contender]:
    """The raw SDK first (every ratio is to it), then ours, the peer, the floor."""
    found: list[Contender] = [RawSdk(base_url), Ours(base_url)]
    if peer and have_lc_google_genai():
        found.append(LcGoogleGenai(base_url))
    if floor:
        found.append(Floor(base_url))
    return found


def build_histories(
    kinds: list[Contender], exchanges: int, chart_size: int
) -> dict[str, list[Any]]:
    """Each library's own record of the same `exchanges` answers (code, result, chart).

    Produced once, outside any timing, by asking each library the same questions against
    a recording server that answers them in order.
    """
    histories: dict[str, list[Any]] = {}
    with GeminiTestServer() as server:
        for contender in kinds:
            if not contender.histories:
                continue
            local = type(contender)(server.base_url)
            server.enqueue(*(exchange_response(i, chart_size) for i in range(exchanges)))
            history: list[Any] = []
            for i in range(exchanges):
                history.extend(local.exchange(exchange_question(i)))
                server.requests.clear()
            histories[contender.name] = history
    return histories
