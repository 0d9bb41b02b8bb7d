"""Files for the sandbox: which files an agent may name, and how they reach Gemini.

Confinement: the tool's owner gives a directory (`files_dir`) and/or a mapping
(`files={name: path_or_bytes_or_uri}`); the agent only picks names. A name is a plain file
name (no separators, no `..`, not hidden, no control/format/bidi characters). A directory
entry is resolved below `files_dir` one component at a time, relative to directory
descriptors, never following a link out of it; the name rules apply to every component
of what it resolves to, the file opened must be the regular file checked (device and
inode), of a supported type and within the size limit. Every refusal raises
`ToolException` listing what is allowed, before anything is sent.

Transport: small files go inline; larger ones go through the Files API on the Developer
API, uploaded once per (content hash, mime type) per client; Vertex AI has no Files API,
so files go inline there (give a `gs://` URI in `files` for large ones).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import stat
import threading
import time
import unicodedata
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, TypeVar

from google.genai import Client, types
from langchain_core.tools import ToolException

from langchain_gemini_codeexec._transport.single_flight import SingleFlight

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
# Files API uploads expire after 48 hours; reuse an upload for a little less than that.
_UPLOAD_LIFETIME = 47 * 3600.0

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
_UNSHOWN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
_MAX_NAME = 255
# The listing an agent reads (tool description, refusals) is bounded.
MAX_LISTED_NAMES = 200
MAX_LISTING_CHARS = 4000
# Symbolic links followed while resolving one name inside files_dir (as the kernel's 40).
_MAX_LINKS = 40


def name_problem(name: str) -> str | None:
    """Why `name` is not a bare file name an agent may pass, or None when it is one."""
    if (
        not name
        or name.strip() != name
        or len(name) > _MAX_NAME
        or any(unicodedata.category(ch) in _UNSHOWN for ch in name)
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
    """`text` with every character a name may not hold (see `_UNSHOWN`) made a space."""
    return "".join(" " if unicodedata.category(ch) in _UNSHOWN else ch for ch in text)


_OUTSIDE = "not a regular file inside the tool's directory"


class _Refused(Exception):
    """A name that resolves to something the agent may not have; the reason in words."""


# Walking files_dir without following links out of it (POSIX): every directory is opened
# relative to its parent's descriptor with O_NOFOLLOW, so a component swapped for a link
# after it was checked fails to open instead of being followed.
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
# O_PATH (Linux): passing through a directory needs search, not read, permission.
_DIR_FLAGS = _DIRECTORY | _NOFOLLOW | _CLOEXEC | getattr(os, "O_PATH", os.O_RDONLY)
_LIST_FLAGS = _DIRECTORY | _NOFOLLOW | _CLOEXEC | os.O_RDONLY
# O_NONBLOCK: a fifo swapped in after the check is refused instead of blocking the open.
_FILE_FLAGS = (
    os.O_RDONLY | _NOFOLLOW | _CLOEXEC | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
)
DESCRIPTOR_WALK = (
    bool(_NOFOLLOW and _DIRECTORY)
    and {os.open, os.stat, os.readlink} <= os.supports_dir_fd
    and os.scandir in os.supports_fd
)


def _same(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


class _Walk:
    """Directory descriptors from files_dir down to one file's parent; closed on exit."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.stack: list[int] = []
        self.path: list[str] = []  # the resolved path, relative to files_dir

    @property
    def here(self) -> int:
        return self.stack[-1] if self.stack else self.root

    def up(self) -> None:
        if not self.path:
            raise _Refused(_OUTSIDE + " (a link that leads out of it)")
        self.path.pop()
        os.close(self.stack.pop())

    def top(self) -> None:
        while self.stack:
            os.close(self.stack.pop())
        self.path.clear()

    def down(self, name: str, checked: os.stat_result) -> None:
        fd = os.open(name, _DIR_FLAGS, dir_fd=self.here)
        self.stack.append(fd)
        self.path.append(name)
        if not _same(os.fstat(fd), checked):
            raise _Refused("a directory on its path changed while it was read")

    def close(self) -> None:
        self.top()

    def __enter__(self) -> _Walk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _parts(target: str) -> list[str]:
    return [p for p in target.split("/") if p not in ("", ".")]


