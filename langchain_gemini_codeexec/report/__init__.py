"""`CodeExecutionReport`: what one Gemini code-execution answer said and did.

Read from the v1 content blocks of any `ChatGeminiCodeExecution` message (invoked, or
streamed and added up): the answer text, each code run with its code, verbatim outcome,
output and charts, plus model, usage and finish reason. Images are bytes for Python users;
the JSON form carries them as base64, so the report serializes (e.g. as a tool artifact).
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from langchain_core.messages import BaseMessage
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from langchain_gemini_codeexec._mapping.blocks import (
    CODE_TOOL_NAMES,
    MEDIA_BLOCK_TYPES,
    RESULT_BLOCK_TYPE,
    BlockError,
    decode_base64,
    output_text,
    result_outcome,
)
from langchain_gemini_codeexec._mapping.blocks import OUTCOME_OK as OK

# What an outcome means, in words an agent model acts on.
_OUTCOME_WORDS = {
    "OUTCOME_OK": "ran successfully",
    "OUTCOME_FAILED": "FAILED: the code raised an error (see the output)",
    "OUTCOME_DEADLINE_EXCEEDED": (
        "TIMED OUT: the run hit the sandbox time limit (about 30 s); output may be partial"
    ),
    "OUTCOME_UNSPECIFIED": "outcome unspecified by Gemini",
}
_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/svg+xml": ".svg",
}
_NORMAL_FINISH = (None, "STOP", "FINISH_REASON_UNSPECIFIED")
_MIME = re.compile(r"[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*")

_REPORT_CONFIG = ConfigDict(frozen=True)


def _bytes_in(value: Any) -> Any:
    return _decode_base64(value) if isinstance(value, str) else value


def _bytes_out(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


# Raw bytes in Python; standard base64 in JSON (and a base64 string is accepted as input).
Blob = Annotated[
    bytes,
    BeforeValidator(_bytes_in),
    PlainSerializer(_bytes_out, return_type=str, when_used="json"),
]


class CodeMedia(BaseModel):
    """An image (or other file) a code run produced: its mime type and raw bytes."""

    model_config = _REPORT_CONFIG

    mime_type: str
    data: Blob
    name: str | None = None
    """Its file name: the one Gemini gave (`inlineData.displayName`), else the one its
    run's code saved it under (`savefig('x.png')`, in order); None when neither says."""

    @property
    def base64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")

    @property
    def data_url(self) -> str:
        """A `data:` URL; a mime type that is not `type/subtype` becomes octet-stream, so
        that it cannot break out of the markdown link or HTML attribute it is put in."""
        mime = self.mime_type if _MIME.fullmatch(self.mime_type) else "application/octet-stream"
        return f"data:{mime};base64,{self.base64}"


class CodeResult(BaseModel):
    """One `codeExecutionResult` of a run (Gemini may send several for one code part)."""

    model_config = _REPORT_CONFIG

    outcome: str | None
    """Verbatim (`OUTCOME_OK`, `OUTCOME_FAILED`, ...); None when Gemini sent none."""
    output: str = ""


class CodeRun(BaseModel):
    """One code run: the code, how it ended, what it printed, the charts it drew."""

    model_config = _REPORT_CONFIG

    id: str
    code: str = ""
    language: str = "python"
    outcome: str | None = None
    """The run's outcome, verbatim: the first result that is not `OUTCOME_OK`, else
    `OUTCOME_OK`; None when no result (or no outcome) came back."""
    output: str = ""
    """All result outputs of the run, joined."""
    results: list[CodeResult] = Field(default_factory=list)
    images: list[CodeMedia] = Field(default_factory=list)
    files: list[CodeMedia] = Field(default_factory=list)
    """Non-image inline data linked to the run (rare)."""

    @property
    def ok(self) -> bool:
        """True when the run finished with `OUTCOME_OK`."""
        return self.outcome == OK

    @property
    def status(self) -> str:
        """`success` or `error`, like the `server_tool_result` block's status."""
        return "success" if self.ok else "error"

    def describe_outcome(self) -> str:
        if not self.results:
            return "no result came back for this code"
        if self.outcome is None:
            return "Gemini sent no outcome for this run"
        return _OUTCOME_WORDS.get(self.outcome, self.outcome)


