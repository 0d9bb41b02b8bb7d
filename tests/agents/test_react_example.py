"""examples/react_agent.py runs offline, and its requests are what Gemini 3 needs."""

from __future__ import annotations

import importlib.util
import re
import statistics
from pathlib import Path
from types import ModuleType

from langchain_gemini_codeexec import ChatGeminiCodeExecution
from langchain_gemini_codeexec.testing import GeminiTestServer
from tests.support import run_example

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "react_agent.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("react_agent_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_runs_offline_and_says_so(example_mode: str, tmp_path: Path) -> None:
    done = run_example(example_mode, EXAMPLE, tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Using the offline Gemini endpoint")
    north = load_example().ORDERS["north"]
    mean = f"{statistics.mean(north):.2f}"
    assert '[calls fetch_orders({"region": "north"})]' in lines
    assert "[code result: OUTCOME_OK]" in lines
    assert f"mean={mean}" in lines
    assert lines[-2].startswith("Answer:") and mean in lines[-2]
    # Both Gemini turns priced (their usage: the offline script's).
    spent = re.fullmatch(r"Gemini cost: \$(0\.\d{6}) \(2 call\(s\)\)", lines[-1])
    assert spent is not None and float(spent.group(1)) > 0, lines[-1]


def test_the_agent_sends_both_tools_and_replays_the_signed_call() -> None:
    example = load_example()
    with GeminiTestServer(responder=example.scripted_gemini) as server:
        llm = ChatGeminiCodeExecution(
            model=example.MODEL, api_key="offline", base_url=server.base_url, max_retries=0
        )
        messages = example.run(llm)
    assert [m.type for m in messages] == ["human", "ai", "tool", "ai"]
    first, second = server.model_requests
    for request in (first, second):
        assert request.model == "gemini-3-flash-preview"
        assert request.body["tools"][0] == {"codeExecution": {}}
        assert request.body["tools"][1]["functionDeclarations"][0]["name"] == "fetch_orders"
        assert request.body["toolConfig"] == {"includeServerSideToolInvocations": True}
        assert "systemInstruction" in request.body
    sent_back = second.contents[1]["parts"]
    assert sent_back[1] == {
        "functionCall": {"id": "call-1", "name": "fetch_orders", "args": {"region": "north"}},
        "thoughtSignature": example._SIGNATURE,
    }
    response = second.contents[2]["parts"][0]["functionResponse"]
    assert response["id"] == "call-1" and response["name"] == "fetch_orders"
    assert response["response"]["orders"] == example.ORDERS["north"]
    assert [b["type"] for b in messages[3].content] == [
        "server_tool_call",
        "server_tool_result",
        "text",
    ]
