"""langchain-tests' `ChatModelIntegrationTests` for ChatGeminiCodeExecution.

Offline, the suite runs against the loopback Gemini server answered by `ScriptedGemini`,
through the real google-genai SDK over HTTP, for two setups users have:

- `gemini-3-flash-preview` with code execution on (the product: code execution, function
  tools and a response schema in one request);
- `gemini-2.5-flash` with `code_execution=False` (a plain Gemini chat model, the setup for
  agents on Gemini 2.x that take `GeminiCodeExecutionTool` as one of their tools).

Against real Gemini (`@pytest.mark.integration`) the same suite runs through the
`gemini_cassette` fixture: each test replays its recorded cassette offline, records it with
credentials and `--gemini-record-mode=once`, and skips when it has neither.

Feature flags (the suite's own `supports_*` properties) and why:
- image inputs and image/PDF tool messages: supported. The suite downloads its sample
  image and PDF from the internet; offline, `sample_files` serves the suite a PNG and a PDF
  of the same kinds from memory instead (only the download is replaced).
- `supports_image_urls` False: Gemini reads `fileData` URIs of uploaded files, not
  arbitrary web URLs.
- `supports_pdf_inputs` / `supports_audio_inputs` False: those tests also send OpenAI chat
  completions blocks (`{"type": "file", "file": {...}}`, `input_audio`), which this package
  does not translate.
- `supports_anthropic_inputs` False: that test replays an Anthropic thinking signature,
  which Gemini cannot verify.
- `enable_vcr_tests` False: the benchmark needs VCR cassettes; the loopback server plays
  that role here.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.integration_tests import chat_models as suite

from langchain_gemini_codeexec import ChatGeminiCodeExecution
from langchain_gemini_codeexec.testing import GeminiTestServer, ScriptedGemini
from langchain_gemini_codeexec.testing.pytest_plugin import GeminiCassette

API_KEY = "test-key-not-a-secret-0123456789"


def _png(width: int = 4, height: int = 4) -> bytes:
    """A small valid PNG (a red square)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


_PDF = (
    b"%PDF-1.1\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _serve_sample(url: str, **_: Any) -> SimpleNamespace:
    content = _PDF if url.endswith(".pdf") else _png()
    return SimpleNamespace(content=content)


@pytest.fixture(scope="module")
def scripted_server() -> Iterator[GeminiTestServer]:
    with GeminiTestServer(responder=ScriptedGemini()) as server:
        yield server


class _Flags:
    """What ChatGeminiCodeExecution supports, as the suite asks (see module docstring)."""

    @property
    def chat_model_class(self) -> type[ChatGeminiCodeExecution]:
        return ChatGeminiCodeExecution

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_image_tool_message(self) -> bool:
        return True

    @property
    def supports_pdf_tool_message(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str | None:
        return "gemini-2.5-flash-lite"


class _Offline(_Flags):
    """Runs the suite against the loopback server; the fixtures point the model at it."""

    base_url = ""

    @pytest.fixture(autouse=True)
    def _loopback(self, scripted_server: GeminiTestServer, monkeypatch: pytest.MonkeyPatch) -> None:
        # chat_model_params is a property the suite reads; it sees the running server here.
        type(self).base_url = scripted_server.base_url
        monkeypatch.setattr(suite, "httpx", SimpleNamespace(get=_serve_sample))
        for name in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI"):
            monkeypatch.delenv(name, raising=False)


class TestGemini3CodeExecutionOffline(_Offline, ChatModelIntegrationTests):
    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {
            "model": "gemini-3-flash-preview",
            "api_key": API_KEY,
            "base_url": self.base_url,
            "retry_initial_delay": 0.0,
        }


class TestGemini25PlainOffline(_Offline, ChatModelIntegrationTests):
    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {
            "model": "gemini-2.5-flash",
            "code_execution": False,
            "api_key": API_KEY,
            "base_url": self.base_url,
            "retry_initial_delay": 0.0,
        }


class _Recorded(_Flags):
    """Real Gemini through each test's cassette (`cassettes/test_chat_integration_standard/`):
    replayed offline, recorded with credentials and `--gemini-record-mode=once`, else skipped.
    """

    @pytest.fixture(autouse=True)
    def _cassette(self, gemini_cassette: GeminiCassette, monkeypatch: pytest.MonkeyPatch) -> None:
        # The sample image and PDF come from memory here too, so that a request recorded
        # once is the same request in every replay (the suite downloads them otherwise).
        monkeypatch.setattr(suite, "httpx", SimpleNamespace(get=_serve_sample))


@pytest.mark.integration
class TestGemini3CodeExecutionReal(_Recorded, ChatModelIntegrationTests):
    @property
    def chat_model_params(self) -> dict[str, Any]:
        # Room for Gemini 3's thinking: the suite's default of 100 tokens can end an answer
        # before its first visible word.
        return {
            "model": os.environ.get("GEMINI_TEST_MODEL", "gemini-3-flash-preview"),
            "max_tokens": 4096,
            "thinking_level": "low",
        }


@pytest.mark.integration
class TestGemini25PlainReal(_Recorded, ChatModelIntegrationTests):
    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "gemini-2.5-flash", "code_execution": False, "max_tokens": 2048}
