"""Packaging: one version, a license, classifiers, README links that work on PyPI, a
clean sdist."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import langchain_gemini_codeexec

ROOT = Path(__file__).resolve().parents[2]


def _project() -> dict[str, object]:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project: dict[str, object] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project


def test_one_version() -> None:
    meta = _project()
    assert "version" not in meta and meta["dynamic"] == ["version"]
    installed = importlib.metadata.version("langchain-gemini-codeexec")
    assert installed == langchain_gemini_codeexec.__version__


def test_license_and_classifiers() -> None:
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    meta = _project()
    assert meta["license"] == "MIT" and meta["license-files"] == ["LICENSE"]
    classifiers = meta["classifiers"]
    assert isinstance(classifiers, list)
    assert "Programming Language :: Python :: 3.10" in classifiers
    assert "Typing :: Typed" in classifiers


def test_readme_links_are_absolute() -> None:
    """PyPI shows the README without the repository: a relative link would be broken."""
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\(([^)\s]+)\)", readme)
    relative = [link for link in links if not link.startswith(("https://", "http://", "#"))]
    # Image data URLs and code examples inside fences are not links to files.
    assert [link for link in relative if not link.startswith("data:")] == []


@pytest.mark.slow  # builds both in a fresh interpreter
def test_sdist_and_wheel(tmp_path: Path) -> None:
    pytest.importorskip("hatchling")
    done = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-d", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    (sdist,) = tmp_path.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    assert not [n for n in names if "/.ci/" in n or "/.venv/" in n or "__pycache__" in n]
    assert any(n.endswith("/LICENSE") for n in names)
    assert any(n.endswith("/examples/quickstart.py") for n in names)
    (wheel,) = tmp_path.glob("*.whl")
    wheel_names = zipfile.ZipFile(wheel).namelist()
    assert any(n.endswith("licenses/LICENSE") for n in wheel_names)
    metadata = (
        zipfile.ZipFile(wheel).read(next(n for n in wheel_names if n.endswith("METADATA"))).decode()
    )
    assert f"Version: {langchain_gemini_codeexec.__version__}" in metadata
    assert "Classifier: Typing :: Typed" in metadata
