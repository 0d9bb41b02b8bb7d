"""Grounding to citations: Gemini's groundingMetadata and urlContextMetadata as LangChain's
standard `citation` annotations on the text blocks they support (docs/contract.md, 1).

Pure functions over the response JSON as it came (camelCase). A support's segment names
a part (`partIndex`, 0 when absent) and UTF-8 byte offsets into that part's text; the
citation carries character offsets into the text block instead (what LangChain's
`start_index` / `end_index` mean). The metadata itself stays verbatim in
`response_metadata` (the lossless record); citations are a reading of it, and a text block's
`annotations` never go back to Gemini (nothing of grounding does).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Block = dict[str, Any]

# Grounding chunk kinds: the payload key, where its URL is, where its title is.
_CHUNK_KINDS = (
    ("web", "uri", "title"),
    ("retrievedContext", "uri", "title"),
    ("maps", "uri", "title"),
    ("image", "sourceUri", "title"),
)
_URL_OK = ("URL_RETRIEVAL_STATUS_SUCCESS", None)
# Blocks a support may point at that belong to a code run (their run's id links them).
_RUN_BLOCKS = {"server_tool_call": "id", "server_tool_result": "tool_call_id"}


@dataclass(frozen=True)
class Slot:
    """What grounding needs to know of one block of the message (one part)."""

    type: str
    text: str = ""
    run_id: str | None = None


def slots_of(blocks: Sequence[Any]) -> list[Slot]:
    """The slots of a message's blocks, in order (one block per part)."""
    slots = []
    for block in blocks:
        if not isinstance(block, dict):
            slots.append(Slot("other"))
            continue
        kind = str(block.get("type"))
        text = block.get("text") if kind == "text" else None
        run_key = _RUN_BLOCKS.get(kind)
        run_id = block.get(run_key) if run_key else None
        slots.append(
            Slot(
                kind,
                text if isinstance(text, str) else "",
                run_id if isinstance(run_id, str) else None,
            )
        )
    return slots


def _chars(text: str, byte_offset: int) -> int:
    """The character offset of a UTF-8 byte offset (inside a character: that character)."""
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


