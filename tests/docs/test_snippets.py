"""Every Python snippet in README.md and docs/ runs as written, offline.

Each page is one test: its ```python blocks run in order in one namespace (a page reads
as one story, later snippets use earlier names), in an empty working directory, inside
`langchain_gemini_codeexec.testing.offline()` (the switch the pages document), so a
model built with no key or endpoint gets the bundled ScriptedGemini. Test functions a
snippet defines without fixtures are called right after it, so an example test is run, not only
defined. Sybil parses the blocks (see docs/testing.md for why Sybil); a block is left
out only by a visible `<!-- skip: next -->` comment, counted below.
"""

from __future__ import annotations

import inspect
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser, SkipParser

from langchain_gemini_codeexec.testing import offline

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
# Blocks a page shows but does not run (each says why next to it in the page).
SKIPPED_AT_MOST = 3


def _python_blocks(page: Path) -> int:
    return len(re.findall(r"^```python\s*$", page.read_text(encoding="utf-8"), re.MULTILINE))


def _run_page(page: Path) -> dict[str, Any]:
    """Run the page's blocks; a deprecated API of this package used by a page fails it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DeprecationWarning)
        namespace = _evaluate(page)
    deprecated = [
        str(w.message)
        for w in caught
        if issubclass(w.category, DeprecationWarning)
        and "deprecated" in str(w.message)
        and "removed in" in str(w.message)
    ]
    assert deprecated == [], f"{page.name} uses deprecated APIs: {deprecated}"
    return namespace


def _evaluate(page: Path) -> dict[str, Any]:
    sybil = Sybil(parsers=[PythonCodeBlockParser(), SkipParser()])
    document = sybil.parse(page)
    namespace: dict[str, Any] = document.namespace
    called: set[int] = set()
    for example in document.examples():
        example.evaluate()
        for name, value in list(namespace.items()):
            if name.startswith("test_") and inspect.isfunction(value) and id(value) not in called:
                called.add(id(value))
                if not inspect.signature(value).parameters:  # fixtures: defined, not called
                    value()
    return namespace


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_snippet_runs_offline(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with offline():
        _run_page(page)


def test_snippets_are_found_and_few_are_skipped() -> None:
    """The harness sees the blocks (a renamed fence would silently run nothing)."""
    blocks = {page.name: _python_blocks(page) for page in PAGES}
    assert blocks["README.md"] >= 1
    assert sum(blocks.values()) >= 20
    skipped = sum(page.read_text(encoding="utf-8").count("<!-- skip: next") for page in PAGES)
    assert skipped <= SKIPPED_AT_MOST


def test_a_broken_snippet_fails(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```python\nx = 1\n```\n\n```python\nassert x == 2, 'wrong'\n```\n")
    with pytest.raises(AssertionError, match="wrong"):
        _run_page(page)
    page.write_text("```python\ndef test_fails():\n    raise ValueError('ran')\n```\n")
    with pytest.raises(ValueError, match="ran"):
        _run_page(page)
    page.write_text(
        "```python\nimport warnings\n"
        "warnings.warn('f() is deprecated and will be removed in 0.3', DeprecationWarning)\n```\n"
    )
    with pytest.raises(AssertionError, match="deprecated APIs"):
        _run_page(page)
