"""Unit and property tests of grounding -> citations (docs/contract.md, section 1)."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st
from langchain_core.messages import AIMessage

from langchain_gemini_codeexec._mapping.from_gemini import response_to_message_fields
from langchain_gemini_codeexec._mapping.grounding import Slot, _chars, citations
from langchain_gemini_codeexec._mapping.streaming import StreamState
from langchain_gemini_codeexec.testing import (
    code,
    grounded,
    result,
    stream_chunks,
    text,
    web_source,
)
from tests.support import property_test

# Text with multi-byte characters: accents, CJK, emoji (4 bytes), combining marks.
unicode_text = st.text(
    alphabet=st.sampled_from(list("abc xyz.,-") + list("éßü—≈漢字🗼🙂\u0301")),
    min_size=1,
    max_size=30,
)


@property_test(300, unicode_text, st.data())
def test_byte_offsets_become_character_offsets(value: str, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(value)))
    assert _chars(value, len(value[:i].encode("utf-8"))) == i


def _slots(*texts: str) -> list[Slot]:
    return [Slot("text", t) for t in texts]


def test_byte_segment_in_a_later_part() -> None:
    slots = [
        Slot("text", "Zürich: "),
        Slot("server_tool_call", run_id="r1"),
        Slot("text", "Größe 5"),
    ]
    grounding = {
        "groundingChunks": [{"web": {"uri": "https://z.example", "title": "Z"}}],
        "groundingSupports": [
            {
                "segment": {"partIndex": 2, "startIndex": 7, "endIndex": 9, "text": "5"},
                "groundingChunkIndices": [0],
            }
        ],
    }
    (placed,) = citations(slots, grounding)[2]
    assert (placed["start_index"], placed["end_index"]) == (6, 7)
    assert "Größe 5"[6:7] == "5"


def test_character_offsets_are_recognised_when_bytes_do_not_fit() -> None:
    """A segment counted in characters (not as documented) still cites the same words."""
    grounding = {
        "groundingChunks": [{"web": {"uri": "u"}}],
        "groundingSupports": [
            {
                "segment": {"startIndex": 6, "endIndex": 11, "text": "Größe"},
                "groundingChunkIndices": [0],
            }
        ],
    }
    (placed,) = citations(_slots("Maße: Größe"), grounding)[0]
    assert (placed["start_index"], placed["end_index"]) == (6, 11)


def test_offsets_into_all_the_text_joined_find_their_block() -> None:
    grounding = {
        "groundingChunks": [{"web": {"uri": "u"}}],
        "groundingSupports": [
            {
                "segment": {"startIndex": 9, "endIndex": 13, "text": "déjà"},
                "groundingChunkIndices": [0],
            }
        ],
    }
    found = citations(_slots("one two ", "déjà vu"), grounding)
    (placed,) = found[1]
    assert (placed["start_index"], placed["end_index"]) == (0, 4)


def test_a_segment_that_fits_nowhere_is_kept_without_offsets() -> None:
    grounding = {
        "groundingChunks": [{"web": {"uri": "u"}}],
        "groundingSupports": [
            {
                "segment": {"startIndex": 0, "endIndex": 4, "text": "gone"},
                "groundingChunkIndices": [0, 7],  # 7 names no chunk: skipped
            }
        ],
    }
    (placed,) = citations(_slots("other words"), grounding)[0]
    assert "start_index" not in placed
    assert placed["extras"]["segment"]["text"] == "gone"


def test_no_text_block_places_nothing_and_junk_is_ignored() -> None:
    assert citations([Slot("image")], {"groundingChunks": [{"web": {"uri": "u"}}]}) == {}
    assert citations(_slots("a"), {"groundingChunks": 5, "groundingSupports": [None, 3]}) == {}
    assert citations(_slots("a"), None, {"urlMetadata": [{"retrievedUrl": 5}, "x"]}) == {}


def test_other_source_kinds() -> None:
    grounding = {
        "groundingChunks": [
            {"retrievedContext": {"uri": "gs://b/doc", "title": "Doc", "text": "source words"}},
            {"maps": {"uri": "https://maps.example/p", "title": "Café", "placeId": "places/1"}},
            {"image": {"sourceUri": "https://img.example", "imageUri": "https://i/1.png"}},
        ]
    }
    cites = citations(_slots("answer"), grounding)[0]
    assert [(c["url"], c["extras"]["source"]) for c in cites] == [
        ("gs://b/doc", "retrievedContext"),
        ("https://maps.example/p", "maps"),
        ("https://img.example", "image"),
    ]
    assert cites[0]["extras"]["chunk"] == {"text": "source words"}
    assert cites[1]["extras"]["chunk"] == {"placeId": "places/1"}


@property_test(
    200,
    st.lists(unicode_text, min_size=1, max_size=4),
    st.data(),
    st.randoms(use_true_random=False),
)
def test_any_cited_words_are_found_invoke_and_stream_alike(
    texts: list[str], data: st.DataObject, rng: random.Random
) -> None:
    """Words cited anywhere (non-ASCII included) land on their block at the right
    characters, and the added-up stream carries the very same citations."""
    parts: list[dict[str, Any]] = []
    for i, value in enumerate(texts):
        parts.append(text(value))
        parts.append(code(f"print({i})", id=f"r{i}"))
        parts.append(result(f"{i}\n", id=f"r{i}"))
    supports = []
    for value in texts:
        lo = data.draw(st.integers(0, len(value) - 1))
        hi = data.draw(st.integers(lo + 1, len(value)))
        supports.append((value[lo:hi], [0]))
    # The builder cites the first text holding the words; keep only unambiguous ones.
    firsts = [next(i for i, t in enumerate(texts) if words in t) for words, _ in supports]
    assume(all(texts.index(texts[f]) == f for f in firsts))
    resp = grounded(*parts, supports=supports, sources=[web_source("https://s.example")])
    whole = AIMessage(**response_to_message_fields(resp, "gemini-2.5-flash"))
    for position, block in enumerate(whole.content):
        for cite in block.get("annotations", []) if isinstance(block, dict) else []:
            if "start_index" in cite:
                assert block["text"][cite["start_index"] : cite["end_index"]] == cite["cited_text"]
                assert position % 3 == 0
    state = StreamState("gemini-2.5-flash")
    chunks = [state.chunk(c) for c in stream_chunks(resp, text_pieces=rng.randint(1, 4))]
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    stripped = [{k: v for k, v in b.items() if k != "index"} for b in total.content]
    assert stripped == whole.content


_keys = st.sampled_from(
    [
        "groundingChunks",
        "groundingSupports",
        "segment",
        "web",
        "uri",
        "title",
        "partIndex",
        "startIndex",
        "endIndex",
        "text",
        "groundingChunkIndices",
        "confidenceScores",
        "urlMetadata",
        "retrievedUrl",
        "urlRetrievalStatus",
        "maps",
        "image",
    ]
)
_odd_json = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 40) | st.text(max_size=6),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_keys, children, max_size=5),
    max_leaves=25,
)


@property_test(300, st.lists(unicode_text, max_size=3), _odd_json, _odd_json)
def test_any_grounding_json_maps_or_is_ignored(
    texts: list[str], grounding: Any, url_context: Any
) -> None:
    """Malformed grounding never breaks an answer: citations are plain JSON, on text
    blocks, and any offsets they carry cite the words they claim."""
    slots = [Slot("text", t) for t in texts] + [Slot("server_tool_call", run_id="r")]
    found = citations(slots, grounding, url_context)
    for position, cites in found.items():
        assert slots[position].type == "text"
        for cite in cites:
            assert cite["type"] == "citation"
            if "start_index" in cite:
                words = slots[position].text[cite["start_index"] : cite["end_index"]]
                assert cite.get("cited_text") in (None, words)
