"""The batch benchmark keeps working: `python -m benchmarks.batch --quick` runs every row.

No timing or memory bar is asserted (the full benchmark judges those); the request counts
are exact, since they are a promise of docs/batch.md.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_batch_benchmark_quick_run() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.batch", "--quick", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.splitlines()[-1])
    for row in ("mapping", "memory"):
        assert math.isfinite(figures[row]["ratio"]) and figures[row]["ratio"] > 0
    assert figures["requests"] == {
        "inline": {"create": 1, "poll": 2},
        "file": {"upload": 2, "create": 1, "poll": 2, "download": 1},
    }
