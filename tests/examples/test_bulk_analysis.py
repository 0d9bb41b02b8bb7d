"""examples/bulk_analysis.py runs offline: 300 tasks as one batch job, all answered."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bulk_analysis_runs_offline_and_says_so(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("GOOGLE_API_KEY", "GEMINI_API_KEY")}
    env.pop("GOOGLE_GENAI_USE_VERTEXAI", None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "bulk_analysis.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Using the offline Gemini endpoint")
    assert "Job BATCH_STATE_SUCCEEDED: 300 succeeded, 0 failed." in done.stdout
    assert "Answered 300 of 300; 300 with the expected mean" in done.stdout
    # Progress: a log line per poll (tqdm is optional and not installed here) or a bar.
    assert "requests done" in done.stderr or "req" in done.stderr
