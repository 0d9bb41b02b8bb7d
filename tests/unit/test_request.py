"""Request building (`_core.request`): one module the model and batch jobs both call.

Through the real SDK to the loopback server: a batch body, built by `_core.request` from
any input `invoke` takes, is the body `invoke` sends.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.prompts import ChatPromptTemplate

import langchain_gemini_codeexec
from langchain_gemini_codeexec._core import request as _request
from langchain_gemini_codeexec.batch import build_requests
from langchain_gemini_codeexec.testing import GeminiTestServer, response, text
from tests.support import MakeLLM, property_test

PACKAGE = Path(langchain_gemini_codeexec.__file__).parent

INPUTS: dict[str, Any] = {
    "string": "What is 2**10?",
    "messages": [SystemMessage("Be brief."), HumanMessage("hi"), AIMessage("hello"), "go on"],
    "tuples": [("system", "Be brief."), ("human", "hi"), ("ai", "hello"), ("human", "more")],
    "dicts": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
    "prompt value": ChatPromptTemplate.from_messages(
        [("system", "You add numbers."), ("human", "{question}")]
    ).invoke({"question": "1 + 2?"}),
}


@pytest.mark.parametrize("name", list(INPUTS))
def test_batch_body_is_the_body_invoke_sends(
    server: GeminiTestServer, make_llm: MakeLLM, name: str
) -> None:
    llm = make_llm(temperature=0.3)
    bound = llm.bind(max_tokens=50, stop=["END"])
    server.enqueue(response(text("ok")))
    bound.invoke(INPUTS[name])
    _, model, bodies = build_requests(bound, [INPUTS[name]], {})
    assert model == llm.model
    assert bodies == [server.last_request.body]


def test_a_bad_input_is_refused_before_any_request(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    with pytest.raises(ValueError, match="Invalid input type"):
        _request.to_messages(42)  # type: ignore[arg-type]
    with pytest.raises(Exception, match=r"inputs\[1\]: Invalid input type"):
        build_requests(make_llm(), ["fine", 42], {})
    assert server.requests == []


@property_test(200, st.lists(st.text(min_size=1).filter(str.strip), min_size=1, max_size=4))
def test_strings_become_human_messages(texts: list[str]) -> None:
    assert _request.to_messages(texts) == [HumanMessage(t) for t in texts]
    assert _request.to_messages(texts[0]) == [HumanMessage(texts[0])]


def test_no_module_reaches_into_langchain_or_the_models_request_privates() -> None:
    """`_convert_input` is LangChain's private; `_build_request` is the model's own."""
    private = re.compile(r"\.(_convert_input|_build_request|_request_tools)\b")
    found = {
        f"{path.relative_to(PACKAGE)}:{number} {match.group(1)}"
        for path in PACKAGE.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for match in private.finditer(line)
        if not (path.name == "chat_models.py" and match.group(1) == "_build_request")
        and not path.match("_transport/sdk.py")  # the SDK's own `_build_request`
    }
    assert found == set()
