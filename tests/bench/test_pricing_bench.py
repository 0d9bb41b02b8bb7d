"""`python -m benchmarks.pricing --quick` runs and reports pricing's share of an invoke.

No timing is asserted (a busy machine would make it flaky): the full run's figure is in
docs/cost.md; this checks the benchmark still measures what it says.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_pricing_benchmark_reports_the_overhead() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.pricing", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    share = re.search(r"pricing overhead per call: ([\d.]+)% of a short invoke", done.stdout)
    assert share is not None, done.stdout
    assert float(share.group(1)) > 0
    assert re.search(r"pricing one answer: +[\d.]+ us", done.stdout)
