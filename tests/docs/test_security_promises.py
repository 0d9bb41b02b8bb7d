"""SECURITY.md's first promise: the package itself never runs code (the model's code runs
only in Google's sandbox)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "langchain_gemini_codeexec"
RUNS_CODE = {"exec", "eval", "compile", "__import__", "breakpoint"}
RUNS_PROGRAMS = {"subprocess", "pty", "runpy", "code", "codeop"}
OS_RUNS = ("system", "popen", "exec", "spawn", "fork", "posix_spawn", "startfile")
# `python -m langchain_gemini_codeexec.testing script.py` runs the script its user names.
ALLOWED = {("testing/_offline.py", "runpy")}


def _offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = path.relative_to(PACKAGE).as_posix()
    found = []
    for node in ast.walk(tree):
        func = node.func if isinstance(node, ast.Call) else None
        if isinstance(func, ast.Name) and func.id in RUNS_CODE:
            found.append(f"{where}:{node.lineno} calls {func.id}")
        owner = node.value if isinstance(node, ast.Attribute) else None
        if isinstance(owner, ast.Name) and owner.id == "os" and node.attr.startswith(OS_RUNS):
            found.append(f"{where}:{node.lineno} uses os.{node.attr}")
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module.split(".")[0]]
        for name in names:
            if name in RUNS_PROGRAMS and (where, name) not in ALLOWED:
                found.append(f"{where}:{node.lineno} imports {name}")
    return found


def test_the_package_never_runs_code() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 20
    assert [o for f in files for o in _offences(f)] == []


def test_the_scan_catches_each_way_of_running_code(tmp_path: Path) -> None:
    global PACKAGE
    saved, PACKAGE = PACKAGE, tmp_path
    try:
        for source in (
            "exec(answer)",
            "eval(code)",
            "import subprocess",
            "from subprocess import run",
            "import os\nos.system(cmd)",
            "import os\nos.execv(a, b)",
        ):
            bad = tmp_path / "bad.py"
            bad.write_text(source + "\n")
            assert _offences(bad), source
        (tmp_path / "good.py").write_text("import re\nre.compile('x')\nast_eval = 1\n")
        assert _offences(tmp_path / "good.py") == []
    finally:
        PACKAGE = saved
