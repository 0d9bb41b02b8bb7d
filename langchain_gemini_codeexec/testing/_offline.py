"""The offline switch: run any script or snippet against the bundled loopback Gemini.

``with offline():`` starts a :class:`GeminiTestServer` answered by :class:`ScriptedGemini`
and points the environment at it, so every model and ``genai.Client`` built inside (with no
``base_url`` of its own) talks to it: Google's SDK reads ``GOOGLE_GEMINI_BASE_URL`` /
``GOOGLE_VERTEX_BASE_URL``, and a placeholder ``GOOGLE_API_KEY`` stands in for the key.
The environment is restored on exit. ``python -m langchain_gemini_codeexec.testing
script.py [args]`` runs a whole script that way, unchanged.
"""

from __future__ import annotations

import os
import runpy
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from ._batch import BatchScript
from ._scripted import ScriptedGemini
from ._server import GeminiTestServer, Responder

OFFLINE_API_KEY = "offline-placeholder-key"
# Set inside the block; the rest are removed there (a real key or Vertex settings would
# otherwise choose the real endpoint, or send a real key to the loopback server).
_SET = ("GOOGLE_GEMINI_BASE_URL", "GOOGLE_VERTEX_BASE_URL", "GOOGLE_API_KEY")
_REMOVED = (
    "GEMINI_API_KEY",
    "GOOGLE_CLOUD_API_KEY",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
)


@contextmanager
def offline(responder: Responder | None = None) -> Iterator[GeminiTestServer]:
    """Answer every Gemini request made inside the block from the offline endpoint.

    ``responder`` defaults to :class:`ScriptedGemini` (plausible answers computed locally,
    never Gemini's); the server is yielded to script replies (``server.enqueue``) or read
    ``server.requests``. Batch jobs succeed at their first poll. Models built inside must
    be used inside: the server stops on exit.
    """
    saved = {name: os.environ.get(name) for name in (*_SET, *_REMOVED)}
    with GeminiTestServer(responder=responder or ScriptedGemini()) as server:
        # Batch jobs finish at the first poll: a snippet's poll loop never waits.
        server.batch.script = BatchScript(pending_polls=0, running_polls=0)
        for name in _REMOVED:
            os.environ.pop(name, None)
        os.environ["GOOGLE_GEMINI_BASE_URL"] = server.base_url
        os.environ["GOOGLE_VERTEX_BASE_URL"] = server.base_url
        os.environ["GOOGLE_API_KEY"] = OFFLINE_API_KEY
        try:
            yield server
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def main(argv: list[str] | None = None) -> int:
    """``python -m langchain_gemini_codeexec.testing script.py [args...]``."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(
            "usage: python -m langchain_gemini_codeexec.testing SCRIPT [ARGS...]\n"
            "Runs SCRIPT with every Gemini request answered by the offline endpoint."
        )
        return 0 if args else 2
    saved_argv = sys.argv
    sys.argv = list(args)
    try:
        with offline():
            runpy.run_path(args[0], run_name="__main__")
    finally:
        sys.argv = saved_argv
    return 0
