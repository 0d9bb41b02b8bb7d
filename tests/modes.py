"""The HTTP paths and call modes tests are parametrized over.

Nothing heavy is imported here: `tests/conftest.py` reads these when pytest starts, before
any worker needs google-genai or LangChain (`tests/support.py` re-exports them).
"""

from __future__ import annotations

import pytest

SYNC_TRANSPORTS = ("httpx2", "httpx")
ASYNC_TRANSPORTS = ("aiohttp", "httpx2", "httpx")
# One call through invoke, stream, and the async calls on each async transport.
TRANSPORT_MODES = (
    "invoke",
    "stream",
    *(f"ainvoke-{t}" for t in ASYNC_TRANSPORTS),
    *(f"astream-{t}" for t in ASYNC_TRANSPORTS),
)
# One sync and one async HTTP path (the SDK's defaults, checked): where the HTTP library
# does not matter. Tests where it does (transport, timeouts, streaming, faults) are marked
# `every_http_path` and get all of TRANSPORT_MODES.
CONTRACT_MODES = ("invoke", "stream", "ainvoke-aiohttp", "astream-aiohttp")
# The same, with the SDK's default transports only.
CALL_MODES = ("invoke", "stream", "ainvoke", "astream")

SYNC_PATHS = ("sync-httpx2", "sync-httpx")
ASYNC_PATHS = ("async-aiohttp", "async-httpx2", "async-httpx")
PATHS = SYNC_PATHS + ASYNC_PATHS

# How an example test runs the script: in this process (fast) or in a fresh interpreter as
# a user runs it (slow: ~2 s of imports each; `.ci/run` runs the slow set too).
EXAMPLE_MODES = ("in-process", pytest.param("subprocess", marks=pytest.mark.slow))
