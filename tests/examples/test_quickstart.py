"""The README's main job runs offline and shows the answer, the run and its outcome."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quickstart_runs_offline_and_says_so(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("GOOGLE_API_KEY", "GEMINI_API_KEY")}
    env.pop("GOOGLE_GENAI_USE_VERTEXAI", None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Using the offline Gemini endpoint")
    assert "OUTCOME_OK" in done.stdout
    assert "sum=5117" in done.stdout
    assert "5117" in done.stdout.split("Answer:")[1]
