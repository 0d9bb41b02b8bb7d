"""Checks a request payload against an SDK's request TypedDicts, strictly and eagerly.

pydantic validates `Iterable[...]` fields lazily (a generator, never consumed), which the
OpenAI and Anthropic SDKs use for every list in a request; this walks the value itself:
required keys present, no key the type does not declare, literals and unions matched.
"""

from __future__ import annotations

import collections.abc as abc
import types
import typing
from typing import Any

import typing_extensions

_WRAPPERS = {
    typing.Annotated,
    typing_extensions.Annotated,
    typing_extensions.Required,
    typing_extensions.NotRequired,
    typing_extensions.ReadOnly,
}
_SEQUENCES = {list, abc.Iterable, abc.Sequence, typing.Iterable, typing.Sequence, list}
_MAPPINGS = {dict, abc.Mapping, dict, typing.Mapping}


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) in _WRAPPERS:
        tp = typing.get_args(tp)[0]
    return tp


def _is_typeddict(tp: Any) -> bool:
    return typing_extensions.is_typeddict(tp)


def errors(value: Any, tp: Any, path: str = "$") -> list[str]:
    """What does not fit `tp` in `value` (empty when it fits)."""
    tp = _unwrap(tp)
    if tp is Any or tp is object:
        return []
    if isinstance(tp, typing.TypeVar):
        return []
    if tp is None or tp is type(None):
        return [] if value is None else [f"{path}: {value!r:.60} is not None"]
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [errors(value, arg, path) for arg in typing.get_args(tp)]
        if any(not found for found in options):
            return []
        best = min(options, key=len)
        return [f"{path}: matches no member of {tp}", *best[:3]]
    if origin in (typing.Literal, typing_extensions.Literal):
        ok = value in typing.get_args(tp)
        return [] if ok else [f"{path}: {value!r:.60} not in {typing.get_args(tp)}"]
    if _is_typeddict(tp):
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__} is not a {tp.__name__} object"]
        hints = typing_extensions.get_type_hints(tp, include_extras=True)
        found = [f"{path}: {tp.__name__} has no key {k!r}" for k in value if k not in hints]
        missing = [k for k in tp.__required_keys__ if k not in value]
        found += [f"{path}: {tp.__name__} needs {k!r}" for k in missing]
        for key, item in value.items():
            if key in hints:
                found += errors(item, hints[key], f"{path}.{key}")
        return found
    if origin in _SEQUENCES or tp in _SEQUENCES:
        if isinstance(value, (str, bytes, dict)) or not isinstance(value, (list, tuple)):
            return [f"{path}: {type(value).__name__} is not a list"]
        (item_tp,) = typing.get_args(tp) or (Any,)
        return [e for i, item in enumerate(value) for e in errors(item, item_tp, f"{path}[{i}]")]
    if origin in _MAPPINGS or tp in _MAPPINGS:
        return [] if isinstance(value, dict) else [f"{path}: {type(value).__name__} not a dict"]
    if tp is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return [] if ok else [f"{path}: {value!r:.60} is not a number"]
    if tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: {value!r:.60} is not an integer"]
    if isinstance(tp, type):
        ok = isinstance(value, tp)
        return [] if ok else [f"{path}: {type(value).__name__} is not {tp.__name__}"]
    if origin is not None and isinstance(origin, type):
        return [] if isinstance(value, origin) else [f"{path}: not a {origin.__name__}"]
    raise TypeError(f"{path}: cannot check against {tp!r}")


def check(value: Any, tp: Any) -> None:
    found = errors(value, tp)
    assert not found, "\n".join(found[:10])
