"""Structured output: what `with_structured_output` needs.

The response schema sent to Gemini, the parsers that read the answer back (strictly at
the end of a stream, so a truncated answer raises instead of ending silently), and the
transcript its two-step mode hands from the computing call to the formatting call.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import pydantic
from langchain_core.exceptions import ModelRefusalError, OutputParserException
from langchain_core.messages import BaseMessage, BaseMessageChunk
from langchain_core.output_parsers import JsonOutputParser
from langchain_core.output_parsers.openai_tools import (
    JsonOutputKeyToolsParser,
    PydanticToolsParser,
)
from langchain_core.outputs import (
    ChatGeneration,
    ChatGenerationChunk,
    Generation,
    GenerationChunk,
)
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_json_schema
from langchain_core.utils.json import parse_json_markdown
from langchain_core.utils.pydantic import is_basemodel_subclass

from langchain_gemini_codeexec._mapping.blocks import MEDIA_BLOCK_TYPES, output_text
from langchain_gemini_codeexec._mapping.function_tools import to_openai_function
from langchain_gemini_codeexec.errors import InvalidMessageError

STRUCTURED_METHODS = ("json_schema", "function_calling", "json_mode")

# What the formatting call of a two-step structured output is asked after the computation.
FORMAT_REQUEST = (
    "Now give the final answer to my request above, using the results of the computation "
    "you just did. Answer only with the requested JSON; do not compute anything new."
)


def is_pydantic(schema: Any) -> bool:
    """A pydantic (v2 or v1) model class."""
    return isinstance(schema, type) and is_basemodel_subclass(schema)


def response_schema(schema: Any) -> dict[str, Any]:
    """The JSON schema sent as `responseJsonSchema` for a pydantic, TypedDict or dict schema."""
    if is_pydantic(schema):
        if issubclass(schema, pydantic.BaseModel):
            return dict(schema.model_json_schema())
        return dict(schema.schema())
    if isinstance(schema, dict) and not {"parameters", "input_schema", "function"} & set(schema):
        return dict(schema)  # a JSON schema already: sent as given
    try:
        return convert_to_json_schema(schema)
    except Exception as exc:
        raise InvalidMessageError(
            f"with_structured_output: {schema!r:.80} is not a schema; pass a pydantic model, "
            "a TypedDict or a JSON schema dict"
        ) from exc


def schema_name(schema: Any) -> str:
    """The function name a schema gets as a tool (for `method='function_calling'`)."""
    name = to_openai_function(schema)["function"]["name"]
    return str(name)


def _validate(target: Any, data: Any) -> Any:
    if issubclass(target, pydantic.BaseModel):
        return target.model_validate(data)
    return target.parse_obj(data)


def refusal_error(message: BaseMessage) -> ModelRefusalError | None:
    """A `ModelRefusalError` naming why, when the message holds a `refusal` block."""
    for block in message.content_blocks:
        if block["type"] == "refusal":
            extras = block.get("extras") or {}
            why = extras.get("finish_reason") or extras.get("block_reason")
            text = block.get("refusal") or ""
            return ModelRefusalError(
                f"Gemini refused to answer in the schema (finish_reason={why})"
                + (f": {text}" if text else "")
                + "; there is no answer to parse",
                raw_message=message,
            )
    return None


def _answer_texts(message: BaseMessage) -> list[str]:
    """Where the JSON answer may be: the text after the last code run, then all text.

    With code execution on, Gemini may write a sentence before it runs code and the JSON
    after it; the JSON is the text that follows the last non-text block.
    """
    if isinstance(message.content, str):
        return [message.content]
    tail: list[str] = []
    for block in message.content:
        if isinstance(block, str):
            tail.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            tail.append(str(block.get("text", "")))
        elif isinstance(block, dict) and block.get("type") not in ("reasoning", "thinking"):
            tail = []
    whole = message.text
    last = "".join(tail)
    return [last, whole] if last.strip() and last != whole else [whole]


def _added_up(chunks: Sequence[str | BaseMessage]) -> Generation:
    """The whole answer of a stream, as one generation."""
    total: GenerationChunk | ChatGenerationChunk | None = None
    for chunk in chunks:
        if isinstance(chunk, BaseMessageChunk):
            piece: GenerationChunk | ChatGenerationChunk = ChatGenerationChunk(message=chunk)
        elif isinstance(chunk, BaseMessage):
            piece = ChatGenerationChunk(message=BaseMessageChunk(**chunk.model_dump()))
        else:
            piece = GenerationChunk(text=chunk)
        total = piece if total is None else total + piece  # type: ignore[operator]
    if total is None:
        raise OutputParserException("Gemini's answer was empty: nothing to parse")
    return total


class JsonAnswerParser(JsonOutputParser):
    """Parses the JSON answer of a Gemini message, into `target` when that is a model.

    Streaming yields growing partial objects (for dict targets) and the model once it
    validates; the final parse is strict, so a truncated or invalid answer raises at the
    end of the stream instead of ending it silently or being completed.
    """

    target: Any = None

    def _transform(self, input: Iterator[str | BaseMessage]) -> Iterator[Any]:
        seen: list[str | BaseMessage] = []

        def keep(chunks: Iterator[str | BaseMessage]) -> Iterator[str | BaseMessage]:
            for chunk in chunks:
                seen.append(chunk)
                yield chunk

        last: Any = None
        for last in super()._transform(keep(input)):
            yield last
        final = self.parse_result([_added_up(seen)])
        if final != last:
            yield final

    async def _atransform(self, input: AsyncIterator[str | BaseMessage]) -> AsyncIterator[Any]:
        seen: list[str | BaseMessage] = []

        async def keep(
            chunks: AsyncIterator[str | BaseMessage],
        ) -> AsyncIterator[str | BaseMessage]:
            async for chunk in chunks:
                seen.append(chunk)
                yield chunk

        last: Any = None
        async for last in super()._atransform(keep(input)):
            yield last
        final = self.parse_result([_added_up(seen)])
        if final != last:
            yield final

    def parse_result(self, result: list[Generation], *, partial: bool = False) -> Any:
        _refused_first(result)  # not a parsing error: nothing was answered
        generation = result[0]
        if isinstance(generation, ChatGeneration):
            texts = _answer_texts(generation.message)
        else:
            texts = [generation.text]
        data: Any = None
        error: Exception | None = None
        for text in texts:
            try:
                data = (
                    parse_json_markdown(text.strip())
                    if partial
                    else parse_json_markdown(text.strip(), parser=json.loads)
                )
                break
            except json.JSONDecodeError as exc:
                error = exc
        else:
            if partial:
                return None
            raise OutputParserException(
                f"Gemini's answer is not valid JSON ({error}): {texts[-1]!r:.300}",
                llm_output=texts[-1],
            )
        if self.target is None:
            return data
        try:
            return _validate(self.target, data)
        except (pydantic.ValidationError, pydantic.v1.ValidationError) as exc:
            if partial:
                return None
            raise OutputParserException(
                f"Gemini's answer does not fit {self.target.__name__}: {exc}",
                llm_output=json.dumps(data, ensure_ascii=False),
            ) from exc


def _refused_first(result: list[Generation]) -> None:
    generation = result[0] if result else None
    if isinstance(generation, ChatGeneration):
        refused = refusal_error(generation.message)
        if refused is not None:
            raise refused


class _PydanticCallParser(PydanticToolsParser):
    """LangChain's parser, with the refusal's reason named in the error."""

    def parse_result(self, result: list[Generation], *, partial: bool = False) -> Any:
        _refused_first(result)
        return super().parse_result(result, partial=partial)


class _JsonCallParser(JsonOutputKeyToolsParser):
    """LangChain's parser, with the refusal's reason named in the error."""

    def parse_result(self, result: list[Generation], *, partial: bool = False) -> Any:
        _refused_first(result)
        return super().parse_result(result, partial=partial)


def structured_parser(schema: Any, method: str) -> Runnable[Any, Any]:
    """The parser of a `with_structured_output` chain for a method and schema."""
    if method == "function_calling":
        if is_pydantic(schema):
            return _PydanticCallParser(tools=[schema], first_tool_only=True)
        return _JsonCallParser(key_name=schema_name(schema), first_tool_only=True)
    return JsonAnswerParser(target=schema if is_pydantic(schema) else None)


def transcript(message: BaseMessage) -> str:
    """A computing answer as plain text: its text, each code run and its output.

    The formatting call of a two-step structured output reads this instead of the parts
    themselves, so it runs without the code execution tool on any model.
    """
    if isinstance(message.content, str):
        return message.content
    pieces: list[str] = []
    for block in message.content:
        if isinstance(block, str):
            pieces.append(block)
            continue
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            pieces.append(str(block.get("text", "")))
        elif kind == "server_tool_call":
            code = str((block.get("args") or {}).get("code", "")).rstrip("\n")
            pieces.append(f"\n```python\n{code}\n```\n")
        elif kind == "server_tool_result":
            outcome = (block.get("extras") or {}).get("outcome", block.get("status"))
            output = output_text(block.get("output")).rstrip("\n")
            pieces.append(f"Output ({outcome}):\n```\n{output}\n```\n")
        elif kind in MEDIA_BLOCK_TYPES:
            pieces.append(f"[{kind} {block.get('mime_type', '')}]\n")
    return "".join(pieces)
