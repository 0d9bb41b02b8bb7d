"""Keeping secrets out of cassettes: API keys, bearer tokens and values the user lists.

A credential is replaced wherever it appears, in the forms it can take on the way to a
file: as is, URL-encoded, inside base64 (at any of the three byte alignments, standard or
URL-safe alphabet), and any piece of 6 or more characters of it that ordinary text would
not have by chance (mixing case or digits: see `_distinctive`), plus its last 6 characters
always, so no recognisable head or tail survives, and as hex. Text is also searched in its
decoded forms (``%XX``, ``\\xXX``, ``\\uXXXX`` and ``&#NN;`` escapes, up to three layers
deep, and with line breaks taken out, as in base64 wrapped at 76 columns): what a match
covers is replaced in the original text. `json_stream` searches strings at the same place
in successive events joined, so a key cut into pieces across stream events is found whole.
Values the user lists (a project id, an e-mail) are replaced as whole strings only: a short ordinary
word must not be cut out of every answer. Credentials shorter than 8 characters (dummy test
keys) are only kept out of the headers and query, where they are never recorded.
"""

from __future__ import annotations

import base64
import bisect
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

PLACEHOLDER = "REDACTED"
# Headers and query parameters that carry credentials: never recorded, never matched.
CREDENTIAL_HEADERS = frozenset(
    {
        "x-goog-api-key",
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-goog-iam-authorization-token",
    }
)
CREDENTIAL_QUERY = frozenset({"key", "access_token", "api_key"})
# Where credentials for real Gemini live in the environment (also redacted when set).
_CREDENTIAL_ENV = ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_CLOUD_API_KEY")
_FRAGMENT = 6  # pieces of a credential this long or longer are redacted
_MIN_FRAGMENTED = 16  # shorter credentials (dummy test keys) are redacted whole only
_MIN_CREDENTIAL = 8  # shorter ones ("test") are never recorded where they are credentials,
# but not hunted in free text either: that would cut them out of every answer


# Escapes a decoded view undoes (one character each) and line breaks it drops.
_ESCAPE = re.compile(
    r"%[0-9A-Fa-f]{2}|\\x[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4}|&#[0-9]{1,6};|&#[xX][0-9A-Fa-f]{1,5};"
    r"|[\r\n]+"
)
_MAX_LAYERS = 3  # %2541 is "%41" once decoded: views of views, this deep
Span = tuple[int, int, str]  # start, end, replacement


# Per segment of a view: its start in the view, its length there, its start and end in the
# text under it.
Layer = tuple[list[int], list[int], list[int], list[int]]


def _unescaped(token: str) -> str:
    if token[0] == "&":  # an HTML character reference
        code = int(token[3:-1], 16) if token[2] in "xX" else int(token[2:-1])
    else:
        code = int(token[1:] if token[0] == "%" else token[2:], 16)
    return chr(code) if code <= 0x10FFFF else "\ufffd"


def _decode(text: str) -> tuple[str, Layer]:
    """``text`` with escapes undone and line breaks dropped, and how to map it back."""
    out: list[str] = []
    view_at: list[int] = []
    lengths: list[int] = []
    start_at: list[int] = []
    end_at: list[int] = []
    length = pos = 0

    def segment(a: int, b: int, decoded: str) -> None:
        nonlocal length
        view_at.append(length)
        lengths.append(len(decoded))
        start_at.append(a)
        end_at.append(b)
        out.append(decoded)
        length += len(decoded)

    for m in _ESCAPE.finditer(text):
        if m.start() > pos:  # a literal run maps one to one
            segment(pos, m.start(), text[pos : m.start()])
        token = m.group(0)
        if token[0] in "\r\n":
            segment(m.start(), m.end(), "")
        else:
            segment(m.start(), m.end(), _unescaped(token))
        pos = m.end()
    if pos < len(text):
        segment(pos, len(text), text[pos:])
    return "".join(out), (view_at, lengths, start_at, end_at)


def _back(layer: Layer, a: int, b: int) -> tuple[int, int]:
    """The range of the text under a view that the view's range ``[a, b)`` came from: whole
    escapes, never half of one."""
    view_at, lengths, start_at, end_at = layer

    def segment(i: int) -> tuple[int, bool]:
        # The last segment starting at or before i produced it (dropped breaks produce none).
        k = bisect.bisect_right(view_at, i) - 1
        return k, end_at[k] - start_at[k] == lengths[k]

    k, literal = segment(a)
    start = start_at[k] + (a - view_at[k]) if literal else start_at[k]
    k, literal = segment(b - 1)
    end = start_at[k] + (b - view_at[k]) if literal else end_at[k]
    return start, end


