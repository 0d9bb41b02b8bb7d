"""Confinement: a directory walked one component at a time, relative to directory
descriptors, never following a link out of it (POSIX).
"""

from __future__ import annotations

import os

OUTSIDE = "not a regular file inside the tool's directory"


class Refused(Exception):
    """A name that resolves to something the agent may not have; the reason in words."""


# Walking files_dir without following links out of it (POSIX): every directory is opened
# relative to its parent's descriptor with O_NOFOLLOW, so a component swapped for a link
# after it was checked fails to open instead of being followed.
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
CLOEXEC = getattr(os, "O_CLOEXEC", 0)
DIRECTORY = getattr(os, "O_DIRECTORY", 0)
# O_PATH (Linux): passing through a directory needs search, not read, permission.
DIR_FLAGS = DIRECTORY | NOFOLLOW | CLOEXEC | getattr(os, "O_PATH", os.O_RDONLY)
LIST_FLAGS = DIRECTORY | NOFOLLOW | CLOEXEC | os.O_RDONLY
# O_NONBLOCK: a fifo swapped in after the check is refused instead of blocking the open.
FILE_FLAGS = (
    os.O_RDONLY | NOFOLLOW | CLOEXEC | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
)
DESCRIPTOR_WALK = (
    bool(NOFOLLOW and DIRECTORY)
    and {os.open, os.stat, os.readlink} <= os.supports_dir_fd
    and os.scandir in os.supports_fd
)


def same(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


class Walk:
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
            raise Refused(OUTSIDE + " (a link that leads out of it)")
        self.path.pop()
        os.close(self.stack.pop())

    def top(self) -> None:
        while self.stack:
            os.close(self.stack.pop())
        self.path.clear()

    def down(self, name: str, checked: os.stat_result) -> None:
        fd = os.open(name, DIR_FLAGS, dir_fd=self.here)
        self.stack.append(fd)
        self.path.append(name)
        if not same(os.fstat(fd), checked):
            raise Refused("a directory on its path changed while it was read")

    def close(self) -> None:
        self.top()

    def __enter__(self) -> Walk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def split_target(target: str) -> list[str]:
    return [p for p in target.split("/") if p not in ("", ".")]


