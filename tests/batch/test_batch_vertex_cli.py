"""Vertex AI batch prediction jobs, the command line, and the pure pieces."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from google.auth.credentials import Credentials
from hypothesis import strategies as st

from langchain_gemini_codeexec import (
    BatchJobError,
    BatchRequestError,
    ChatGeminiCodeExecution,
    GeminiBatchJob,
    InvalidMessageError,
)
from langchain_gemini_codeexec.batch import submit_batch, write_batch_requests
from langchain_gemini_codeexec.batch._cli import main
from langchain_gemini_codeexec.batch._http import split_lines
from langchain_gemini_codeexec.testing import (
    BatchScript,
    GeminiTestServer,
    code,
    image,
    response,
    result,
    text,
)
from tests.support import property_test

FAST = {"poll_interval": 0.01, "timeout": 10.0, "progress": False}
PNG = b"\x89PNG\r\n\x1a\n" + b"fake-chart"


class StubCredentials(Credentials):
    """google.auth credentials that always hold a bearer token, no network."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.token = "vertex-token"

    def refresh(self, request: Any) -> None:
        pass


@pytest.fixture
def vertex_llm(make_llm: Callable[..., ChatGeminiCodeExecution]) -> ChatGeminiCodeExecution:
    return make_llm(
        api_key=None,
        vertexai=True,
        project="proj",
        location="us-central1",
        credentials=StubCredentials(),
    )


# --- Vertex AI ------------------------------------------------------------------------------


def test_vertex_create_get_cancel_and_states(
    server: GeminiTestServer, vertex_llm: ChatGeminiCodeExecution
) -> None:
    job = submit_batch(vertex_llm,
        None,
        source="gs://bucket/requests.jsonl",
        destination="gs://bucket/out/",
        display_name="nightly",
    )
    create = server.last_request
    assert create.path == "/v1beta1/projects/proj/locations/us-central1/batchPredictionJobs"
    assert create.headers["authorization"] == "Bearer vertex-token"
    assert create.body == {
        "displayName": "nightly",
        "model": "publishers/google/models/gemini-2.5-flash",
        "inputConfig": {
            "instancesFormat": "jsonl",
            "gcsSource": {"uris": ["gs://bucket/requests.jsonl"]},
        },
        "outputConfig": {
            "predictionsFormat": "jsonl",
            "gcsDestination": {"outputUriPrefix": "gs://bucket/out/"},
        },
    }
    assert job.name.startswith("projects/proj/locations/us-central1/batchPredictionJobs/")
    assert job.state == "JOB_STATE_PENDING"
    job.poll_until_done(**FAST)
    assert job.state == "JOB_STATE_SUCCEEDED"
    with pytest.raises(Exception, match=r"gs://bucket/out/prediction-model-1.*read_results"):
        list(job.results())

    other = submit_batch(vertex_llm,
        None, source="bq://proj.ds.requests", destination="bq://proj.ds.results"
    )
    assert server.last_request.body["inputConfig"] == {
        "instancesFormat": "bigquery",
        "bigquerySource": {"inputUri": "bq://proj.ds.requests"},
    }
    other.cancel()
    assert server.last_request.path == f"/v1beta1/{other.name}:cancel"
    with pytest.raises(BatchJobError, match="JOB_STATE_CANCELLED"):
        other.poll_until_done(**FAST)
    attached = GeminiBatchJob.attach(other.name.rsplit("/", 1)[-1], llm=vertex_llm)
    assert attached.name == other.name and attached.state == "JOB_STATE_CANCELLED"


def test_vertex_refuses_inputs_and_bad_locations(
    server: GeminiTestServer, vertex_llm: ChatGeminiCodeExecution
) -> None:
    with pytest.raises(InvalidMessageError, match="write_batch_requests"):
        submit_batch(vertex_llm, ["a"], source="gs://b/x", destination="gs://b/y")
    with pytest.raises(InvalidMessageError, match="source"):
        submit_batch(vertex_llm, None, source="/tmp/x.jsonl", destination="gs://b/y")
    with pytest.raises(InvalidMessageError, match="destination"):
        submit_batch(vertex_llm, None, source="gs://b/x")
    assert server.requests == []


def test_write_requests_then_read_vertex_predictions(
    tmp_path: Path, server: GeminiTestServer, llm: ChatGeminiCodeExecution
) -> None:
    """The request file a Vertex job reads, and its predictions mapped back from a copy."""
    requests_file = tmp_path / "requests.jsonl"
    keys = write_batch_requests(llm, ["q1", "q2"], requests_file, temperature=0.5)
    lines = [json.loads(x) for x in requests_file.read_text().splitlines()]
    server.enqueue(response(text("x")))
    llm.invoke("q1", temperature=0.5)
    assert lines[0] == {"key": keys[0], "request": server.last_request.body}
    predictions = tmp_path / "predictions.jsonl"
    answer = response(code("print(1)"), result("1\n"), text("one"))
    predictions.write_text(
        json.dumps({"key": keys[1], "request": lines[1]["request"], "status": "quota"})
        + "\n"
        + json.dumps({"key": keys[0], "request": lines[0]["request"], "response": answer})
        + "\n"
    )
    job = GeminiBatchJob("projects/p/locations/l/batchPredictionJobs/1", llm, keys=keys)
    results = list(job.read_results(predictions))
    assert [r.key for r in results] == keys
    assert results[0].message is not None and results[0].message.text == "one"
    assert isinstance(results[1].error, BatchRequestError) and "quota" in str(results[1].error)


