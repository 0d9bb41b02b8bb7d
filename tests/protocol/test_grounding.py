"""Grounding becomes citations (docs/contract.md, section 1): Google Search and URL context
results as LangChain's standard `citation` annotations on the text blocks they support,
through the real SDK in every call mode; invoke and the added-up stream agree."""

from __future__ import annotations

import copy
import warnings
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    Reply,
    code,
    grounded,
    grounding_metadata,
    response,
    result,
    stream_chunks,
    text,
    url_context_metadata,
    web_source,
)
from tests.support import strip_index

SOURCES = [
    web_source("https://tour.example/hauteur", "La tour Eiffel", domain="tour.example"),
    web_source("https://stats.example/eiffel", "Eiffel in Zahlen"),
    web_source("https://unused.example", "Listed, never tied to words"),
]
PARTS = [
    text("La tour Eiffel mesure 330 m — c'est très haut. "),
    code("print(round(330 * 3.28084))", id="run-1"),
    result("1083\n", id="run-1"),
    text("Das sind ≈1083 Fuß 🗼, laut Quelle."),
]
GROUNDED = grounded(
    *PARTS,
    supports=[("mesure 330 m", [0]), ("≈1083 Fuß 🗼", [0, 1])],
    sources=SOURCES,
    queries=["hauteur tour eiffel"],
    entry_point='<div class="entry">hauteur tour eiffel</div>',
    url_context=url_context_metadata("https://tour.example/hauteur", "https://read.example/page"),
    response_id="resp-grounded",
)


def script(server: GeminiTestServer, streamed: bool, resp: dict[str, Any]) -> None:
    server.enqueue(Reply.stream(stream_chunks(resp)) if streamed else resp)


def annotated(message: AIMessage) -> list[tuple[int, dict[str, Any]]]:
    return [
        (position, cite)
        for position, block in enumerate(message.content)
        if isinstance(block, dict)
        for cite in block.get("annotations", [])
    ]


async def test_citations_sit_on_the_text_they_support(server: GeminiTestServer, ask: Any) -> None:
    script(server, ask.streamed, GROUNDED)
    msg = (await ask(ask.model(), "q")).message
    content = strip_index(msg.content)
    first, second = content[0]["text"], content[3]["text"]
    placed = [
        (p, c.get("url"), c.get("cited_text"), c.get("start_index"), c.get("end_index"))
        for p, c in annotated(msg)
    ]
    # Character offsets into each block's own text, though Gemini counts UTF-8 bytes
    # (the dash, the accents, the emoji take more than one).
    a = first.index("mesure 330 m")
    b = second.index("≈1083 Fuß 🗼")
    assert placed == [
        (0, "https://tour.example/hauteur", "mesure 330 m", a, a + 12),
        (0, "https://unused.example", None, None, None),
        (0, "https://read.example/page", None, None, None),
        (3, "https://tour.example/hauteur", "≈1083 Fuß 🗼", b, b + 11),
        (3, "https://stats.example/eiffel", "≈1083 Fuß 🗼", b, b + 11),
    ]
    for position, cite in annotated(msg):
        if "start_index" in cite:
            words = content[position]["text"][cite["start_index"] : cite["end_index"]]
            assert words == cite["cited_text"]
    cite = annotated(msg)[0][1]
    assert cite["type"] == "citation"
    assert cite["title"] == "La tour Eiffel"
    assert cite["extras"]["source"] == "web"
    assert cite["extras"]["grounding_chunk_index"] == 0
    assert cite["extras"]["grounding_support_index"] == 0
    assert cite["extras"]["chunk"] == {"domain": "tour.example"}
    url_only = annotated(msg)[2][1]
    assert url_only["extras"] == {
        "source": "urlContext",
        "url_retrieval_status": "URL_RETRIEVAL_STATUS_SUCCESS",
    }
    # The record stays verbatim: queries and the search entry point Google asks apps to show.
    grounding = msg.response_metadata["grounding_metadata"]
    assert grounding == GROUNDED["candidates"][0]["groundingMetadata"]
    assert grounding["searchEntryPoint"]["renderedContent"].startswith("<div")
    assert msg.response_metadata["url_context_metadata"]["urlMetadata"][1]["retrievedUrl"] == (
        "https://read.example/page"
    )
    assert msg.content_blocks == msg.content


async def test_invoke_and_stream_give_the_same_citations(
    server: GeminiTestServer, ask: Any
) -> None:
    """Every mode is compared with the whole response mapped by invoke on the same server."""
    script(server, ask.streamed, GROUNDED)
    llm = ask.model()
    got = (await ask(llm, "q")).message
    server.enqueue(GROUNDED)
    whole = llm.invoke("q")
    assert strip_index(got.content) == whole.content


