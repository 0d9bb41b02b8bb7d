"""The benchmark keeps working: `python -m benchmarks.run --quick` runs every scenario.

No timing is asserted (speed is judged by the full benchmark, not by tests): only that the
command succeeds, prints every row of the table, and measured every contender it should.
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PEER = importlib.util.find_spec("langchain_google_genai") is not None

# A few minutes of benchmark runs: `python -m pytest -m slow` (and .ci/run) runs them.
pytestmark = pytest.mark.slow

# Every row of the quick run, with the contenders measured on it besides the raw SDK.
EXPECTED_ROWS = {
    "short invoke of a code-execution answer": {"ours", "floor"},
    "long history: 3 exchanges with code, result, 2 KB chart": {"ours"},
    "stream of 20 chunks: first chunk": {"ours", "floor"},
    "stream of 20 chunks: aggregated message": {"ours", "floor"},
    "10 concurrent ainvoke: throughput": {"ours", "floor"},
    "cold start: import + construct + first call, fresh process": {"ours"},
    "peak memory (tracemalloc) of the 3-exchange history call": {"ours"},
    "growth: history of 2 exchanges": {"ours"},
    "growth: history of 4 exchanges": {"ours"},
    "growth: history of 8 exchanges": {"ours"},
    "growth: history of 16 exchanges": {"ours"},
    "growth: wall time per exchange at 16 / at 2": {"ours"},
    "growth: client CPU per exchange at 16 / at 2 (1.0 = linear)": {"ours"},
}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    out = tmp_path_factory.mktemp("bench") / "quick.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout, json.loads(out.read_text())


@pytest.mark.timeout(900)
def test_quick_run_prints_every_row(quick_run: tuple[str, dict]) -> None:
    stdout, _ = quick_run
    table = [line for line in stdout.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| scenario | unit | baseline | ours | ours / baseline |")
    printed = [line.split(" | ")[0].removeprefix("| ") for line in table[1:]]
    assert printed == list(EXPECTED_ROWS)


@pytest.mark.timeout(900)
def test_quick_run_measures_every_contender(quick_run: tuple[str, dict]) -> None:
    _, report = quick_run
    rows = {row["scenario"]: row for row in report["rows"]}
    assert set(rows) == set(EXPECTED_ROWS)
    for scenario, others in EXPECTED_ROWS.items():
        values = rows[scenario]["values"]
        wanted = {"sdk", *others} | ({"lc_google_genai"} if PEER else set())
        assert wanted <= set(values), (scenario, sorted(values))
        for name, value in values.items():
            assert isinstance(value, float) and math.isfinite(value) and value > 0, (
                scenario,
                name,
                value,
            )


@pytest.mark.timeout(900)
def test_quick_run_checked_that_everyone_sent_the_same_history(
    quick_run: tuple[str, dict],
) -> None:
    stdout, report = quick_run
    assert "- sdk: 7 contents, 3 charts" in stdout
    assert "- ours: 7 contents, 3 charts" in stdout
    assert ("- lc_google_genai: 7 contents, 3 charts" in stdout) == PEER
    assert report["machine"]["google-genai"] != "-"
