"""The offline switch: `with offline():` and `python -m langchain_gemini_codeexec.testing`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from google import genai

from langchain_gemini_codeexec import ChatGeminiCodeExecution
from langchain_gemini_codeexec.batch import submit_batch
from langchain_gemini_codeexec.testing import Reply, offline, response, text
from langchain_gemini_codeexec.testing._offline import main

ROOT = Path(__file__).resolve().parents[2]
REAL_KEY = "real-key-that-must-not-leave-0123456789"
SCRIPT = (
    "import sys\n"
    "from langchain_gemini_codeexec import ChatGeminiCodeExecution\n"
    "llm = ChatGeminiCodeExecution(model='gemini-2.5-flash')\n"
    "print(sys.argv[1:], llm.invoke('What is 2 ** 10? Run code.').text)\n"
)


def test_models_built_inside_use_the_offline_server_and_the_env_comes_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", REAL_KEY)
    monkeypatch.setenv("GEMINI_API_KEY", REAL_KEY)
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    monkeypatch.delenv("GOOGLE_GEMINI_BASE_URL", raising=False)
    with offline() as server:
        llm = ChatGeminiCodeExecution(model="gemini-2.5-flash")
        assert llm.invoke("What is 6 * 7? Run code.").text == "The result is 42."
        client = genai.Client()  # a raw SDK client finds it too
        reply = client.models.generate_content(model="gemini-2.5-flash", contents="Hello")
        assert reply.text == "Hello! How can I help you today?"
        server.enqueue(Reply.json(response(text("scripted by the test"))))
        assert llm.invoke("anything").text == "scripted by the test"
    assert len(server.requests) == 3
    assert all(REAL_KEY not in str(r.headers) for r in server.requests)  # never sent
    assert os.environ["GOOGLE_API_KEY"] == REAL_KEY
    assert os.environ["GEMINI_API_KEY"] == REAL_KEY
    assert os.environ["GOOGLE_GENAI_USE_VERTEXAI"] == "true"
    assert "GOOGLE_GEMINI_BASE_URL" not in os.environ


def test_the_env_comes_back_after_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    with pytest.raises(RuntimeError, match="inside"), offline():
        assert os.environ["GOOGLE_API_KEY"]
        raise RuntimeError("inside")
    assert "GOOGLE_API_KEY" not in os.environ


def test_batch_jobs_finish_at_once_offline() -> None:
    with offline() as server:
        llm = ChatGeminiCodeExecution(model="gemini-2.5-flash")
        job = submit_batch(llm, ["Mean of 1, 2 and 6?", "What is 2 + 2?"], keys=["m", "s"])
        job.poll_until_done(poll_interval=60, timeout=30)
        results = {r.key: r.message.text for r in job.results() if r.message}
    polls = [r for r in server.requests if r.method == "GET" and "batches/" in r.path]
    assert len(polls) == 1  # done at the first poll: a snippet's loop never sleeps
    assert results == {
        "m": "The mean of 1, 2 and 6 is **3.0** (3 values, sum 9).",
        "s": "The result is 4.",
    }


def test_a_whole_script_runs_offline_in_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "mine.py"
    script.write_text(SCRIPT)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    assert main([str(script), "--flag"]) == 0
    assert capsys.readouterr().out.strip() == "['--flag'] The result is 1024."
    assert "GOOGLE_API_KEY" not in os.environ
    assert main([]) == 2 and "usage:" in capsys.readouterr().out


@pytest.mark.slow  # two fresh interpreters; the fast suite runs main() in-process above
def test_a_whole_script_runs_offline(tmp_path: Path) -> None:
    script = tmp_path / "mine.py"
    script.write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE", "GEMINI"))}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "langchain_gemini_codeexec.testing", str(script), "--flag"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['--flag'] The result is 1024."
    usage = subprocess.run(
        [sys.executable, "-m", "langchain_gemini_codeexec.testing"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert usage.returncode == 2 and "usage:" in usage.stdout
