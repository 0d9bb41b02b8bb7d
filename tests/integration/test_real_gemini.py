"""ChatGeminiCodeExecution against real Gemini (skipped without credentials).

Credentials: `GOOGLE_API_KEY` or `GEMINI_API_KEY` (Developer API), or Vertex AI with
`GOOGLE_GENAI_USE_VERTEXAI=true` and `GOOGLE_CLOUD_PROJECT` (application default
credentials). `GEMINI_TEST_MODEL` picks the model (default `gemini-2.5-flash`).

Each test replays its cassette (`cassettes/test_real_gemini/<test>.json`) when there is
one, and skips otherwise. Record (or refresh) them against real Gemini with credentials:
`pytest tests/integration/test_real_gemini.py --gemini-record-mode=once` (`all` to
record every one again).
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage

from langchain_gemini_codeexec import ChatGeminiCodeExecution
from langchain_gemini_codeexec.testing.demo import SUM_OF_PRIMES_PROMPT
from langchain_gemini_codeexec.testing.pytest_plugin import GeminiCassette

pytestmark = [
    pytest.mark.integration,
    # Replays tests/integration/cassettes/ offline; records them with credentials and
    # --gemini-record-mode=once (see README, "Testing your pipeline offline"); else skips.
    pytest.mark.usefixtures("gemini_cassette"),
    pytest.mark.timeout(300),
]

MODEL = os.environ.get("GEMINI_TEST_MODEL", "gemini-2.5-flash")
SUM = 5117  # of the first 50 primes


@pytest.fixture
def llm(gemini_cassette: GeminiCassette) -> ChatGeminiCodeExecution:
    return ChatGeminiCodeExecution(model=MODEL, temperature=0, max_retries=4, timeout=240)


def _digits(text: str) -> str:
    return text.replace(",", "").replace("\u202f", "").replace(" ", "")


def _check_code_answer(message: AIMessage) -> None:
    """The contract on a real answer: code ran, its result is linked, the sum is right."""
    assert message.content_blocks == message.content
    assert json.loads(json.dumps(message.content)) == message.content
    assert message.response_metadata["model_provider"] == "google_genai"
    assert message.response_metadata["finish_reason"] == "STOP"
    blocks: list[dict[str, Any]] = [b for b in message.content if isinstance(b, dict)]
    calls = {b["id"]: b for b in blocks if b["type"] == "server_tool_call"}
    results = [b for b in blocks if b["type"] == "server_tool_result"]
    assert calls, f"no code was run: {[b['type'] for b in blocks]}"
    assert all(c["name"] == "code_interpreter" and c["args"]["code"] for c in calls.values())
    ok = [
        r for r in results if r["extras"]["outcome"] == "OUTCOME_OK" and r["tool_call_id"] in calls
    ]
    assert ok, f"no linked OUTCOME_OK result: {results}"
    assert all(r["status"] == "success" for r in ok)
    assert str(SUM) in _digits(message.text), message.text
    usage = message.usage_metadata
    assert usage is not None and usage["total_tokens"] > 0
    assert usage["input_tokens"] + usage["output_tokens"] == usage["total_tokens"]


def test_sum_of_primes(llm: ChatGeminiCodeExecution) -> None:
    message = llm.invoke(SUM_OF_PRIMES_PROMPT)
    _check_code_answer(message)


async def test_sum_of_primes_async(llm: ChatGeminiCodeExecution) -> None:
    message = await llm.ainvoke(SUM_OF_PRIMES_PROMPT)
    _check_code_answer(message)


def test_sum_of_primes_streamed(llm: ChatGeminiCodeExecution) -> None:
    chunks = list(llm.stream(SUM_OF_PRIMES_PROMPT))
    assert len(chunks) > 1
    assert chunks[-1].chunk_position == "last"
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert isinstance(total, AIMessageChunk)
    content = [
        {k: v for k, v in b.items() if k != "index"} if isinstance(b, dict) else b
        for b in total.content
    ]
    message = AIMessage(
        content=content,
        response_metadata=total.response_metadata,
        usage_metadata=total.usage_metadata,
    )
    _check_code_answer(message)


def test_follow_up_with_the_answer_in_history(llm: ChatGeminiCodeExecution) -> None:
    """Our message goes back (code, results, signatures) and Gemini takes it."""
    first = llm.invoke(SUM_OF_PRIMES_PROMPT)
    _check_code_answer(first)
    follow_up = llm.invoke(
        [
            HumanMessage(SUM_OF_PRIMES_PROMPT),
            first,
            HumanMessage(
                "Take the sum you computed and run code to divide it by 7, rounding down. "
                "Answer with the number."
            ),
        ]
    )
    assert str(SUM // 7) in _digits(follow_up.text), follow_up.text
    assert follow_up.response_metadata["finish_reason"] == "STOP"
