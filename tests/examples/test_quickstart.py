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


def test_offline_flag_wins_over_a_stale_key_and_the_chart_is_saved(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GEMINI_API_KEY"}
    env["GOOGLE_API_KEY"] = "stale-key-that-would-fail-0123456789"
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py"), "--offline"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Using the offline Gemini endpoint (--offline): a scripted answer")
    (chart,) = (tmp_path / "quickstart_output").iterdir()
    assert chart.read_bytes().startswith(b"\x89PNG") and chart.read_bytes().endswith(
        b"IEND\xaeB`\x82"
    )
    assert f"chart saved to {Path('quickstart_output') / chart.name}" in done.stdout
    assert "code run 2 (python): OUTCOME_OK" in done.stdout
