"""Files for the sandbox: which files an agent may name, and how they reach Gemini.

Confinement: the tool's owner gives a directory (`files_dir`) and/or a mapping
(`files={name: path_or_bytes_or_uri}`); the agent only picks names. A name is a plain file
name (no separators, no `..`, not hidden); a directory entry is used only when it resolves
to a regular file inside that directory (so a symlink pointing out is refused), has a
supported type, and is within the size limit. Every refusal raises `ToolException`
listing what is allowed, before anything is sent.

Transport: small files go inline; larger ones go through the Files API on the Developer
API, uploaded once per (content hash, mime type) per client; Vertex AI has no Files API,
so files go inline there (give a `gs://` URI in `files` for large ones).
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import hashlib
import io
import os
import re
import stat
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, TypeVar

from google.genai import Client, types
from langchain_core.tools import ToolException

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
_MAX_LISTED = 50

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


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def name_problem(name: str) -> str | None:
    """Why `name` is not a bare file name an agent may pass, or None when it is one."""
    if not name or name.strip() != name or _CONTROL.search(name):
        # Control characters (newlines) would let a file name write into the tool's
        # description the agent reads; such names are neither listed nor accepted.
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


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1


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
        if files_dir is not None:
            directory = Path(files_dir).expanduser()
            if not directory.is_dir():
                raise ValueError(f"files_dir: {str(directory)!r} is not a directory")
            self.directory = directory.resolve()
        self.mapping: dict[str, FileSource] = {}
        for name, source in (files or {}).items():
            if not isinstance(name, str) or name_problem(name) is not None:
                raise ValueError(
                    f"files: {name!r} is not a plain file name (no '/', '\\', '..' or "
                    "leading '.'); the agent will pass this name"
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
        are regular, inside it, of a supported type and within the size limit."""
        names = list(self.mapping)
        if self.directory is not None:
            try:
                entries = sorted(os.scandir(self.directory), key=lambda e: e.name)
            except OSError:
                entries = []
            for entry in entries:
                if entry.name in self.mapping or name_problem(entry.name) is not None:
                    continue
                if mime_type_of(entry.name) is None:
                    continue
                path = self._inside(entry.name)
                if path is not None and _size(path) <= self.max_file_bytes:
                    names.append(entry.name)
        return names

    def allowed_text(self) -> str:
        names = self.names()
        if not names:
            return "no files are available to this tool"
        shown = ", ".join(names[:_MAX_LISTED])
        more = f" (and {len(names) - _MAX_LISTED} more)" if len(names) > _MAX_LISTED else ""
        return f"files you may use: {shown}{more}"

    def _refuse(self, name: str, why: str) -> ToolException:
        return ToolException(
            f"file {name!r} refused: {why}. Pass only names from the list, exactly as "
            f"written; {self.allowed_text()}."
        )

    def _inside(self, name: str) -> Path | None:
        """The resolved path of `name` in the directory if it is a regular file inside it."""
        assert self.directory is not None
        candidate = self.directory / name
        try:
            resolved = candidate.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not resolved.is_relative_to(self.directory):
            return None  # e.g. a symlink pointing out of the directory
        try:
            return resolved if stat.S_ISREG(resolved.stat().st_mode) else None
        except OSError:
            return None

    def load(self, names: Sequence[str]) -> list[LoadedFile]:
        """Check every name, then read each file; `ToolException` on the first bad one."""
        unique = list(dict.fromkeys(names))
        for name in unique:
            self._check_name(name)
        return [self._load_one(name) for name in unique]

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
        path = self.directory / name
        if not os.path.lexists(path):
            raise self._refuse(name, "no such file")
        resolved = self._inside(name)
        if resolved is None:
            raise self._refuse(name, "not a regular file inside the tool's directory")
        return LoadedFile(name, mime, data=self._read(name, resolved))

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
        return LoadedFile(name, mime, data=self._read(name, path))

    def _check_size(self, name: str, size: int) -> None:
        if size > self.max_file_bytes:
            raise self._refuse(
                name, f"it is {size} bytes, over the limit of {self.max_file_bytes} bytes"
            )

    def _read(self, name: str, path: Path) -> bytes:
        """Read without following a symlink swapped in after the check, within the limit.

        O_NONBLOCK: a fifo swapped in after the check is refused below instead of blocking
        the open until some writer comes.
        """
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        flags |= getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            raise self._refuse(name, f"cannot be read ({exc.strerror})") from None
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise self._refuse(name, "not a regular file")
            self._check_size(name, info.st_size)
            data = handle.read(self.max_file_bytes + 1)
        self._check_size(name, len(data))
        return data


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
        self._pending: dict[tuple[str, str], concurrent.futures.Future[Uploaded]] = {}

    def _claim(
        self, key: tuple[str, str]
    ) -> tuple[Uploaded | None, concurrent.futures.Future[Uploaded], bool]:
        """(cached upload, or the future to wait on / to fulfil, and whether we upload)."""
        with self._lock:
            hit = self._done.get(key)
            if hit is not None and hit.expires_at > time.time():
                return hit, concurrent.futures.Future(), False
            future = self._pending.get(key)
            if future is not None:
                return None, future, False
            future = concurrent.futures.Future()
            self._pending[key] = future
            return None, future, True

    def _settle(
        self,
        key: tuple[str, str],
        future: concurrent.futures.Future[Uploaded],
        value: Uploaded | None,
        error: BaseException | None,
    ) -> None:
        with self._lock:
            self._pending.pop(key, None)
            if value is not None:
                self._done[key] = value
        if future.done():
            return
        if value is not None:
            future.set_result(value)
        elif isinstance(error, (asyncio.CancelledError, KeyboardInterrupt)):
            future.cancel()  # waiters try again themselves
        else:
            future.set_exception(error or RuntimeError("upload failed"))

    def get(self, key: tuple[str, str], upload: Callable[[], Uploaded]) -> Uploaded:
        while True:
            hit, future, owner = self._claim(key)
            if hit is not None:
                return hit
            if not owner:
                try:
                    return future.result()
                except concurrent.futures.CancelledError:
                    continue
            try:
                value = upload()
            except BaseException as exc:
                self._settle(key, future, None, exc)
                raise
            self._settle(key, future, value, None)
            return value

    async def aget(
        self, key: tuple[str, str], upload: Callable[[], Awaitable[Uploaded]]
    ) -> Uploaded:
        while True:
            hit, future, owner = self._claim(key)
            if hit is not None:
                return hit
            if not owner:
                try:
                    # shield: our own cancellation must not cancel the shared upload.
                    return await asyncio.shield(asyncio.wrap_future(future))
                except asyncio.CancelledError:
                    if future.cancelled():
                        continue
                    raise
            try:
                value = await upload()
            except BaseException as exc:
                self._settle(key, future, None, exc)
                raise
            self._settle(key, future, value, None)
            return value


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
