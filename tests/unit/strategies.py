"""Hypothesis strategies for Gemini parts and responses, as they come over the wire."""

from __future__ import annotations

import base64
from typing import Any

from hypothesis import strategies as st

OUTCOMES = ["OUTCOME_OK", "OUTCOME_FAILED", "OUTCOME_DEADLINE_EXCEEDED", "OUTCOME_UNSPECIFIED"]

texts = st.text(max_size=40)
ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=12)
signatures = st.binary(min_size=1, max_size=24).map(lambda b: base64.b64encode(b).decode())
payloads = st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode())
extra_keys = st.dictionaries(
    st.sampled_from(["partMetadata", "videoMetadata", "mediaResolution"]),
    st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 5), max_size=2),
    max_size=1,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | texts,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["x", "y", "z"]), children, max_size=3)
    ),
    max_leaves=6,
)


def _with(part: dict[str, Any], signature: str | None, extra: dict[str, Any]) -> dict[str, Any]:
    part = {**part, **extra}
    if signature is not None:
        part["thoughtSignature"] = signature
    return part


@st.composite
def text_parts(draw: st.DrawFn) -> dict[str, Any]:
    part: dict[str, Any] = {"text": draw(texts)}
    thought = draw(st.sampled_from([None, True, False]))
    if thought is not None:
        part["thought"] = thought
    return _with(part, draw(st.none() | signatures), draw(extra_keys))


@st.composite
def code_parts(draw: st.DrawFn) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    if draw(st.booleans()):
        payload["code"] = draw(texts)
    language = draw(st.sampled_from([None, "PYTHON", "PYTHON", "LANGUAGE_UNSPECIFIED"]))
    if language is not None:
        payload["language"] = language
    if draw(st.booleans()):
        payload["id"] = draw(ids)
    return _with({"executableCode": payload}, draw(st.none() | signatures), draw(extra_keys))


@st.composite
def result_parts(draw: st.DrawFn) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    outcome = draw(st.none() | st.sampled_from(OUTCOMES))
    if outcome is not None:
        payload["outcome"] = outcome
    if draw(st.booleans()):
        payload["output"] = draw(texts)
    if draw(st.booleans()):
        payload["id"] = draw(ids)
    return _with({"codeExecutionResult": payload}, draw(st.none() | signatures), draw(extra_keys))


@st.composite
def inline_parts(draw: st.DrawFn) -> dict[str, Any]:
    mime = draw(st.sampled_from(["image/png", "image/jpeg", "audio/wav", "video/mp4", "text/csv"]))
    payload = {"mimeType": mime, "data": draw(payloads)}
    if draw(st.booleans()):
        payload["displayName"] = draw(texts)
    return _with({"inlineData": payload}, draw(st.none() | signatures), {})


@st.composite
def file_parts(draw: st.DrawFn) -> dict[str, Any]:
    uri = draw(
        st.sampled_from(
            [
                "gs://bucket/data.csv",
                "https://generativelanguage.googleapis.com/v1beta/files/abc",
                "https://example.com/chart.png",
            ]
        )
    )
    payload = {"fileUri": uri, "mimeType": draw(st.sampled_from(["text/csv", "image/png"]))}
    return _with({"fileData": payload}, draw(st.none() | signatures), {})


@st.composite
def function_call_parts(draw: st.DrawFn) -> dict[str, Any]:
    payload: dict[str, Any] = {"name": draw(st.sampled_from(["lookup", "get_weather", "add"]))}
    if draw(st.booleans()):
        payload["args"] = draw(
            st.dictionaries(st.sampled_from(["q", "n", "city"]), json_values, max_size=3)
        )
    if draw(st.booleans()):
        payload["id"] = draw(ids)
    return _with({"functionCall": payload}, draw(st.none() | signatures), {})


unknown_parts = st.builds(
    lambda kind, value: {kind: value},
    st.sampled_from(["toolCall", "toolResponse", "functionResponse", "someNewKind"]),
    st.dictionaries(st.sampled_from(["id", "name", "args"]), json_values, max_size=3),
)

parts = st.one_of(
    text_parts(),
    code_parts(),
    result_parts(),
    inline_parts(),
    file_parts(),
    function_call_parts(),
    unknown_parts,
)


@st.composite
def usages(draw: st.DrawFn) -> dict[str, Any]:
    counts = {
        "promptTokenCount": draw(st.integers(0, 500)),
        "candidatesTokenCount": draw(st.integers(0, 500)),
    }
    for key in ("toolUsePromptTokenCount", "thoughtsTokenCount", "cachedContentTokenCount"):
        if draw(st.booleans()):
            counts[key] = draw(st.integers(0, 500))
    counts["totalTokenCount"] = sum(v for k, v in counts.items() if k != "cachedContentTokenCount")
    return counts