# --- command line ---------------------------------------------------------------------------


def _chart_answer(req: Any) -> dict[str, Any]:
    if "fail" in req.text:
        from langchain_gemini_codeexec.testing import Reply

        return Reply.error(400, "cannot do that")  # type: ignore[return-value]
    csv = req.inline_data()
    return response(
        code("import pandas as pd"),
        result(f"{len(csv)} file(s)\n"),
        image(PNG),
        text(f"done: {req.text.splitlines()[0]}"),
    )


def test_cli_runs_tasks_and_resumes_the_recorded_job(
    tmp_path: Path, server: GeminiTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "cli-test-key-0123456789")
    data = tmp_path / "data"
    data.mkdir()
    (data / "sales.csv").write_text("month,revenue\n1,10\n")
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(
        '{"id": "sales", "prompt": "Chart sales.csv", "files": ["sales.csv"]}\n'
        '{"prompt": "Compute 2+2"}\n'
        '{"id": "bad", "prompt": "please fail"}\n'
    )
    out = tmp_path / "out"
    server.responder = _chart_answer
    server.batch.script = BatchScript(pending_polls=50)
    base = ["--base-url", server.base_url, "--poll-interval", "0.01", "--no-progress"]
    args = [str(tasks), str(out), "--files-dir", str(data), *base]
    assert main([*args, "--timeout", "0.2"]) == 3  # still running: exit 3, job recorded
    state = json.loads((out / "job.json").read_text())
    assert state["keys"] == ["sales", "task-00002", "bad"]
    server.batch.jobs[state["name"]].script = BatchScript()
    server.batch.jobs[state["name"]].state = "BATCH_STATE_RUNNING"
    assert main(args) == 1  # resumed; one task failed
    creates = [r for r in server.requests if "batchGenerateContent" in r.path]
    assert len(creates) == 1  # never submitted twice
    sent = creates[0].body["batch"]["inputConfig"]["requests"]["requests"][0]["request"]
    assert sent["contents"][0]["parts"][1]["inlineData"]["mimeType"] == "text/csv"
    report = json.loads((out / "tasks" / "sales" / "report.json").read_text())
    assert report["answer"] == "done: Chart sales.csv"
    assert report["charts"] and (out / report["charts"][0]).read_bytes() == PNG
    assert json.loads((out / "tasks/task-00002/report.json").read_text())["key"] == "task-00002"
    error = json.loads((out / "tasks" / "bad" / "error.json").read_text())
    assert "cannot do that" in error["error"] and error["type"] == "BatchRequestError"
    assert "cli-test-key" not in "".join(p.read_text() for p in out.rglob("*.json"))