class FileCatalog:
    """The files one tool may send: immutable after construction, safe to share."""

    def __init__(
        self,
        files_dir: str | os.PathLike[str] | None,
        files: Mapping[str, FileSource] | None,
        max_file_bytes: int,
    ) -> None:
        self.max_file_bytes = max_file_bytes
        self.directory: Path | None = None
        self._given: Path | None = None
        self._identity: os.stat_result | None = None
        if files_dir is not None:
            directory = Path(files_dir).expanduser()
            if not directory.is_dir():
                raise ValueError(f"files_dir: {str(directory)!r} is not a directory")
            # Resolved once: links the owner put on the way (`data -> /mnt/data`) are
            # followed now; later the directory is reached without following any.
            self.directory = directory.resolve()
            self._given = Path(os.path.abspath(directory))
            self._identity = os.stat(self.directory)
        self.mapping: dict[str, FileSource] = {}
        for name, source in (files or {}).items():
            if not isinstance(name, str) or name_problem(name) is not None:
                raise ValueError(
                    f"files: {name!r:.100} is not a plain file name (no '/', '\\', '..', "
                    "leading '.' or control characters); the agent will pass this name"
                )
            if mime_type_of(name) is None:
                raise ValueError(
                    f"files: {name!r} has an unsupported type; supported: {supported_extensions()}"
                )
            if not isinstance(source, (str, bytes, os.PathLike)):
                raise ValueError(
                    f"files[{name!r}]: give a path, bytes or a gs:// / https:// URI, "
                    f"not {type(source).__name__}"
                )
            self.mapping[name] = source

    @property
    def empty(self) -> bool:
        return self.directory is None and not self.mapping

    def names(self) -> list[str]:
        """Every name the agent may use now: the mapping, then the directory's files that
        resolve (without leaving it) to a regular file of a supported type, within the
        size limit, through no hidden name."""
        names = list(self.mapping)
        if self.directory is None:
            return names
        try:
            root = self._open_root()
        except _Refused:
            return names
        try:
            # root < 0: no descriptor walk on this platform; list by path.
            listed = os.scandir(root if root >= 0 else self.directory)
            entries = sorted(entry.name for entry in listed)
        except OSError:
            entries = []
        try:
            for name in entries:
                if name in self.mapping or name_problem(name) is not None:
                    continue
                if mime_type_of(name) is None:
                    continue
                try:
                    size = self._checked(root, name, read=False)[1]
                except (_Refused, OSError):
                    continue
                if size <= self.max_file_bytes:
                    names.append(name)
        finally:
            if root >= 0:
                os.close(root)
        return names

    def allowed_text(self) -> str:
        names = self.names()
        if not names:
            return "no files are available to this tool"
        return f"files you may use: {listing(names)}"

    def _refuse(self, name: str, why: str) -> ToolException:
        return ToolException(
            f"file {name!r:.120} refused: {why}. Pass only names from the list, exactly as "
            f"written; {self.allowed_text()}."
        )

    # --- the directory, walked without following links out of it ----------------------

    def _open_root(self) -> int:
        """A descriptor of files_dir, reached from `/` one component at a time without
        following links, and the same directory (device, inode) as at construction."""
        assert self.directory is not None and self._identity is not None
        if not DESCRIPTOR_WALK:
            return -1
        fd = os.open(self.directory.anchor, _LIST_FLAGS)
        try:
            parts = self.directory.parts[1:]
            for i, part in enumerate(parts):
                flags = _LIST_FLAGS if i == len(parts) - 1 else _DIR_FLAGS
                nxt = os.open(part, flags, dir_fd=fd)
                os.close(fd)
                fd = nxt
            if not _same(os.fstat(fd), self._identity):
                raise _Refused("the tool's directory was replaced since the tool was built")
        except OSError as exc:
            os.close(fd)
            raise _Refused(
                f"the tool's directory cannot be reached without following a link ({exc.strerror})"
            ) from None
        except _Refused:
            os.close(fd)
            raise
        return fd

    def _beneath(self, target: str) -> list[str]:
        """An absolute link target as components below files_dir; refused if outside."""
        parts = PurePosixPath(target).parts
        for base in (self.directory, self._given):
            assert base is not None
            if parts[: len(base.parts)] == base.parts:
                return [p for p in parts[len(base.parts) :] if p != "."]
        raise _Refused(_OUTSIDE + " (a link that points out of it)")

    def _walk(self, walk: _Walk, name: str) -> tuple[str, os.stat_result]:
        """Resolve `name` below files_dir: (final component, its lstat); `walk` holds the
        open parent. Links are followed only while they stay inside the directory."""
        pending = [name]
        links = 0
        final: tuple[str, os.stat_result] | None = None
        while pending:
            part = pending.pop(0)
            if part == "..":
                walk.up()
                continue
            try:
                info = os.stat(part, dir_fd=walk.here, follow_symlinks=False)
            except FileNotFoundError:
                missing = _OUTSIDE + " (a link to a missing file)" if links else "no such file"
                raise _Refused(missing) from None
            if stat.S_ISLNK(info.st_mode):
                links += 1
                if links > _MAX_LINKS:
                    raise _Refused("too many levels of links")
                target = os.readlink(part, dir_fd=walk.here)
                if target.startswith("/"):
                    walk.top()
                    pending = self._beneath(target) + pending
                else:
                    pending = _parts(target) + pending
                continue
            if pending:
                if not stat.S_ISDIR(info.st_mode):
                    raise _Refused(_OUTSIDE + " (a link through something that is not a directory)")
                walk.down(part, info)
            else:
                final = (part, info)
        if final is None:  # a link to the directory itself or above it
            raise _Refused(_OUTSIDE)
        for part in [*walk.path, final[0]]:
            problem = name_problem(part)
            if problem == "hidden files are not available":
                raise _Refused("it leads to a hidden file or directory")
            if problem is not None:
                raise _Refused(f"it leads to {part!r:.80}, which is not a plain file name")
        if mime_type_of(final[0]) is None:
            raise _Refused(f"it leads to {final[0]!r:.80}, which is of an unsupported type")
        if not stat.S_ISREG(final[1].st_mode):
            raise _Refused(_OUTSIDE)
        return final

    def _checked(
        self, root: int, name: str, *, read: bool, head: int | None = None
    ) -> tuple[bytes, int]:
        """(data if `read`, only its first `head` bytes if given; size) of directory entry
        `name`, or `_Refused`."""
        if root < 0:
            return self._checked_by_path(name, read=read, head=head)
        with _Walk(root) as walk:
            try:
                final, info = self._walk(walk, name)
            except OSError as exc:
                raise _Refused(f"cannot be read ({exc.strerror})") from None
            if not read:
                return b"", info.st_size
            try:
                fd = os.open(final, _FILE_FLAGS, dir_fd=walk.here)
            except OSError as exc:
                # ELOOP: the file was swapped for a link after the check.
                raise _Refused(f"cannot be read ({exc.strerror})") from None
            return self._read_fd(fd, info, head)

    def _checked_by_path(
        self, name: str, *, read: bool, head: int | None = None
    ) -> tuple[bytes, int]:
        """Without descriptor-relative calls (Windows): resolve, check, open, compare."""
        assert self.directory is not None
        candidate = self.directory / name
        if not os.path.lexists(candidate):
            raise _Refused("no such file")
        try:
            resolved = candidate.resolve(strict=True)
            info = resolved.stat()
        except (OSError, RuntimeError):
            raise _Refused(_OUTSIDE) from None
        if not resolved.is_relative_to(self.directory):
            raise _Refused(_OUTSIDE + " (a link out of it)")
        for part in resolved.relative_to(self.directory).parts:
            if name_problem(part) is not None:
                raise _Refused("it leads to a hidden file or a name that is not plain")
        if mime_type_of(resolved.name) is None:
            raise _Refused("it leads to a file of an unsupported type")
        if not stat.S_ISREG(info.st_mode):
            raise _Refused(_OUTSIDE)
        if not read:
            return b"", info.st_size
        try:
            fd = os.open(resolved, _FILE_FLAGS)
        except OSError as exc:
            raise _Refused(f"cannot be read ({exc.strerror})") from None
        return self._read_fd(fd, info, head)

    def _read_fd(
        self, fd: int, checked: os.stat_result, head: int | None = None
    ) -> tuple[bytes, int]:
        """Read an opened file (whole, or its first `head` bytes) if it is the regular
        file that was checked; (data, size)."""
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise _Refused("not a regular file")
            if not _same(info, checked):
                raise _Refused("the file changed while it was read")
            if head is not None:
                return handle.read(head), info.st_size
            if info.st_size > self.max_file_bytes:
                return b"", info.st_size
            data = handle.read(self.max_file_bytes + 1)
        return data, len(data)

    def head(self, name: str, count: int) -> tuple[int, bytes] | None:
        """(size, first `count` bytes) of directory entry `name`, reached the way `load`
        reaches it; None when `load` would refuse it (for describing files)."""
        if self.directory is None or name_problem(name) or mime_type_of(name) is None:
            return None
        try:
            root = self._open_root()
            try:
                data, size = self._checked(root, name, read=True, head=count)
            finally:
                if root >= 0:
                    os.close(root)
        except (_Refused, OSError):
            return None
        return size, data

    # --- loading ---------------------------------------------------------------------

    def load(self, names: Sequence[str]) -> list[LoadedFile]:
        """Check every name, then read each file; `ToolException` on the first bad one."""
        unique = list(dict.fromkeys(self._listed_spelling(name) for name in names))
        for name in unique:
            self._check_name(name)
        return [self._load_one(name) for name in unique]

    def _listed_spelling(self, name: Any) -> Any:
        """The listed name an agent meant when it wrote another Unicode form of it.

        A file saved as `cafe\u0301.csv` (decomposed, as macOS writes) is listed that way,
        but a model writes `caf\u00e9.csv`. Only a name the catalogue itself lists is
        substituted, and only when exactly one listed name has the same NFC form; every
        check still runs on the substitute.
        """
        if not isinstance(name, str) or name.isascii() or name in self.mapping:
            return name
        wanted = unicodedata.normalize("NFC", name)
        listed = self.names()
        if name in listed:
            return name
        same = [n for n in listed if unicodedata.normalize("NFC", n) == wanted]
        return same[0] if len(same) == 1 else name

    def _check_name(self, name: Any) -> None:
        if not isinstance(name, str):
            raise self._refuse(str(name), "a file name must be a string")
        if self.empty:
            raise ToolException(
                "this tool was given no files, so 'files' must be empty; put the data in "
                "the task text instead"
            )
        problem = name_problem(name)
        if problem is not None:
            raise self._refuse(name, problem)
        if mime_type_of(name) is None:
            raise self._refuse(
                name, f"unsupported file type; supported types: {supported_extensions()}"
            )

    def _load_one(self, name: str) -> LoadedFile:
        mime = mime_type_of(name)
        assert mime is not None
        if name in self.mapping:
            return self._load_mapped(name, mime, self.mapping[name])
        if self.directory is None:
            raise self._refuse(name, "no such file")
        try:
            root = self._open_root()
            try:
                data, size = self._checked(root, name, read=True)
            finally:
                if root >= 0:
                    os.close(root)
        except _Refused as exc:
            raise self._refuse(name, str(exc)) from None
        self._check_size(name, size)
        return LoadedFile(name, mime, data=data)

    def _load_mapped(self, name: str, mime: str, source: FileSource) -> LoadedFile:
        if isinstance(source, bytes):
            self._check_size(name, len(source))
            return LoadedFile(name, mime, data=source)
        if isinstance(source, str) and source.startswith(URI_SCHEMES):
            return LoadedFile(name, mime, uri=source)
        # The owner chose this path: follow its links (a `latest.csv` link, a mounted
        # ConfigMap) here, so that the no-follow open reads the file it names.
        path = Path(source).expanduser().resolve()
        if not path.exists():
            raise self._refuse(name, "the file it names no longer exists")
        if not path.is_file():
            raise self._refuse(name, "not a regular file")
        try:
            info = path.stat()
            fd = os.open(path, _FILE_FLAGS)
        except OSError as exc:
            raise self._refuse(name, f"cannot be read ({exc.strerror})") from None
        try:
            data, size = self._read_fd(fd, info)
        except _Refused as exc:
            raise self._refuse(name, str(exc)) from None
        self._check_size(name, size)
        return LoadedFile(name, mime, data=data)

    def _check_size(self, name: str, size: int) -> None:
        if size > self.max_file_bytes:
            raise self._refuse(
                name, f"it is {size} bytes, over the limit of {self.max_file_bytes} bytes"
            )


