"""pytest plugin: each test that asks for `gemini_cassette` gets its own recorded Gemini.

Registered through the ``pytest11`` entry point, so installing the package is enough.
The fixture starts a `GeminiTestServer` on the test's cassette,
``cassettes/<test module>/<test name>.json`` next to the test file, and points google-genai
at it through ``GOOGLE_GEMINI_BASE_URL`` / ``GOOGLE_VERTEX_BASE_URL``: models and clients the
test builds without a ``base_url`` go through it unchanged.

``--gemini-record-mode`` (or ``GEMINI_RECORD_MODE``, or the ini option
``gemini_record_mode``) says what happens:

- ``none`` (default): replay only. A test whose cassette is missing is skipped, saying how
  to record it; nothing reaches the network.
- ``once``: replay a cassette that exists, record one that does not (with credentials).
- ``all``: record every cassette again (with credentials).

In replay no credentials are needed: the environment gets a placeholder
``GOOGLE_API_KEY`` for a Developer API cassette, or, for one recorded from Vertex AI, its
location, a project and a static token in place of application default credentials.
The mode is printed in pytest's header, and a summary line says how many cassettes were
replayed, recorded or missing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from ._cassette import DEVELOPER_API, load
from ._env import has_gemini_credentials
from ._redact import PLACEHOLDER
from ._server import GeminiTestServer, RecordedRequest

RecordMode = Literal["none", "once", "all"]
MODES: tuple[RecordMode, ...] = ("none", "once", "all")
REPLAY_API_KEY = "replay-placeholder-key-not-a-secret"
REPLAY_PROJECT = "replay-project"
_VERTEX_PATH = re.compile(r"/v1\w*/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/")
_EXPLAIN = {
    "none": "replay only, missing cassettes skip",
    "once": "replay existing cassettes, record missing ones",
    "all": "record every cassette again",
}
_UNSAFE = re.compile(r"[^\w.\-\[\]=,+@]")
_STATS = pytest.StashKey[dict[str, list[str]]]()
_SKIPPED = pytest.StashKey[bool]()


@dataclass
class GeminiCassette:
    """What the `gemini_cassette` fixture gives a test."""

    path: Path
    mode: RecordMode
    recording: bool
    server: GeminiTestServer
    api_key: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        """The server's URL (already in ``GOOGLE_GEMINI_BASE_URL``)."""
        return self.server.base_url

    @property
    def requests(self) -> list[RecordedRequest]:
        """What the server received in this test."""
        return self.server.requests


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gemini", "Gemini cassettes (langchain-gemini-codeexec)")
    group.addoption(
        "--gemini-record-mode",
        choices=MODES,
        default=None,
        help="none: replay only (default); once: record missing cassettes; all: record all "
        "again. Recording needs Gemini credentials.",
    )
    group.addoption(
        "--gemini-upstream",
        default=None,
        help="where recording forwards to (default: the Developer API, or the Vertex AI "
        "endpoint of GOOGLE_CLOUD_LOCATION when GOOGLE_GENAI_USE_VERTEXAI is set)",
    )
    parser.addini("gemini_record_mode", "default for --gemini-record-mode", default="none")


def record_mode(config: pytest.Config) -> RecordMode:
    """The mode in force: the option, else GEMINI_RECORD_MODE, else the ini value."""
    value = (
        config.getoption("--gemini-record-mode", default=None)
        or os.environ.get("GEMINI_RECORD_MODE")
        or config.getini("gemini_record_mode")
        or "none"
    )
    value = str(value).strip().lower()
    if value not in MODES:
        raise pytest.UsageError(f"gemini record mode must be one of {MODES}, got {value!r}")
    return value


def _vertex() -> bool:
    return os.environ.get("GOOGLE_GENAI_USE_VERTEXAI", "").strip().lower() in ("1", "true", "yes")


def default_upstream() -> str:
    """Real Gemini for the credentials in the environment."""
    if not _vertex():
        return DEVELOPER_API
    location = os.environ.get("GOOGLE_CLOUD_LOCATION", "global").strip() or "global"
    if location == "global":
        return "https://aiplatform.googleapis.com"
    return f"https://{location}-aiplatform.googleapis.com"


def recorded_vertex(path: Path) -> tuple[str, str] | None:
    """(project, location) when the cassette was recorded from Vertex AI, else None."""
    for interaction in load(path):
        m = _VERTEX_PATH.match(str((interaction.get("request") or {}).get("path", "")))
        if m:
            project = m.group("project")
            return (REPLAY_PROJECT if PLACEHOLDER in project else project), m.group("location")
    return None


