"""`FileCatalog`: the files the tool's owner allows, and loading the ones an agent names.

Confinement: the tool's owner gives a directory (`files_dir`) and/or a mapping
(`files={name: path_or_bytes_or_uri}`); the agent only picks names. A name is a plain file
name (no separators, no `..`, not hidden, no control/format/bidi characters). A directory
entry is resolved below `files_dir` one component at a time, relative to directory
descriptors, never following a link out of it; the name rules apply to every component
of what it resolves to, the file opened must be the regular file checked (device and
inode), of a supported type and within the size limit. Every refusal raises
`ToolException` listing what is allowed, before anything is sent.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from langchain_core.tools import ToolException

from langchain_gemini_codeexec._sandbox.confine import (
    DESCRIPTOR_WALK,
    DIR_FLAGS,
    FILE_FLAGS,
    LIST_FLAGS,
    OUTSIDE,
    Refused,
    Walk,
    same,
    split_target,
)
from langchain_gemini_codeexec._sandbox.names import (
    MAX_LINKS,
    URI_SCHEMES,
    FileSource,
    LoadedFile,
    listing,
    mime_type_of,
    name_problem,
    supported_extensions,
)


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
        except Refused:
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
                except (Refused, OSError):
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
        fd = os.open(self.directory.anchor, LIST_FLAGS)
        try:
            parts = self.directory.parts[1:]
            for i, part in enumerate(parts):
                flags = LIST_FLAGS if i == len(parts) - 1 else DIR_FLAGS
                nxt = os.open(part, flags, dir_fd=fd)
                os.close(fd)
                fd = nxt
            if not same(os.fstat(fd), self._identity):
                raise Refused("the tool's directory was replaced since the tool was built")
        except OSError as exc:
            os.close(fd)
            raise Refused(
                f"the tool's directory cannot be reached without following a link ({exc.strerror})"
            ) from None
        except Refused:
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
        raise Refused(OUTSIDE + " (a link that points out of it)")

    def _walk(self, walk: Walk, name: str) -> tuple[str, os.stat_result]:
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
                missing = OUTSIDE + " (a link to a missing file)" if links else "no such file"
                raise Refused(missing) from None
            if stat.S_ISLNK(info.st_mode):
                links += 1
                if links > MAX_LINKS:
                    raise Refused("too many levels of links")
                target = os.readlink(part, dir_fd=walk.here)
                if target.startswith("/"):
                    walk.top()
                    pending = self._beneath(target) + pending
                else:
                    pending = split_target(target) + pending
                continue
            if pending:
                if not stat.S_ISDIR(info.st_mode):
                    raise Refused(OUTSIDE + " (a link through something that is not a directory)")
                walk.down(part, info)
            else:
                final = (part, info)
        if final is None:  # a link to the directory itself or above it
            raise Refused(OUTSIDE)
        for part in [*walk.path, final[0]]:
            problem = name_problem(part)
            if problem == "hidden files are not available":
                raise Refused("it leads to a hidden file or directory")
            if problem is not None:
                raise Refused(f"it leads to {part!r:.80}, which is not a plain file name")
        if mime_type_of(final[0]) is None:
            raise Refused(f"it leads to {final[0]!r:.80}, which is of an unsupported type")
        if not stat.S_ISREG(final[1].st_mode):
            raise Refused(OUTSIDE)
        return final

    def _checked(
        self, root: int, name: str, *, read: bool, head: int | None = None
    ) -> tuple[bytes, int]:
        """(data if `read`, only its first `head` bytes if given; size) of directory entry
        `name`, or `Refused`."""
        if root < 0:
            return self._checked_by_path(name, read=read, head=head)
        with Walk(root) as walk:
            try:
                final, info = self._walk(walk, name)
            except OSError as exc:
                raise Refused(f"cannot be read ({exc.strerror})") from None
            if not read:
                return b"", info.st_size
            try:
                fd = os.open(final, FILE_FLAGS, dir_fd=walk.here)
            except OSError as exc:
                # ELOOP: the file was swapped for a link after the check.
                raise Refused(f"cannot be read ({exc.strerror})") from None
            return self._read_fd(fd, info, head)

    def _checked_by_path(
        self, name: str, *, read: bool, head: int | None = None
    ) -> tuple[bytes, int]:
        """Without descriptor-relative calls (Windows): resolve, check, open, compare."""
        assert self.directory is not None
        candidate = self.directory / name
        if not os.path.lexists(candidate):
            raise Refused("no such file")
        try:
            resolved = candidate.resolve(strict=True)
            info = resolved.stat()
        except (OSError, RuntimeError):
            raise Refused(OUTSIDE) from None
        if not resolved.is_relative_to(self.directory):
            raise Refused(OUTSIDE + " (a link out of it)")
        for part in resolved.relative_to(self.directory).parts:
            if name_problem(part) is not None:
                raise Refused("it leads to a hidden file or a name that is not plain")
        if mime_type_of(resolved.name) is None:
            raise Refused("it leads to a file of an unsupported type")
        if not stat.S_ISREG(info.st_mode):
            raise Refused(OUTSIDE)
        if not read:
            return b"", info.st_size
        try:
            fd = os.open(resolved, FILE_FLAGS)
        except OSError as exc:
            raise Refused(f"cannot be read ({exc.strerror})") from None
        return self._read_fd(fd, info, head)

    def _read_fd(
        self, fd: int, checked: os.stat_result, head: int | None = None
    ) -> tuple[bytes, int]:
        """Read an opened file (whole, or its first `head` bytes) if it is the regular
        file that was checked; (data, size)."""
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise Refused("not a regular file")
            if not same(info, checked):
                raise Refused("the file changed while it was read")
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
        except (Refused, OSError):
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
        except Refused as exc:
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
            fd = os.open(path, FILE_FLAGS)
        except OSError as exc:
            raise self._refuse(name, f"cannot be read ({exc.strerror})") from None
        try:
            data, size = self._read_fd(fd, info)
        except Refused as exc:
            raise self._refuse(name, str(exc)) from None
        self._check_size(name, size)
        return LoadedFile(name, mime, data=data)

    def _check_size(self, name: str, size: int) -> None:
        if size > self.max_file_bytes:
            raise self._refuse(
                name, f"it is {size} bytes, over the limit of {self.max_file_bytes} bytes"
            )