class CodeExecutionReport(BaseModel):
    """The answer and every code run of one Gemini code-execution response.

    Build it with `CodeExecutionReport.from_message(message)`. In Jupyter it renders
    itself with the code, outputs and charts inline.
    """

    model_config = _REPORT_CONFIG

    answer: str = ""
    """The final answer: the text after the last code run, or all text when there is none."""
    text: str = ""
    """All text of the response (thoughts excluded), joined."""
    runs: list[CodeRun] = Field(default_factory=list)
    other_images: list[CodeMedia] = Field(default_factory=list)
    """Images not linked to any code run."""
    model: str | None = None
    usage: dict[str, Any] | None = None
    finish_reason: str | None = None
    response_id: str | None = None

    # --- building -------------------------------------------------------------------

    @classmethod
    def from_message(cls, message: BaseMessage) -> CodeExecutionReport:
        """The report of one AI message (invoked, or streamed chunks added together)."""
        blocks = _blocks_of(message)
        builder = _Builder()
        for block in blocks:
            builder.add(block)
        metadata = message.response_metadata or {}
        usage = getattr(message, "usage_metadata", None)
        return cls(
            answer=builder.answer(),
            text="".join(builder.texts),
            runs=builder.finish_runs(),
            other_images=builder.loose_images,
            model=metadata.get("model_name"),
            usage=json.loads(json.dumps(dict(usage))) if usage else None,
            finish_reason=metadata.get("finish_reason"),
            response_id=metadata.get("response_id") or message.id,
        )

    # --- reading --------------------------------------------------------------------

    @property
    def images(self) -> list[CodeMedia]:
        """Every image: those of each run in order, then any not linked to a run."""
        return [img for run in self.runs for img in run.images] + list(self.other_images)

    @property
    def ok(self) -> bool:
        """True when every code run finished with `OUTCOME_OK` (or none ran)."""
        return all(run.ok for run in self.runs)

    @property
    def stopped_early(self) -> bool:
        """True when Gemini stopped for a reason other than a normal finish."""
        return self.finish_reason not in _NORMAL_FINISH

    # --- usage and cache ----------------------------------------------------------------

    @property
    def input_tokens(self) -> int:
        """Input tokens of the request (prompt and tool use), cached ones included."""
        return int((self.usage or {}).get("input_tokens") or 0)

    @property
    def cached_input_tokens(self) -> int:
        """Input tokens served from a context cache (Gemini's `cachedContentTokenCount`)."""
        details = (self.usage or {}).get("input_token_details") or {}
        return int(details.get("cache_read") or 0)

    @property
    def full_price_input_tokens(self) -> int:
        """Input tokens billed at the full rate: all input minus what the cache served."""
        return max(self.input_tokens - self.cached_input_tokens, 0)

    def cache_summary(self) -> str:
        """One line: how much of the input was served from cache."""
        if not self.usage:
            return "Input tokens: unknown (no usage reported)."
        total, cached = self.input_tokens, self.cached_input_tokens
        share = f" ({cached / total:.0%})" if total else ""
        return (
            f"Input tokens: {total:,}, of which {cached:,} from cache{share} and "
            f"{self.full_price_input_tokens:,} at full price."
        )

    # --- links in the answer ----------------------------------------------------------

    @property
    def image_links(self) -> dict[str, CodeMedia]:
        """Links and file names in the text (`sandbox:/mnt/data/x.png`, `/mnt/data/x.png`,
        `x.png`) resolved to the images of the runs that made them: by name where one is
        known (see `CodeMedia.name`), then the rest by order. The message is untouched."""
        return _resolve_links(self.text, self.images)

    def save_images(
        self, directory: str | Path, prefix: str = "chart", *, max_images: int = 100
    ) -> SavedImages:
        """Write every image to `directory` (created if needed); returns the paths written.

        Names are `{prefix}-{run}-{n}.{ext}` (run numbers from 1; `0` for images not
        linked to a run). Each file is created new: an existing file or link of that name
        (a chart saved earlier, or a link planted to redirect the write) is never
        overwritten or followed; the image goes to the first free name
        `{prefix}-{run}-{n}_{k}.{ext}` instead. More than `max_images` images raise
        `ValueError` before anything is written (raise it to save them all).
        The result is the list of paths written; its `links` maps each link in the
        answer (see `image_links`) to the path its image was saved at.
        """
        if not prefix or _prefix_problem(prefix):
            raise ValueError(
                f"prefix: {prefix!r:.80} must be a plain file name start of at most "
                f"{_MAX_PREFIX} bytes (no '/', '\\', '..', leading '.', control, format or "
                "bidi characters)"
            )
        if isinstance(max_images, bool) or not isinstance(max_images, int) or max_images < 0:
            raise ValueError(f"max_images: pass an integer >= 0, got {max_images!r:.40}")
        numbered = [(i, run.images) for i, run in enumerate(self.runs, start=1)]
        planned = [
            (f"{prefix}-{run_number}-{n}{_extension(img.mime_type)}", img.data)
            for run_number, images in [*numbered, (0, self.other_images)]
            for n, img in enumerate(images, start=1)
        ]
        if len(planned) > max_images:
            raise ValueError(
                f"save_images: the report has {len(planned)} images, over max_images="
                f"{max_images}; nothing was written. Pass max_images={len(planned)} to "
                "save them all"
            )
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        paths = [_write_new_file(target / name, data) for name, data in planned]
        return SavedImages(paths, self)

    def to_text(
        self, max_output_chars: int | None = 4000, max_code_chars: int | None = None
    ) -> str:
        """Plain text for an agent model: the answer, then each run (code, outcome, output).

        Outputs longer than `max_output_chars` (and code longer than `max_code_chars`) are
        cut, and the cut says how much was left out. None means no limit.
        """
        lines: list[str] = []
        if self.answer.strip():
            lines += ["Answer:", self.answer.strip()]
        elif self.runs:
            lines += ["Answer: (Gemini wrote no text answer; read the code runs below)"]
        else:
            lines += ["Answer: (empty)"]
        if self.stopped_early:
            lines += ["", f"Note: Gemini stopped early (finish_reason={self.finish_reason})."]
        if not self.runs:
            lines += ["", "No code was run for this task."]
        for i, run in enumerate(self.runs, start=1):
            lines += [
                "",
                f"Code run {i} of {len(self.runs)} ({run.language}): "
                f"{run.outcome or 'no outcome'}, {run.describe_outcome()}",
            ]
            lines += [_fenced(_cut(run.code, max_code_chars, "code"), run.language)]
            output = _cut(run.output, max_output_chars)
            lines += ["Output:", _fenced(output) if output else "(no output)"]
            if run.images:
                kinds = ", ".join(sorted({img.mime_type for img in run.images}))
                lines += [f"Charts: {len(run.images)} image(s) ({kinds}), in the tool artifact."]
        if self.other_images:
            lines += ["", f"Other images: {len(self.other_images)}, in the tool artifact."]
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """Markdown with the answer (images shown where it links to them), each run's
        code and output, the other charts, and how much input came from cache."""
        links = self.image_links
        shown: set[int] = set()
        pieces = _split_links(self.answer.strip(), links)
        answer = "".join(
            p if isinstance(p, str) else _markdown_image(p, shown) for p in pieces
        ).strip()
        out = [answer or "_(no text answer)_"]
        for i, run in enumerate(self.runs, start=1):
            out += [
                f"**Code run {i}** ({run.outcome or 'no outcome'})",
                "",
                _fenced(run.code, run.language),
            ]
            if run.output:
                out += ["Output:", "", _fenced(run.output)]
            out += [f"![chart {i}]({img.data_url})" for img in run.images if id(img) not in shown]
        out += [f"![image]({img.data_url})" for img in self.other_images if id(img) not in shown]
        if self.usage and self.cached_input_tokens:
            out.append(f"_{self.cache_summary()}_")
        return "\n\n".join(out)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        shown: set[int] = set()
        pieces = _split_links(self.answer.strip(), self.image_links) or ["(no text answer)"]
        # Markdown over the whole answer, images dropped in where their links were.
        images = [_html_image(p, shown) for p in pieces if not isinstance(p, str)]
        marked = iter(range(len(images)))
        source = "".join(p if isinstance(p, str) else f"\x00{next(marked)}\x00" for p in pieces)
        answer = re.sub(r"\x00(\d+)\x00", lambda m: images[int(m.group(1))], _html_markdown(source))
        parts = [f"<div><div>{answer}</div>"]
        for i, run in enumerate(self.runs, start=1):
            color = "#2e7d32" if run.ok else "#c62828"
            parts.append(
                f"<details open><summary>Code run {i} "
                f"<span style='color:{color}'>{html.escape(run.outcome or 'no outcome')}</span>"
                f"</summary><pre><code>{html.escape(run.code)}</code></pre>"
            )
            if run.output:
                parts.append(f"<p>Output:</p><pre>{html.escape(run.output)}</pre>")
            parts += [f"<img src='{img.data_url}'/>" for img in run.images if id(img) not in shown]
            parts.append("</details>")
        parts += [
            f"<img src='{img.data_url}'/>" for img in self.other_images if id(img) not in shown
        ]
        footer = ", ".join(
            f"{k}: {html.escape(str(v))}"
            for k, v in (("model", self.model), ("finish", self.finish_reason))
            if v
        )
        if self.usage and self.cached_input_tokens:
            footer += f"; {html.escape(self.cache_summary())}"
        parts.append(f"<p><small>{footer}</small></p></div>")
        return "".join(parts)