def _replay_environment(path: Path, monkeypatch: pytest.MonkeyPatch) -> str | None:
    """Credentials-free settings that send the same requests as the recording did.

    Developer API: a placeholder key. Vertex AI: the recorded location, a project (the
    recorded one, or a placeholder where it was redacted: that matches any) and a static
    token for application default credentials, so nothing reaches Google's auth servers.
    Returns the API key set, if any.
    """
    for name in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_CLOUD_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    vertex = recorded_vertex(path)
    if vertex is None:
        monkeypatch.delenv("GOOGLE_GENAI_USE_VERTEXAI", raising=False)
        monkeypatch.setenv("GOOGLE_API_KEY", REPLAY_API_KEY)
        return REPLAY_API_KEY
    import google.auth
    from google.oauth2.credentials import Credentials

    project, location = vertex
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", project)
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", location)

    def static_default(*args: Any, **kwargs: Any) -> tuple[Any, str]:
        return Credentials(token="replay-placeholder-token"), project  # type: ignore[no-untyped-call]

    monkeypatch.setattr(google.auth, "default", static_default)
    return None


def cassette_path(item: pytest.Item) -> Path:
    """``cassettes/<module>/<Class.>test[params].json`` next to the test file."""
    module = Path(str(item.path))
    names = [item.name]
    cls = getattr(item, "cls", None)
    if cls is not None:
        names.insert(0, cls.__name__)
    name = _UNSAFE.sub("_", ".".join(names))
    return module.parent / "cassettes" / module.stem / f"{name}.json"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "gemini_cassette(path=None, redact=(), ignore=(), matcher=None): options of the "
        "test's gemini_cassette fixture",
    )
    record_mode(config)  # a bad value fails at start, not in the first test
    stats: dict[str, list[str]] = {"replayed": [], "recorded": [], "missing": []}
    config.stash[_STATS] = stats


def pytest_report_header(config: pytest.Config) -> str:
    mode = record_mode(config)
    return f"gemini cassettes: record mode {mode} ({_EXPLAIN[mode]})"


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    stats = config.stash.get(_STATS, None)
    if not stats or not any(stats.values()):
        return
    mode = record_mode(config)
    counts = ", ".join(f"{len(v)} {k}" for k, v in stats.items() if v)
    terminalreporter.write_line(f"gemini cassettes ({mode}): {counts}")
    for path in stats["recorded"]:
        terminalreporter.write_line(f"  recorded {path}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.skipped:  # the fixture then keeps no cassette for it
        item.stash[_SKIPPED] = True
    return report


@pytest.fixture
def gemini_cassette(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[GeminiCassette]:
    """A `GeminiTestServer` on this test's cassette, replaying or recording by the mode.

    Options come from ``@pytest.mark.gemini_cassette(path=..., redact=[...],
    ignore=[...], matcher=...)``.
    """
    config = request.config
    mode = record_mode(config)
    marker = request.node.get_closest_marker("gemini_cassette")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    path = Path(options.pop("path", None) or cassette_path(request.node))
    stats = config.stash[_STATS]
    record = mode == "all" or (mode == "once" and not path.is_file())
    if record and not has_gemini_credentials():
        stats["missing"].append(str(path))
        pytest.skip(
            f"recording {path} ({mode}) needs Gemini credentials: GOOGLE_API_KEY / "
            "GEMINI_API_KEY, or GOOGLE_GENAI_USE_VERTEXAI with GOOGLE_CLOUD_PROJECT"
        )
    if not record and not path.is_file():
        stats["missing"].append(str(path))
        pytest.skip(
            f"no cassette at {path}: record it with --gemini-record-mode=once and "
            "Gemini credentials (record mode none replays only)"
        )
    if record:
        upstream = config.getoption("--gemini-upstream", default=None) or default_upstream()
        project = os.environ.get("GOOGLE_CLOUD_PROJECT", "").strip()
        if _vertex() and project:  # the project id is in every Vertex path: keep it out
            options["redact"] = [*options.get("redact", ()), project]
        server = GeminiTestServer(cassette=path, record=True, upstream=upstream, **options)
    else:
        server = GeminiTestServer(cassette=path, **options)
    with server:
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.base_url)
        monkeypatch.setenv("GOOGLE_VERTEX_BASE_URL", server.base_url)
        api_key = None if record else _replay_environment(path, monkeypatch)
        yield GeminiCassette(path, mode, record, server, api_key=api_key)
        skipped = request.node.stash.get(_SKIPPED, False)
        if skipped and server.cassette is not None:
            server.cassette.discard()  # a test that skipped records nothing worth keeping
    if not skipped:
        stats["recorded" if record else "replayed"].append(str(path))
