"""Request building (`_core.request`) and options resolved once per model.

Through the real SDK to the loopback server: a batch body, built by `_core.request` from
any input `invoke` takes, is the body `invoke` sends; a call that passes no options
resolves the model's options once, and every change of a setting still reaches the wire.
"""

from __future__ import annotations

import copy
import pickle
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.prompts import ChatPromptTemplate

import langchain_gemini_codeexec
from langchain_gemini_codeexec._core import options as _options
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


# --- options resolved once ------------------------------------------------------------


@pytest.fixture
def resolutions(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The kwargs of every `_options.resolve` call made during the test."""
    seen: list[dict[str, Any]] = []
    real = _options.resolve

    def counting(defaults: Any, kwargs: Any, stop: Any = None) -> _options.CallOptions:
        seen.append(dict(kwargs))
        return real(defaults, kwargs, stop)

    monkeypatch.setattr(_options, "resolve", counting)
    return seen


def test_calls_without_options_resolve_the_models_once(
    server: GeminiTestServer, make_llm: MakeLLM, resolutions: list[dict[str, Any]]
) -> None:
    llm = make_llm(temperature=0.2)
    server.enqueue(response(text("a")), response(text("b")), response(text("c")))
    llm.invoke("one")
    llm.invoke("two")
    assert len(resolutions) == 1  # tracing params and the request of both calls share it
    assert [r.body["generationConfig"]["temperature"] for r in server.requests] == [0.2, 0.2]
    llm.invoke("three", temperature=0.7)  # a call's own options: resolved for that call
    assert len(resolutions) > 1
    assert server.last_request.body["generationConfig"]["temperature"] == 0.7


def _sent(server: GeminiTestServer, llm: Any) -> dict[str, Any]:
    server.enqueue(response(text("ok")))
    llm.invoke("hi")
    config: dict[str, Any] = server.last_request.body.get("generationConfig", {})
    return config


def test_every_change_of_a_setting_reaches_the_wire(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    llm = make_llm(temperature=1.0, stop=["a"])
    assert _sent(server, llm)["temperature"] == 1.0
    llm.temperature = 0.5
    assert _sent(server, llm)["temperature"] == 0.5
    # Equal is not the same: an int set after an equal float is sent as the int.
    llm.temperature = 1.0
    _sent(server, llm)
    llm.temperature = 1
    sent = _sent(server, llm)["temperature"]
    assert sent == 1 and type(sent) is int
    assert llm.stop is not None
    llm.stop.append("b")  # changed in place
    assert _sent(server, llm)["stopSequences"] == ["a", "b"]
    llm.model = "gemini-2.5-pro"
    _sent(server, llm)
    assert server.last_request.path.endswith("gemini-2.5-pro:generateContent")


def test_copies_and_unpickled_models_send_their_own_settings(
    server: GeminiTestServer, make_llm: MakeLLM
) -> None:
    llm = make_llm(top_k=3)
    assert _sent(server, llm)["topK"] == 3
    changed = llm.model_copy(update={"top_k": 9})
    assert _sent(server, changed)["topK"] == 9
    shallow = copy.copy(llm)
    shallow.top_k = 5
    assert _sent(server, shallow)["topK"] == 5
    deep = copy.deepcopy(llm)
    deep.top_k = 6
    assert _sent(server, deep)["topK"] == 6
    restored = pickle.loads(pickle.dumps(llm))
    restored.top_k = 7
    assert _sent(server, restored)["topK"] == 7
    assert _sent(server, llm)["topK"] == 3  # the original is untouched by them all
    for model in (changed, shallow, deep, restored):
        model.close()
