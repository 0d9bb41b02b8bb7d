"""`CodeExecutionReport`: the answer and every code run of one response."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage
from pydantic import BaseModel, Field

from langchain_gemini_codeexec._core import pricing as _pricing
from langchain_gemini_codeexec.report._extract import Builder, blocks_of
from langchain_gemini_codeexec.report._models import (
    NORMAL_FINISH,
    REPORT_CONFIG,
    CodeMedia,
    CodeRun,
)
from langchain_gemini_codeexec.report._render import (
    cut,
    fenced,
    html_image,
    html_markdown,
    markdown_image,
    resolve_links,
    split_links,
)
from langchain_gemini_codeexec.report._save import (
    MAX_PREFIX,
    SavedImages,
    extension,
    prefix_problem,
    write_new_file,
)


class CodeExecutionReport(BaseModel):
    """The answer and every code run of one Gemini code-execution response.

    Build it with `CodeExecutionReport.from_message(message)`. In Jupyter it renders
    itself with the code, outputs and charts inline.
    """

    model_config = REPORT_CONFIG

    answer: str = ""
    """The final answer: the text after the last code run, or all text when there is none."""
    text: str = ""
    """All text of the response (thoughts excluded), joined."""
    runs: list[CodeRun] = Field(default_factory=list)
    other_images: list[CodeMedia] = Field(default_factory=list)
    """Images not linked to any code run."""
    model: str | None = None
    usage: dict[str, Any] | None = None
    cost: dict[str, Any] | None = None
    """The answer's price record (`response_metadata["cost"]`, docs/cost.md)."""
    finish_reason: str | None = None
    response_id: str | None = None

    # --- building -------------------------------------------------------------------

    @classmethod
    def from_message(cls, message: BaseMessage) -> CodeExecutionReport:
        """The report of one AI message (invoked, or streamed chunks added together)."""
        blocks = blocks_of(message)
        builder = Builder()
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
            cost=_plain_cost(metadata.get("cost")),
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
        return self.finish_reason not in NORMAL_FINISH

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
        """One line: how much of the input was served from cache, and what that saved."""
        if not self.usage:
            return "Input tokens: unknown (no usage reported)."
        total, cached = self.input_tokens, self.cached_input_tokens
        share = f" ({cached / total:.0%})" if total else ""
        line = (
            f"Input tokens: {total:,}, of which {cached:,} from cache{share} and "
            f"{self.full_price_input_tokens:,} at full price."
        )
        saved = (self.cost or {}).get("saved_by_cache")
        if cached and isinstance(saved, (int, float)):
            line += f" Caching saved ${saved:.6f} against the uncached price"
            line += f"; {_pricing.storage_price(self.model or '')[1]}."
        return line

    @property
    def cost_usd(self) -> float | None:
        """What the answer cost in USD; None when it has no price (see `cost_summary`)."""
        total = (self.cost or {}).get("total")
        return float(total) if isinstance(total, (int, float)) else None

    def cost_summary(self) -> str:
        """One line: the answer's price and its parts, or why it has none."""
        cost = self.cost
        if not cost:
            return "Cost: unknown (no price record)."
        if cost.get("total") is None:
            return f"Cost: unknown ({cost.get('reason', 'no price')})."
        parts = ", ".join(
            f"{name.replace('_', ' ')} ${value:.6f}"
            for name, value in (cost.get("parts") or {}).items()
            if value
        )
        rate = " at the batch rate" if cost.get("rate") == "batch" else ""
        return f"Cost: ${cost['total']:.6f}{rate} ({parts or 'nothing billed'}; {cost['prices']})."

    # --- links in the answer ----------------------------------------------------------

    @property
    def image_links(self) -> dict[str, CodeMedia]:
        """Links and file names in the text (`sandbox:/mnt/data/x.png`, `/mnt/data/x.png`,
        `x.png`) resolved to the images of the runs that made them: by name where one is
        known (see `CodeMedia.name`), then the rest by order. The message is untouched."""
        return resolve_links(self.text, self.images)

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
        if not prefix or prefix_problem(prefix):
            raise ValueError(
                f"prefix: {prefix!r:.80} must be a plain file name start of at most "
                f"{MAX_PREFIX} bytes (no '/', '\\', '..', leading '.', control, format or "
                "bidi characters)"
            )
        if isinstance(max_images, bool) or not isinstance(max_images, int) or max_images < 0:
            raise ValueError(f"max_images: pass an integer >= 0, got {max_images!r:.40}")
        numbered = [(i, run.images) for i, run in enumerate(self.runs, start=1)]
        planned = [
            (f"{prefix}-{run_number}-{n}{extension(img.mime_type)}", img.data)
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
        paths = [write_new_file(target / name, data) for name, data in planned]
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
            lines += [fenced(cut(run.code, max_code_chars, "code"), run.language)]
            output = cut(run.output, max_output_chars)
            lines += ["Output:", fenced(output) if output else "(no output)"]
            if run.images:
                kinds = ", ".join(sorted({img.mime_type for img in run.images}))
                lines += [f"Charts: {len(run.images)} image(s) ({kinds}), in the tool artifact."]
        if self.other_images:
            lines += ["", f"Other images: {len(self.other_images)}, in the tool artifact."]
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """Markdown with the answer (images shown where it links to them), each run's
        code and output, the other charts, how much input came from cache, and the cost."""
        links = self.image_links
        shown: set[int] = set()
        pieces = split_links(self.answer.strip(), links)
        answer = "".join(
            p if isinstance(p, str) else markdown_image(p, shown) for p in pieces
        ).strip()
        out = [answer or "_(no text answer)_"]
        for i, run in enumerate(self.runs, start=1):
            out += [
                f"**Code run {i}** ({run.outcome or 'no outcome'})",
                "",
                fenced(run.code, run.language),
            ]
            if run.output:
                out += ["Output:", "", fenced(run.output)]
            out += [f"![chart {i}]({img.data_url})" for img in run.images if id(img) not in shown]
        out += [f"![image]({img.data_url})" for img in self.other_images if id(img) not in shown]
        if self.usage and self.cached_input_tokens:
            out.append(f"_{self.cache_summary()}_")
        if self.cost:
            out.append(f"_{self.cost_summary()}_")
        return "\n\n".join(out)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        shown: set[int] = set()
        pieces = split_links(self.answer.strip(), self.image_links) or ["(no text answer)"]
        # Markdown over the whole answer, images dropped in where their links were.
        images = [html_image(p, shown) for p in pieces if not isinstance(p, str)]
        marked = iter(range(len(images)))
        source = "".join(p if isinstance(p, str) else f"\x00{next(marked)}\x00" for p in pieces)
        answer = re.sub(r"\x00(\d+)\x00", lambda m: images[int(m.group(1))], html_markdown(source))
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
        if self.cost:
            footer += f"; {html.escape(self.cost_summary())}"
        parts.append(f"<p><small>{footer}</small></p></div>")
        return "".join(parts)


def _plain_cost(record: Any) -> dict[str, Any] | None:
    return json.loads(json.dumps(record)) if isinstance(record, dict) else None
