"""The package's shape: sync/async twins stay at the I/O edge and in the public entry points.

A twin pair is a function or method `x` next to `ax` (or `_x` next to `_ax`) in the same
module or class. Decisions are written once, as generators driven by the transport's two
drivers (`_transport/flow.py`); what stays twinned is listed in docs/architecture.md.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import langchain_gemini_codeexec

PACKAGE = Path(langchain_gemini_codeexec.__file__).parent

# 55 pairs at the layout move (issue 17), 59 with caching.py's public functions; the
# ceiling follows each step of the sans-IO flows down. +1: PortableHistoryMiddleware's
# wrap_model_call / awrap_model_call, LangChain's own hook pair (each one line over one
# shared decision, `_for_model`). 40 -> 33: the deprecated aliases are one table of
# `DeprecatedAlias` attributes, not hand-written method pairs (run_sdk_call's pair became
# the aliases' module-level targets). 33 -> 27: retries (`RetryPolicy.retried`) and the
# single-flight gate (`SingleFlight.run`, `UploadCache.get`) are flows; the drivers run
# each step kind themselves, so the transport's per-step pairs (send, SDK call, open a
# download) are gone and only the drivers, one fetch and the SSE stream stay twinned.
MAX_TWIN_PAIRS = 27


def _function_names(body: list[ast.stmt]) -> set[str]:
    return {n.name for n in body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def twin_pairs(source: str) -> list[tuple[str, str, str]]:
    """(scope, x, ax) for every twin pair in one module's source."""
    tree = ast.parse(source)
    scopes = [("<module>", tree.body)]
    scopes += [(n.name, n.body) for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    pairs = []
    for scope, body in scopes:
        names = _function_names(body)
        for name in sorted(names):
            twin = f"_a{name[1:]}" if name.startswith("_") else f"a{name}"
            if twin in names:
                pairs.append((scope, name, twin))
    return pairs


def count_by_module() -> Counter[str]:
    counts: Counter[str] = Counter()
    for path in sorted(PACKAGE.rglob("*.py")):
        found = twin_pairs(path.read_text(encoding="utf-8"))
        if found:
            counts[str(path.relative_to(PACKAGE))] += len(found)
    return counts


def test_the_counter_finds_module_and_method_twins_only() -> None:
    source = """
def send(): ...
async def asend(): ...
def _read(): ...
async def _aread(): ...
def alone(): ...
class Job:
    def poll(self): ...
    async def apoll(self): ...
    def __enter__(self): ...
    async def __aenter__(self): ...
    def refresh(self): ...
def poll(): ...
"""
    assert twin_pairs(source) == [
        ("<module>", "_read", "_aread"),
        ("<module>", "send", "asend"),
        ("Job", "poll", "apoll"),
    ]


def test_twin_pairs_stay_at_or_below_the_ceiling() -> None:
    counts = count_by_module()
    total = sum(counts.values())
    assert total <= MAX_TWIN_PAIRS, (
        f"{total} sync/async twin pairs (ceiling {MAX_TWIN_PAIRS}): write the decision once "
        f"as a flow (see _transport/flow.py) instead of twinning it; by module: {dict(counts)}"
    )
