"""File confinement of files_dir: links, swaps and races (units on FileCatalog).

What is promised (SECURITY.md): a name resolves below files_dir without following any
link out of it, the name rules (hidden, type, plain names) hold for what it resolves
to, the file read is the regular file checked (device and inode), and files_dir itself
or any directory on the way swapped for a link after the check sends nothing from
outside. The wire (tool over HTTP, every path) is in tests/reliability/test_confinement.py.
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from langchain_core.tools import ToolException

from langchain_gemini_codeexec._sandbox.catalog import FileCatalog
from langchain_gemini_codeexec._sandbox.confine import DESCRIPTOR_WALK
from langchain_gemini_codeexec._sandbox.names import (
    MAX_LISTED_NAMES,
    MAX_LISTING_CHARS,
    listing,
    name_problem,
)

LIMIT = 1 << 20
SECRET = b"SECRET,from,outside\n"
SAFE = b"safe,inside\n"

pytestmark = pytest.mark.skipif(not DESCRIPTOR_WALK, reason="POSIX descriptor walk only")


def load(cat: FileCatalog, name: str) -> bytes:
    data = cat.load([name])[0].data
    assert data is not None
    return data


def refusal(cat: FileCatalog, name: str) -> str:
    with pytest.raises(ToolException) as info:
        cat.load([name])
    return str(info.value)


@pytest.fixture
def box(tmp_path: Path) -> Path:
    """files_dir with links that stay inside, and links that do not."""
    root = tmp_path / "box"
    root.mkdir()
    (root / "sales.csv").write_bytes(SAFE)
    (root / ".env").write_text("API_KEY=hunter2\n")
    (root / "key.pem").write_text("-----BEGIN PRIVATE KEY-----")
    (root / ".secrets").mkdir()
    (root / ".secrets" / "keys.csv").write_text("k,v\n")
    (root / "sub").mkdir()
    (root / "sub" / "inner.csv").write_bytes(b"inner\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.csv").write_bytes(SECRET)
    links = {
        "notes.csv": ".env",  # a hidden file under an innocent name
        "keys.csv": ".secrets/keys.csv",  # through a hidden directory
        "cert.csv": "key.pem",  # a file of an unsupported type
        "inner.csv": "sub/inner.csv",  # inside, in a subdirectory: allowed
        "abs.csv": str(root / "sub" / "inner.csv"),  # inside, absolute: allowed
        "dots.csv": "sub/../sales.csv",  # inside through '..': allowed
        "up.csv": "../outside/secret.csv",
        "climb.csv": "sub/../../outside/secret.csv",
        "far.csv": str(tmp_path / "outside" / "secret.csv"),
        "loop.csv": "loop.csv",
        "self.csv": ".",
        "dangling.csv": "nothing.csv",
        "chain.csv": "inner.csv",  # a link to a link inside: allowed
    }
    for name, target in links.items():
        os.symlink(target, root / name)
    os.symlink(tmp_path / "outside", root / "portal")  # a directory link out
    os.symlink("portal/secret.csv", root / "via.csv")
    return root


def test_links_inside_are_followed(box: Path) -> None:
    cat = FileCatalog(box, None, LIMIT)
    assert load(cat, "inner.csv") == b"inner\n"
    assert load(cat, "abs.csv") == b"inner\n"
    assert load(cat, "dots.csv") == SAFE
    assert load(cat, "chain.csv") == b"inner\n"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("notes.csv", "hidden file or directory"),
        ("keys.csv", "hidden file or directory"),
        ("cert.csv", "unsupported type"),
        ("up.csv", "not a regular file inside the tool's directory"),
        ("climb.csv", "not a regular file inside the tool's directory"),
        ("far.csv", "points out of it"),
        ("via.csv", "points out of it"),
        ("loop.csv", "too many levels of links"),
        ("self.csv", "not a regular file inside the tool's directory"),
        ("dangling.csv", "a link to a missing file"),
    ],
)
def test_links_that_leave_or_break_the_rules_are_refused(box: Path, name: str, why: str) -> None:
    cat = FileCatalog(box, None, LIMIT)
    message = refusal(cat, name)
    assert why in message
    assert "hunter2" not in message and "SECRET" not in message


def test_the_listing_shows_only_what_loads(box: Path) -> None:
    cat = FileCatalog(box, None, LIMIT)
    assert cat.names() == [
        "abs.csv",
        "chain.csv",
        "dots.csv",
        "inner.csv",
        "sales.csv",
    ]
    for name in cat.names():
        load(cat, name)


def test_files_dir_swapped_for_a_link_after_construction(box: Path, tmp_path: Path) -> None:
    cat = FileCatalog(box, None, LIMIT)
    box.rename(tmp_path / "moved")
    os.symlink(tmp_path / "outside", box)
    (tmp_path / "outside" / "sales.csv").write_bytes(SECRET)
    message = refusal(cat, "sales.csv")
    assert "cannot be reached without following a link" in message
    assert cat.names() == []


def test_files_dir_replaced_by_another_directory(box: Path, tmp_path: Path) -> None:
    cat = FileCatalog(box, None, LIMIT)
    box.rename(tmp_path / "moved")
    box.mkdir()
    (box / "sales.csv").write_bytes(SECRET)
    assert "replaced since the tool was built" in refusal(cat, "sales.csv")


def test_a_parent_of_files_dir_swapped_for_a_link(tmp_path: Path) -> None:
    (tmp_path / "a" / "box").mkdir(parents=True)
    (tmp_path / "a" / "box" / "data.csv").write_bytes(SAFE)
    (tmp_path / "evil" / "box").mkdir(parents=True)
    (tmp_path / "evil" / "box" / "data.csv").write_bytes(SECRET)
    cat = FileCatalog(tmp_path / "a" / "box", None, LIMIT)
    assert load(cat, "data.csv") == SAFE
    (tmp_path / "a").rename(tmp_path / "a.real")
    os.symlink(tmp_path / "evil", tmp_path / "a")
    assert "without following a link" in refusal(cat, "data.csv")


def test_files_dir_given_through_a_link_is_resolved_once(tmp_path: Path) -> None:
    """The owner's own link to the directory is followed at construction."""
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "data.csv").write_bytes(SAFE)
    os.symlink(tmp_path / "real", tmp_path / "current")
    cat = FileCatalog(tmp_path / "current", None, LIMIT)
    assert load(cat, "data.csv") == SAFE
    os.symlink(tmp_path / "current" / "data.csv", tmp_path / "real" / "given.csv")
    assert load(cat, "given.csv") == SAFE  # absolute link spelled with the given path


