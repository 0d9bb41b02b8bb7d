"""Configuration, checked where it matters: on the wire of the loopback server.

Developer API, Vertex AI (stub google.auth credentials) and Vertex express mode; the
environment variables and their precedence; api_version, timeout, headers; per-call
overrides; tools, thinking and safety settings; the client (injected, one per model,
reused); batch; serialization without the key; LangSmith params.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from google import genai
from google.auth.credentials import Credentials
from google.genai import types
from langchain_core.load import dumpd, dumps, load

from langchain_gemini_codeexec import (
    ChatGeminiCodeExecution,
    GeminiTimeoutError,
    InvalidMessageError,
)
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    RecordedRequest,
    Reply,
    response,
    text,
)
from tests.support import API_KEY, force_transport

MODEL = "gemini-2.5-flash"
ENV = (
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
    "GOOGLE_GENAI_API_VERSION",
    "GOOGLE_VERTEX_BASE_URL",
    "GOOGLE_GEMINI_BASE_URL",
)


class StubCredentials(Credentials):
    """google.auth credentials that always hold a bearer token, no network."""

    def __init__(self, token: str = "stub-token") -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.token = token
        self.refreshes = 0

    def refresh(self, request: Any) -> None:
        self.refreshes += 1


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests set exactly the environment they mean."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def echo(req: RecordedRequest) -> dict[str, Any]:
    """A responder answering with the prompt it got (to check order in batches)."""
    return response(text(f"echo: {req.text}"))


@pytest.fixture
def echo_server(server: GeminiTestServer) -> Iterator[GeminiTestServer]:
    server.responder = echo
    yield server


async def call(ask: Any, llm: ChatGeminiCodeExecution, *args: Any, **kwargs: Any) -> str:
    answer = await ask(llm, *args, **kwargs)
    return str(answer.message.text)


def action(ask: Any) -> str:
    return "streamGenerateContent" if ask.streamed else "generateContent"


# ------------------------------------------------------------------ endpoints and auth


async def test_developer_api(echo_server: GeminiTestServer, ask: Any) -> None:
    llm = ask.model(model=MODEL)
    assert await call(ask, llm, "hi") == "echo: hi"
    req = echo_server.last_request
    assert req.api == "developer"
    assert req.path == f"/v1beta/models/{MODEL}:{action(ask)}"
    assert req.headers["x-goog-api-key"] == API_KEY
    assert "authorization" not in req.headers
    assert req.stream is ask.streamed
    if ask.streamed:
        assert req.query == {"alt": "sse"}


async def test_vertex_ai_with_credentials(echo_server: GeminiTestServer, ask: Any) -> None:
    creds = StubCredentials("vertex-token")
    llm = ask.model(
        api_key=None, vertexai=True, project="my-proj", location="us-central1", credentials=creds
    )
    assert await call(ask, llm, "hi") == "echo: hi"
    req = echo_server.last_request
    assert req.api == "vertex"
    assert req.path == (
        f"/v1beta1/projects/my-proj/locations/us-central1/publishers/google/models/"
        f"{MODEL}:{action(ask)}"
    )
    assert req.headers["authorization"] == "Bearer vertex-token"
    assert "x-goog-api-key" not in req.headers


async def test_vertex_location_defaults_to_global(echo_server: GeminiTestServer, ask: Any) -> None:
    llm = ask.model(api_key=None, vertexai=True, project="p", credentials=StubCredentials())
    assert llm.location == "global"
    await call(ask, llm, "hi")
    assert "/projects/p/locations/global/publishers/google/models/" in echo_server.last_request.path


async def test_vertex_express_mode(echo_server: GeminiTestServer, ask: Any) -> None:
    llm = ask.model(vertexai=True)
    assert await call(ask, llm, "hi") == "echo: hi"
    req = echo_server.last_request
    assert req.api == "vertex_express"
    assert req.path == f"/v1beta1/publishers/google/models/{MODEL}:{action(ask)}"
    assert req.headers["x-goog-api-key"] == API_KEY
    assert "authorization" not in req.headers


async def test_api_version_in_the_path(echo_server: GeminiTestServer, ask: Any) -> None:
    dev = ask.model(api_version="v1alpha")
    await call(ask, dev, "hi")
    assert echo_server.last_request.path.startswith("/v1alpha/models/")
    vertex = ask.model(
        api_key=None,
        vertexai=True,
        project="p",
        location="europe-west4",
        credentials=StubCredentials(),
        api_version="v1",
    )
    await call(ask, vertex, "hi")
    assert echo_server.last_request.path.startswith("/v1/projects/p/locations/europe-west4/")


@pytest.mark.every_http_path
async def test_default_headers_are_sent(echo_server: GeminiTestServer, ask: Any) -> None:
    llm = ask.model(default_headers={"X-Team": "analytics"})
    await call(ask, llm, "hi")
    assert echo_server.last_request.headers["x-team"] == "analytics"


# ------------------------------------------------------------------ environment


def _sync(llm: ChatGeminiCodeExecution, server: GeminiTestServer) -> RecordedRequest:
    server.enqueue(response(text("ok")))
    llm.invoke("hi")
    return server.last_request


def test_google_api_key_wins_over_gemini_api_key(
    server: GeminiTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "google-env-key")
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-env-key")
    llm = ChatGeminiCodeExecution(base_url=server.base_url)
    assert _sync(llm, server).headers["x-goog-api-key"] == "google-env-key"


def test_gemini_api_key_alone(server: GeminiTestServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-env-key")
    llm = ChatGeminiCodeExecution(base_url=server.base_url)
    assert _sync(llm, server).headers["x-goog-api-key"] == "gemini-env-key"


@pytest.mark.parametrize("name", ["api_key", "google_api_key"])
def test_explicit_key_wins_over_env(
    server: GeminiTestServer, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "google-env-key")
    llm = ChatGeminiCodeExecution(base_url=server.base_url, **{name: "explicit-key"})
    assert _sync(llm, server).headers["x-goog-api-key"] == "explicit-key"


def test_no_key_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="GOOGLE_API_KEY") as caught:
        ChatGeminiCodeExecution()
    assert "GEMINI_API_KEY" in str(caught.value)


@pytest.mark.parametrize("flag", ["true", "1", "True"])
def test_vertex_from_env(
    server: GeminiTestServer, monkeypatch: pytest.MonkeyPatch, flag: str
) -> None:
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", flag)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "env-proj")
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "asia-northeast1")
    llm = ChatGeminiCodeExecution(base_url=server.base_url, credentials=StubCredentials())
    assert (llm.vertexai, llm.project, llm.location) == (True, "env-proj", "asia-northeast1")
    req = _sync(llm, server)
    assert req.path.startswith("/v1beta1/projects/env-proj/locations/asia-northeast1/")
    assert req.headers["authorization"] == "Bearer stub-token"


def test_vertex_env_location_defaults_to_global(
    server: GeminiTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "env-proj")
    llm = ChatGeminiCodeExecution(base_url=server.base_url, credentials=StubCredentials())
    assert _sync(llm, server).path.startswith("/v1beta1/projects/env-proj/locations/global/")


def test_explicit_vertex_settings_win_over_env(
    server: GeminiTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "env-proj")
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "env-loc")
    llm = ChatGeminiCodeExecution(
        base_url=server.base_url,
        project="arg-proj",
        location="us-east5",
        credentials=StubCredentials(),
    )
    assert _sync(llm, server).path.startswith("/v1beta1/projects/arg-proj/locations/us-east5/")


def test_vertex_env_off_means_developer_api(
    server: GeminiTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "false")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "env-proj")
    monkeypatch.setenv("GOOGLE_API_KEY", "google-env-key")
    llm = ChatGeminiCodeExecution(base_url=server.base_url)
    req = _sync(llm, server)
    assert req.api == "developer"
    assert req.headers["x-goog-api-key"] == "google-env-key"


def test_explicit_vertexai_false_wins_over_env(
    server: GeminiTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    llm = ChatGeminiCodeExecution(base_url=server.base_url, vertexai=False, api_key="k-1")
    assert _sync(llm, server).api == "developer"


# ------------------------------------------------------------------ timeout


HOPELESS_TIMEOUT = 0.05  # the server never answers: the call waits just this long


@pytest.mark.every_http_path
async def test_timeout_in_seconds(server: GeminiTestServer, ask: Any) -> None:
    """The timeout is in seconds: not cut sooner (milliseconds), nor much later (the server
    hangs for 10 s, then closes: a connection error, not a timeout)."""
    llm = ask.model(timeout=HOPELESS_TIMEOUT, max_retries=0)
    server.enqueue(Reply.hang(10))
    start = time.perf_counter()
    with pytest.raises(GeminiTimeoutError):
        await ask.raises(llm, "hi")
    elapsed = time.perf_counter() - start  # building the client too, on a loaded machine
    assert HOPELESS_TIMEOUT * 0.9 <= elapsed < HOPELESS_TIMEOUT + 2.0, elapsed
    # A generous timeout lets an answer through. (Another server: an async attempt cut
    # before its request was sent leaves the hang queued here.)
    with GeminiTestServer() as other:
        patient = ask.model(timeout=30, base_url=other.base_url)
        other.enqueue(response(text("ok")))
        assert await call(ask, patient, "hi") == "ok"


# ------------------------------------------------------------------ generation settings


async def test_constructor_settings_in_generation_config(
    echo_server: GeminiTestServer, ask: Any
) -> None:
    llm = ask.model(
        temperature=0.2,
        max_tokens=256,
        top_p=0.9,
        top_k=40,
        stop=["STOP!"],
        seed=7,
    )
    await call(ask, llm, "hi")
    assert echo_server.last_request.body["generationConfig"] == {
        "temperature": 0.2,
        "maxOutputTokens": 256,
        "topP": 0.9,
        "topK": 40,
        "stopSequences": ["STOP!"],
        "seed": 7,
    }


async def test_no_generation_config_by_default(echo_server: GeminiTestServer, ask: Any) -> None:
    await call(ask, ask.model(), "hi")
    body = echo_server.last_request.body
    assert "generationConfig" not in body
    assert "safetySettings" not in body
    assert body["tools"] == [{"codeExecution": {}}]


OVERRIDES = {
    "temperature": 1.5,
    "max_tokens": 99,
    "top_p": 0.5,
    "top_k": 3,
    "seed": 11,
    "stop": ["END"],
}
OVERRIDDEN = {
    "temperature": 1.5,
    "maxOutputTokens": 99,
    "topP": 0.5,
    "topK": 3,
    "seed": 11,
    "stopSequences": ["END"],
}


async def test_per_call_overrides(echo_server: GeminiTestServer, ask: Any) -> None:
    llm = ask.model(temperature=0.1, max_output_tokens=10, top_p=0.1, top_k=1, seed=1)
    await call(ask, llm, "hi", **OVERRIDES)
    assert echo_server.last_request.body["generationConfig"] == OVERRIDDEN
    # The model itself is unchanged for the next call.
    await call(ask, llm, "hi")
    assert echo_server.last_request.body["generationConfig"] == {
        "temperature": 0.1,
        "maxOutputTokens": 10,
        "topP": 0.1,
        "topK": 1,
        "seed": 1,
    }


async def test_bind_overrides(echo_server: GeminiTestServer, ask: Any) -> None:
    llm = ask.model(temperature=0.1)
    bound = llm.bind(**OVERRIDES)
    answer = (
        bound.invoke("hi")
        if ask.method == "invoke"
        else await bound.ainvoke("hi")
        if ask.method == "ainvoke"
        else None
    )
    if answer is None:  # the stream modes
        chunks = (
            list(bound.stream("hi"))
            if ask.method == "stream"
            else [c async for c in bound.astream("hi")]
        )
        assert chunks
    assert echo_server.last_request.body["generationConfig"] == OVERRIDDEN


async def test_model_per_call(echo_server: GeminiTestServer, ask: Any) -> None:
    llm = ask.model()
    await call(ask, llm, "hi", model="gemini-3-flash-preview")
    assert echo_server.last_request.model == "gemini-3-flash-preview"
    await call(ask, llm, "hi")
    assert echo_server.last_request.model == MODEL


async def test_code_execution_switch(echo_server: GeminiTestServer, ask: Any) -> None:
    plain = ask.model(code_execution=False)
    await call(ask, plain, "hi")
    assert "tools" not in echo_server.last_request.body
    assert "toolConfig" not in echo_server.last_request.body
    with_code = ask.model()
    await call(ask, with_code, "hi", code_execution=False)
    assert "tools" not in echo_server.last_request.body
    await call(ask, plain, "hi", code_execution=True)
    assert echo_server.last_request.body["tools"] == [{"codeExecution": {}}]


async def test_thinking_settings(echo_server: GeminiTestServer, ask: Any) -> None:
    llm = ask.model(thinking_budget=1024, include_thoughts=True)
    await call(ask, llm, "hi")
    assert echo_server.last_request.body["generationConfig"] == {
        "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": True}
    }
    # Zero turns thinking off: it is sent, not dropped as "unset".
    await call(ask, llm, "hi", thinking_budget=0, include_thoughts=False)
    assert echo_server.last_request.body["generationConfig"] == {
        "thinkingConfig": {"thinkingBudget": 0, "includeThoughts": False}
    }
    gemini3 = ask.model(model="gemini-3-flash-preview", thinking_level="low")
    await call(ask, gemini3, "hi")
    level = echo_server.last_request.body["generationConfig"]["thinkingConfig"]
    # The API's enum names (what google-genai itself sends for "low").
    assert level == {"thinkingLevel": types.ThinkingLevel("low").value}


async def test_bad_setting_values_fail_before_any_request(
    server: GeminiTestServer, ask: Any
) -> None:
    llm = ask.model()
    for kwargs, name in (
        ({"temperature": 5}, "temperature"),
        ({"max_tokens": 0}, "max_output_tokens"),
        ({"thinking_level": "extreme"}, "thinking_level"),
        ({"temprature": 1}, "temprature"),
        ({"safety_settings": [{"category": "X"}]}, "safety_settings"),
    ):
        with pytest.raises(InvalidMessageError, match=name):
            await ask.raises(llm, "hi", **kwargs)
    assert server.requests == []


def test_misspelt_constructor_argument_is_an_error() -> None:
    with pytest.raises(ValueError, match="temprature"):
        ChatGeminiCodeExecution(api_key="k", temprature=0.5)  # type: ignore[call-arg]


SAFETY = [
    {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"},
    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "threshold": "BLOCK_NONE"},
]


async def test_safety_settings(echo_server: GeminiTestServer, ask: Any) -> None:
    as_list = ask.model(safety_settings=SAFETY)
    await call(ask, as_list, "hi")
    assert echo_server.last_request.body["safetySettings"] == SAFETY
    as_dict = ask.model(safety_settings={s["category"]: s["threshold"] for s in SAFETY})
    await call(ask, as_dict, "hi")
    assert echo_server.last_request.body["safetySettings"] == SAFETY
    # google-genai's (and langchain-google-genai's) enums, given per call.
    enums = {
        types.HarmCategory.HARM_CATEGORY_HARASSMENT: types.HarmBlockThreshold.BLOCK_ONLY_HIGH,
        types.HarmCategory.HARM_CATEGORY_DANGEROUS_CONTENT: types.HarmBlockThreshold.BLOCK_NONE,
    }
    await call(ask, ask.model(), "hi", safety_settings=enums)
    assert echo_server.last_request.body["safetySettings"] == SAFETY
    await call(ask, ask.model(safety_settings=enums), "hi")
    assert echo_server.last_request.body["safetySettings"] == SAFETY


# ------------------------------------------------------------------ the client


def _own_client(server: GeminiTestServer, key: str = "injected-key") -> genai.Client:
    return genai.Client(api_key=key, http_options=types.HttpOptions(base_url=server.base_url))


@pytest.mark.every_http_path
async def test_injected_client_is_used_and_reused(echo_server: GeminiTestServer, ask: Any) -> None:
    if ask.transport is not None:
        force_transport(ask.monkeypatch, ask.transport)  # before the client is built
    client = _own_client(echo_server)
    llm = ask.model(api_key=None, base_url=None, client=client)
    assert llm.genai_client is client
    await call(ask, llm, "one")
    await call(ask, llm, "two")
    assert llm.genai_client is client
    reqs = echo_server.model_requests
    assert [r.headers["x-goog-api-key"] for r in reqs] == ["injected-key"] * 2
    assert "client" not in dumpd(llm)["kwargs"]


def test_injected_client_must_be_a_genai_client() -> None:
    with pytest.raises(ValueError, match=r"google\.genai\.Client"):
        ChatGeminiCodeExecution(client=object())


@pytest.mark.every_http_path
async def test_one_client_per_model_reused(echo_server: GeminiTestServer, ask: Any) -> None:
    llm = ask.model()
    first = llm.genai_client
    for prompt in ("a", "b", "c"):
        await call(ask, llm, prompt)
    assert llm.genai_client is first
    other = ask.model()
    assert other.genai_client is not first


async def test_client_is_shared_by_sync_async_and_threads(
    echo_server: GeminiTestServer, llm: ChatGeminiCodeExecution
) -> None:
    seen = set()
    llm.invoke("x")
    seen.add(id(llm.genai_client))
    await llm.ainvoke("y")
    seen.add(id(llm.genai_client))
    llm.batch(["p", "q", "r", "s"], config={"max_concurrency": 4})
    seen.add(id(llm.genai_client))
    assert len(seen) == 1


def test_concurrent_first_use_builds_one_client(
    echo_server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    llm = make_llm()
    with ThreadPoolExecutor(8) as pool:
        clients = list(pool.map(lambda _: llm.genai_client, range(8)))
    assert all(c is clients[0] for c in clients)


# ------------------------------------------------------------------ batch


def test_batch_keeps_order(echo_server: GeminiTestServer, llm: ChatGeminiCodeExecution) -> None:
    prompts = [f"prompt {i}" for i in range(6)]
    answers = llm.batch(prompts, config={"max_concurrency": 3})
    assert [a.text for a in answers] == [f"echo: {p}" for p in prompts]
    assert len(echo_server.model_requests) == 6


async def test_abatch_keeps_order(
    echo_server: GeminiTestServer, allm: ChatGeminiCodeExecution
) -> None:
    prompts = [f"prompt {i}" for i in range(6)]
    answers = await allm.abatch(prompts, config={"max_concurrency": 3})
    assert [a.text for a in answers] == [f"echo: {p}" for p in prompts]
    assert len(echo_server.model_requests) == 6


def test_batch_with_per_call_options(
    echo_server: GeminiTestServer, llm: ChatGeminiCodeExecution
) -> None:
    llm.bind(temperature=0.7).batch(["a", "b"])
    temps = [r.body["generationConfig"]["temperature"] for r in echo_server.model_requests]
    assert temps == [0.7, 0.7]


# ------------------------------------------------------------------ serialization


def test_serialization_round_trip_without_the_key(
    echo_server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    llm = make_llm(model="gemini-3-flash-preview", temperature=0.4, max_tokens=77, top_k=5)
    data = dumpd(llm)
    text_form = json.dumps(data)
    assert API_KEY not in text_form
    assert API_KEY not in dumps(llm)
    assert API_KEY not in repr(llm) and API_KEY not in str(llm)
    assert data["id"] == ["langchain_gemini_codeexec", "chat_models", "ChatGeminiCodeExecution"]
    assert data["kwargs"]["api_key"] == {"lc": 1, "type": "secret", "id": ["GOOGLE_API_KEY"]}
    restored = load(
        data,
        secrets_map={"GOOGLE_API_KEY": "restored-key"},
        valid_namespaces=["langchain_gemini_codeexec"],
        allowed_objects=[ChatGeminiCodeExecution],
    )
    assert isinstance(restored, ChatGeminiCodeExecution)
    assert restored.api_key is not None
    assert restored.api_key.get_secret_value() == "restored-key"
    assert (restored.model, restored.temperature, restored.max_output_tokens, restored.top_k) == (
        "gemini-3-flash-preview",
        0.4,
        77,
        5,
    )
    assert restored.base_url == echo_server.base_url
    restored.invoke("hi")
    req = echo_server.last_request
    assert req.headers["x-goog-api-key"] == "restored-key"
    assert req.model == "gemini-3-flash-preview"
    assert req.body["generationConfig"] == {"temperature": 0.4, "maxOutputTokens": 77, "topK": 5}


def test_lc_secrets() -> None:
    llm = ChatGeminiCodeExecution(api_key="k")
    assert llm.lc_secrets["api_key"] == "GOOGLE_API_KEY"
    assert ChatGeminiCodeExecution.is_lc_serializable()


def test_ls_params() -> None:
    llm = ChatGeminiCodeExecution(
        api_key="k", model="gemini-2.5-pro", temperature=0.3, max_tokens=64, stop=["x"]
    )
    assert llm._get_ls_params() == {
        "ls_provider": "google_genai",
        "ls_model_name": "gemini-2.5-pro",
        "ls_model_type": "chat",
        "ls_temperature": 0.3,
        "ls_max_tokens": 64,
        "ls_stop": ["x"],
    }
    override = llm._get_ls_params(stop=["y"], model="gemini-3-pro-preview", temperature=1.0)
    assert override["ls_model_name"] == "gemini-3-pro-preview"
    assert override["ls_temperature"] == 1.0
    assert override["ls_stop"] == ["y"]
    assert llm._get_ls_params(max_tokens=5)["ls_max_tokens"] == 5
    bare = ChatGeminiCodeExecution(api_key="k")._get_ls_params()
    assert set(bare) == {"ls_provider", "ls_model_name", "ls_model_type"}


def test_vertex_with_credentials_ignores_a_key_in_env(
    server: GeminiTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "google-env-key")
    llm = ChatGeminiCodeExecution(
        base_url=server.base_url,
        vertexai=True,
        project="p",
        location="us-central1",
        credentials=StubCredentials(),
    )
    req = _sync(llm, server)
    assert req.api == "vertex"
    assert req.headers["authorization"] == "Bearer stub-token"
    assert "x-goog-api-key" not in req.headers


def test_vertex_express_from_env(server: GeminiTestServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    monkeypatch.setenv("GOOGLE_API_KEY", "express-key")
    llm = ChatGeminiCodeExecution(base_url=server.base_url)
    req = _sync(llm, server)
    assert req.api == "vertex_express"
    assert req.headers["x-goog-api-key"] == "express-key"


def test_credentials_are_not_serialized(server: GeminiTestServer) -> None:
    creds = StubCredentials("secret-token")
    llm = ChatGeminiCodeExecution(
        base_url=server.base_url, vertexai=True, project="p", credentials=creds
    )
    text_form = dumps(llm)
    assert "secret-token" not in text_form
    assert "credentials" not in dumpd(llm)["kwargs"]
    assert "secret-token" not in repr(llm)