# --- extraction ---------------------------------------------------------------------


class _Builder:
    """Walks the blocks once, linking results and images to their runs by id."""

    def __init__(self) -> None:
        self.runs: dict[str, dict[str, Any]] = {}
        self.texts: list[str] = []
        self.text_after_last_run: list[str] = []
        self.loose_images: list[CodeMedia] = []
        self.last_run_id: str | None = None

    def _run(self, run_id: str) -> dict[str, Any]:
        if run_id not in self.runs:
            self.runs[run_id] = {"id": run_id, "results": [], "images": [], "files": []}
        return self.runs[run_id]

    def add(self, block: Any) -> None:
        if isinstance(block, str):
            self._text(block)
            return
        if not isinstance(block, dict):
            return
        kind = block.get("type")
        if kind == "text":
            self._text(str(block.get("text", "")))
        elif kind in ("server_tool_call", "server_tool_call_chunk"):
            self._call(block)
        elif kind == "server_tool_result":
            self._result(block)
        elif kind in MEDIA_BLOCK_TYPES:
            self._media(block)

    def _text(self, text: str) -> None:
        self.texts.append(text)
        self.text_after_last_run.append(text)

    def _call(self, block: dict[str, Any]) -> None:
        if block.get("name") not in CODE_TOOL_NAMES:
            return
        args = block.get("args")
        if isinstance(args, str):  # a server_tool_call_chunk carries JSON text
            try:
                args = json.loads(args)
            except json.JSONDecodeError:
                args = {"code": args}
        args = args if isinstance(args, dict) else {}
        run_id = str(block.get("id") or f"run_{len(self.runs)}")
        run = self._run(run_id)
        run["code"] = str(args.get("code", ""))
        language = args.get("language", "python")
        run["language"] = language.lower() if isinstance(language, str) else "python"
        self.last_run_id = run_id
        self.text_after_last_run = []

    def _result(self, block: dict[str, Any]) -> None:
        run_id = block.get("tool_call_id")
        if not isinstance(run_id, str) or not run_id:
            run_id = self.last_run_id or f"run_{len(self.runs)}"
        extras = block.get("extras") if isinstance(block.get("extras"), dict) else {}
        assert isinstance(extras, dict)
        if (
            run_id not in self.runs
            and extras.get("block_type") != RESULT_BLOCK_TYPE
            and not isinstance(extras.get("outcome"), (str, int))
        ):
            return  # a result of another server tool (search, ...): not a code run
        outcome = result_outcome(block, extras)
        self._run(run_id)["results"].append(
            CodeResult(
                outcome=outcome if outcome is None else str(outcome),
                output=output_text(block.get("output")),
            )
        )
        self.text_after_last_run = []

    def _media(self, block: dict[str, Any]) -> None:
        data = block.get("base64")
        if not isinstance(data, str):
            return  # a URL or file id: nothing the sandbox produced
        mime = str(block.get("mime_type") or "application/octet-stream")
        extras = block.get("extras") if isinstance(block.get("extras"), dict) else {}
        assert isinstance(extras, dict)
        fields = extras.get("fields") if isinstance(extras.get("fields"), dict) else {}
        given = fields.get("displayName") if isinstance(fields, dict) else None
        name = given if isinstance(given, str) and given else None
        media = CodeMedia(mime_type=mime, data=_decode_base64(data), name=name)
        run_id = extras.get("tool_call_id")
        if not isinstance(run_id, str) or not run_id:
            self.loose_images.append(media)
            return
        key = "images" if mime.startswith("image/") or block.get("type") == "image" else "files"
        self._run(run_id)[key].append(media)

    def answer(self) -> str:
        after = "".join(self.text_after_last_run)
        return after if after.strip() else "".join(self.texts)

    def finish_runs(self) -> list[CodeRun]:
        runs = []
        for raw in self.runs.values():
            results: list[CodeResult] = raw["results"]
            outcomes = [r.outcome for r in results]
            failed = [o for o in outcomes if o is not None and o != OK]
            outcome = failed[0] if failed else (OK if OK in outcomes else None)
            runs.append(
                CodeRun(
                    id=raw["id"],
                    code=raw.get("code", ""),
                    language=raw.get("language", "python"),
                    outcome=outcome,
                    output="".join(r.output for r in results),
                    results=results,
                    images=_named(raw["images"], raw.get("code", "")),
                    files=raw["files"],
                )
            )
        return runs


