"""The HTTP paths and call modes tests are parametrized over, and the modules run first.

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
# `every_http_path` and get all of TRANSPORT_MODES. The fast suite calls once per HTTP stack,
# invoke on the sync one and astream on the async one (both drivers, both answer shapes;
# the mapping's invoke == stream is a property test); the slow set adds the other two.
CONTRACT_MODES = (
    "invoke",
    "astream-aiohttp",
    pytest.param("stream", marks=pytest.mark.slow),
    pytest.param("ainvoke-aiohttp", marks=pytest.mark.slow),
)
# The same, with the SDK's default transports only.
CALL_MODES = ("invoke", "stream", "ainvoke", "astream")

SYNC_PATHS = ("sync-httpx2", "sync-httpx")
ASYNC_PATHS = ("async-aiohttp", "async-httpx2", "async-httpx")
PATHS = SYNC_PATHS + ASYNC_PATHS

# How an example test runs the script: in this process (fast) or in a fresh interpreter as
# a user runs it (slow: ~2 s of imports each; `.ci/run` runs the slow set too).
EXAMPLE_MODES = ("in-process", pytest.param("subprocess", marks=pytest.mark.slow))

# Modules whose tests wait for real time (timeouts that must elapse, trickled answers, retry
# delays, races): collected first, so that their waits overlap the CPU-bound rest of the
# suite instead of being the last thing a worker does (tests/unit/test_suite_order.py
# checks that each still exists).
RUN_FIRST = (
    "reliability/test_transport_promises.py",
    "reliability/test_faults.py",
    "batch/test_download_promises.py",
    "reliability/test_retries.py",
    "reliability/test_transport_audit.py",
    "protocol/test_config.py",
    "batch/test_batch_sync.py",
    "batch/test_batch_async.py",
    "docs/test_snippets.py",
    "tool/test_confinement.py",
    "replay/test_cassette_attacks.py",
    "replay/test_pytest_plugin.py",
)
