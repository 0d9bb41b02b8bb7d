"""The shared fixtures of every test folder (helpers they use are in `tests/support.py`).

- `server`: a running loopback `GeminiTestServer` (answered by `server_responder` when a
  folder sets one, e.g. tests/agents uses `ScriptedGemini`).
- `make_llm` / `llm`: `ChatGeminiCodeExecution` on that server, built from `llm_settings`
  (a folder may override it, e.g. no retries for the tool tests), closed after the test.
- `sync_client`: one sync test per sync HTTP library (httpx2, httpx).
- `async_transport` / `allm`: one async test per async HTTP path of google-genai (aiohttp,
  httpx2, httpx); the path is checked to have carried the requests.
- `ask`: one call in each mode: `answer = await ask(ask.model(), q)`; invoke on the sync
  path and astream on the async one (`CONTRACT_MODES`; stream and ainvoke in the slow
  set), or every mode on every HTTP path (`TRANSPORT_MODES`) for tests marked
  `every_http_path`.
- `path`: one model per HTTP path (`PATHS`), built with `support.path_llm`.
- `make_tool`, `close_async`: the tool and models whose async sessions close on the
  test's own loop.
- `example_mode`: an example script run in this process (fast) and, in the slow set, in a
  fresh interpreter as a user runs it (`support.run_example`).
"""

from __future__ import annotations

import sys

# Keep the assertion-rewritten test modules cached even where PYTHONDONTWRITEBYTECODE is
# set (it is on this project's machines): otherwise every xdist worker parses and rewrites
# ~100 test modules on each run, about 2.5 s of CPU apiece.
sys.dont_write_bytecode = False

import gc
import os
import ssl
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

# Only what parametrizes fixtures is read at import: the controller process of an xdist
# run imports this file before it starts any worker, and runs no test itself. The package,
# google-genai and LangChain load in the workers, with the first fixture that needs them.
from tests.modes import (
    ASYNC_TRANSPORTS,
    CONTRACT_MODES,
    EXAMPLE_MODES,
    PATHS,
    RUN_FIRST,
    SYNC_TRANSPORTS,
    TRANSPORT_MODES,
)

