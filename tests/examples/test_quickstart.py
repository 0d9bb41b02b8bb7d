"""The README's quick start runs offline and shows the answer, the run and its outcome."""

from __future__ import annotations

from pathlib import Path

from tests.support import ROOT, run_example

QUICKSTART = ROOT / "examples" / "quickstart.py"


def test_quickstart_runs_offline_and_says_so(example_mode: str, tmp_path: Path) -> None:
    done = run_example(example_mode, QUICKSTART, tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Using the offline Gemini endpoint")
    assert "OUTCOME_OK" in done.stdout
    assert "sum=5117" in done.stdout
    assert "5117" in done.stdout.split("Answer:")[1]


def test_offline_flag_wins_over_a_stale_key_and_the_chart_is_saved(
    example_mode: str, tmp_path: Path
) -> None:
    stale = {"GOOGLE_API_KEY": "stale-key-that-would-fail-0123456789"}
    done = run_example(example_mode, QUICKSTART, tmp_path, "--offline", env=stale)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Using the offline Gemini endpoint (--offline): a scripted answer")
    (chart,) = (tmp_path / "quickstart_output").iterdir()
    assert chart.read_bytes().startswith(b"\x89PNG") and chart.read_bytes().endswith(
        b"IEND\xaeB`\x82"
    )
    assert f"chart saved to {Path('quickstart_output') / chart.name}" in done.stdout
    assert "code run 2 (python): OUTCOME_OK" in done.stdout
