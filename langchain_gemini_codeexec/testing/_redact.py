"""Keeping secrets out of cassettes: API keys, bearer tokens and values the user lists.

A credential is replaced wherever it appears, in the forms it can take on the way to a
file: as is, URL-encoded, inside base64 (at any of the three byte alignments, standard or
URL-safe alphabet), and any piece of 6 or more characters of it that ordinary text would
not have by chance (mixing case or digits: see `_distinctive`), plus its last 6 characters
always, so no recognisable head or tail survives. Values the user lists (a project id, an
e-mail) are replaced as whole strings only: a short ordinary word must not be cut out of
every answer. Credentials shorter than 8 characters (dummy test keys) are only kept out of
the headers and query, where they are never recorded.
"""

from __future__ import annotations

import base64
import os
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
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
            forms = {secret, quote(secret, safe=""), quote(secret, safe="/")}
            forms.update(_base64_cores(secret.encode()))
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

    def text(self, value: str) -> str:
        """``value`` with every secret replaced."""
        pattern, table = self._pattern, self._replacement
        if pattern is None:
            return value
        return pattern.sub(lambda m: table.get(m.group(0), PLACEHOLDER), value)

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


__all__ = ["CREDENTIAL_HEADERS", "CREDENTIAL_QUERY", "PLACEHOLDER", "Redactor", "credentials_in"]
