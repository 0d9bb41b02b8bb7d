"""What the model is told about each file it gets: name, type, size, CSV header, sandbox name.

Without it the model sometimes retypes a file's data into its code instead of reading the
file. Gemini's sandbox does not keep the original file names: attached files appear as
`input_file_0.csv`, `input_file_1.csv`, ... in attachment order (reported in
googleapis/python-genai#1745; Google's code execution page does not name them), so the
text gives both names and tells the model to list the directory if in doubt.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from langchain_gemini_codeexec._sandbox.catalog import FileCatalog
from langchain_gemini_codeexec._sandbox.names import (
    MAX_LISTED_NAMES,
    URI_SCHEMES,
    FileSource,
    LoadedFile,
    printable,
)
from langchain_gemini_codeexec._sandbox.names import listing as bounded_listing

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_HEADER_CHARS = 300
_HEAD_BYTES = 4096

SANDBOX_NOTE = (
    "In the code sandbox the attached files are saved in the working directory under "
    "generated names, input_file_0, input_file_1, ... in the order attached, with their "
    "extension (shown for each file below); if a name is not found, list the directory "
    "with os.listdir('.'). Read the data from these files in code (e.g. "
    "pandas.read_csv); never retype file contents into the code."
)


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    for unit in ("KB", "MB", "GB"):
        size_f = size / 1024
        if size_f < 1024 or unit == "GB":
            return f"{size_f:.1f} {unit}"
        size = int(size_f)
    return f"{size} bytes"  # pragma: no cover


def csv_header(head: bytes) -> str | None:
    """The first line of a CSV, cleaned for a prompt (no control characters, cut)."""
    line = head.split(b"\n", 1)[0].decode("utf-8", errors="replace").lstrip("\ufeff")
    line = printable(_CONTROL.sub(" ", line)).strip()  # no control, format or bidi
    if not line:
        return None
    return line if len(line) <= _HEADER_CHARS else line[:_HEADER_CHARS] + "..."


def sandbox_name(file: LoadedFile, position: int) -> str:
    return f"input_file_{position}{PurePosixPath(file.name).suffix.lower()}"


def describe(file: LoadedFile, position: int, count: int) -> str:
    """The text sent right before a file's data."""
    facts = [file.mime_type]
    if file.data is not None:
        size = len(file.data)
        facts.append(f"{size:,} bytes" if size < 10240 else f"{size:,} bytes, {human_size(size)}")
        if file.mime_type == "text/csv":
            rows = file.data.count(b"\n") + (0 if file.data.endswith(b"\n") else 1)
            facts.append(f"{max(rows - 1, 0):,} data rows")
    text = (
        f"Attached file {position + 1} of {count}: {file.name!r} ({', '.join(facts)}); in the "
        f"sandbox: {sandbox_name(file, position)}."
    )
    if file.mime_type == "text/csv" and file.data is not None:
        header = csv_header(file.data[:_HEAD_BYTES])
        if header:
            text += f" CSV header row: {header}"
    return text


def _head(source: FileSource | Path) -> tuple[int, bytes] | None:
    """(size, first bytes) of a mapped source or a path, or None (a URI, unreadable)."""
    if isinstance(source, bytes):
        return len(source), source[:_HEAD_BYTES]
    if isinstance(source, str) and source.startswith(URI_SCHEMES):
        return None
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(Path(source).expanduser(), flags)  # a fifo must not block us here
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None
        return info.st_size, handle.read(_HEAD_BYTES)


def listing(catalog: FileCatalog, names: Sequence[str]) -> str:
    """Each name with its type and size (and a CSV's header), for the tool description;
    bounded like any listing the agent reads (`names.listing`)."""
    items = []
    for name in names[:MAX_LISTED_NAMES]:
        source: FileSource | Path | None = catalog.mapping.get(name)
        # A files_dir entry is read as the tool reads it, never through a link out.
        head = _head(source) if source is not None else catalog.head(name, _HEAD_BYTES)
        mime = name.rsplit(".", 1)[-1].upper() if "." in name else "file"
        if head is None:
            items.append(f"{name} ({mime})")
            continue
        size, first = head
        item = f"{name} ({mime}, {human_size(size)}"
        header = csv_header(first) if name.lower().endswith(".csv") else None
        items.append(item + (f"; columns: {header})" if header else ")"))
    return bounded_listing(items, total=len(names))
