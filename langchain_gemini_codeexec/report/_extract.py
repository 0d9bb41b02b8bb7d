"""Reading a report from a message's blocks: runs, outcomes, outputs and charts, in order."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import BaseMessage

from langchain_gemini_codeexec._mapping.blocks import (
    CODE_TOOL_NAMES,
    MEDIA_BLOCK_TYPES,
    RESULT_BLOCK_TYPE,
    output_text,
    result_outcome,
)
from langchain_gemini_codeexec._mapping.blocks import OUTCOME_OK as OK
from langchain_gemini_codeexec.report._models import CodeMedia, CodeResult, CodeRun, decode_media
from langchain_gemini_codeexec.report._render import named

# --- extraction ---------------------------------------------------------------------


class Builder:
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
        media = CodeMedia(mime_type=mime, data=decode_media(data), name=name)
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
                    images=named(raw["images"], raw.get("code", "")),
                    files=raw["files"],
                )
            )
        return runs


def blocks_of(message: BaseMessage) -> Sequence[Any]:
    content = message.content
    if isinstance(content, str):
        return [content]
    if message.response_metadata.get("output_version") == "v1":
        return content
    try:  # other integrations: LangChain translates their blocks to v1
        return list(message.content_blocks)
    except Exception:
        return content


