"""What the agent may name: supported types, the name rules, listings, the loaded file.

A name is a plain file name (no separators, no `..`, not hidden, no control/format/bidi
characters).
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TypeVar

# Types Google's code execution page lists (.png .jpeg .csv .xml .cpp .java .py .js .ts),
# plus plain text, JSON and Markdown, which Gemini reads as text.
SUPPORTED_TYPES: dict[str, str] = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".csv": "text/csv",
    ".xml": "text/xml",
    ".cpp": "text/x-c++src",
    ".java": "text/x-java",
    ".py": "text/x-python",
    ".js": "text/javascript",
    ".ts": "text/x-typescript",
    ".txt": "text/plain",
    ".json": "application/json",
    ".md": "text/markdown",
}
URI_SCHEMES = ("gs://", "https://", "http://")

FileSource = str | os.PathLike[str] | bytes

T = TypeVar("T")


def mime_type_of(name: str) -> str | None:
    """The mime type of a supported file name, else None."""
    return SUPPORTED_TYPES.get(Path(name).suffix.lower())


def supported_extensions() -> str:
    return " ".join(sorted(SUPPORTED_TYPES))


@dataclass(frozen=True)
class LoadedFile:
    """One file ready to send: bytes (with their hash), or a URI Gemini fetches itself."""

    name: str
    mime_type: str
    data: bytes | None = None
    uri: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data or b"").hexdigest()

    @property
    def block_type(self) -> str:
        return "image" if self.mime_type.startswith("image/") else "file"


# Characters no file name shown to an agent may hold: controls (Cc), format characters
# including every bidi control (Cf), line and paragraph separators (Zl, Zp), and
# surrogates (Cs, undecodable bytes in a POSIX name), private-use (Co) and unassigned (Cn)
# code points. They would let a file name write into, or disguise itself in, the text the
# agent reads.
UNSHOWN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
MAX_NAME = 255
# The listing an agent reads (tool description, refusals) is bounded.
MAX_LISTED_NAMES = 200
MAX_LISTING_CHARS = 4000
# Symbolic links followed while resolving one name inside files_dir (as the kernel's 40).
MAX_LINKS = 40


def name_problem(name: str) -> str | None:
    """Why `name` is not a bare file name an agent may pass, or None when it is one."""
    if (
        not name
        or name.strip() != name
        or len(name) > MAX_NAME
        or any(unicodedata.category(ch) in UNSHOWN for ch in name)
    ):
        return "not a file name"
    if (
        name in (".", "..")
        or PurePosixPath(name).name != name
        or PureWindowsPath(name).name != name
    ):
        return "only plain file names are allowed (no paths, no '..')"
    if name.startswith("."):
        return "hidden files are not available"
    return None


def listing(items: Sequence[str], total: int | None = None) -> str:
    """`items` (names, or names with what they hold) joined for an agent: at most
    MAX_LISTED_NAMES of them and MAX_LISTING_CHARS characters, then how many more there
    are of `total` (default: len(items))."""
    shown: list[str] = []
    size = 0
    for item in items[:MAX_LISTED_NAMES]:
        if size + len(item) + 2 > MAX_LISTING_CHARS:
            break
        shown.append(item)
        size += len(item) + 2
    more = (len(items) if total is None else total) - len(shown)
    return ", ".join(shown) + (f" (and {more} more)" if more else "")


def printable(text: str) -> str:
    """`text` with every character a name may not hold (see `UNSHOWN`) made a space."""
    return "".join(" " if unicodedata.category(ch) in UNSHOWN else ch for ch in text)