def test_cli_never_writes_through_a_link_planted_in_the_output_directory(
    tmp_path: Path,
    server: GeminiTestServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Links named like the outputs (a task's folder, its report, job.json, tasks/) are
    moved aside or refused; what they point at stays as it was, and a re-run still works."""
    monkeypatch.setenv("GOOGLE_API_KEY", "cli-test-key-0123456789")
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text('{"id": "sales", "prompt": "chart it"}\n{"id": "bad", "prompt": "fail"}\n')
    victim, elsewhere, out = tmp_path / "victim.txt", tmp_path / "elsewhere", tmp_path / "out"
    victim.write_text("keep me")
    elsewhere.mkdir()
    (out / "tasks").mkdir(parents=True)
    (out / "tasks" / "sales").symlink_to(elsewhere, target_is_directory=True)
    (out / "tasks" / "bad").symlink_to(victim)
    server.responder = _chart_answer
    args = [str(tasks), str(out), "--base-url", server.base_url, "--poll-interval", "0.01"]
    assert main([*args, "--no-progress"]) == 1
    assert victim.read_text() == "keep me" and list(elsewhere.iterdir()) == []
    for name in ("tasks/sales", "tasks/bad", "tasks", "job.json"):
        assert not (out / name).is_symlink(), name
    report = json.loads((out / "tasks/sales/report.json").read_text())
    assert (out / report["charts"][0]).read_bytes() == PNG
    assert "cannot do that" in json.loads((out / "tasks/bad/error.json").read_text())["error"]
    assert main([*args, "--no-progress"]) == 1  # re-run: attaches and replaces its own
    assert [p.name for p in (out / "tasks").iterdir() if p.name.startswith(".")] == []

    (out / "job.json").unlink()
    (out / "job.json").symlink_to(victim)  # a planted state file is not read or replaced
    capsys.readouterr()
    assert main([*args, "--no-progress"]) == 2
    assert "job.json is a link" in capsys.readouterr().err
    assert victim.read_text() == "keep me" and (out / "job.json").is_symlink()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "not valid JSON"),
        ('{"id": "x"}', "needs"),
        ('{"prompt": "a", "id": "../evil"}', "id '../evil' must be 1-100 ASCII"),
        ('{"prompt": "a", "files": ["../secret.txt"]}', "not a file inside"),
    ],
)
def test_cli_refuses_bad_tasks_before_submitting(
    tmp_path: Path,
    server: GeminiTestServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    line: str,
    message: str,
) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "cli-test-key-0123456789")
    (tmp_path / "secret.txt").write_text("s")
    (tmp_path / "data").mkdir()
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(line + "\n")
    out = tmp_path / "out"
    args = [str(tasks), str(out), "--files-dir", str(tmp_path / "data")]
    assert main([*args, "--base-url", server.base_url]) == 2
    assert message in capsys.readouterr().err
    assert server.requests == [] and not (out / "job.json").exists()


# --- pure pieces ----------------------------------------------------------------------------


@property_test(
    100,
    st.lists(st.binary().map(lambda b: b.replace(b"\n", b"")), min_size=1, max_size=8),
    st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=5),
)
def test_split_lines_is_independent_of_chunking(lines: list[bytes], sizes: list[int]) -> None:
    data = b"\n".join(lines) + b"\n"
    chunks, i = [], 0
    while i < len(data):
        size = sizes[len(chunks) % len(sizes)]
        chunks.append(data[i : i + size])
        i += size
    expected = [line.rstrip(b"\r") for line in lines]
    got = list(split_lines(chunks))
    # A trailing all-whitespace line is dropped (no record there), others are kept.
    assert got == expected or (got == expected[:-1] and not expected[-1].strip())


@pytest.mark.slow  # a fresh interpreter: ~2 s of imports
def test_the_module_runs_as_a_command() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "langchain_gemini_codeexec.batch", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "job.json" in done.stdout and "--files-dir" in done.stdout


def test_cli_finds_the_job_whose_create_answer_was_lost(
    tmp_path: Path, server: GeminiTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The create reaches Gemini but its answer does not: the re-run attaches, no 2nd job."""
    from langchain_gemini_codeexec.testing import Reply

    monkeypatch.setenv("GOOGLE_API_KEY", "cli-test-key-0123456789")
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text('{"id": "a", "prompt": "2+2"}\n{"id": "b", "prompt": "3+3"}\n')
    out = tmp_path / "out"
    server.responder = lambda req: response(text(f"done {req.text}"))
    for _ in range(3):  # other jobs of the account, listed on other pages
        server.batch.answer(_create_request(server, "someone else's job"))
    original = server.batch.answer
    lost = []

    def lose_first_create_answer(req: Any) -> Reply | None:
        answer = original(req)
        if req.path.endswith(":batchGenerateContent") and not lost:
            lost.append(req)
            return Reply.reset()  # created at Gemini, the answer never arrives
        return answer

    server.batch.answer = lose_first_create_answer  # type: ignore[method-assign]
    args = [str(tasks), str(out), "--base-url", server.base_url, "--poll-interval", "0.01"]
    assert main([*args, "--no-progress"]) == 2
    state = json.loads((out / "job.json").read_text())
    assert state["name"] is None and state["display_name"].startswith("codeexec-batch-")
    assert main([*args, "--no-progress"]) == 0
    creates = [r for r in server.requests if r.path.endswith(":batchGenerateContent")]
    assert len(creates) == 1
    assert json.loads((out / "job.json").read_text())["name"] == "batches/batch-0004"
    assert json.loads((out / "tasks/b/report.json").read_text())["answer"] == "done 3+3"


def test_find_a_job_by_display_name(
    server: GeminiTestServer, llm: ChatGeminiCodeExecution
) -> None:
    for i in range(5):
        submit_batch(llm, ["x"], display_name=f"job-{i}")
    found = GeminiBatchJob.find("job-0", llm=llm, max_pages=10)
    assert found is not None and found.display_name == "job-0"
    assert GeminiBatchJob.find("nope", llm=llm) is None
    listed = [r for r in server.requests if r.path == "/v1beta/batches"]
    assert listed and listed[0].query["pageSize"] == "100"


def _create_request(server: GeminiTestServer, display_name: str) -> Any:
    from langchain_gemini_codeexec.testing import RecordedRequest

    body = {
        "batch": {
            "displayName": display_name,
            "model": "models/gemini-2.5-flash",
            "inputConfig": {"requests": {"requests": [{"request": {"contents": []}}]}},
        }
    }
    return RecordedRequest(
        "POST",
        "/v1beta/models/gemini-2.5-flash:batchGenerateContent",
        {},
        {},
        body,
        b"",
        "developer",
        "gemini-2.5-flash",
        "batchGenerateContent",
        False,
    )
