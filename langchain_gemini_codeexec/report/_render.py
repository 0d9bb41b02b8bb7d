"""Rendering: text for agents, markdown and HTML for people, and links from the answer to charts."""

from __future__ import annotations

import html
import re

from langchain_gemini_codeexec.report._models import CodeMedia


def cut(text: str, limit: int | None, what: str = "output") -> str:
    """`text` cut to `limit` characters, the cut marked with how much was left out."""
    if limit is None or len(text) <= limit:
        return text
    return f"{text[:limit]}\n... [{what} cut: {len(text) - limit} more characters]"


def fenced(text: str, language: str = "") -> str:
    """A markdown code fence longer than any backtick run inside `text`."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"{fence}{language}\n{body}{fence}"


def html_text(text: str) -> str:
    return html.escape(text).replace("\n", "<br/>")


_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__")
_ITALIC = re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def html_inline(text: str) -> str:
    """Escaped text with Markdown code spans, bold and italic as HTML."""
    out = []
    for i, piece in enumerate(_CODE_SPAN.split(text)):
        if i % 2:
            out.append(f"<code>{html.escape(piece)}</code>")
            continue
        piece = html.escape(piece, quote=False)
        piece = _BOLD.sub(lambda m: f"<strong>{m.group(1) or m.group(2)}</strong>", piece)
        out.append(_ITALIC.sub(r"<em>\1</em>", piece))
    return "".join(out)


def html_markdown(text: str) -> str:
    """The answer's Markdown as HTML (Jupyter shows `_repr_html_`, not the Markdown):
    paragraphs, headings, lists, code fences, bold, italic and code spans. Everything is
    escaped first: no HTML from the model reaches the page."""
    blocks: list[str] = []
    for fenced, chunk in fence_split(text):
        if fenced:
            blocks.append(f"<pre><code>{html.escape(chunk)}</code></pre>")
            continue
        for para in re.split(r"\n\s*\n", chunk):
            lines = [line for line in para.split("\n") if line.strip()]
            if not lines:
                continue
            heading = _HEADING.match(lines[0]) if len(lines) == 1 else None
            if heading:
                level = len(heading.group(1))
                blocks.append(f"<h{level}>{html_inline(heading.group(2))}</h{level}>")
            elif all(_BULLET.match(line) for line in lines):
                tag = "ol" if re.match(r"^\s*\d", lines[0]) else "ul"
                items = "".join(f"<li>{html_inline(_BULLET.sub('', li))}</li>" for li in lines)
                blocks.append(f"<{tag}>{items}</{tag}>")
            else:
                blocks.append(f"<p>{'<br/>'.join(html_inline(line) for line in lines)}</p>")
    return "".join(blocks)


def fence_split(text: str) -> list[tuple[bool, str]]:
    """(is_code, text) runs: ``` fenced blocks apart from the prose around them."""
    runs: list[tuple[bool, str]] = []
    for i, piece in enumerate(re.split(r"^```[^\n]*\n?", text, flags=re.M)):
        if piece:
            runs.append((i % 2 == 1, piece))
    return runs


# --- links to charts -----------------------------------------------------------------

_IMAGE_EXT = r"(?:png|jpe?g|gif|svg|webp)"
_LINK = re.compile(
    rf"(?P<md>!?\[(?P<alt>[^\]\n]*)\]\((?P<target>[^)\s]+)\))"
    rf"|(?P<path>(?:sandbox:)?/mnt/data/[\w./-]*?[\w-]+\.{_IMAGE_EXT})\b"
    rf"|(?P<name>(?<![\w/.-])[\w-][\w.-]*\.{_IMAGE_EXT})\b",
    re.IGNORECASE,
)
_SAVEFIG = re.compile(r"savefig\(\s*[rfb]?['\"]([^'\"]+)['\"]")


def basename(ref: str) -> str:
    return ref.removeprefix("sandbox:").rsplit("/", 1)[-1].lower()