def _int(value: Any, default: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return default
    try:
        return int(value)
    except ValueError:
        return default


def _locate(segment: dict[str, Any], slots: list[Slot]) -> tuple[int | None, int, int] | None:
    """(slot, start, end) in characters of the text a segment names, else None.

    Gemini documents byte offsets into the part `partIndex` names; a segment whose
    `text` does not match there is looked for as character offsets, then as offsets into
    all the text joined, then by its text, so that a misread never cites the wrong words.
    """
    part = _int(segment.get("partIndex"), 0)
    start = _int(segment.get("startIndex"), 0)
    end = _int(segment.get("endIndex"), -1)
    cited = segment.get("text")
    cited = cited if isinstance(cited, str) and cited else None
    texts = [(i, s.text) for i, s in enumerate(slots) if s.type == "text"]

    def fits(text: str, lo: int, hi: int) -> bool:
        return 0 <= lo <= hi <= len(text) and (cited is None or text[lo:hi] == cited)

    if 0 <= part < len(slots) and slots[part].type == "text" and end >= start:
        text = slots[part].text
        lo, hi = _chars(text, start), _chars(text, end)
        raw = text.encode("utf-8")
        if end <= len(raw) and fits(text, lo, hi):
            return part, lo, hi
        if fits(text, start, end) and cited is not None:
            return part, start, end
    if cited is None:
        return None
    joined = "".join(t for _, t in texts)
    lo, hi = _chars(joined, start), _chars(joined, end)
    if joined[lo:hi] == cited:
        offset = 0
        for i, text in texts:
            if offset <= lo and hi <= offset + len(text):
                return i, lo - offset, hi - offset
            offset += len(text)
    order = sorted(texts, key=lambda item: item[0] != part)
    for i, text in order:
        found = text.find(cited)
        if found >= 0:
            return i, found, found + len(cited)
    return None


def _source(chunk: Any) -> tuple[str, dict[str, Any]]:
    """(kind, payload) of a grounding chunk; unknown kinds keep their first key."""
    if isinstance(chunk, dict):
        for kind, _, _ in _CHUNK_KINDS:
            if isinstance(chunk.get(kind), dict):
                return kind, chunk[kind]
        for kind, payload in chunk.items():
            if isinstance(payload, dict):
                return str(kind), payload
    return "unknown", {}


def _citation(chunk: Any, index: int) -> Block:
    kind, payload = _source(chunk)
    url_key, title_key = next(
        ((u, t) for k, u, t in _CHUNK_KINDS if k == kind), ("uri", "title")
    )
    citation: Block = {"type": "citation"}
    if isinstance(payload.get(url_key), str):
        citation["url"] = payload[url_key]
    if isinstance(payload.get(title_key), str):
        citation["title"] = payload[title_key]
    extras: dict[str, Any] = {"source": kind, "grounding_chunk_index": index}
    rest = {k: v for k, v in payload.items() if k not in (url_key, title_key)}
    if rest:
        extras["chunk"] = rest
    citation["extras"] = extras
    return citation


def _fallback_slot(slots: list[Slot], after: int | None = None) -> int | None:
    """The text block an unplaced citation goes on: the first after `after`, else the first."""
    texts = [i for i, s in enumerate(slots) if s.type == "text"]
    if after is not None:
        later = [i for i in texts if i > after]
        if later:
            return later[0]
    return texts[0] if texts else None


def citations(
    slots: list[Slot], grounding: Any, url_context: Any = None
) -> dict[int, list[Block]]:
    """Citations per block position, from a candidate's grounding and URL context metadata.

    One citation per (support, chunk) pair, on the text block the support's segment is in,
    with character offsets; a support on a code run's part is linked to that run
    (`extras.tool_call_id`) and goes on the next text block. Chunks no support names and
    URLs the URL context tool read are cited on the first text block, without offsets.
    """
    placed: dict[int, list[Block]] = {}

    def put(slot: int | None, citation: Block) -> None:
        if slot is not None:
            placed.setdefault(slot, []).append(citation)

    grounding = grounding if isinstance(grounding, dict) else {}
    chunks = grounding.get("groundingChunks")
    chunks = chunks if isinstance(chunks, list) else []
    supports = grounding.get("groundingSupports")
    supports = supports if isinstance(supports, list) else []
    cited_chunks: set[int] = set()
    for number, support in enumerate(supports):
        if not isinstance(support, dict):
            continue
        segment = support.get("segment")
        segment = segment if isinstance(segment, dict) else {}
        indices = support.get("groundingChunkIndices")
        scores = support.get("confidenceScores")
        where = _locate(segment, slots)
        part = _int(segment.get("partIndex"), 0)
        run = slots[part].run_id if 0 <= part < len(slots) else None
        for position, chunk_index in enumerate(indices if isinstance(indices, list) else []):
            if not isinstance(chunk_index, int) or not 0 <= chunk_index < len(chunks):
                continue
            cited_chunks.add(chunk_index)
            citation = _citation(chunks[chunk_index], chunk_index)
            extras = citation["extras"]
            extras["grounding_support_index"] = number
            if isinstance(scores, list) and position < len(scores):
                extras["confidence_score"] = scores[position]
            extras["segment"] = segment
            if isinstance(segment.get("text"), str):
                citation["cited_text"] = segment["text"]
            if run is not None:
                extras["tool_call_id"] = run  # the code run whose part Gemini names
            if where is not None:
                citation["start_index"], citation["end_index"] = where[1], where[2]
                put(where[0], citation)
            else:
                put(_fallback_slot(slots, part if run is not None else None), citation)
    for chunk_index, chunk in enumerate(chunks):
        if chunk_index not in cited_chunks:
            put(_fallback_slot(slots), _citation(chunk, chunk_index))
    cited_urls = {c.get("url") for found in placed.values() for c in found}
    entries = url_context.get("urlMetadata") if isinstance(url_context, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("retrievedUrl"), str):
            continue
        status = entry.get("urlRetrievalStatus")
        if status not in _URL_OK or entry["retrievedUrl"] in cited_urls:
            continue
        extras = {"source": "urlContext"}
        if status is not None:
            extras["url_retrieval_status"] = status
        put(
            _fallback_slot(slots),
            {"type": "citation", "url": entry["retrievedUrl"], "extras": extras},
        )
    return placed


def annotate(blocks: list[Block], metadata: dict[str, Any]) -> None:
    """Add the citations of `response_metadata` to the text blocks of a whole message."""
    found = citations(
        slots_of(blocks), metadata.get("grounding_metadata"), metadata.get("url_context_metadata")
    )
    for position, cites in found.items():
        blocks[position].setdefault("annotations", []).extend(cites)
