"""The documentation site, README and SECURITY.md: short, linked, current.

`mkdocs build --strict` itself (broken links, anchors and references fail it) runs in
.ci/run; these are the checks cheap enough for the default suite.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def _nav_files(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [f for item in node for f in _nav_files(item)]
    if isinstance(node, dict):
        return [f for value in node.values() for f in _nav_files(value)]
    return []


def _hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "_hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_fits_on_two_screens() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 160


def test_every_docs_file_the_readme_names_exists() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(docs/[\w/.-]+)`", readme))
    assert len(named) >= 10
    assert sorted(n for n in named if not (ROOT / n).exists()) == []
    for name in re.findall(r"`([\w.]+\.py)`", readme):  # the examples it lists
        assert (ROOT / "examples" / name).exists() or (ROOT / "benchmarks" / name).exists()


def test_the_nav_lists_every_page() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    nav = set(_nav_files(config["nav"]))
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert pages - nav == set()
    assert nav - pages == set()


def test_every_test_security_md_names_exists() -> None:
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    named = re.findall(r"`(?:([\w/]+\.py)::)?(test_\w+)`|`([\w/]+\.py)`", text)
    sources = {
        p.relative_to(ROOT / "tests").as_posix(): p.read_text()
        for p in (ROOT / "tests").rglob("test_*.py")
    }
    current = ""
    missing = []
    for path, test, file_only in named:
        if file_only:
            if file_only.startswith(("reliability/", "tool/", "replay/", "docs/")):
                assert file_only in sources, file_only
            continue
        current = path or current
        if not re.search(rf"def {test}\(", sources.get(current, "")):
            missing.append(f"{current}::{test}")
    assert len(named) >= 20
    assert missing == []


def test_the_pages_pictures_are_current() -> None:
    chart, html = _hooks().render_quickstart()
    assert (DOCS / "assets" / "quickstart-chart.png").read_bytes() == chart
    assert len(chart) < 4096  # small enough to commit
    assert html.count("<img") == 1 and "sum=5117" in html and "OUTCOME_OK" in html
