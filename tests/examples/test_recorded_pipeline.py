"""The recorded-pipeline example of docs/testing.md: a user's test replaying its cassette offline.

The cassette `cassettes/test_recorded_pipeline/test_my_pipeline.json` was recorded through
the `gemini_cassette` fixture from a stand-in Gemini (a loopback `GeminiTestServer`
answering with `sum_of_primes_chunks()`; its address is the cassette's `upstream`), since
this repository's CI has no Gemini credentials. Recording it from real Gemini is the same
command with a real key and no `--gemini-upstream`:
`GOOGLE_API_KEY=... pytest tests/examples/test_recorded_pipeline.py --gemini-record-mode=all`.
"""

from __future__ import annotations

from langchain_gemini_codeexec import ChatGeminiCodeExecution
from langchain_gemini_codeexec.testing.pytest_plugin import GeminiCassette


def test_my_pipeline(gemini_cassette: GeminiCassette) -> None:
    llm = ChatGeminiCodeExecution(model="gemini-2.5-flash")  # no base_url needed
    answer = llm.invoke("What is the sum of the first 50 prime numbers? Run code for it.")
    assert "5117" in answer.text
    assert any(b["type"] == "server_tool_call" for b in answer.content_blocks)
    # What a user's test can check on top: the request the pipeline sent.
    assert gemini_cassette.requests[0].body["tools"] == [{"codeExecution": {}}]