def _blocks_of(message: BaseMessage) -> Sequence[Any]:
    content = message.content
    if isinstance(content, str):
        return [content]
    if message.response_metadata.get("output_version") == "v1":
        return content
    try:  # other integrations: LangChain translates their blocks to v1
        return list(message.content_blocks)
    except Exception:
        return content


def _decode_base64(data: str) -> bytes:
    try:
        return decode_base64(data.strip())
    except BlockError as exc:
        raise ValueError(f"an image block holds {exc}") from None


# Flags of a file we create: new (never an existing file or link), not through a link.
_NEW_FILE = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
# Names tried per image before giving up (a directory full of planted names).
_MAX_RENAMES = 1000


# Characters a file name must not hide (the tool's file names follow the same rule):
# controls, format characters (bidi overrides such as U+202E disguise an extension),
# line/paragraph separators, surrogates, private-use and unassigned code points.
_UNSHOWN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
# Leaves room for "-{run}-{n}_{k}.jpeg" within a 255-byte file name.
_MAX_PREFIX = 200


def _prefix_problem(prefix: str) -> bool:
    """True when `prefix` could leave the directory or hide in a listing."""
    return (
        not isinstance(prefix, str)
        or prefix in (".", "..")
        or len(prefix.encode("utf-8", "surrogatepass")) > _MAX_PREFIX
        or any(sep in prefix for sep in ("/", "\\", os.sep))
        or any(unicodedata.category(ch) in _UNSHOWN for ch in prefix)
        or prefix.startswith(".")
    )