# --- sending --------------------------------------------------------------------------


@dataclass(frozen=True)
class Uploaded:
    uri: str
    mime_type: str
    expires_at: float


class UploadCache:
    """Files API uploads of one client by content hash, single-flight across threads and tasks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: dict[tuple[str, str], Uploaded] = {}
        self._flights: SingleFlight[tuple[str, str], Uploaded] = SingleFlight()

    def _hit(self, key: tuple[str, str]) -> Uploaded | None:
        with self._lock:
            hit = self._done.get(key)
        return hit if hit is not None and hit.expires_at > time.time() else None

    def _keep(self, key: tuple[str, str], value: Uploaded) -> Uploaded:
        with self._lock:
            self._done[key] = value
        return value

    def get(self, key: tuple[str, str], upload: Callable[[], Uploaded]) -> Uploaded:
        def make() -> Uploaded:
            # Checked again inside the flight: an upload that finished between our first
            # look and our claim is reused, not repeated.
            hit = self._hit(key)
            return hit if hit is not None else self._keep(key, upload())

        hit = self._hit(key)
        return hit if hit is not None else self._flights.run(key, make)

    async def aget(
        self, key: tuple[str, str], upload: Callable[[], Awaitable[Uploaded]]
    ) -> Uploaded:
        async def make() -> Uploaded:
            hit = self._hit(key)
            return hit if hit is not None else self._keep(key, await upload())

        hit = self._hit(key)
        return hit if hit is not None else await self._flights.arun(key, make)


_CACHES: weakref.WeakKeyDictionary[Client, UploadCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def upload_cache(client: Client) -> UploadCache:
    """The upload cache of one google-genai client (created on first use)."""
    with _CACHES_LOCK:
        cache = _CACHES.get(client)
        if cache is None:
            cache = _CACHES[client] = UploadCache()
        return cache


def _uploaded(file: Any, mime_type: str) -> Uploaded:
    uri = getattr(file, "uri", None)
    if not uri:
        raise ToolException("the Files API upload returned no file URI")
    state = str(getattr(file, "state", "") or "")
    if state.endswith("FAILED"):
        raise ToolException(
            f"the Files API could not process the file ({getattr(file, 'error', '')})"
        )
    expiry = getattr(file, "expiration_time", None)
    expires_at = time.time() + _UPLOAD_LIFETIME
    if expiry is not None and hasattr(expiry, "timestamp"):
        expires_at = min(expires_at, expiry.timestamp() - 3600.0)
    return Uploaded(
        uri=str(uri),
        mime_type=str(getattr(file, "mime_type", None) or mime_type),
        expires_at=expires_at,
    )


def _upload_config(file: LoadedFile) -> types.UploadFileConfigDict:
    return {"mime_type": file.mime_type, "display_name": file.name}


def needs_upload(file: LoadedFile, client: Client, inline_max_bytes: int) -> bool:
    return file.data is not None and len(file.data) > inline_max_bytes and not client.vertexai


def inline_block(file: LoadedFile) -> dict[str, Any]:
    """A standard LangChain media block for `file` (inline bytes or a URI)."""
    if file.uri is not None:
        return {"type": file.block_type, "url": file.uri, "mime_type": file.mime_type}
    data = base64.b64encode(file.data or b"").decode("ascii")
    return {"type": file.block_type, "base64": data, "mime_type": file.mime_type}


def _uri_block(file: LoadedFile, uploaded: Uploaded) -> dict[str, Any]:
    return {"type": file.block_type, "url": uploaded.uri, "mime_type": file.mime_type}


def file_block(
    file: LoadedFile,
    client: Client,
    inline_max_bytes: int,
    run: Callable[[Callable[[], Uploaded]], Uploaded],
) -> dict[str, Any]:
    """The block for `file`, uploading it first when it is too big to go inline."""
    if not needs_upload(file, client, inline_max_bytes):
        return inline_block(file)

    def upload() -> Uploaded:
        sent = client.files.upload(file=io.BytesIO(file.data or b""), config=_upload_config(file))
        return _uploaded(sent, file.mime_type)

    key = (file.sha256, file.mime_type)
    return _uri_block(file, upload_cache(client).get(key, lambda: run(upload)))


async def afile_block(
    file: LoadedFile,
    client: Client,
    inline_max_bytes: int,
    run: Callable[[Callable[[], Awaitable[Uploaded]]], Awaitable[Uploaded]],
) -> dict[str, Any]:
    """`file_block` with the async client."""
    if not needs_upload(file, client, inline_max_bytes):
        return inline_block(file)

    async def upload() -> Uploaded:
        sent = await client.aio.files.upload(
            file=io.BytesIO(file.data or b""), config=_upload_config(file)
        )
        return _uploaded(sent, file.mime_type)

    key = (file.sha256, file.mime_type)
    return _uri_block(file, await upload_cache(client).aget(key, lambda: run(upload)))
