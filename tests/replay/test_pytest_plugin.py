"""The pytest plugin, run on a user's test file by pytest itself (pytester).

Recording goes to a stand-in Gemini (a scripted `GeminiTestServer`) through
``--gemini-upstream``; replay runs with the stand-in stopped and no credentials.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import google.genai  # imported here so that the in-process runs do not import it anew
import pytest
from langchain_core.language_models import BaseChatModel

from langchain_gemini_codeexec import ChatGeminiCodeExecution
from langchain_gemini_codeexec.testing import GeminiTestServer, ScriptedGemini

assert google.genai and issubclass(ChatGeminiCodeExecution, BaseChatModel)

pytest_plugins = ["pytester"]

PLUGIN = ["-p", "langchain_gemini_codeexec.testing.pytest_plugin"]
KEY = "AIzaSyPluginTest-secret-key-00112233445"
USER_TEST = """
from langchain_gemini_codeexec import ChatGeminiCodeExecution


def test_pipeline(gemini_cassette):
    llm = ChatGeminiCodeExecution(model="gemini-2.5-flash", max_retries=0)
    answer = llm.invoke("What is 6 * 7?")
    assert "42" in answer.text
    assert gemini_cassette.requests[0].model == "gemini-2.5-flash"
    print("MODE", gemini_cassette.mode, "RECORDING", gemini_cassette.recording)


class TestInAClass:
    def test_stream(self, gemini_cassette):
        llm = ChatGeminiCodeExecution(model="gemini-2.5-flash", max_retries=0)
        chunks = list(llm.stream("What is 2 + 3?"))
        assert "5" in "".join(c.text for c in chunks)
"""


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "GOOGLE_API_KEY",
        "GEMINI_API_KEY",
        "GOOGLE_GENAI_USE_VERTEXAI",
        "GOOGLE_CLOUD_PROJECT",
        "GEMINI_RECORD_MODE",
        "GOOGLE_GEMINI_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def stand_in() -> Iterator[GeminiTestServer]:
    with GeminiTestServer(responder=ScriptedGemini()) as server:
        yield server


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    quiet = ("-p", "no:cacheprovider", "-p", "no:benchmark", "-p", "no:codspeed", "-s")
    # The user's project has no pytest-asyncio settings; say the default, so that the
    # inner run does not warn about it (pytest-asyncio's own deprecation notice).
    settings = ("-o", "asyncio_default_fixture_loop_scope=function")
    return pytester.runpytest_inprocess(*PLUGIN, *quiet, *settings, *args)


def _cassettes(pytester: pytest.Pytester) -> list[Path]:
    return sorted((pytester.path / "cassettes" / "test_user").glob("*.json"))


@pytest.mark.usefixtures("clean_env")
def test_record_once_then_replay_offline(
    pytester: pytest.Pytester, stand_in: GeminiTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_user=USER_TEST)
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    recorded = _run(pytester, "--gemini-record-mode=once", f"--gemini-upstream={stand_in.base_url}")
    recorded.assert_outcomes(passed=2)
    recorded.stdout.fnmatch_lines(
        [
            "gemini cassettes: record mode once (replay existing cassettes, record missing ones)",
            "*MODE once RECORDING True*",
            "gemini cassettes (once): 2 recorded",
        ]
    )
    paths = _cassettes(pytester)
    assert [p.name for p in paths] == ["TestInAClass.test_stream.json", "test_pipeline.json"]
    assert len(stand_in.requests) == 2
    for path in paths:
        text = path.read_text()
        assert KEY not in text and KEY[-8:] not in text
        assert len(json.loads(text)["interactions"]) == 1

    # Offline: no key, no stand-in traffic, default mode.
    monkeypatch.delenv("GOOGLE_API_KEY")
    before = len(stand_in.requests)
    replayed = _run(pytester)
    replayed.assert_outcomes(passed=2)
    replayed.stdout.fnmatch_lines(
        [
            "gemini cassettes: record mode none (replay only, missing cassettes skip)",
            "*MODE none RECORDING False*",
            "gemini cassettes (none): 2 replayed",
        ]
    )
    assert len(stand_in.requests) == before

    # once with cassettes present replays too (and needs no credentials).
    _run(pytester, "--gemini-record-mode=once").assert_outcomes(passed=2)
    assert len(stand_in.requests) == before

    # all records every cassette again.
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    upstream = f"--gemini-upstream={stand_in.base_url}"
    _run(pytester, "--gemini-record-mode=all", upstream).assert_outcomes(passed=2)
    assert len(stand_in.requests) == before + 2
    monkeypatch.delenv("GOOGLE_API_KEY")

    # The test changes its prompt: the replay fails at once, naming the difference.
    pytester.makepyfile(test_user=USER_TEST.replace("6 * 7", "6 * 8"))
    result = _run(pytester, "-k", "pipeline")
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines(["*was not recorded*", '*recorded "What is 6 * 7?"*'])


@pytest.mark.usefixtures("clean_env")
def test_missing_cassettes_skip_saying_how_to_record(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_user=USER_TEST)
    result = _run(pytester, "-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(
        ["*no cassette at *test_pipeline.json: record it with --gemini-record-mode=once*"]
    )
    assert not (pytester.path / "cassettes").exists()
    monkeypatch.setenv("GEMINI_RECORD_MODE", "all")  # the mode from the environment
    result = _run(pytester, "-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(
        ["gemini cassettes: record mode all*", "*recording * (all) needs Gemini credentials*"]
    )


@pytest.mark.usefixtures("clean_env")
def test_a_bad_mode_stops_the_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_user=USER_TEST)
    monkeypatch.setenv("GEMINI_RECORD_MODE", "sometimes")
    result = _run(pytester)
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*gemini record mode must be one of*sometimes*"])


VERTEX_TEST = """
from google.oauth2.credentials import Credentials

