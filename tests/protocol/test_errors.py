"""docs/contract.md section 5: errors, through the real SDK (sync, aiohttp, httpx; invoke, stream).

A blocked prompt raises a typed error naming the reason; HTTP errors keep code, status
and message with the SDK's error chained; 429 is retried (requests counted on the
server); a candidate stopped for SAFETY / MAX_TOKENS / RECITATION returns what arrived.
"""

from __future__ import annotations

from typing import Any

import pytest
from google.genai import errors as genai_errors

from langchain_gemini_codeexec import (
    BlockedPromptError,
    GeminiAPIError,
    GeminiCodeExecutionError,
)
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    Reply,
    blocked,
    code,
    error_body,
    response,
    result,
    stream_chunks,
    text,
    usage,
)
from tests.support import API_KEY, strip_index

# HTTP errors, retries and errors inside a stream are where the HTTP library matters:
# `ask` on every path there; a blocked prompt or a stopped candidate is mapping.
every_http_path = pytest.mark.every_http_path


def script(server: GeminiTestServer, ask: Any, resp: dict[str, Any]) -> None:
    server.enqueue(Reply.stream(stream_chunks(resp)) if ask.streamed else resp)


# ------------------------------------------------------------------ blocked prompts


@pytest.mark.parametrize("reason", ["SAFETY", "PROHIBITED_CONTENT", "OTHER", "BLOCKLIST"])
async def test_blocked_prompt_raises_naming_the_reason(
    server: GeminiTestServer, ask: Any, reason: str
) -> None:
    body = blocked(reason)
    body["promptFeedback"]["safetyRatings"] = [
        {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}
    ]
    server.enqueue(body)
    llm = ask.model()
    with pytest.raises(BlockedPromptError) as caught:
        await ask.raises(llm, "something bad")
    err = caught.value
    assert err.reason == reason
    assert reason in str(err)
    assert err.prompt_feedback == body["promptFeedback"]
    assert isinstance(err, GeminiCodeExecutionError)
    assert len(server.model_requests) == 1  # a verdict, not something to retry


@every_http_path
async def test_blocked_prompt_as_an_sse_event(server: GeminiTestServer, ask: Any) -> None:
    """Sent as an SSE event (merged for invoke): never an empty answer either."""
    server.enqueue(Reply.stream([blocked("SAFETY")]))
    with pytest.raises(BlockedPromptError, match="SAFETY"):
        await ask.raises(ask.model(), "q")


# ------------------------------------------------------------------ HTTP errors


@every_http_path
@pytest.mark.parametrize(
    ("code_", "status", "message", "sdk_error"),
    [
        (400, "INVALID_ARGUMENT", "Tool use with function calling is unsupported", "ClientError"),
        (404, "NOT_FOUND", "models/gemini-9 is not found for API version v1beta", "ClientError"),
        (
            429,
            "RESOURCE_EXHAUSTED",
            "Resource has been exhausted (e.g. check quota).",
            "ClientError",
        ),
        (500, "INTERNAL", "An internal error has occurred.", "ServerError"),
    ],
)
async def test_http_errors_keep_code_status_and_message(
    server: GeminiTestServer,
    ask: Any,
    code_: int,
    status: str,
    message: str,
    sdk_error: str,
) -> None:
    details = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "X"}]
    server.enqueue(Reply.error(code_, message, status, details))
    llm = ask.model(max_retries=0)
    with pytest.raises(GeminiAPIError) as caught:
        await ask.raises(llm, "q")
    err = caught.value
    assert (err.code, err.status, err.message) == (code_, status, message)
    assert str(code_) in str(err) and status in str(err) and message in str(err)
    assert err.details == details
    cause = err.__cause__
    assert isinstance(cause, getattr(genai_errors, sdk_error))
    assert isinstance(cause, genai_errors.APIError)
    assert cause.code == code_
    assert API_KEY not in str(err) and API_KEY not in repr(err)
    assert len(server.model_requests) == 1


@every_http_path
async def test_client_errors_are_not_retried(server: GeminiTestServer, ask: Any) -> None:
    server.enqueue(Reply.error(400, "bad request"), response(text("never")))
    llm = ask.model(max_retries=3)
    with pytest.raises(GeminiAPIError) as caught:
        await ask.raises(llm, "q")
    assert caught.value.code == 400
    assert len(server.model_requests) == 1
    assert server.pending == 1


@every_http_path
async def test_error_inside_a_stream(server: GeminiTestServer, ask: Any) -> None:
    chunks = stream_chunks(response(text("partial answer")))[:-1]
    fault = error_body(503, "The model is overloaded.")
    server.enqueue(Reply.stream(chunks, error_after=fault))
    llm = ask.model(max_retries=0)
    with pytest.raises(GeminiAPIError) as caught:
        await ask.raises(llm, "q")
    assert caught.value.code == 503
    assert "overloaded" in str(caught.value)