def _write_new_file(path: Path, data: bytes) -> Path:
    """Create `path` exclusively (O_CREAT|O_EXCL|O_NOFOLLOW: never an existing file, never
    through a link), or the first free `{stem}_{k}{suffix}` beside it; the path written."""
    for k in range(1, _MAX_RENAMES + 1):
        candidate = path if k == 1 else path.with_name(f"{path.stem}_{k}{path.suffix}")
        try:
            fd = os.open(candidate, _NEW_FILE, 0o644)
        except FileExistsError:
            continue
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        except BaseException:
            os.close(fd)
            candidate.unlink(missing_ok=True)
            raise
        os.close(fd)
        return candidate
    raise FileExistsError(
        f"save_images: {path.name} and {_MAX_RENAMES - 1} numbered variants already exist in "
        f"{str(path.parent)!r}; use another directory or prefix"
    )


def _extension(mime_type: str) -> str:
    return _EXTENSIONS.get(mime_type, ".bin")


def _cut(text: str, limit: int | None, what: str = "output") -> str:
    """`text` cut to `limit` characters, the cut marked with how much was left out."""
    if limit is None or len(text) <= limit:
        return text
    return f"{text[:limit]}\n... [{what} cut: {len(text) - limit} more characters]"


def _fenced(text: str, language: str = "") -> str:
    """A markdown code fence longer than any backtick run inside `text`."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"{fence}{language}\n{body}{fence}"


def _html_text(text: str) -> str:
    return html.escape(text).replace("\n", "<br/>")


_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__")
_ITALIC = re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def _html_inline(text: str) -> str:
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


def _html_markdown(text: str) -> str:
    """The answer's Markdown as HTML (Jupyter shows `_repr_html_`, not the Markdown):
    paragraphs, headings, lists, code fences, bold, italic and code spans. Everything is
    escaped first: no HTML from the model reaches the page."""
    blocks: list[str] = []
    for fenced, chunk in _fence_split(text):
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
                blocks.append(f"<h{level}>{_html_inline(heading.group(2))}</h{level}>")
            elif all(_BULLET.match(line) for line in lines):
                tag = "ol" if re.match(r"^\s*\d", lines[0]) else "ul"
                items = "".join(f"<li>{_html_inline(_BULLET.sub('', li))}</li>" for li in lines)
                blocks.append(f"<{tag}>{items}</{tag}>")
            else:
                blocks.append(f"<p>{'<br/>'.join(_html_inline(line) for line in lines)}</p>")
    return "".join(blocks)


def _fence_split(text: str) -> list[tuple[bool, str]]:
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


def _basename(ref: str) -> str:
    return ref.removeprefix("sandbox:").rsplit("/", 1)[-1].lower()


def _named(images: list[CodeMedia], code: str) -> list[CodeMedia]:
    """Images of one run, named after the files its code saved (in order) when unnamed."""
    saved = [_basename(n) for n in _SAVEFIG.findall(code or "")]
    saved = [n for n in saved if re.fullmatch(rf"[\w.-]+\.{_IMAGE_EXT}", n, re.IGNORECASE)]
    out = []
    for i, img in enumerate(images):
        if img.name is None and i < len(saved):
            img = img.model_copy(update={"name": saved[i]})
        out.append(img)
    return out


def _references(text: str) -> list[tuple[str, str]]:
    """(link as written, file name) of each image link or name in `text`, first seen first."""
    found: dict[str, str] = {}
    for m in _LINK.finditer(text):
        ref = m.group("target") or m.group("path") or m.group("name")
        if m.group("md") and not re.search(rf"\.{_IMAGE_EXT}$", ref, re.IGNORECASE):
            continue  # a link to something that is not an image
        if m.group("md") and re.match(r"^(?:https?|data):", ref, re.IGNORECASE):
            continue  # a web or data URL: not the sandbox's
        found.setdefault(ref, _basename(ref))
    return list(found.items())


def _resolve_links(text: str, images: list[CodeMedia]) -> dict[str, CodeMedia]:
    refs = _references(text)
    by_name: dict[str, CodeMedia] = {}
    for img in images:
        if img.name:
            by_name.setdefault(_basename(img.name), img)
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


def _split_links(text: str, links: dict[str, CodeMedia]) -> list[str | tuple[str, CodeMedia]]:
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
            pieces.append((m.group("alt") or _basename(ref), img))
            at = m.end()
        pieces.append(paragraph[at:])
        for item in after:
            pieces += ["\n\n", item]
    return [p for p in pieces if p != ""]


def _markdown_image(piece: tuple[str, CodeMedia], shown: set[int]) -> str:
    alt, img = piece
    if id(img) in shown:
        return f"[{_alt(alt)}](#)"
    shown.add(id(img))
    return f"![{_alt(alt)}]({img.data_url})"


def _html_image(piece: tuple[str, CodeMedia], shown: set[int]) -> str:
    alt, img = piece
    if id(img) in shown:
        return html.escape(alt)
    shown.add(id(img))
    return f"<img alt='{html.escape(alt, quote=True)}' src='{img.data_url}'/>"


def _alt(alt: str) -> str:
    return re.sub(r"[\[\]\n]", " ", alt)


class SavedImages(list[Path]):
    """The paths `save_images` wrote (a list, as before), plus `links`: each link in the
    answer mapped to the path its image was saved at."""

    def __init__(self, paths: list[Path], report: CodeExecutionReport) -> None:
        super().__init__(paths)
        at = {id(img): path for img, path in zip(report.images, paths, strict=False)}
        self.links: dict[str, Path] = {
            ref: at[id(img)] for ref, img in report.image_links.items() if id(img) in at
        }