def _merge(spans: list[Span]) -> list[Span]:
    """Overlapping or touching spans as one (the first one's replacement)."""
    out: list[Span] = []
    for a, b, r in sorted(spans):
        if out and a <= out[-1][1]:
            pa, pb, pr = out[-1]
            out[-1] = (pa, max(pb, b), pr if pr == r else PLACEHOLDER)
        else:
            out.append((a, b, r))
    return out


def _apply(text: str, spans: list[Span]) -> str:
    pieces, pos = [], 0
    for a, b, r in spans:
        pieces += [text[pos:a], r]
        pos = b
    pieces.append(text[pos:])
    return "".join(pieces)


def _walk(value: Any, path: tuple[Any, ...], visit: Callable[[tuple[Any, ...], str], str]) -> Any:
    """``value`` with each string (not keys) replaced by ``visit(path, string)``."""
    if isinstance(value, str):
        return visit(path, value)
    if isinstance(value, list):
        return [_walk(v, (*path, i), visit) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _walk(v, (*path, k), visit) for k, v in value.items()}
    return value


def _distinctive(piece: str) -> bool:
    """A piece of a key that ordinary text would not contain by chance.

    It has more than 4 distinct characters and mixes lower case, upper case and digits
    (two of them at least): runs like ``-00000``, plain numbers and words like ``secret``
    are left alone, as replacing them would cut into answers. Nearly every piece of a
    random key (``AIza`` + 35 characters) mixes them.
    """
    kinds = sum(any(test(c) for c in piece) for test in (str.islower, str.isupper, str.isdigit))
    return len(set(piece)) > 4 and kinds >= 2


def credentials_in(headers: Mapping[str, str], query: Mapping[str, str]) -> list[str]:
    """The credential values a request carries (API key header or query, bearer token)."""
    found = []
    for name, value in headers.items():
        if name.lower() in CREDENTIAL_HEADERS and value:
            scheme, _, token = value.partition(" ")
            found.append(token.strip() if token and scheme.isalpha() else value.strip())
    found += [v for k, v in query.items() if k.lower() in CREDENTIAL_QUERY and v]
    return found


def _base64_cores(secret: bytes) -> list[str]:
    """The base64 text the secret turns into wherever it sits in a larger payload.

    Only the characters fixed by the secret's own bytes are kept: the first group mixes
    in the bytes before it (unless aligned) and the last the bytes after it.
    """
    cores = []
    for shift in range(3):
        a = base64.b64encode(bytes(shift) + secret + b"\x00\x00").decode()
        b = base64.b64encode(b"\xff" * shift + secret + b"\xff\xff").decode()
        start = 4 if shift else 0
        end = next(
            (i for i, (x, y) in enumerate(zip(a, b, strict=True)) if i >= start and x != y), len(a)
        )
        core = a[start:end]
        if len(core) >= 8:
            cores += [core, core.replace("+", "-").replace("/", "_")]
    return cores


