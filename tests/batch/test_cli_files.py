"""The batch CLI's files: one run's files whatever the re-runs, no id collides with another
file, nothing written through a link planted (or re-planted during the run) under an
output's name. Through the real SDK over HTTP to the loopback server's Batch API.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from langchain_gemini_codeexec.batch._cli import main
from langchain_gemini_codeexec.testing import BatchScript, GeminiTestServer, Reply

from .test_batch_vertex_cli import PNG, _chart_answer


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "cli-test-key-0123456789")


def _tasks(tmp_path: Path, ids: list[str]) -> Path:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("".join(json.dumps({"id": i, "prompt": f"chart {i}"}) + "\n" for i in ids))
    return tasks


def _args(tasks: Path, out: Path, server: GeminiTestServer, *more: str) -> list[str]:
    return [str(tasks), str(out), "--base-url", server.base_url, "--poll-interval", "0.01",
            "--no-progress", *more]  # fmt: skip


def _files(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*"))


# --- 7. a re-run or resume leaves exactly one run's files -----------------------------------


def test_reruns_and_resumes_leave_exactly_one_runs_files(
    tmp_path: Path, server: GeminiTestServer
) -> None:
    ids = [f"t{i:02d}" for i in range(30)] + ["bad-fail"]
    tasks, out = _tasks(tmp_path, ids), tmp_path / "out"
    server.responder = _chart_answer
    server.batch.script = BatchScript(pending_polls=40)
    assert main([*_args(tasks, out, server), "--timeout", "0.1"]) == 3  # still running
    state = json.loads((out / "job.json").read_text())
    server.batch.jobs[state["name"]].script = BatchScript()
    assert main(_args(tasks, out, server)) == 1  # resumed: the failing task failed
    once = _files(out)
    # job.json, tasks/, unmatched/, a folder per task: report.json + charts/chart-1-1.png
    # (or error.json for the failing one)
    assert len(once) == 3 + 31 + 30 * 3 + 1
    for _ in range(3):
        assert main(_args(tasks, out, server)) == 1
        assert _files(out) == once
    # A run that died half way leaves temporary folders; the next run clears them.
    (out / "tasks" / ".t00.new-dead0001").mkdir()
    (out / "tasks" / ".t01.old-dead0002").mkdir()
    (out / "tasks" / ".t01.old-dead0002" / "report.json").write_text("{}")
    assert main(_args(tasks, out, server)) == 1
    assert _files(out) == once
    assert (out / "tasks/t07/charts/chart-1-1.png").read_bytes() == PNG


# --- 8. no id collides with the CLI's files or another task's -------------------------------


def test_ids_named_like_the_clis_files_or_each_others_never_collide(
    tmp_path: Path, server: GeminiTestServer
) -> None:
    ids = ["job", "job.json", "tasks", "unmatched", "x", "x.error", "x-charts", "report"]
    tasks, out = _tasks(tmp_path, ids), tmp_path / "out"
    server.responder = _chart_answer
    assert main(_args(tasks, out, server)) == 0
    for task_id in ids:
        report = json.loads((out / "tasks" / task_id / "report.json").read_text())
        assert report["key"] == task_id and report["answer"] == f"done: chart {task_id}"
    state = json.loads((out / "job.json").read_text())
    assert state["keys"] == ids
    assert main(_args(tasks, out, server)) == 0  # the resume still reads its state
    assert sorted(p.name for p in (out / "tasks").iterdir()) == sorted(ids)


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (["Sales", "sales"], "ids must differ in more than case"),
        (["con"], "Windows reserves"),
        (["aux.txt"], "Windows reserves"),
        (["trailing."], "must not end with '.'"),
        (["caf\u00e9"], "ASCII"),
        (["a\u0301"], "ASCII"),
        ([".hidden"], "ASCII"),
        (["a/b"], "ASCII"),
        (["x" * 101], "ASCII"),
    ],
)
def test_colliding_or_unsafe_ids_are_refused_before_submitting(
    tmp_path: Path,
    server: GeminiTestServer,
    capsys: pytest.CaptureFixture[str],
    ids: list[str],
    message: str,
) -> None:
    tasks, out = _tasks(tmp_path, ids), tmp_path / "out"
    assert main(_args(tasks, out, server)) == 2
    assert message in capsys.readouterr().err
    assert server.requests == [] and not out.exists()


@pytest.mark.parametrize(
    "state",
    [
        [],
        {"name": None, "keys": ["a"]},
        {"name": 5, "display_name": "d", "keys": ["a"]},
        {"name": None, "display_name": "d", "keys": "a"},
        {"name": None, "display_name": "d", "keys": ["../../evil"]},
        {"name": None, "display_name": "d", "keys": ["a", "A"]},
    ],
)
def test_a_state_file_of_another_shape_is_refused_clearly(
    tmp_path: Path, server: GeminiTestServer, capsys: pytest.CaptureFixture[str], state: Any
) -> None:
    tasks, out = _tasks(tmp_path, ["a"]), tmp_path / "out"
    out.mkdir()
    (out / "job.json").write_text(json.dumps(state))
    assert main(_args(tasks, out, server)) == 2
    err = capsys.readouterr().err
    assert "job.json" in err and "Traceback" not in err
    assert server.requests == []


def test_results_whose_keys_are_no_tasks_go_to_unmatched(
    tmp_path: Path, server: GeminiTestServer
) -> None:
    """A results file naming other keys (`../../evil`, `job`) writes them under unmatched/,
    numbered (a second answer for `a` is dropped with a warning, as `results()` does); the
    tasks' folders and job.json are untouched by them."""
    tasks, out = _tasks(tmp_path, ["a", "b"]), tmp_path / "out"
    server.responder = _chart_answer
    server.batch.script = BatchScript(output="file")
    original = server.batch.answer

    def hostile(req: Any) -> Reply | None:
        answer = original(req)
        if answer is not None and req.path.endswith(":download") and answer.raw_body:
            lines = answer.raw_body.splitlines()
            extra = [
                line.replace(b'"key":"a"', b'"key":"' + key + b'"')
                for key in (b"../../evil", b"job", b"a")
                for line in lines
                if b'"key":"a"' in line
            ]
            return Reply.raw(200, b"\n".join([*lines, *extra]) + b"\n")
        return answer

    server.batch.answer = hostile  # type: ignore[method-assign]
    assert main(_args(tasks, out, server)) == 0
    unmatched = sorted(p.name for p in (out / "unmatched").iterdir())
    assert len(unmatched) == 2
    reports = [json.loads((out / "unmatched" / n / "report.json").read_text()) for n in unmatched]
    keys = {report["key"] for report in reports}
    assert keys == {"../../evil", "job"}
    assert sorted(p.name for p in (out / "tasks").iterdir()) == ["a", "b"]
    assert json.loads((out / "job.json").read_text())["keys"] == ["a", "b"]
    assert not (tmp_path / "evil").exists()


