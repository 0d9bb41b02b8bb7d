"""Every example runs with the runtime dependencies alone (`pip install .`).

Each example runs in a fresh interpreter in which `langchain` and `langgraph` cannot be
imported (as after `pip install .`, which installs neither), offline: ~2 s of imports
each, so in the slow set; every example also has a test of what it prints that runs
in this process in the fast suite (`example_mode`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
WITHOUT_EXTRAS = """
import runpy, sys
for name in ("langchain", "langgraph", "pandas", "numpy", "matplotlib"):
    sys.modules[name] = None  # `import name` now fails, as if not installed
path = sys.argv[1]
sys.argv = sys.argv[1:]
runpy.run_path(path, run_name="__main__")
"""


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_example_runs_without_langchain_or_langgraph(example: Path, tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI")
    }
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRAS, str(example)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("Using the offline Gemini endpoint")