class Redactor:
    """Replaces secrets in strings, bytes and JSON values; learns credentials as it goes."""

    def __init__(self, redact: Sequence[str] | Mapping[str, str] = (), *, from_env: bool = True):
        pairs = (
            redact.items() if isinstance(redact, Mapping) else ((v, PLACEHOLDER) for v in redact)
        )
        self._user = {str(k): str(v) for k, v in pairs if k}
        self._credentials: set[str] = set()
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None
        self._replacement: dict[str, str] = {}
        if from_env:
            self.add_credentials(os.environ.get(name, "") for name in _CREDENTIAL_ENV)
        self._rebuild()

    @property
    def credentials(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._credentials)

    def add_credentials(self, values: Iterable[str]) -> None:
        """Treat these values as credentials from now on (empty ones are ignored)."""
        new = {v for v in values if len(v) >= _MIN_CREDENTIAL and v != PLACEHOLDER}
        new -= self._credentials
        if new:
            with self._lock:
                self._credentials |= new
            self._rebuild()

    def _rebuild(self) -> None:
        table: dict[str, str] = {}
        fragments: set[str] = set()
        with self._lock:
            credentials = sorted(self._credentials)
        for secret in credentials:
            raw = secret.encode()
            forms = {secret, quote(secret, safe=""), quote(secret, safe="/")}
            forms.update((raw.hex(), raw.hex().upper(), raw[-_FRAGMENT:].hex()))
            forms.update(_base64_cores(raw))
            table.update(dict.fromkeys(forms, PLACEHOLDER))
            if len(secret) >= _MIN_FRAGMENTED:
                fragments.update(
                    piece
                    for i in range(len(secret) - _FRAGMENT + 1)
                    if _distinctive(piece := secret[i : i + _FRAGMENT])
                )
                fragments.add(secret[-_FRAGMENT:])  # the tail, always (keys are shown by it)
        for value, replacement in self._user.items():
            table.setdefault(value, replacement)
            table.setdefault(quote(value, safe=""), replacement)
        # Longest first: a whole key is replaced as one, its pieces only where it is cut.
        literals = sorted(table, key=len, reverse=True) + sorted(fragments - set(table))
        pattern = re.compile("|".join(map(re.escape, literals))) if literals else None
        with self._lock:
            self._replacement = table
            self._pattern = pattern

    def spans(self, value: str, *, decoded: bool = True) -> list[Span]:
        """Where secrets sit in ``value`` (also in its decoded views), with replacements."""
        pattern, table = self._pattern, self._replacement
        if pattern is None:
            return []
        found = [
            (m.start(), m.end(), table.get(m.group(0), PLACEHOLDER))
            for m in pattern.finditer(value)
        ]
        view, layers = value, list[Layer]()
        while decoded and len(layers) < _MAX_LAYERS and _ESCAPE.search(view):
            view, layer = _decode(view)
            layers.append(layer)
            for m in pattern.finditer(view):
                a, b = m.start(), m.end()
                for under in reversed(layers):
                    a, b = _back(under, a, b)
                found.append((a, b, table.get(m.group(0), PLACEHOLDER)))
        return _merge(found)

    def text(self, value: str, *, decoded: bool = True) -> str:
        """``value`` with every secret replaced (``decoded=False``: literal forms only)."""
        return _apply(value, self.spans(value, decoded=decoded))

    def data(self, value: bytes) -> bytes:
        """Bytes with every (ASCII) secret replaced; other bytes are kept as they are."""
        return self.text(value.decode("latin-1")).encode("latin-1")

    def json(self, value: Any) -> Any:
        """A JSON value with secrets replaced in every string, keys included."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.json(v) for v in value]
        if isinstance(value, dict):
            return {self.text(k): self.json(v) for k, v in value.items()}
        return value

    def json_stream(self, values: Sequence[Any]) -> list[Any]:
        """JSON values in the order they arrived (stream events), secrets replaced also where
        one is cut across values: strings at the same place (list positions aside, as
        ``parts[0].text`` then ``parts[1].text``) are searched joined, in order."""
        groups: dict[tuple[Any, ...], list[tuple[int, tuple[Any, ...], str]]] = {}
        for i, value in enumerate(values):

            def collect(path: tuple[Any, ...], text: str, i: int = i) -> str:
                place = tuple(p for p in path if isinstance(p, str))
                groups.setdefault(place, []).append((i, path, text))
                return text

            _walk(value, (), collect)
        edits: dict[tuple[int, tuple[Any, ...]], str] = {}
        for group in groups.values():
            if len(group) < 2:
                continue  # a lone string is redacted by `json` below
            joined = "".join(text for _, _, text in group)
            spans = self.spans(joined)
            offset = 0
            for i, path, text in group:
                end = offset + len(text)
                local = [
                    (max(a, offset) - offset, min(b, end) - offset, r)
                    for a, b, r in spans
                    if a < end and b > offset
                ]
                if local:
                    edits[(i, path)] = _apply(text, local)
                offset = end
        out = []
        for i, value in enumerate(values):

            def edit(path: tuple[Any, ...], text: str, i: int = i) -> str:
                return edits.get((i, path), text)

            out.append(self.json(_walk(value, (), edit) if edits else value))
        return out


__all__ = ["CREDENTIAL_HEADERS", "CREDENTIAL_QUERY", "PLACEHOLDER", "Redactor", "credentials_in"]
