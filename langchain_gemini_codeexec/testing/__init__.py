"""An offline Gemini API for tests: a loopback server the real google-genai SDK talks to.

Script what "Gemini" answers, point a client at ``server.base_url``, then assert on what
was sent::

    from google import genai
    from google.genai import types
    from langchain_gemini_codeexec.testing import GeminiTestServer, Reply, code, response
    from langchain_gemini_codeexec.testing import result, text

    with GeminiTestServer() as server:
        server.enqueue(
            response(text("Let me compute."), code("print(2 + 2)"), result("4\\n"), text("4"))
        )
        client = genai.Client(
            api_key="test", http_options=types.HttpOptions(base_url=server.base_url)
        )
        reply = client.models.generate_content(model="gemini-2.5-flash", contents="2+2?")
        assert server.last_request.model == "gemini-2.5-flash"

``Reply.stream(chunks)`` scripts a streamed answer (``stream_chunks`` splits a whole
response realistically), ``Reply.error`` / ``Reply.rate_limited`` script failures, and
``Reply.reset`` / ``Reply.hang`` misbehave at the TCP level.

For conversations of many turns (agent loops, standard test suites), pass
``GeminiTestServer(responder=ScriptedGemini())``: it answers each request plausibly
(function calls valid for the declared tools, JSON valid for the response schema, code runs
for arithmetic) and refuses what Gemini refuses, with Gemini's 400.

``with offline():`` runs any code against a ScriptedGemini server, no ``base_url`` needed
(``python -m langchain_gemini_codeexec.testing script.py`` does it for a whole script).
"""

import warnings
from typing import Any

from ._batch import BatchScript
from ._charts import chart_png
from ._env import has_gemini_credentials
from ._offline import offline
from ._replies import (
    Reply,
    blocked,
    code,
    error_body,
    function_call,
    grounded,
    grounding_metadata,
    image,
    merge_chunks,
    refused,
    response,
    result,
    safety_rating,
    sse_event,
    stream_chunks,
    text,
    url_context_metadata,
    usage,
    web_source,
)
from ._scripted import ScriptedGemini
from ._server import GeminiTestServer, RecordedRequest, UploadedFile, b64decode_any

__all__ = [
    "BatchScript",
    "GeminiTestServer",
    "RecordedRequest",
    "Reply",
    "ScriptedGemini",
    "UploadedFile",
    "b64decode_any",
    "blocked",
    "chart_png",
    "code",
    "error_body",
    "function_call",
    "grounded",
    "grounding_metadata",
    "has_gemini_credentials",
    "image",
    "merge_chunks",
    "offline",
    "refused",
    "response",
    "result",
    "safety_rating",
    "sse_event",
    "stream_chunks",
    "text",
    "url_context_metadata",
    "usage",
    "web_source",
]


def __getattr__(name: str) -> Any:
    # Deprecated: the demo data moved to `testing.demo` (removed from here in 0.3).
    if name in ("SUM_OF_PRIMES_PROMPT", "recorded_sum_of_primes"):
        from . import demo

        new = "sum_of_primes_chunks" if name == "recorded_sum_of_primes" else name
        warnings.warn(
            f"langchain_gemini_codeexec.testing.{name} is deprecated; use "
            f"langchain_gemini_codeexec.testing.demo.{new}",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(demo, new)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
