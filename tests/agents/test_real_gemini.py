"""The agent features against real Gemini: replayed from cassettes, recorded with credentials.

Each test replays `cassettes/test_real_gemini/<test>.json` when it exists and skips
otherwise; `--gemini-record-mode=once` with GOOGLE_API_KEY / GEMINI_API_KEY (or Vertex AI
settings) records it. GEMINI_TEST_MODEL picks the Gemini 3 model (default
gemini-3-flash-preview).
"""

from __future__ import annotations

import os

import pytest
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage
from langchain_core.tools import tool
from pydantic import BaseModel

from langchain_gemini_codeexec import ChatGeminiCodeExecution

pytestmark = [
    pytest.mark.integration,
    # Replays tests/agents/cassettes/ offline; records them with credentials and
    # --gemini-record-mode=once (see README, "Testing your pipeline offline"); else skips.
    pytest.mark.usefixtures("gemini_cassette"),
]
GEMINI_3 = os.environ.get("GEMINI_TEST_MODEL", "gemini-3-flash-preview")
ORDERS = [120.5, 89.9, 240.0, 75.25, 310.4, 98.0, 150.75, 205.1]


@tool
def fetch_orders(region: str) -> list[float]:
    """Fetch last quarter's order values (EUR) for a sales region."""
    return ORDERS


class Stats(BaseModel):
    mean: float
    count: int


def test_gemini_3_agent_with_code_execution_and_a_function() -> None:
    llm = ChatGeminiCodeExecution(model=GEMINI_3, thinking_level="low")
    agent = create_agent(llm, [fetch_orders])
    state = agent.invoke(
        {
            "messages": [
                HumanMessage(
                    "Fetch the north region's orders with the tool, then run Python code to "
                    "compute their mean. Reply with the mean to two decimals."
                )
            ]
        }
    )
    messages = state["messages"]
    assert any(m.type == "tool" for m in messages)
    blocks = [b for m in messages if m.type == "ai" for b in m.content_blocks]
    assert any(b["type"] == "server_tool_call" for b in blocks)
    assert "161.24" in messages[-1].text


def test_gemini_3_computes_then_answers_in_a_schema() -> None:
    llm = ChatGeminiCodeExecution(model=GEMINI_3, thinking_level="low")
    out = llm.with_structured_output(Stats, include_raw=True).invoke(
        f"Run code to compute the mean of {ORDERS} and count the values."
    )
    assert out["parsing_error"] is None
    assert out["parsed"].count == 8 and abs(out["parsed"].mean - 161.2375) < 0.01


def test_gemini_2_structured_output_takes_two_steps() -> None:
    llm = ChatGeminiCodeExecution(model="gemini-2.5-flash")
    out = llm.with_structured_output(Stats, include_raw=True).invoke(
        f"Run code to compute the mean of {ORDERS} and count the values."
    )
    assert out["parsed"].count == 8 and abs(out["parsed"].mean - 161.2375) < 0.01
    assert any(b["type"] == "server_tool_call" for b in out["computation"].content_blocks)
