"""The report's data: a code run, its result and its media (bytes in Python, base64 in JSON)."""

from __future__ import annotations

import base64
import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from langchain_gemini_codeexec._mapping.blocks import OUTCOME_OK as OK
from langchain_gemini_codeexec._mapping.blocks import (
    BlockError,
    decode_base64,
)

# What an outcome means, in words an agent model acts on.
OUTCOME_WORDS = {
    "OUTCOME_OK": "ran successfully",
    "OUTCOME_FAILED": "FAILED: the code raised an error (see the output)",
    "OUTCOME_DEADLINE_EXCEEDED": (
        "TIMED OUT: the run hit the sandbox time limit (about 30 s); output may be partial"
    ),
    "OUTCOME_UNSPECIFIED": "outcome unspecified by Gemini",
}
NORMAL_FINISH = (None, "STOP", "FINISH_REASON_UNSPECIFIED")
MIME = re.compile(r"[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*")

REPORT_CONFIG = ConfigDict(frozen=True)


def bytes_in(value: Any) -> Any:
    return decode_media(value) if isinstance(value, str) else value


def bytes_out(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


# Raw bytes in Python; standard base64 in JSON (and a base64 string is accepted as input).
Blob = Annotated[
    bytes,
    BeforeValidator(bytes_in),
    PlainSerializer(bytes_out, return_type=str, when_used="json"),
]


class CodeMedia(BaseModel):
    """An image (or other file) a code run produced: its mime type and raw bytes."""

    model_config = REPORT_CONFIG

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
        mime = self.mime_type if MIME.fullmatch(self.mime_type) else "application/octet-stream"
        return f"data:{mime};base64,{self.base64}"


class CodeResult(BaseModel):
    """One `codeExecutionResult` of a run (Gemini may send several for one code part)."""

    model_config = REPORT_CONFIG

    outcome: str | None
    """Verbatim (`OUTCOME_OK`, `OUTCOME_FAILED`, ...); None when Gemini sent none."""
    output: str = ""


class CodeRun(BaseModel):
    """One code run: the code, how it ended, what it printed, the charts it drew."""

    model_config = REPORT_CONFIG

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
        return OUTCOME_WORDS.get(self.outcome, self.outcome)



def decode_media(data: str) -> bytes:
    try:
        return decode_base64(data.strip())
    except BlockError as exc:
        raise ValueError(f"an image block holds {exc}") from None