if TYPE_CHECKING:
    from langchain_gemini_codeexec import ChatGeminiCodeExecution, GeminiCodeExecutionTool
    from langchain_gemini_codeexec.testing import GeminiTestServer
    from tests.support import Caller, MakeLLM, MakeTool


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` starts one and a half workers per core (3 on 2 cores): about a third of a
    test's time is waiting (on loopback sockets, or for a timeout that must elapse), which
    the extra workers fill; each costs ~3 s of CPU to start, so more lose (4 on 2 cores:
    33-34 s, 3: 30-32 s, 2: 40 s). `PYTEST_XDIST_AUTO_NUM_WORKERS` still wins."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    return cores + max(1, cores // 2)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The modules of `RUN_FIRST` first (their waits then overlap the CPU-bound rest)."""
    tests = os.path.dirname(__file__)
    rank = {os.path.join(tests, name): i for i, name in enumerate(RUN_FIRST)}
    items.sort(key=lambda item: rank.get(str(item.path), len(RUN_FIRST)))  # stable


def pytest_collection_finish(session: pytest.Session) -> None:
    """In an xdist worker, the ~170k objects of the imports and collection are frozen out of
    the collector, and young garbage is collected less often: garbage collection took ~6.5
    s of the workers' CPU, ~4 s now. (The slow set runs without xdist, with the defaults:
    its memory soaks measure what users get.)"""
    if hasattr(session.config, "workerinput"):
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """An xdist worker whose results are all sent leaves at once: tearing down its
    interpreter (every object of ~800 tests) delayed the run's end by about a second."""
    if hasattr(config, "workerinput"):  # the worker's own session, not a nested pytester one
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


@pytest.fixture(autouse=True, scope="session")
def _reuse_ssl_contexts() -> Iterator[None]:
    """google-genai builds three SSL contexts for every client, loading the CA bundle each
    time (~40 ms apiece, most of a test's time). The loopback server speaks plain HTTP,
    so no request uses them: each kind is built once per session. Requests are untouched.
    """
    original = ssl.create_default_context
    built: dict[str, ssl.SSLContext] = {}

    def reuse(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        key = repr((args, sorted(kwargs.items())))
        if key not in built:
            built[key] = original(*args, **kwargs)
        return built[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ssl, "create_default_context", reuse)
        yield


@pytest.fixture
def server_responder() -> Any:
    """What answers requests nobody enqueued a reply for (None: the server's default)."""
    return None


@pytest.fixture
def server(server_responder: Any) -> Iterator[GeminiTestServer]:
    from langchain_gemini_codeexec.testing import GeminiTestServer

    with GeminiTestServer(responder=server_responder) as srv:
        yield srv


@pytest.fixture
def llm_settings(server: GeminiTestServer) -> dict[str, Any]:
    """Keyword arguments of every model `make_llm` builds (a call's own win)."""
    from tests.support import API_KEY

    return {
        "api_key": API_KEY,
        "base_url": server.base_url,
        "retry_initial_delay": 0.0,
        "retry_max_delay": 0.05,
    }


@pytest.fixture
def make_llm(llm_settings: dict[str, Any]) -> Iterator[MakeLLM]:
    """Build models on the loopback server; they are closed after the test."""
    from langchain_gemini_codeexec import ChatGeminiCodeExecution
    from tests.support import close_model

    built: list[ChatGeminiCodeExecution] = []

    def make(**kwargs: Any) -> ChatGeminiCodeExecution:
        llm = ChatGeminiCodeExecution(**{**llm_settings, **kwargs})
        built.append(llm)
        return llm

    yield make
    for llm in built:
        close_model(llm)


@pytest.fixture
def llm(make_llm: MakeLLM) -> ChatGeminiCodeExecution:
    return make_llm()


@pytest.fixture(params=SYNC_TRANSPORTS)
def sync_client(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The sync HTTP library models built during the test use (`GOOGLE_GENAI_HTTP_CLIENT`)."""
    monkeypatch.setenv("GOOGLE_GENAI_HTTP_CLIENT", request.param)
    return str(request.param)


@pytest.fixture(params=ASYNC_TRANSPORTS)
async def async_transport(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[str]:
    """The async HTTP path under test; models built during the test use it."""
    from tests.support import force_transport

    force_transport(monkeypatch, request.param)
    yield request.param


@pytest.fixture
async def allm(async_transport: str, make_llm: MakeLLM) -> AsyncIterator[ChatGeminiCodeExecution]:
    """A model whose async calls go through `async_transport` (checked before and after)."""
    from tests.support import aclose_model, async_path_used, transport_in_use

    model = make_llm()
    assert transport_in_use(model) == async_transport
    yield model
    assert async_path_used(model), f"no async request went through {async_transport}"
    await aclose_model(model)


@pytest.hookimpl(tryfirst=True)  # a parametrize mark wins over the fixture's own params
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`ask` in all TRANSPORT_MODES where the HTTP library matters (`every_http_path`)."""
    test = metafunc.definition
    if "ask" not in metafunc.fixturenames or not test.get_closest_marker("every_http_path"):
        return
    for mark in test.iter_markers("parametrize"):
        names = mark.args[0] if mark.args else mark.kwargs.get("argnames", ())
        if "ask" in ([n.strip() for n in names.split(",")] if isinstance(names, str) else names):
            return  # the test picks its own modes
    test.add_marker(pytest.mark.parametrize("ask", TRANSPORT_MODES, indirect=True))


@pytest.fixture(params=CONTRACT_MODES)
async def ask(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, make_llm: MakeLLM
) -> AsyncIterator[Caller]:
    """Call in every mode: `llm = ask.model(...)`, then `answer = await ask(llm, prompt)`."""
    from tests.support import Caller, aclose_model

    caller = Caller(request.param, monkeypatch, make_llm)
    yield caller
    for model in caller.built:
        await aclose_model(model)


@pytest.fixture(params=PATHS)
def path(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_tool(make_llm: MakeLLM) -> MakeTool:
    from langchain_gemini_codeexec import GeminiCodeExecutionTool

    def make(llm: ChatGeminiCodeExecution | None = None, **kwargs: Any) -> GeminiCodeExecutionTool:
        return GeminiCodeExecutionTool(llm=llm or make_llm(), **kwargs)

    return make


@pytest.fixture
async def close_async() -> AsyncIterator[list[ChatGeminiCodeExecution]]:
    """Models listed here get their async sessions closed on the test's own loop."""
    from tests.support import aclose_model

    models: list[ChatGeminiCodeExecution] = []
    yield models
    for model in models:
        await aclose_model(model)


@pytest.fixture(params=EXAMPLE_MODES)
def example_mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)