def named(images: list[CodeMedia], code: str) -> list[CodeMedia]:
    """Images of one run, named after the files its code saved (in order) when unnamed."""
    saved = [basename(n) for n in _SAVEFIG.findall(code or "")]
    saved = [n for n in saved if re.fullmatch(rf"[\w.-]+\.{_IMAGE_EXT}", n, re.IGNORECASE)]
    out = []
    for i, img in enumerate(images):
        if img.name is None and i < len(saved):
            img = img.model_copy(update={"name": saved[i]})
        out.append(img)
    return out


def references(text: str) -> list[tuple[str, str]]:
    """(link as written, file name) of each image link or name in `text`, first seen first."""
    found: dict[str, str] = {}
    for m in _LINK.finditer(text):
        ref = m.group("target") or m.group("path") or m.group("name")
        if m.group("md") and not re.search(rf"\.{_IMAGE_EXT}$", ref, re.IGNORECASE):
            continue  # a link to something that is not an image
        if m.group("md") and re.match(r"^(?:https?|data):", ref, re.IGNORECASE):
            continue  # a web or data URL: not the sandbox's
        found.setdefault(ref, basename(ref))
    return list(found.items())


def resolve_links(text: str, images: list[CodeMedia]) -> dict[str, CodeMedia]:
    refs = references(text)
    by_name: dict[str, CodeMedia] = {}
    for img in images:
        if img.name:
            by_name.setdefault(basename(img.name), img)
    links: dict[str, CodeMedia] = {}
    claimed: set[int] = set()
    for ref, name in refs:
        if name in by_name:
            links[ref] = by_name[name]
            claimed.add(id(by_name[name]))
    # The rest by order: the n-th unresolved name is the n-th image not yet linked.
    names_done: dict[str, CodeMedia] = {}
    free = iter(img for img in images if id(img) not in claimed)
    for ref, name in refs:
        if ref in links:
            continue
        if name in names_done:
            links[ref] = names_done[name]
            continue
        nxt = next(free, None)
        if nxt is None:
            break
        links[ref] = names_done[name] = nxt
    for ref, name in refs:  # `x.png` and `sandbox:/mnt/data/x.png`: one image
        for other, other_name in refs:
            if other in links and ref not in links and name == other_name:
                links[ref] = links[other]
    return links


def split_links(text: str, links: dict[str, CodeMedia]) -> list[str | tuple[str, CodeMedia]]:
    """`text` cut into text and (alt, image) pieces: a markdown link or a sandbox path is
    replaced by its image; a bare file name stays, its image follows its paragraph."""
    pieces: list[str | tuple[str, CodeMedia]] = []
    for paragraph in re.split(r"(\n\s*\n)", text):
        after: list[tuple[str, CodeMedia]] = []
        at = 0
        for m in _LINK.finditer(paragraph):
            ref = m.group("target") or m.group("path") or m.group("name")
            img = links.get(ref)
            if img is None:
                continue
            if m.group("name"):
                after.append((ref, img))
                continue
            pieces.append(paragraph[at : m.start()])
            pieces.append((m.group("alt") or basename(ref), img))
            at = m.end()
        pieces.append(paragraph[at:])
        for item in after:
            pieces += ["\n\n", item]
    return [p for p in pieces if p != ""]


def markdown_image(piece: tuple[str, CodeMedia], shown: set[int]) -> str:
    alt, img = piece
    if id(img) in shown:
        return f"[{_alt_text(alt)}](#)"
    shown.add(id(img))
    return f"![{_alt_text(alt)}]({img.data_url})"


def html_image(piece: tuple[str, CodeMedia], shown: set[int]) -> str:
    alt, img = piece
    if id(img) in shown:
        return html.escape(alt)
    shown.add(id(img))
    return f"<img alt='{html.escape(alt, quote=True)}' src='{img.data_url}'/>"


def _alt_text(alt: str) -> str:
    return re.sub(r"[\[\]\n]", " ", alt)


