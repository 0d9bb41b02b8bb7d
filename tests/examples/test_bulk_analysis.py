"""examples/bulk_analysis.py runs offline: 300 tasks as one batch job, all answered."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support import ROOT, run_example


def test_bulk_analysis_runs_offline_and_says_so(example_mode: str, tmp_path: Path) -> None:
    done = run_example(example_mode, ROOT / "examples" / "bulk_analysis.py", tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Using the offline Gemini endpoint")
    assert "Job BATCH_STATE_SUCCEEDED: 300 succeeded, 0 failed." in done.stdout
    assert "Answered 300 of 300; 300 with the expected mean" in done.stdout
    assert re.search(r"Cost: \$0\.\d+ at the batch rate for 300 answers\.", done.stdout)
    # Progress: a log line per poll (tqdm is optional and not installed here) or a bar.
    assert "requests done" in done.stderr or "req" in done.stderr
