"""`python -m langchain_gemini_codeexec.batch`: a JSONL of tasks in, one report per task out.

    python -m langchain_gemini_codeexec.batch tasks.jsonl out/ [--files-dir data/]

Each line of `tasks.jsonl` is `{"prompt": "...", "id": "optional-name", "files": ["a.csv"]}`;
files are read from `--files-dir` and sent with the prompt. The job is submitted once: its
name and keys go to `out/job.json` first, so running the same command again (after a crash,
a timeout, a closed laptop) attaches to that job instead of submitting a second one. When
the job has ended, each task has its own folder `out/tasks/<id>/`: `report.json` (its
`CodeExecutionReport`) and `charts/`, or `error.json` (why it failed). A result whose key
is none of the tasks' goes to `out/unmatched/<n>/`.

A task id is ASCII letters, digits, `.`, `_`, `-` (not a Windows device name, not
ending in `.`), unique even ignoring case, so no id can name the CLI's own files or
another task's folder; a bad or colliding id is refused before anything is submitted.
A task's folder is written whole under a temporary name and then renamed into place
(the previous run's folder removed), so a re-run leaves exactly the files one run leaves.
Everything is written relative to directory descriptors opened without following links:
nothing is written through a link planted under an output's name, and a linked
`job.json` or `tasks` is refused.

Exit status: 0 all tasks answered, 1 some failed, 2 the job ended failed/cancelled/expired
or the command was used wrongly, 3 still running at `--timeout` (run it again later).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import logging
import mimetypes
import os
import re
import secrets
import stat
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.messages import HumanMessage

from langchain_gemini_codeexec._core.checks import MAX_POLL_INTERVAL, MAX_WAIT, check_duration
from langchain_gemini_codeexec.batch import GeminiBatchJob, submit_batch
from langchain_gemini_codeexec.errors import (
    BatchJobError,
    BatchTimeoutError,
    GeminiCodeExecutionError,
)
from langchain_gemini_codeexec.report import CodeExecutionReport
from langchain_gemini_codeexec.report._save import extension

STATE_FILE = "job.json"
TASKS_DIR = "tasks"
UNMATCHED_DIR = "unmatched"
_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,99}$", re.ASCII)
# Names Windows reserves for devices, whatever the extension ("con.txt" included).
_DEVICES = frozenset(
    {"con", "prn", "aux", "nul"} | {f"{p}{n}" for p in ("com", "lpt") for n in range(1, 10)}
)
_DIR = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


def id_problem(task_id: Any) -> str | None:
    """Why `task_id` cannot name a task's folder, or None."""
    if not isinstance(task_id, str) or not _ID.match(task_id):
        return (
            "must be 1-100 ASCII letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if task_id.endswith("."):
        return "must not end with '.'"
    if task_id.split(".", 1)[0].lower() in _DEVICES:
        return "is a name Windows reserves for a device"
    return None


def _replace_file(path: Path, text: str) -> None:
    """Write `path` whole, never through a link planted under its name: the text goes to a
    new temporary file beside it (created exclusively), which then replaces the name
    (`os.replace` renames over a link, it does not follow it). A re-run overwrites its
    own earlier output this way; a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_state(path: Path) -> dict[str, Any] | None:
    """The recorded job of an earlier run, if any; a link in its place is refused, not read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OSError(f"{path} is a link or cannot be read ({exc}); remove it") from exc
    with os.fdopen(fd, encoding="utf-8") as handle:
        state = json.load(handle)
    _check_state(path, state)
    return state  # type: ignore[no-any-return]


def _check_state(path: Path, state: Any) -> None:
    """A state file of another shape (edited, or not ours) is refused, naming what is wrong."""
    if not isinstance(state, dict):
        raise ValueError(f"{path} is not a job state object; remove it to submit again")
    name, display, keys = state.get("name"), state.get("display_name"), state.get("keys")
    if name is not None and not isinstance(name, str):
        raise ValueError(f"{path}: 'name' must be a job name or null, got {name!r:.80}")
    if not isinstance(display, str):
        raise ValueError(f"{path}: 'display_name' must be a string, got {display!r:.80}")
    if not isinstance(keys, list) or not keys:
        raise ValueError(f"{path}: 'keys' must be the list of task ids")
    seen: set[str] = set()
    for key in keys:
        problem = id_problem(key)
        if problem or key.lower() in seen:
            raise ValueError(f"{path}: task id {key!r:.80} {problem or 'repeats (ignoring case)'}")
        seen.add(key.lower())


class TaskError(ValueError):
    """A line of the tasks file cannot be run; names the line."""


def read_tasks(path: Path, files_dir: Path | None) -> tuple[list[str], list[list[HumanMessage]]]:
    """(ids, messages), one per task line; every line is checked before anything is sent."""
    ids: list[str] = []
    messages: list[list[HumanMessage]] = []
    seen: dict[str, int] = {}
    root = files_dir.resolve() if files_dir is not None else None
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                task = json.loads(line)
            except ValueError as exc:
                raise TaskError(f"{where}: not valid JSON ({exc})") from exc
            if not isinstance(task, dict) or not isinstance(task.get("prompt"), str):
                raise TaskError(f'{where}: needs {{"prompt": "..."}} (optional "id", "files")')
            task_id = task.get("id", f"task-{len(ids) + 1:05d}")
            problem = id_problem(task_id)
            if problem:
                raise TaskError(
                    f"{where}: id {task_id!r:.120} {problem} (it names the task's folder)"
                )
            if task_id.lower() in seen:  # one folder on case-insensitive file systems
                raise TaskError(
                    f"{where}: id {task_id!r} repeats line {seen[task_id.lower()]} "
                    "(ids must differ in more than case)"
                )
            seen[task_id.lower()] = number
            blocks: list[Any] = [{"type": "text", "text": task["prompt"]}]
            for name in task.get("files") or []:
                blocks.append(_file_block(where, name, root))
            ids.append(task_id)
            messages.append([HumanMessage(content=blocks)])
    if not ids:
        raise TaskError(f"{path}: no tasks")
    return ids, messages


def _file_block(where: str, name: Any, root: Path | None) -> dict[str, Any]:
    if root is None:
        raise TaskError(f"{where}: names files but no --files-dir was given")
    if not isinstance(name, str) or not name:
        raise TaskError(f"{where}: a file name must be a non-empty string, got {name!r}")
    path = (root / name).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise TaskError(f"{where}: {name!r} is not a file inside {root}")
    mime = mimetypes.guess_type(path.name)[0] or "text/plain"
    return {
        "type": "file",
        "base64": base64.b64encode(path.read_bytes()).decode(),
        "mime_type": mime,
        "filename": path.name,
    }


def _open_own_dir(parent: int, name: str) -> int:
    """A directory of ours under `parent` (created if missing), opened without following
    a link: a link or file planted under its name is refused."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, 0o755, dir_fd=parent)
    try:
        return os.open(name, _DIR, dir_fd=parent)
    except OSError as exc:
        raise OSError(f"{name} is a link or not a directory ({exc}); remove it") from exc


def _write_new(parent: int, name: str, data: bytes) -> None:
    fd = os.open(name, _NEW, 0o644, dir_fd=parent)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _remove(parent: int, name: str) -> None:
    """Remove an entry of one of our directories, a directory tree without following links."""
    try:
        info = os.lstat(name, dir_fd=parent)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(info.st_mode):
        fd = os.open(name, _DIR, dir_fd=parent)
        try:
            for entry in os.listdir(fd):
                _remove(fd, entry)
        finally:
            os.close(fd)
        os.rmdir(name, dir_fd=parent)
    else:
        os.unlink(name, dir_fd=parent)


def _publish(parent: int, name: str, files: dict[str, bytes], charts: dict[str, bytes]) -> None:
    """Write a task's folder whole under a new temporary name, then rename it into place
    (whatever held the name before, our folder of a previous run or a planted link, is
    moved aside and removed, never followed)."""
    token = secrets.token_hex(4)
    tmp, old = f".{name}.new-{token}", f".{name}.old-{token}"
    os.mkdir(tmp, 0o755, dir_fd=parent)  # fails on anything already there
    fd = os.open(tmp, _DIR, dir_fd=parent)
    try:
        for file_name, data in files.items():
            _write_new(fd, file_name, data)
        if charts:
            os.mkdir("charts", 0o755, dir_fd=fd)
            charts_fd = os.open("charts", _DIR, dir_fd=fd)
            try:
                for chart, data in charts.items():
                    _write_new(charts_fd, chart, data)
            finally:
                os.close(charts_fd)
        with contextlib.suppress(FileNotFoundError):
            os.rename(name, old, src_dir_fd=parent, dst_dir_fd=parent)
        os.rename(tmp, name, src_dir_fd=parent, dst_dir_fd=parent)
        placed, ours = os.lstat(name, dir_fd=parent), os.fstat(fd)
        if (placed.st_dev, placed.st_ino) != (ours.st_dev, ours.st_ino):
            raise OSError(f"{name} was replaced while it was being written")
    finally:
        os.close(fd)
    _remove(parent, old)


def _task_files(result: Any, where: str) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """(files, charts) of one result's folder; `where` is the folder relative to `out`."""
    if result.message is None:
        error = {"key": result.key, "error": str(result.error), "type": type(result.error).__name__}
        return {"error.json": json.dumps(error, indent=2).encode()}, {}
    report = CodeExecutionReport.from_message(result.message)
    numbered = [(i, run.images) for i, run in enumerate(report.runs, start=1)]
    charts = {
        f"chart-{run}-{n}{extension(img.mime_type)}": img.data
        for run, images in [*numbered, (0, report.other_images)]
        for n, img in enumerate(images, start=1)
    }
    data = json.loads(report.model_dump_json())
    data["key"] = result.key
    data["charts"] = [f"{where}/charts/{name}" for name in charts]
    return {"report.json": json.dumps(data, indent=2).encode()}, charts


def write_outputs(job: GeminiBatchJob, out: Path) -> tuple[int, int]:
    """Write each result's folder (report and charts, or error); returns (answered, failed).

    Afterwards `out/tasks` holds exactly this job's task folders and `out/unmatched` the
    results whose key is none of its tasks' (leftovers of an interrupted run, and folders
    of ids this job does not have, are removed).
    """
    keys = set(job.keys or [])
    answered = failed = 0
    root = os.open(out, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        tasks = _open_own_dir(root, TASKS_DIR)
        unmatched = _open_own_dir(root, UNMATCHED_DIR)
        try:
            for entry in os.listdir(unmatched):
                _remove(unmatched, entry)
            written: set[str] = set()
            for result in job.results():
                if result.key in keys and result.key not in written:
                    parent, name, top = tasks, str(result.key), TASKS_DIR
                else:  # a key none of the tasks have (or a second answer for one)
                    parent, name, top = unmatched, f"{answered + failed + 1:05d}", UNMATCHED_DIR
                written.add(name)
                files, charts = _task_files(result, f"{top}/{name}")
                _publish(parent, name, files, charts)
                if result.message is None:
                    failed += 1
                else:
                    answered += 1
            for entry in os.listdir(tasks):
                if entry not in keys:
                    _remove(tasks, entry)
        finally:
            os.close(tasks)
            os.close(unmatched)
    finally:
        os.close(root)
    return answered, failed


def _submit_once(
    llm: Any, args: argparse.Namespace, state: dict[str, Any] | None, state_path: Path
) -> GeminiBatchJob:
    """Submit the tasks, unless a job of an earlier run whose answer was lost exists.

    The display name and keys are recorded before the create request: if its answer never
    arrives, the next run finds the job by that display name instead of submitting again.
    """
    ids, messages = read_tasks(args.tasks, args.files_dir)
    job: GeminiBatchJob | None = None
    if state is None:
        name = args.display_name or f"codeexec-batch-{secrets.token_hex(6)}"
        state = {"name": None, "display_name": name, "keys": ids, "tasks": str(args.tasks)}
        state_path.parent.mkdir(parents=True, exist_ok=True)
        _replace_file(state_path, json.dumps(state, indent=2))
    else:
        job = GeminiBatchJob.find(state["display_name"], llm=llm, keys=state["keys"])
        if job is not None:
            print(f"found {job.name} by its recorded display name {state['display_name']!r}")
    if job is None:
        job = submit_batch(llm, messages, keys=state["keys"], display_name=state["display_name"])
        print(f"submitted {job.name} with {len(ids)} tasks; recorded in {state_path}")
    state["name"] = job.name
    _replace_file(state_path, json.dumps(state, indent=2))
    return job


def _seconds(name: str, text: str, **bounds: Any) -> float:
    """A duration argument, checked as the API checks it (a usage error, exit 2)."""
    try:
        return check_duration(name, float(text), **bounds)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            str(exc) if "seconds" in str(exc) else f"{name}: {text!r} is not a number of seconds"
        ) from None


def _poll_interval(text: str) -> float:
    return _seconds("--poll-interval", text, maximum=MAX_POLL_INTERVAL)


def _wait(text: str) -> float:
    return _seconds("--timeout", text, maximum=MAX_WAIT, zero=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m langchain_gemini_codeexec.batch",
        description="Run a JSONL of code-execution tasks as one Gemini Batch API job "
        "(half price, finished within 24 hours). Re-running resumes the recorded job.",
    )
    parser.add_argument("tasks", type=Path, help="JSONL: {prompt, id?, files?} per line")
    parser.add_argument("out", type=Path, help="output directory (holds job.json for resume)")
    parser.add_argument("--files-dir", type=Path, help="directory the tasks' files are read from")
    parser.add_argument("--model", default=None, help="Gemini model (default: the package's)")
    parser.add_argument("--display-name", default=None)
    parser.add_argument("--poll-interval", type=_poll_interval, default=30.0, help="seconds (30)")
    parser.add_argument("--timeout", type=_wait, default=None, help="seconds to wait, then exit 3")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--base-url", default=None, help="API endpoint (e.g. a test server)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from langchain_gemini_codeexec.chat_models import ChatGeminiCodeExecution

    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # usage errors exit 2 (argparse printed why), --help 0
        return exc.code if isinstance(exc.code, int) else 2
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out: Path = args.out
    state_path = out / STATE_FILE
    settings: dict[str, Any] = {}
    if args.model:
        settings["model"] = args.model
    if args.base_url:
        settings["base_url"] = args.base_url
    try:
        llm = ChatGeminiCodeExecution(**settings)
        state = _read_state(state_path)
        if state is not None and state.get("name"):
            job = GeminiBatchJob.attach(state["name"], llm=llm, keys=state.get("keys"))
            print(f"attached to {job.name} ({job.state}) recorded in {state_path}")
        else:
            job = _submit_once(llm, args, state, state_path)
        try:
            job.poll_until_done(args.poll_interval, args.timeout, progress=not args.no_progress)
        except BatchTimeoutError as exc:
            print(f"{exc}\nRun the same command again to resume.", file=sys.stderr)
            return 3
        except BatchJobError as exc:
            print(str(exc), file=sys.stderr)
            answered, failed = write_outputs(job, out)
            print(f"{answered} answered, {failed} failed (partial results) in {out}")
            return 2
        answered, failed = write_outputs(job, out)
    except (TaskError, GeminiCodeExecutionError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{job.name} {job.state}: {answered} answered, {failed} failed; reports in {out}")
    return 1 if failed else 0