from langchain_gemini_codeexec import ChatGeminiCodeExecution


def test_vertex(gemini_cassette):
    # Project and location from the environment; a static token stands in for ADC.
    token = Credentials(token="ya29.plugin-test-token-0123456789")
    llm = ChatGeminiCodeExecution(model="gemini-2.5-flash", credentials=token, max_retries=0)
    assert llm.invoke("Say hi.").text
    assert "/locations/us-central1/publishers/google/" in gemini_cassette.requests[0].path
"""


@pytest.mark.usefixtures("clean_env")
def test_recording_from_vertex_keeps_the_project_id_out(
    pytester: pytest.Pytester, stand_in: GeminiTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_user=VERTEX_TEST)
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "acme-proj-7781")
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "us-central1")
    result = _run(pytester, "--gemini-record-mode=once", f"--gemini-upstream={stand_in.base_url}")
    result.assert_outcomes(passed=1)
    assert stand_in.requests[0].api == "vertex"
    text = _cassettes(pytester)[0].read_text()
    assert "acme-proj-7781" not in text and "ya29" not in text
    assert "/projects/REDACTED/locations/us-central1/" in text

    # Replay with no Google settings at all: the cassette says Vertex AI, and where.
    for name in ("GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION"):
        monkeypatch.delenv(name)
    before = len(stand_in.requests)
    replayed = _run(pytester)
    replayed.assert_outcomes(passed=1)
    replayed.stdout.fnmatch_lines(["gemini cassettes (none): 1 replayed"])
    assert len(stand_in.requests) == before


def test_the_plugin_is_registered_as_a_pytest11_entry_point() -> None:
    """Installing the package is enough: pytest finds the plugin by its entry point."""
    if sys.version_info < (3, 11):
        pytest.skip("tomllib is in the standard library from Python 3.11")
    import tomllib

    root = Path(__file__).resolve().parents[2]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    entry = project["entry-points"]["pytest11"]
    assert entry == {
        "langchain_gemini_codeexec.testing.pytest_plugin": (
            "langchain_gemini_codeexec.testing.pytest_plugin"
        )
    }


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.usefixtures("clean_env")
def test_the_real_gemini_suites_replay_what_they_recorded(
    pytester: pytest.Pytester, stand_in: GeminiTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This package's real-Gemini tests, recorded from a stand-in and replayed offline.

    The stand-in (`ScriptedGemini`) is not Gemini, so some of their assertions fail; what
    is checked is that every request they send is the same in replay (nothing "was not
    recorded") and each test ends the same way, from its cassette alone.
    """
    root = Path(__file__).resolve().parents[2]
    for name, source in {
        "test_integration": "tests/integration/test_real_gemini.py",
        "test_agents": "tests/agents/test_real_gemini.py",
        "test_tool": "tests/tool/test_real_gemini.py",
        "test_standard": "tests/standard/test_chat_integration_standard.py",
    }.items():
        (pytester.path / f"{name}.py").write_text((root / source).read_text())
    args = ["-o", "asyncio_mode=auto", "-k", "not Offline", "-rA", "-p", "no:cacheprovider"]

    def outcomes(result: pytest.RunResult) -> list[str]:
        return sorted(
            line.split(" - ")[0]
            for line in result.outlines
            if line.startswith(("PASSED ", "FAILED ", "ERROR "))
        )

    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    upstream = f"--gemini-upstream={stand_in.base_url}"
    recorded = pytester.runpytest_subprocess(*PLUGIN, *args, "--gemini-record-mode=once", upstream)
    monkeypatch.delenv("GOOGLE_API_KEY")
    sent = len(stand_in.requests)
    replayed = pytester.runpytest_subprocess(*PLUGIN, *args)
    assert len(stand_in.requests) == sent
    assert "was not recorded" not in replayed.stdout.str()
    assert outcomes(replayed) == outcomes(recorded)
    counts = replayed.parseoutcomes()
    assert counts == recorded.parseoutcomes()
    assert counts["passed"] >= 90  # the standard suite's real classes, from cassettes
    cassettes = list((pytester.path / "cassettes").rglob("*.json"))
    # A test that skipped in its body (the suite's unsupported features) keeps no cassette.
    assert len(cassettes) == counts["passed"] + counts.get("failed", 0)
    assert not any(KEY[-8:] in c.read_text() for c in cassettes)