async def test_grounding_after_the_last_chunk_still_lands_on_its_blocks(
    server: GeminiTestServer, ask: Any
) -> None:
    """Gemini may send grounding on a chunk of its own after the finish (or no parts at all
    on the last chunk): the added-up message still carries the citations on the blocks."""
    plain = response(*copy.deepcopy(PARTS), response_id="resp-late")
    chunks = stream_chunks(plain)
    late = {
        "candidates": [
            {
                "content": {"role": "model", "parts": []},
                "groundingMetadata": grounding_metadata(
                    PARTS, [("très haut", [0]), ("laut Quelle", [0])], SOURCES[:1]
                ),
                "index": 0,
            }
        ],
        "modelVersion": "gemini-2.5-flash",
        "responseId": "resp-late",
    }
    server.enqueue(Reply.stream([*chunks, late]))
    msg = (await ask(ask.model(), "q")).message
    placed = [(p, c["cited_text"]) for p, c in annotated(msg)]
    assert placed == [(0, "très haut"), (3, "laut Quelle")]
    if ask.streamed:
        assert msg.content[0]["text"].endswith("très haut. ")


async def test_a_citation_of_a_code_run_keeps_the_link(server: GeminiTestServer, ask: Any) -> None:
    """A support whose segment names the code part is linked to that run."""
    resp = copy.deepcopy(GROUNDED)
    supports = resp["candidates"][0]["groundingMetadata"]["groundingSupports"]
    supports.append(
        {
            "segment": {
                "partIndex": 1,
                "startIndex": 6,
                "endIndex": 26,
                "text": "round(330 * 3.28084)",
            },
            "groundingChunkIndices": [1],
            "confidenceScores": [0.93],
        }
    )
    script(server, ask.streamed, resp)
    msg = (await ask(ask.model(), "q")).message
    linked = [(p, c) for p, c in annotated(msg) if c["extras"].get("tool_call_id")]
    assert len(linked) == 1
    position, cite = linked[0]
    assert position == 3  # the text after the run: code blocks carry no annotations
    assert cite["extras"]["tool_call_id"] == "run-1"
    assert cite["extras"]["confidence_score"] == 0.93
    assert cite["url"] == "https://stats.example/eiffel"
    assert "start_index" not in cite  # the words are the code's, not this text's


async def test_grounded_answer_goes_back_as_the_parts_gemini_sent(
    server: GeminiTestServer, ask: Any
) -> None:
    script(server, ask.streamed, GROUNDED)
    llm = ask.model()
    msg = (await ask(llm, "q")).message
    loaded = AIMessage.model_validate_json(msg.model_dump_json())
    server.enqueue(response(text("ok")))
    llm.invoke([HumanMessage("q"), loaded, HumanMessage("and?")])
    assert server.last_request.body["contents"][1] == {"role": "model", "parts": PARTS}


@pytest.mark.parametrize("status", ["URL_RETRIEVAL_STATUS_ERROR", "URL_RETRIEVAL_STATUS_PAYWALL"])
async def test_urls_not_read_are_no_citations(
    server: GeminiTestServer, llm: Any, status: str
) -> None:
    resp = response(text("Nothing could be read."))
    resp["candidates"][0]["urlContextMetadata"] = url_context_metadata(
        "https://down.example", status=status
    )
    server.enqueue(resp)
    msg = llm.invoke("q")
    assert "annotations" not in msg.content[0]
    assert (
        msg.response_metadata["url_context_metadata"] == resp["candidates"][0]["urlContextMetadata"]
    )


def test_not_behind_langchain_google_genai(server: GeminiTestServer, llm: Any) -> None:
    """The same grounded answer through ChatGoogleGenerativeAI (4.x, the same SDK, the same
    loopback server): every citation it gives, ours gives too (url, title, cited words),
    and ours sit on the block they cite with character offsets, where it puts them all on
    the first text block with Gemini's byte offsets."""
    from langchain_google_genai import ChatGoogleGenerativeAI

    theirs_llm = ChatGoogleGenerativeAI(
        model="gemini-2.5-flash",
        google_api_key="test-key",
        base_url=server.base_url,
        output_version="v1",
    )
    server.enqueue(GROUNDED, GROUNDED)
    with warnings.catch_warnings():  # its note that code execution output may vary
        warnings.simplefilter("ignore", UserWarning)
        theirs = theirs_llm.invoke("q")
    ours = llm.invoke("q")

    def key(cite: dict[str, Any]) -> tuple[Any, ...]:
        return (cite.get("url"), cite.get("title"), cite.get("cited_text"))

    their_cites = [
        c for b in theirs.content_blocks if b["type"] == "text" for c in b.get("annotations", [])
    ]
    assert their_cites, "langchain-google-genai gave no citations to compare with"
    our_cites = [c for _, c in annotated(ours)]
    assert {key(c) for c in their_cites} <= {key(c) for c in our_cites}
    # Where they differ: the second support is in the fourth part, after the code run.
    ours_emoji = [(p, c) for p, c in annotated(ours) if c.get("cited_text") == "≈1083 Fuß 🗼"]
    assert {p for p, _ in ours_emoji} == {3}
    text_3 = ours.content[3]["text"]
    for _, cite in ours_emoji:
        assert text_3[cite["start_index"] : cite["end_index"]] == "≈1083 Fuß 🗼"
    theirs_emoji = [c for c in their_cites if c.get("cited_text") == "≈1083 Fuß 🗼"]
    first_text = next(b for b in theirs.content_blocks if b["type"] == "text")["text"]
    assert all(
        first_text[c["start_index"] : c["end_index"]] != "≈1083 Fuß 🗼" for c in theirs_emoji
    )
