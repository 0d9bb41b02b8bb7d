"""Saving charts to files: new files only, never through a link, names checked first."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from langchain_gemini_codeexec.report._report import CodeExecutionReport

EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/svg+xml": ".svg",
}

# Flags of a file we create: new (never an existing file or link), not through a link.
NEW_FILE = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
# Names tried per image before giving up (a directory full of planted names).
MAX_RENAMES = 1000


# Characters a file name must not hide (the tool's file names follow the same rule):
# controls, format characters (bidi overrides such as U+202E disguise an extension),
# line/paragraph separators, surrogates, private-use and unassigned code points.
UNSHOWN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
# Leaves room for "-{run}-{n}_{k}.jpeg" within a 255-byte file name.
MAX_PREFIX = 200


def prefix_problem(prefix: str) -> bool:
    """True when `prefix` could leave the directory or hide in a listing."""
    return (
        not isinstance(prefix, str)
        or prefix in (".", "..")
        or len(prefix.encode("utf-8", "surrogatepass")) > MAX_PREFIX
        or any(sep in prefix for sep in ("/", "\\", os.sep))
        or any(unicodedata.category(ch) in UNSHOWN for ch in prefix)
        or prefix.startswith(".")
    )


def write_new_file(path: Path, data: bytes) -> Path:
    """Create `path` exclusively (O_CREAT|O_EXCL|O_NOFOLLOW: never an existing file, never
    through a link), or the first free `{stem}_{k}{suffix}` beside it; the path written."""
    for k in range(1, MAX_RENAMES + 1):
        candidate = path if k == 1 else path.with_name(f"{path.stem}_{k}{path.suffix}")
        try:
            fd = os.open(candidate, NEW_FILE, 0o644)
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
        f"save_images: {path.name} and {MAX_RENAMES - 1} numbered variants already exist in "
        f"{str(path.parent)!r}; use another directory or prefix"
    )


def extension(mime_type: str) -> str:
    return EXTENSIONS.get(mime_type, ".bin")



class SavedImages(list[Path]):
    """The paths `save_images` wrote (a list, as before), plus `links`: each link in the
    answer mapped to the path its image was saved at."""

    def __init__(self, paths: list[Path], report: CodeExecutionReport) -> None:
        super().__init__(paths)
        at = {id(img): path for img, path in zip(report.images, paths, strict=False)}
        self.links: dict[str, Path] = {
            ref: at[id(img)] for ref, img in report.image_links.items() if id(img) in at
        }