def _hook_walk(monkeypatch: pytest.MonkeyPatch, after_check: Callable[[str], None]) -> None:
    """Run `after_check(name)` between the check of a name and the open of its file."""
    walk = FileCatalog._walk

    def hooked(self: FileCatalog, state: Any, name: str) -> Any:
        found = walk(self, state, name)
        after_check(name)
        return found

    monkeypatch.setattr(FileCatalog, "_walk", hooked)


def test_file_swapped_for_a_link_after_the_check(
    box: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def swap(name: str) -> None:
        (box / name).unlink()
        os.symlink(tmp_path / "outside" / "secret.csv", box / name)

    _hook_walk(monkeypatch, swap)
    assert "cannot be read" in refusal(FileCatalog(box, None, LIMIT), "sales.csv")


def test_file_replaced_by_another_file_after_the_check(
    box: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What is opened must be what was checked: a rename over it is refused."""

    def swap(name: str) -> None:
        (box / ".env").rename(box / name)

    _hook_walk(monkeypatch, swap)
    message = refusal(FileCatalog(box, None, LIMIT), "sales.csv")
    assert "changed while it was read" in message and "hunter2" not in message


def test_directory_on_the_way_swapped_after_the_check(
    box: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk holds the directory it checked: a link put in its place is not used."""
    (tmp_path / "outside" / "inner.csv").write_bytes(SECRET)

    def swap(name: str) -> None:
        (box / "sub").rename(box / "sub.old")
        os.symlink(tmp_path / "outside", box / "sub")

    _hook_walk(monkeypatch, swap)
    assert load(FileCatalog(box, None, LIMIT), "inner.csv") == b"inner\n"


# --- names the agent reads ---------------------------------------------------------------

UNSHOWN = {
    "newline": "\n",
    "next line (Cc)": "\x85",
    "right-to-left override": "\u202e",
    "left-to-right isolate": "\u2066",
    "pop directional isolate": "\u2069",
    "right-to-left mark": "\u200f",
    "arabic letter mark": "\u061c",
    "zero width joiner": "\u200d",
    "byte order mark": "\ufeff",
    "soft hyphen": "\u00ad",
    "line separator": "\u2028",
    "paragraph separator": "\u2029",
    "private use": "\ue000",
    "unassigned": "\U000e0080",
}


@pytest.mark.parametrize("char", list(UNSHOWN.values()), ids=list(UNSHOWN))
def test_names_with_unshown_characters_are_neither_listed_nor_accepted(
    tmp_path: Path, char: str
) -> None:
    name = f"report{char}gpj.csv"
    (tmp_path / name).write_bytes(SAFE)
    (tmp_path / "ok.csv").write_bytes(SAFE)
    cat = FileCatalog(tmp_path, None, LIMIT)
    assert cat.names() == ["ok.csv"]
    assert name_problem(name) == "not a file name"
    message = refusal(cat, name)
    assert "not a file name" in message
    with pytest.raises(ValueError, match="not a plain file name"):
        FileCatalog(None, {name: b"x"}, LIMIT)


def test_undecodable_file_name_is_not_listed(tmp_path: Path) -> None:
    """A name with bytes that are not UTF-8 comes back with surrogates: not shown."""
    raw = os.fsencode(str(tmp_path)) + b"/bad\xff.csv"
    try:
        with open(raw, "wb") as handle:
            handle.write(SAFE)
    except OSError:
        pytest.skip("the file system refuses non-UTF-8 names")
    (tmp_path / "ok.csv").write_bytes(SAFE)
    assert FileCatalog(tmp_path, None, LIMIT).names() == ["ok.csv"]


def test_too_long_names_are_not_names() -> None:
    assert name_problem("a" * 252 + ".csv") == "not a file name"
    assert name_problem("a" * 251 + ".csv") is None


def test_listing_is_capped_by_count(tmp_path: Path) -> None:
    for i in range(MAX_LISTED_NAMES + 37):
        (tmp_path / f"f{i:04d}.csv").write_bytes(b"1")
    cat = FileCatalog(tmp_path, None, LIMIT)
    text = cat.allowed_text()
    assert text.endswith(" (and 37 more)")
    assert text.count(".csv") == MAX_LISTED_NAMES
    message = refusal(cat, "nope.csv")
    assert "(and 37 more)" in message and len(message) < MAX_LISTING_CHARS + 400


def test_listing_is_capped_by_characters() -> None:
    names = [("n" * 240) + f"{i:03d}.csv" for i in range(100)]
    text = listing(names)
    assert len(text) <= MAX_LISTING_CHARS + len(" (and 100 more)")
    shown = text.split(" (and ")[0].split(", ")
    assert shown == names[: len(shown)]
    assert text.endswith(f" (and {100 - len(shown)} more)")
    assert listing(["a.csv", "b.csv"]) == "a.csv, b.csv"


# --- races: a thread swaps a directory for a link while files are loaded -----------------

SWAPS = 10_000


@dataclass
class Race:
    loads: int = 0
    won: int = 0  # loads that returned data from outside files_dir
    refused: int = 0
    swaps: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class Scene:
    """`victim` flips between a real directory and a link to `evil`; files_dir is `box`;
    `name` is loaded from the catalog."""

    box: Path
    victim: Path
    evil: Path
    name: str


def _scene(tmp_path: Path, kind: str) -> Scene:
    evil = tmp_path / "evil"
    if kind == "files_dir":
        box = tmp_path / "box"
        victim = box
        (evil).mkdir()
        (evil / "data.csv").write_bytes(SECRET)
    elif kind == "parent":
        box = tmp_path / "a" / "box"
        victim = tmp_path / "a"
        (evil / "box").mkdir(parents=True)
        (evil / "box" / "data.csv").write_bytes(SECRET)
    else:  # a directory inside files_dir that a link in it goes through
        box = tmp_path / "box"
        victim = box / "sub"
        evil.mkdir()
        (evil / "data.csv").write_bytes(SECRET)
    if kind == "inner":
        victim.mkdir(parents=True)
        (victim / "data.csv").write_bytes(SAFE)
        os.symlink("sub/data.csv", box / "data.csv")
    else:
        box.mkdir(parents=True)
        (box / "data.csv").write_bytes(SAFE)
    return Scene(box, victim, evil, "data.csv")


def _race(scene: Scene, read: Callable[[], bytes], swaps: int) -> Race:
    """Flip `scene.victim` `swaps` times (real directory <-> link to evil) in a thread,
    while this thread reads with `read` as often as it can."""
    race = Race()
    parked = scene.victim.with_name(scene.victim.name + ".parked")
    done = threading.Event()

    pauses = random.Random(swaps)

    def swapper() -> None:
        try:
            for i in range(swaps):
                # Hold each state a random moment (0-100 us), so reads land both inside
                # a swap and between swaps rather than in lockstep with its syscalls.
                time.sleep(pauses.random() * 1e-4)
                if i % 2 == 0:
                    os.rename(scene.victim, parked)
                    os.symlink(scene.evil, scene.victim)
                else:
                    os.unlink(scene.victim)
                    os.rename(parked, scene.victim)
                race.swaps += 1
        finally:
            done.set()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # interleave the two threads as finely as CPython can
    thread = threading.Thread(target=swapper)
    started = time.perf_counter()
    try:
        thread.start()
        while not done.is_set():
            try:
                data = read()
            except (ToolException, OSError):
                race.refused += 1
                continue
            race.loads += 1
            if data == SECRET:
                race.won += 1
    finally:
        thread.join(60)
        sys.setswitchinterval(interval)
    race.seconds = time.perf_counter() - started
    return race


def _naive(scene: Scene) -> Callable[[], bytes]:
    """Path-based reading, following links: what the walk must not be."""
    return lambda: (scene.box / scene.name).read_bytes()


def _check_race(tmp_path: Path, kind: str, swaps: int) -> Race:
    scene = _scene(tmp_path, kind)
    cat = FileCatalog(scene.box, None, LIMIT)
    assert load(cat, scene.name) == SAFE
    control = _race(scene, _naive(scene), min(swaps, 2_000))
    assert control.won > 0, f"the harness opened no window: {control}"
    race = _race(scene, lambda: load(cat, scene.name), swaps)
    print(f"\nswap race ({kind}): {race}; control (path read): {control}")
    assert race.swaps == swaps
    assert race.won == 0, race
    assert load(cat, scene.name) == SAFE  # swapped back: the catalog works again
    return race


KINDS = ["files_dir", "parent", "inner"]


@pytest.mark.parametrize("kind", KINDS)
def test_swap_race_is_never_won(tmp_path: Path, kind: str) -> None:
    """A thread swaps a directory for a link while the catalog loads: no race is won.

    Scenes: files_dir itself, a parent of it, a directory inside it that a link goes
    through. Control: the same harness against a plain path read (which follows links)
    must win some, so a 0 here means the walk held, not that no window opened.
    """
    _check_race(tmp_path, kind, 200)


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_swap_race_soak(tmp_path: Path, kind: str) -> None:
    """10,000 swaps per scene (`python -m pytest -m slow`): the figure in the closing note."""
    _check_race(tmp_path, kind, SWAPS)


# --- the fallback where descriptor-relative calls are missing (Windows) ------------------


@pytest.mark.parametrize(
    ("name", "outcome"),
    [
        ("sales.csv", SAFE),
        ("inner.csv", b"inner\n"),
        ("notes.csv", "hidden file or a name that is not plain"),
        ("keys.csv", "hidden file or a name that is not plain"),
        ("cert.csv", "unsupported type"),
        ("far.csv", "a link out of it"),
        ("dangling.csv", "not a regular file inside"),
        ("missing.csv", "no such file"),
    ],
)
def test_path_fallback_keeps_the_rules(
    box: Path, monkeypatch: pytest.MonkeyPatch, name: str, outcome: bytes | str
) -> None:
    from langchain_gemini_codeexec._sandbox import catalog as _sandbox_files

    monkeypatch.setattr(_sandbox_files, "DESCRIPTOR_WALK", False)
    cat = FileCatalog(box, None, LIMIT)
    if isinstance(outcome, bytes):
        assert load(cat, name) == outcome
    else:
        assert outcome in refusal(cat, name)


def test_path_fallback_refuses_a_file_swapped_after_the_check(
    box: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langchain_gemini_codeexec._sandbox import catalog as _sandbox_files

    monkeypatch.setattr(_sandbox_files, "DESCRIPTOR_WALK", False)
    opened = os.open

    def swap_then_open(path: Any, flags: int, *args: Any, **kw: Any) -> int:
        if str(path).endswith("sales.csv"):
            (box / ".env").rename(box / "sales.csv")
        return opened(path, flags, *args, **kw)

    monkeypatch.setattr(_sandbox_files.os, "open", swap_then_open)
    assert "changed while it was read" in refusal(FileCatalog(box, None, LIMIT), "sales.csv")


def test_a_decomposed_file_name_is_found_by_its_composed_spelling(tmp_path: Path) -> None:
    """macOS writes 'café' decomposed (NFD); an agent writes it composed (NFC)."""
    decomposed, composed = "cafe\u0301.csv", "caf\u00e9.csv"
    (tmp_path / decomposed).write_bytes(SAFE)
    cat = FileCatalog(tmp_path, None, LIMIT)
    assert cat.names() == [decomposed]
    assert load(cat, composed) == SAFE
    assert load(cat, decomposed) == SAFE
    (tmp_path / composed).write_bytes(SECRET)  # two spellings on disk: each is its own file
    assert load(cat, composed) == SECRET and load(cat, decomposed) == SAFE


def test_another_spelling_never_reaches_an_unlisted_file(box: Path) -> None:
    """The substitute is only ever a listed name, so every rule still applies to it."""
    os.symlink(".env", box / "cafe\u0301.csv")  # listed? no: it leads to a hidden file
    cat = FileCatalog(box, None, LIMIT)
    assert "cafe\u0301.csv" not in cat.names()
    assert "no such file" in refusal(cat, "caf\u00e9.csv")