# ------------------------------------------------------------------ retries


@every_http_path
@pytest.mark.parametrize(
    "limit",
    [
        Reply.rate_limited(),
        Reply.rate_limited(retry_after=0.01),
        Reply.rate_limited(retry_delay="0.01s"),
    ],
    ids=["plain", "retry-after", "retry-info"],
)
async def test_429_is_retried_then_succeeds(
    server: GeminiTestServer, ask: Any, limit: Reply
) -> None:
    resp = response(code("print(1)"), result("1\n"), text("1"))
    server.enqueue(limit, limit)
    script(server, ask, resp)
    llm = ask.model(max_retries=2, retry_initial_delay=0.001, retry_max_delay=0.05)
    answer = await ask(llm, "q")
    assert answer.message.text == "1"
    assert len(server.model_requests) == 3
    assert all(r.body == server.model_requests[0].body for r in server.model_requests)


@every_http_path
@pytest.mark.parametrize("code_", [500, 503])
async def test_server_errors_are_retried(server: GeminiTestServer, ask: Any, code_: int) -> None:
    server.enqueue(Reply.error(code_, "try again"))
    script(server, ask, response(text("ok")))
    answer = await ask(ask.model(max_retries=1), "q")
    assert answer.message.text == "ok"
    assert len(server.model_requests) == 2


@every_http_path
async def test_429_after_all_retries_raises(server: GeminiTestServer, ask: Any) -> None:
    server.enqueue(*[Reply.rate_limited()] * 3, response(text("too late")))
    llm = ask.model(max_retries=2, retry_initial_delay=0.001, retry_max_delay=0.01)
    with pytest.raises(GeminiAPIError) as caught:
        await ask.raises(llm, "q")
    err = caught.value
    assert (err.code, err.status) == (429, "RESOURCE_EXHAUSTED")
    assert err.attempts == 3
    assert "3 attempts" in str(err)
    assert isinstance(err.__cause__, genai_errors.ClientError)
    assert len(server.model_requests) == 3
    assert server.pending == 1


@every_http_path
async def test_no_retries_when_max_retries_is_zero(server: GeminiTestServer, ask: Any) -> None:
    server.enqueue(Reply.rate_limited(), response(text("unused")))
    with pytest.raises(GeminiAPIError):
        await ask.raises(ask.model(max_retries=0), "q")
    assert len(server.model_requests) == 1


# ------------------------------------------------------------------ stopped candidates


@pytest.mark.parametrize(
    "reason", ["SAFETY", "MAX_TOKENS", "RECITATION", "MALFORMED_FUNCTION_CALL"]
)
async def test_stopped_candidate_returns_what_arrived(
    server: GeminiTestServer, ask: Any, reason: str
) -> None:
    resp = response(
        text("Here is the start of the answer. "),
        code("print('half')", id="h1"),
        result("half\n", id="h1"),
        text("And then"),
        finish_reason=reason,
        usage=usage(prompt=12, candidates=30, tool_use_prompt=9),
    )
    resp["candidates"][0]["finishMessage"] = f"stopped: {reason}"
    if reason == "SAFETY":
        resp["candidates"][0]["safetyRatings"] = [
            {"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH", "blocked": True}
        ]
    script(server, ask, resp)
    msg = (await ask(ask.model(), "q")).message
    assert msg.response_metadata["finish_reason"] == reason
    assert msg.response_metadata["finish_message"] == f"stopped: {reason}"
    assert msg.text == "Here is the start of the answer. And then"
    # A refusal-like stop adds the standard refusal block after what arrived (no part).
    refused = ["refusal"] if reason in ("SAFETY", "RECITATION") else []
    assert [b["type"] for b in msg.content] == [
        "text",
        "server_tool_call",
        "server_tool_result",
        "text",
        *refused,
    ]
    assert msg.usage_metadata is not None
    assert msg.usage_metadata["total_tokens"] == 51
    if reason == "SAFETY":
        assert msg.response_metadata["safety_ratings"][0]["blocked"] is True


async def test_safety_stop_with_no_parts_is_a_lone_refusal_with_reason(
    server: GeminiTestServer, ask: Any
) -> None:
    resp = response(finish_reason="SAFETY")
    resp["candidates"][0]["content"] = {"role": "model"}
    script(server, ask, resp)
    msg = (await ask(ask.model(), "q")).message
    assert strip_index(msg.content) == [
        {"type": "refusal", "refusal": "", "extras": {"finish_reason": "SAFETY"}}
    ]
    assert msg.response_metadata["finish_reason"] == "SAFETY"