# --- 9. nothing written through a link, even one re-planted during the run ------------------


def test_links_replanted_during_the_run_are_never_written_through(
    tmp_path: Path, server: GeminiTestServer
) -> None:
    """A thread keeps swapping the task folders, their temporary folders' entries and
    charts folders for links to another directory while the CLI writes: nothing lands
    there (the CLI may refuse a folder swapped under it: exit 2, saying so)."""
    ids = [f"t{i:02d}" for i in range(40)]
    tasks, out = _tasks(tmp_path, ids), tmp_path / "out"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "tasks").mkdir(parents=True)
    server.responder = _chart_answer
    stop = threading.Event()
    planted = [0]

    def plant(path: Path) -> None:
        try:
            if path.exists() and not path.is_symlink():
                path.rename(path.with_name(f"moved-{planted[0]}-{path.name}"))
            path.symlink_to(elsewhere, target_is_directory=True)
            planted[0] += 1
        except OSError:
            pass

    def attack() -> None:
        while not stop.is_set():
            for entry in list((out / "tasks").iterdir()):
                if entry.name.startswith(".") and not entry.is_symlink():
                    for name in ("charts", "report.json", "error.json"):
                        plant(entry / name)
                elif not entry.name.startswith("moved-"):
                    plant(entry)

    thread = threading.Thread(target=attack, daemon=True)
    thread.start()
    try:
        code = main(_args(tasks, out, server))
    finally:
        stop.set()
        thread.join()
    assert code in (0, 2)
    assert list(elsewhere.iterdir()) == [], "an output went through a link"
    assert planted[0] > 0
    # The attack over, a re-run leaves one run's clean files.
    for entry in (out / "tasks").iterdir():
        if entry.is_symlink():
            entry.unlink()
    assert main(_args(tasks, out, server)) == 0
    assert sorted(p.name for p in (out / "tasks").iterdir()) == ids
    assert all((out / "tasks" / i / "charts" / "chart-1-1.png").read_bytes() == PNG for i in ids)
    assert list(elsewhere.iterdir()) == []


def test_a_tasks_folder_that_is_a_link_is_refused(
    tmp_path: Path, server: GeminiTestServer, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks, out = _tasks(tmp_path, ["a"]), tmp_path / "out"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out.mkdir()
    os.symlink(elsewhere, out / "tasks")
    server.responder = _chart_answer
    assert main(_args(tasks, out, server)) == 2
    assert "tasks is a link" in capsys.readouterr().err
    assert list(elsewhere.iterdir()) == []
