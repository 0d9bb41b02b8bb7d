"""Each example runs offline (as a user would run it) and shows what it promises."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.support import ROOT, run_example


def run(mode: str, name: str, cwd: Path, *args: str) -> list[str]:
    done = run_example(mode, ROOT / "examples" / name, cwd, *args)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(
        "Using the offline Gemini endpoint (no GOOGLE_API_KEY/GEMINI_API_KEY set)"
    )
    return lines


def test_csv_analysis_prints_numbers_and_saves_the_chart(example_mode: str, tmp_path: Path) -> None:
    out = tmp_path / "charts"
    lines = run(example_mode, "csv_analysis.py", tmp_path, "--out", str(out))
    stdout = "\n".join(lines)
    # The numbers come from the bundled CSV (the offline Gemini computed them from the
    # bytes the tool sent), so check them against the file here.
    with (ROOT / "examples" / "data" / "sales.csv").open() as handle:
        total = sum(float(row["revenue_eur"]) for row in csv.DictReader(handle))
    assert f"Total: {total:,.2f}" in stdout
    assert "Code run 1 of 2 (python): OUTCOME_OK" in stdout
    (chart,) = out.iterdir()
    assert chart.name == "chart-2-1.png" and chart.read_bytes().startswith(b"\x89PNG")
    assert f"chart saved to {chart}" in stdout


def test_agent_with_retrieval_looks_up_then_computes(example_mode: str, tmp_path: Path) -> None:
    lines = run(example_mode, "agent_with_retrieval.py", tmp_path)
    calls = [line for line in lines if line.startswith("[agent] calls")]
    assert [c.split("(")[0] for c in calls] == [
        "[agent] calls search_documents",
        "[agent] calls gemini_code_execution",
    ]
    assert "48.2" in calls[1] and "61.7" in calls[1] and "310" in calls[1] and "365" in calls[1]
    per_2023, per_2024 = 48.2e6 / 310, 61.7e6 / 365
    change = (per_2024 / per_2023 - 1) * 100
    final = next(line for line in lines if line.startswith("Final answer:"))
    assert f"{change:+.2f}%" in final and f"{per_2024:,.2f}" in final


def test_multi_step_workflow_uses_the_report(example_mode: str, tmp_path: Path) -> None:
    lines = run(example_mode, "multi_step_workflow.py", tmp_path, "--out", str(tmp_path / "out"))
    steps = [line.split("]")[0] + "]" for line in lines if line.startswith("[")]
    assert steps == ["[describe_data]", "[compute]", "[check]", "[summarize]"]
    stdout = "\n".join(lines)
    assert "failed run(s), e.g. KeyError: 'temp'" in stdout
    assert "Warming fastest: Valley." in stdout
    assert "2 code run(s) in 1 attempt(s)" in stdout


def test_dataset_session_caches_the_csv_once_and_bills_it_from_cache(
    example_mode: str, tmp_path: Path
) -> None:
    out = tmp_path / "session"
    lines = run(example_mode, "dataset_session.py", tmp_path, "--out", str(out))
    rows = [line.split() for line in lines if line[:2].strip().isdigit()]
    assert [int(r[0]) for r in rows] == list(range(1, 11))
    full = [int(r[1].replace(",", "")) for r in rows]
    cached = [int(r[2].replace(",", "")) for r in rows]
    size = (out / "readings.csv").stat().st_size
    # The README's token rule: the file's bytes / 4, plus the instructions and descriptions.
    assert len(set(cached)) == 1 and size // 4 < cached[0] < size // 4 + 500
    assert all(f < cached[0] / 100 for f in full)
    # The numbers come from the CSV the cache holds: check two against the file.
    with (out / "readings.csv").open() as handle:
        data = list(csv.DictReader(handle))
    assert rows[0][-1] == f"{len(data)}."
    share = 100 * sum(r["site"] == "Airport" for r in data) / len(data)
    assert rows[9][-1] == f"{share:.1f}."
    assert f"file bytes in the cache creation {size:,}; in the ten questions 0." in lines[-1]
    assert "Caches deleted at the end: 1" in lines
    spent = next(line for line in lines if line.startswith("Cost: $"))
    assert "caching saved $" in spent and "no storage price" in "\n".join(lines)
