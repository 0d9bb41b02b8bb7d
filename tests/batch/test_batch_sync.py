"""Batch API, sync: requests equal invoke's, results equal invoke's, states, faults.

Everything runs through the real google-genai SDK over HTTP to the loopback server, on
both sync HTTP libraries the SDK has (httpx2 and httpx).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import genai_prices
import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from pydantic import BaseModel

from langchain_gemini_codeexec import (
    BatchJobError,
    BatchRequestError,
    BatchTimeoutError,
    ChatGeminiCodeExecution,
    CodeExecutionReport,
    GeminiAPIError,
    GeminiBatchJob,
    IncompleteResponseError,
    InvalidMessageError,
)
from langchain_gemini_codeexec._core import pricing
from langchain_gemini_codeexec.batch import _http as batch_http
from langchain_gemini_codeexec.batch import asubmit_batch, submit_batch
from langchain_gemini_codeexec.cost import sum_costs
from langchain_gemini_codeexec.testing import (
    BatchScript,
    GeminiTestServer,
    Reply,
    ScriptedGemini,
    code,
    image,
    response,
    result,
    text,
    usage,
)
from tests.support import API_KEY, sync_transport_in_use

FAST = {"poll_interval": 0.01, "timeout": 10.0, "progress": False}
POLL_TIMEOUT = 0.1  # polling that cannot succeed in time: the timeout only has to elapse
PNG = b"\x89PNG\r\n\x1a\n" + b"chart-bytes"


class Weather(BaseModel):
    """Weather in a city."""

    city: str


def rich_answer(n: int) -> dict[str, Any]:
    """An answer with every part kind code execution gives: text, code, result, chart."""
    return response(
        text(f"Computing {n}.", thought=True, signature="c2lnLXRob3VnaHQ="),
        text(f"Let me compute {n}."),
        code(f"print({n} * 2)"),
        result(f"{n * 2}\n"),
        image(PNG),
        text(f"The answer is {n * 2}.", signature="c2lnLWFuc3dlcg=="),
        usage=usage(10 + n, 20, thoughts=3),
    )


def inline_requests(server: GeminiTestServer) -> list[dict[str, Any]]:
    creates = [r for r in server.requests if r.path.endswith(":batchGenerateContent")]
    assert len(creates) == 1, "exactly one job was created"
    return list(creates[0].body["batch"]["inputConfig"]["requests"]["requests"])


def invoke_body(server: GeminiTestServer, runnable: Any, value: Any, **kw: Any) -> Any:
    server.enqueue(response(text("x")))
    runnable.invoke(value, **kw)
    return server.last_request.body


INPUTS: list[Any] = [
    "What is 2 + 2? Run code.",
    [SystemMessage("Be terse."), HumanMessage("Sum of the first 10 primes?")],
    [
        HumanMessage("2+2?"),
        AIMessage(content=[{"type": "text", "text": "4"}]),
        HumanMessage("and 3+3?"),
    ],
    [{"role": "user", "content": "a dict message"}],
]


def test_each_request_is_the_body_invoke_sends(
    sync_client: str, server: GeminiTestServer, llm: ChatGeminiCodeExecution
) -> None:
    options = {"temperature": 0.2, "max_tokens": 300, "thinking_budget": 128, "stop": ["END"]}
    job = submit_batch(llm, INPUTS, **options)
    assert sync_transport_in_use(llm) == sync_client
    sent = inline_requests(server)
    server.clear()
    expected = [invoke_body(server, llm, value, **options) for value in INPUTS]
    assert [item["request"] for item in sent] == expected
    keys = [item["metadata"]["key"] for item in sent]
    assert keys == job.keys
    assert len(set(keys)) == len(keys) and all(isinstance(k, str) and k for k in keys)


def test_bound_tools_and_options_are_in_every_request(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    from langchain_gemini_codeexec.batch import submit_batch

    llm = make_llm(model="gemini-3-flash-preview")

    bound = llm.bind_tools([Weather], tool_choice="auto").bind(temperature=0.5)
    submit_batch(bound, ["weather in Paris?", "in Rome?"], keys=["p", "r"])
    sent = inline_requests(server)
    server.clear()
    assert [s["request"] for s in sent] == [
        invoke_body(server, bound, "weather in Paris?"),
        invoke_body(server, bound, "in Rome?"),
    ]
    assert "functionDeclarations" in json.dumps(sent[0]["request"]["tools"])
    server.clear()
    # The same tools given as a call option of submit_batch itself.
    submit_batch(llm, ["weather in Paris?"], tools=[Weather], tool_choice="auto", temperature=0.5)
    assert inline_requests(server)[0]["request"] == sent[0]["request"]


def test_keys_and_display_name(server: GeminiTestServer, llm: ChatGeminiCodeExecution) -> None:
    job = submit_batch(llm, ["a", "b"], keys=["first", "second"], display_name="my job")
    batch = server.last_request.body["batch"]
    assert batch["displayName"] == "my job"
    assert batch["model"] == "models/gemini-2.5-flash"
    assert [r["metadata"]["key"] for r in batch["inputConfig"]["requests"]["requests"]] == [
        "first",
        "second",
    ]
    assert job.keys == ["first", "second"]
    submit_batch(llm, ["a"])
    assert server.last_request.body["batch"]["displayName"]  # a default is always sent


@pytest.mark.parametrize(
    ("inputs", "kwargs", "message"),
    [
        ([], {}, "inputs: empty"),
        ("just a string", {}, "inputs: a list"),
        (["a", "b"], {"keys": ["k", "k"]}, "keys[1]: 'k' repeats keys[0]"),
        (["a", "b"], {"keys": ["k"]}, "1 keys for 2 inputs"),
        (["a"], {"keys": [""]}, "keys[0]: must be a non-empty string"),
        (["a", "b", ""], {}, "inputs[2]"),
        (["a", 42], {}, "inputs[1]"),
        (["a"], {"temprature": 1}, "unknown call option"),
        (["a"], {"input_mode": "fast"}, "input_mode"),
        (["a"], {"source": "gs://b/x.jsonl"}, "only for Vertex AI"),
        (["a"], {"display_name": ""}, "display_name"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(
    server: GeminiTestServer,
    llm: ChatGeminiCodeExecution,
    inputs: Any,
    kwargs: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(InvalidMessageError, match=message.replace("[", r"\[").replace("]", r"\]")):
        submit_batch(llm, inputs, **kwargs)
    assert server.requests == []


def test_state_advances_over_polls_and_counts_follow(
    sync_client: str, server: GeminiTestServer, llm: ChatGeminiCodeExecution
) -> None:
    server.batch.script = BatchScript(pending_polls=2, running_polls=2)
    server.responder = lambda req: response(text("ok"))
    job = submit_batch(llm, ["a", "b", "c", "d"])
    seen = [(job.state, job.done_count)]
    while not job.done:
        job.refresh()
        seen.append((job.state, job.done_count))
    assert seen == [
        ("BATCH_STATE_PENDING", 0),
        ("BATCH_STATE_PENDING", 0),
        ("BATCH_STATE_RUNNING", 0),
        ("BATCH_STATE_RUNNING", 2),
        ("BATCH_STATE_SUCCEEDED", 4),
    ]
    assert (job.request_count, job.succeeded_count, job.failed_count) == (4, 4, 0)
    assert job.raw["metadata"]["state"] == job.state  # verbatim


def test_results_match_invoke_under_the_content_contract(
    sync_client: str, server: GeminiTestServer, llm: ChatGeminiCodeExecution
) -> None:
    answers = [rich_answer(n) for n in range(3)]
    server.enqueue(*answers)
    job = submit_batch(llm, ["q0", "q1", "q2"]).poll_until_done(**FAST)
    results = list(job.results())
    server.enqueue(*answers)
    invoked = [llm.invoke(f"q{n}") for n in range(3)]
    assert [r.key for r in results] == job.keys
    assert [r.index for r in results] == [0, 1, 2]
    for got, want in zip(results, invoked, strict=True):
        assert got.error is None and got.message is not None
        assert got.message.content == want.content
        got_cost = got.message.response_metadata.pop("cost")
        assert got.message.response_metadata == {
            k: v for k, v in want.response_metadata.items() if k != "cost"
        }
        # The same usage, priced at the Batch API's rate (test_results_are_priced_...).
        assert got_cost["rate"] == "batch" and want.response_metadata["cost"]["rate"] == "standard"
        assert got.message.usage_metadata == want.usage_metadata
        assert got.message.tool_calls == want.tool_calls
    kinds = [b["type"] for b in results[0].message.content_blocks]  # type: ignore[union-attr]
    assert kinds == ["reasoning", "text", "server_tool_call", "server_tool_result", "image", "text"]


def test_results_are_priced_at_the_batch_rate(
    server: GeminiTestServer, llm: ChatGeminiCodeExecution
) -> None:
    meta = usage(prompt=3000, candidates=400, thoughts=100, tool_use_prompt=200)
    server.enqueue(response(text("a"), usage=meta), Reply.error(429, "exhausted"))
    job = submit_batch(llm, ["q0", "q1"]).poll_until_done(**FAST)
    results = list(job.results())
    record = results[0].message.response_metadata["cost"]  # type: ignore[union-attr]
    extracted = genai_prices.extract_usage({"usageMetadata": meta}, provider_id="google")
    batch_price = genai_prices.calc_price(
        extracted.usage,
        "gemini-2.5-flash",
        provider_id="google",
        price_context={"processing": "batch"},
    )
    assert record["total"] == float(batch_price.total_price)
    assert record["rate"] == "batch"
    assert record["total"] < pricing.price(meta, "gemini-2.5-flash")["total"]
    # The job's summary: the answered requests' total, failed ones skipped.
    summary = sum_costs(r.message for r in results)
    assert summary.calls == 1 and summary.total_cost == record["total"]
    report = CodeExecutionReport.from_message(results[0].message)  # type: ignore[arg-type]
    assert "at the batch rate" in report.cost_summary()


def test_per_request_errors_keep_geminis_message(
    sync_client: str, server: GeminiTestServer, llm: ChatGeminiCodeExecution
) -> None:
    server.enqueue(
        response(text("fine")),
        Reply.error(400, "Request contains an invalid argument: contents[0] is empty."),
        Reply.error(429, "Resource has been exhausted"),
        {"promptFeedback": {"blockReason": "SAFETY"}},
        response(text("also fine")),
    )
    job = submit_batch(llm, ["a", "b", "c", "d", "e"]).poll_until_done(**FAST)
    assert job.failed_count == 2
    results = list(job.results())
    assert [r.ok for r in results] == [True, False, False, False, True]
    bad = results[1]
    assert bad.message is None
    assert isinstance(bad.error, BatchRequestError)
    assert (bad.error.code, bad.error.status) == (3, "INVALID_ARGUMENT")
    assert bad.error.message == "Request contains an invalid argument: contents[0] is empty."
    assert bad.error.key == job.keys[1]  # type: ignore[index]
    assert isinstance(results[2].error, BatchRequestError) and results[2].error.code == 8
    assert "SAFETY" in str(results[3].error)  # a blocked prompt: invoke's error, not a message
    assert results[4].message is not None and results[4].message.text == "also fine"


def test_file_input_and_streamed_responses_file(
    sync_client: str, server: GeminiTestServer, llm: ChatGeminiCodeExecution
) -> None:
    server.responder = lambda req: response(text(f"echo {req.text}"))
    inputs = [f"task {i}" for i in range(5)]
    job = submit_batch(llm, inputs, input_mode="file", temperature=0.3)
    upload = [r for r in server.requests if r.api == "files" and r.action == "upload"]
    assert len(upload) == 1
    assert upload[0].headers["x-goog-upload-protocol"] == "resumable"
    create = server.last_request.body["batch"]
    file_name = create["inputConfig"]["fileName"]
    lines = [json.loads(x) for x in server.files[file_name].data.splitlines()]
    server.clear()
    assert lines == [
        {"key": k, "request": invoke_body(server, llm, v, temperature=0.3)}
        for k, v in zip(job.keys or [], inputs, strict=True)
    ]
    server.clear()
    job.poll_until_done(**FAST)
    assert job.responses_file
    texts = [r.message.text for r in job.results() if r.message is not None]
    assert texts == [f"echo {v}" for v in inputs]
    downloads = [r for r in server.requests if r.path.endswith(":download")]
    assert len(downloads) == 1
    assert downloads[0].path.startswith("/download/v1beta/files/")
    assert downloads[0].query == {"alt": "media"}


def test_request_counts(server: GeminiTestServer, llm: ChatGeminiCodeExecution) -> None:
    """One create (plus a two-step upload for files), the polls, one download."""
    server.responder = lambda req: response(text("ok"))
    server.batch.script = BatchScript(pending_polls=1, running_polls=2)
    job = submit_batch(llm, ["a", "b"], input_mode="file").poll_until_done(**FAST)
    list(job.results())
    calls = [(r.method, r.path.rsplit("/", 1)[-1]) for r in server.requests]
    assert calls == [
        ("POST", "files"),  # start of the resumable upload
        ("POST", "file-1"),  # upload, finalize
        ("POST", "gemini-2.5-flash:batchGenerateContent"),
        ("GET", "batch-0001"),
        ("GET", "batch-0001"),
        ("GET", "batch-0001"),
        ("GET", "batch-0001-responses:download"),
    ]


def test_auto_mode_switches_to_a_file_past_the_inline_limit(
    server: GeminiTestServer, llm: ChatGeminiCodeExecution, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langchain_gemini_codeexec.batch import _submit as batch

    submit_batch(llm, ["short"])
    assert "requests" in server.last_request.body["batch"]["inputConfig"]
    monkeypatch.setattr(batch, "INLINE_LIMIT_BYTES", 2000)
    submit_batch(llm, ["x" * 3000])
    assert "fileName" in server.last_request.body["batch"]["inputConfig"]


def test_a_malformed_results_line_fails_only_that_result(
    sync_client: str, server: GeminiTestServer, llm: ChatGeminiCodeExecution
) -> None:
    server.responder = lambda req: response(text(req.text))
    server.batch.script = BatchScript(malformed_keys=frozenset({"b"}))
    job = submit_batch(llm, ["A", "B", "C"], keys=["a", "b", "c"], input_mode="file")
    results = list(job.poll_until_done(**FAST).results())
    assert [r.key for r in results] == ["a", "b", "c"]
    assert [r.message.text if r.message else None for r in results] == ["A", None, "C"]
    assert isinstance(results[1].error, IncompleteResponseError)
    assert "not valid JSON" in str(results[1].error)


def test_results_come_back_in_input_order_whatever_order_gemini_lists_them(
    sync_client: str, server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    server.responder = lambda req: response(text(req.text))
    server.batch.script = BatchScript(reverse_output=True)
    llm = make_llm()
    inputs = [f"q{i}" for i in range(6)]
    for mode in ("inline", "file"):
        job = submit_batch(llm, inputs, input_mode=mode).poll_until_done(**FAST)
        assert [r.message.text for r in job.results() if r.message] == inputs
        # Without the keys (attached by name only), results come in Gemini's order.
        bare = GeminiBatchJob.attach(job.name, llm=make_llm())
        assert [r.message.text for r in bare.results() if r.message] == inputs[::-1]


def test_network_failures_while_polling_are_retried_never_resubmitted(
    sync_client: str, server: GeminiTestServer, llm: ChatGeminiCodeExecution
) -> None:
    server.responder = lambda req: response(text("ok"))
    job = submit_batch(llm, ["a", "b"])
    server.batch.fail_next_polls(
        Reply.reset(), Reply.error(503, "unavailable"), Reply.close(), Reply.rate_limited()
    )
    job.poll_until_done(**FAST)
    assert job.state == "BATCH_STATE_SUCCEEDED"
    creates = [r for r in server.requests if r.path.endswith(":batchGenerateContent")]
    assert len(creates) == 1
    assert [r.ok for r in job.results()] == [True, True]


def test_create_is_not_resent_after_a_dropped_connection(
    server: GeminiTestServer, llm: ChatGeminiCodeExecution
) -> None:
    """A reset after sending may have created the job: an error, not a second job."""
    server.batch.script = BatchScript()
    original = server.batch.answer

    def drop_first_create(req: Any) -> Reply | None:
        if req.path.endswith(":batchGenerateContent"):
            original(req)  # the job is created...
            return Reply.reset()  # ...and the answer is lost
        return original(req)

    server.batch.answer = drop_first_create  # type: ignore[method-assign]
    with pytest.raises(Exception, match=r"could not talk to Gemini|Connection|reset"):
        submit_batch(llm, ["a"])
    assert len([r for r in server.requests if "batchGenerateContent" in r.path]) == 1
    assert len(server.batch.jobs) == 1


def test_create_is_resent_after_429(server: GeminiTestServer, llm: ChatGeminiCodeExecution) -> None:
    original = server.batch.answer
    refusals = [Reply.rate_limited()]

    def refuse_once(req: Any) -> Reply | None:
        if req.path.endswith(":batchGenerateContent") and refusals:
            return refusals.pop()
        return original(req)

    server.batch.answer = refuse_once  # type: ignore[method-assign]
    job = submit_batch(llm, ["a"])
    assert job.name in server.batch.jobs and len(server.batch.jobs) == 1


def test_attach_to_a_job_that_does_not_exist(
    sync_client: str, server: GeminiTestServer, llm: ChatGeminiCodeExecution
) -> None:
    with pytest.raises(GeminiAPIError, match=r"batches/missing.*does not exist") as info:
        GeminiBatchJob.attach("batches/missing", llm=llm)
    assert info.value.code == 404
    for bad in ("", "batches/a/b", "models/gemini-2.5-flash", "batches/../x"):
        server.clear()
        with pytest.raises(InvalidMessageError):
            GeminiBatchJob.attach(bad, llm=llm)
        assert server.requests == []


def test_attach_after_restart_resumes_the_same_job(
    sync_client: str, server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    server.responder = lambda req: response(text(req.text))
    submitted = submit_batch(make_llm(), ["one", "two"], keys=["k1", "k2"])
    name, keys = submitted.name, submitted.keys
    del submitted  # the submitting process is gone
    job = GeminiBatchJob.attach(name, llm=make_llm(), keys=keys)
    assert job.name == name and job.state == "BATCH_STATE_RUNNING"  # the GET advanced it
    assert job.model == "gemini-2.5-flash"
    job.poll_until_done(**FAST)
    assert [(r.key, r.message.text if r.message else None) for r in job.results()] == [
        ("k1", "one"),
        ("k2", "two"),
    ]
    assert len([r for r in server.requests if "batchGenerateContent" in r.path]) == 1


def test_timeout_leaves_the_job_running_and_says_how_to_attach(
    sync_client: str, server: GeminiTestServer, llm: ChatGeminiCodeExecution
) -> None:
    server.batch.script = BatchScript(pending_polls=10_000)
    job = submit_batch(llm, ["a"])
    start = time.monotonic()
    with pytest.raises(BatchTimeoutError) as info:  # a few polls, all pending
        job.poll_until_done(poll_interval=POLL_TIMEOUT / 4, timeout=POLL_TIMEOUT, progress=False)
    assert POLL_TIMEOUT * 0.9 <= time.monotonic() - start < POLL_TIMEOUT + 2.0
    assert info.value.job_name == job.name
    assert f"GeminiBatchJob.attach({job.name!r}" in str(info.value)
    assert server.batch.jobs[job.name].state == "BATCH_STATE_PENDING"
    assert not server.batch.cancels


def test_timeout_is_kept_while_the_server_hangs(
    server: GeminiTestServer, llm: ChatGeminiCodeExecution
) -> None:
    job = submit_batch(llm, ["a"])
    server.batch.fail_next_polls(Reply.hang(30))
    start = time.monotonic()
    with pytest.raises(BatchTimeoutError):
        job.poll_until_done(poll_interval=0.05, timeout=POLL_TIMEOUT, progress=False)
    # The hung poll is cut, at the timeout or at the least a poll's request gets (0.5 s).
    floor = max(POLL_TIMEOUT, batch_http.MIN_POLL_WAIT)
    assert floor * 0.9 <= time.monotonic() - start < floor + 2.5


@pytest.mark.parametrize(
    ("end_state", "message"),
    [
        ("BATCH_STATE_FAILED", "quota exceeded for batch"),
        ("BATCH_STATE_EXPIRED", "Batch expired after 48 hours."),
    ],
)
def test_failed_and_expired_jobs_raise_and_keep_partial_results(
    sync_client: str,
    server: GeminiTestServer,
    llm: ChatGeminiCodeExecution,
    end_state: str,
    message: str,
) -> None:
    server.responder = lambda req: response(text(req.text))
    error = message if end_state.endswith("FAILED") else None
    server.batch.script = BatchScript(running_polls=2, end_state=end_state, error_message=error)
    job = submit_batch(llm, ["a", "b", "c", "d"], input_mode="file")
    with pytest.raises(BatchJobError) as info:
        job.poll_until_done(**FAST)
    assert end_state in str(info.value) and message in str(info.value)
    assert info.value.state == end_state and info.value.job is job
    results = list(job.results())
    assert [r.message.text if r.message else None for r in results] == ["a", "b", None, None]
    assert all(isinstance(r.error, BatchJobError) for r in results[2:])
    assert end_state in str(results[3].error)


def test_cancel_sends_one_cancel_and_the_job_ends_cancelled(
    sync_client: str, server: GeminiTestServer, llm: ChatGeminiCodeExecution
) -> None:
    server.batch.script = BatchScript(pending_polls=5)
    job = submit_batch(llm, ["a", "b"])
    job.cancel()
    assert server.batch.cancels == [job.name]
    assert server.last_request.path == f"/v1beta/{job.name}:cancel"
    with pytest.raises(BatchJobError, match="BATCH_STATE_CANCELLED"):
        job.poll_until_done(**FAST)
    assert len(server.batch.cancels) == 1
    results = list(job.results())
    assert [type(r.error).__name__ for r in results] == ["BatchJobError", "BatchJobError"]


def test_results_before_the_job_ended_is_an_error(
    server: GeminiTestServer, llm: ChatGeminiCodeExecution
) -> None:
    server.batch.script = BatchScript(pending_polls=100)
    job = submit_batch(llm, ["a"])
    with pytest.raises(Exception, match="no results yet; call poll_until_done"):
        list(job.results())


def test_scripted_gemini_answers_batch_requests(
    make_llm: Callable[..., ChatGeminiCodeExecution], server: GeminiTestServer
) -> None:
    server.responder = ScriptedGemini()
    job = submit_batch(make_llm(), ["What is 6 * 7?", "What is 2 + 3?"]).poll_until_done(**FAST)
    texts = [r.message.text for r in job.results() if r.message]
    assert "42" in texts[0] and "5" in texts[1]


def test_progress_logs_a_line_per_poll_or_nothing(
    server: GeminiTestServer, llm: ChatGeminiCodeExecution, caplog: pytest.LogCaptureFixture
) -> None:
    import importlib.util

    if importlib.util.find_spec("tqdm") is not None:
        pytest.skip("tqdm installed: the bar is shown instead of log lines")
    server.responder = lambda req: response(text("ok"))
    caplog.set_level("INFO", logger="langchain_gemini_codeexec.batch")
    submit_batch(llm, ["a"]).poll_until_done(poll_interval=0.01, timeout=5)
    lines = [r.getMessage() for r in caplog.records if "requests done" in r.getMessage()]
    assert lines and "BATCH_STATE_SUCCEEDED, 1 of 1 requests done (0 failed)" in lines[-1]
    caplog.clear()
    submit_batch(llm, ["a"]).poll_until_done(poll_interval=0.01, timeout=5, progress=False)
    assert not [r for r in caplog.records if "requests done" in r.getMessage()]


def test_the_api_key_is_in_no_repr_or_str(
    sync_client: str, server: GeminiTestServer, llm: ChatGeminiCodeExecution
) -> None:
    server.enqueue(response(text("ok")), Reply.error(400, "bad"))
    job = submit_batch(llm, ["a", "b"]).poll_until_done(**FAST)
    results = list(job.results())
    texts = [repr(job), str(job), *map(repr, results), *map(str, results)]
    texts += [repr(r.error) for r in results] + [str(r.error) for r in results]
    server.batch.script = BatchScript(pending_polls=1000)
    try:
        submit_batch(llm, ["c"]).poll_until_done(poll_interval=0.01, timeout=0.05)
    except BatchTimeoutError as exc:
        texts += [str(exc), repr(exc)]
    assert texts and all(API_KEY not in t for t in texts)


def test_progress_is_a_bar_when_tqdm_is_installed(
    server: GeminiTestServer,
    llm: ChatGeminiCodeExecution,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """tqdm is optional: a stand-in module shows what poll_until_done asks of it."""
    import sys
    import types

    bars: list[Any] = []

    class FakeBar:
        def __init__(self, **kwargs: Any) -> None:
            self.total, self.n, self.closed, self.postfix = kwargs.get("total"), 0, False, ""
            bars.append(self)

        def set_postfix_str(self, text: str, refresh: bool = True) -> None:
            self.postfix = text

        def refresh(self) -> None:
            pass

        def close(self) -> None:
            self.closed = True

    module = types.ModuleType("tqdm.auto")
    module.tqdm = FakeBar  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tqdm", types.ModuleType("tqdm"))
    monkeypatch.setitem(sys.modules, "tqdm.auto", module)
    server.responder = lambda req: response(text("ok"))
    caplog.set_level("INFO", logger="langchain_gemini_codeexec.batch")
    submit_batch(llm, ["a", "b", "c"]).poll_until_done(poll_interval=0.01, timeout=5)
    assert len(bars) == 1 and bars[0].closed
    assert (bars[0].total, bars[0].n) == (3, 3)
    assert "BATCH_STATE_SUCCEEDED" in bars[0].postfix
    assert not [r for r in caplog.records if "requests done" in r.getMessage()]
    submit_batch(llm, ["d"]).poll_until_done(poll_interval=0.01, timeout=5, progress=False)
    assert len(bars) == 1  # progress=False: no bar


async def test_submit_batch_through_bind_tools_keeps_the_bound_tools(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    """`llm.bind_tools(...).submit_batch(...)`: LangChain forwards the call to the model."""
    llm = make_llm(model="gemini-3-flash-preview")
    bound = llm.bind_tools([Weather], tool_choice="auto").bind(temperature=0.5)
    submit_batch(bound, ["weather in Paris?"], keys=["p"])
    sent = inline_requests(server)[0]["request"]
    server.clear()
    await asubmit_batch(bound, ["weather in Paris?"], keys=["p"])
    sent_async = inline_requests(server)[0]["request"]
    server.clear()
    want = invoke_body(server, bound, "weather in Paris?")
    assert sent == want and sent_async == want
    assert "functionDeclarations" in json.dumps(want["tools"])
    assert want["generationConfig"]["temperature"] == 0.5


def test_inline_results_without_keys_are_placed_by_position(
    server: GeminiTestServer, llm: ChatGeminiCodeExecution
) -> None:
    """An endpoint that does not echo `metadata.key` inline: results follow request order."""
    server.responder = lambda req: response(text(req.text))
    job = submit_batch(llm, ["A", "B"], keys=["a", "b"]).poll_until_done(**FAST)
    for item in job.raw["response"]["inlinedResponses"]["inlinedResponses"]:
        del item["metadata"]
    job.raw["metadata"].pop("output")
    assert [(r.key, r.message.text if r.message else None) for r in job.results()] == [
        ("a", "A"),
        ("b", "B"),
    ]
