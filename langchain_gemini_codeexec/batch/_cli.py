"""`python -m langchain_gemini_codeexec.batch`: a JSONL of tasks in, one report per task out.

    python -m langchain_gemini_codeexec.batch tasks.jsonl out/ [--files-dir data/]

Each line of `tasks.jsonl` is `{"prompt": "...", "id": "optional-name", "files": ["a.csv"]}`;
files are read from `--files-dir` and sent with the prompt. The job is submitted once: its
name and keys go to `out/job.json` first, so running the same command again (after a crash,
a timeout, a closed laptop) attaches to that job instead of submitting a second one. When
the job has ended, `out/<id>.json` holds each task's `CodeExecutionReport` (charts in
`out/<id>-charts/`), or `out/<id>.error.json` the reason it failed.
Outputs are never written through a link planted under their names (a file is written
beside and renamed over the name; charts are created new), and a linked `job.json` is refused.

Exit status: 0 all tasks answered, 1 some failed, 2 the job ended failed/cancelled/expired
or the command was used wrongly, 3 still running at `--timeout` (run it again later).
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import mimetypes
import os
import re
import secrets
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.messages import HumanMessage

from langchain_gemini_codeexec.batch import GeminiBatchJob, submit_batch
from langchain_gemini_codeexec.errors import (
    BatchJobError,
    BatchTimeoutError,
    GeminiCodeExecutionError,
)
from langchain_gemini_codeexec.report import CodeExecutionReport

STATE_FILE = "job.json"
_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,99}$")


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
        state: dict[str, Any] = json.load(handle)
    return state


def _charts_dir(path: Path) -> Path:
    """`path` as a real directory of ours: a link planted under its name is removed (our
    output names are ours), so charts never land where the link points."""
    if path.is_symlink():
        path.unlink()
    return path


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
            if not isinstance(task_id, str) or not _ID.match(task_id):
                raise TaskError(
                    f"{where}: id {task_id!r} must be letters, digits, '.', '_' or '-' "
                    "(it names the output files)"
                )
            if task_id in seen:
                raise TaskError(f"{where}: id {task_id!r} repeats line {seen[task_id]}")
            seen[task_id] = number
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


def write_outputs(job: GeminiBatchJob, out: Path) -> tuple[int, int]:
    """Write each result's report (and charts) or error; returns (answered, failed)."""
    answered = failed = 0
    for result in job.results():
        key = result.key or f"unkeyed-{answered + failed + 1}"
        if not _ID.match(key):
            key = re.sub(r"[^\w.-]", "_", key)[:100] or "unnamed"
        error_path = out / f"{key}.error.json"
        if result.message is not None:
            report = CodeExecutionReport.from_message(result.message)
            saved = report.save_images(_charts_dir(out / f"{key}-charts")) if report.images else []
            data = json.loads(report.model_dump_json())
            data["key"] = result.key
            data["charts"] = [str(p.relative_to(out)) for p in saved]
            _replace_file(out / f"{key}.json", json.dumps(data, indent=2))
            error_path.unlink(missing_ok=True)
            answered += 1
        else:
            error = {"key": result.key, "error": str(result.error)}
            error["type"] = type(result.error).__name__
            _replace_file(error_path, json.dumps(error, indent=2))
            failed += 1
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
    parser.add_argument("--poll-interval", type=float, default=30.0, help="seconds (30)")
    parser.add_argument("--timeout", type=float, default=None, help="seconds to wait, then exit 3")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--base-url", default=None, help="API endpoint (e.g. a test server)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from langchain_gemini_codeexec.chat_models import ChatGeminiCodeExecution

    args = _parser().parse_args(argv)
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
