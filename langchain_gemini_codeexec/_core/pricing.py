"""What a Gemini answer cost: a plain-JSON record priced by the `genai-prices` price table.

No price is written here: every rate comes from `genai-prices` (the table pydantic-ai
uses), read from its bundled data (no network) unless the user starts its opt-in refresh
(`genai_prices.UpdatePrices`). The library is imported on the first priced answer.

The record (`response_metadata["cost"]`, docs/cost.md)::

    {"currency": "USD", "total": 0.000302, "rate": "standard" | "batch",
     "parts": {"input", "cached_input", "tool_use_input", "output", "thoughts"},
     "model": "gemini-2.5-flash", "prices": "genai-prices 0.2.5 (bundled)"}

An answer that cannot be priced (unknown model, no usage) has `"total": None` and a
`"reason"`, never a guessed number.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .._mapping.from_gemini import usage_count

if TYPE_CHECKING:
    from genai_prices.types import ModelPrice

PROVIDER_ID = "google"  # genai-prices' provider for both the Developer API and Vertex AI
CURRENCY = "USD"  # genai-prices' prices are all in US dollars
PARTS = ("input", "cached_input", "tool_use_input", "output", "thoughts")
BATCH_CONTEXT = {"processing": "batch"}  # genai-prices' price variant for the Batch API

_DETAILS = (
    "promptTokensDetails",
    "cacheTokensDetails",
    "candidatesTokensDetails",
    "toolUsePromptTokensDetails",
)
_UNIT = 1_000_000  # tokens per rate probe (prices are per million tokens)

# Per-token rates of each part, by the flat (tier-resolved) price they come from.
_rates: dict[tuple[Any, ...], dict[str, Decimal]] = {}
_rates_lock = threading.Lock()


def price_data_version() -> str:
    """Which price data the records use: the library's version, and a refresh if any."""
    import genai_prices
    from genai_prices import data_snapshot

    snapshot = data_snapshot.get_snapshot()
    if snapshot.from_auto_update:
        return f"genai-prices {genai_prices.__version__} (updated {snapshot.timestamp.isoformat()})"
    return f"genai-prices {genai_prices.__version__} (bundled)"


def _no_price(model: str, reason: str) -> dict[str, Any]:
    return {
        "currency": CURRENCY,
        "total": None,
        "model": model,
        "reason": reason,
        "prices": price_data_version(),
    }


def _model_ref(model: Any) -> str:
    if not isinstance(model, str):
        return ""  # an answer naming no model (or a malformed one) is not priced
    return model.rsplit("/", 1)[-1]  # "models/gemini-2.5-flash", "publishers/google/models/..."


def _flat_price(model_price: ModelPrice, total_input: int) -> dict[str, Any]:
    """The model's prices at this request's tier (genai-prices' rule: a tier applies to
    every token once the input passes its start)."""
    from genai_prices.types import TieredPrices

    flat: dict[str, Any] = {}
    for key, value in model_price.__dict__.items():
        if key.startswith("_") or value is None:
            continue
        if isinstance(value, TieredPrices):
            chosen = value.base
            for tier in reversed(value.tiers):
                if total_input > tier.start:
                    chosen = tier.price
                    break
            value = chosen
        flat[key] = value
    return flat


def _slices(meta: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The usageMetadata of each part but `input` (the rest of the prompt)."""
    cached = usage_count(meta.get("cachedContentTokenCount"))
    slices: dict[str, dict[str, Any]] = {
        "cached_input": {"promptTokenCount": cached, "cachedContentTokenCount": cached},
        "tool_use_input": {
            "toolUsePromptTokenCount": usage_count(meta.get("toolUsePromptTokenCount"))
        },
        "output": {"candidatesTokenCount": usage_count(meta.get("candidatesTokenCount"))},
        "thoughts": {"thoughtsTokenCount": usage_count(meta.get("thoughtsTokenCount"))},
    }
    if meta.get("cacheTokensDetails"):
        slices["cached_input"]["cacheTokensDetails"] = meta["cacheTokensDetails"]
        slices["cached_input"]["promptTokensDetails"] = meta["cacheTokensDetails"]
    if meta.get("toolUsePromptTokensDetails"):
        slices["tool_use_input"]["toolUsePromptTokensDetails"] = meta["toolUsePromptTokensDetails"]
    if meta.get("candidatesTokensDetails"):
        slices["output"]["candidatesTokensDetails"] = meta["candidatesTokensDetails"]
    return slices


def _calc(flat: dict[str, Any], meta: dict[str, Any]) -> Decimal:
    """genai-prices' price of a usageMetadata at flat (tier-resolved) prices."""
    import genai_prices
    from genai_prices.types import ModelPrice

    usage = genai_prices.extract_usage({"usageMetadata": meta}, provider_id=PROVIDER_ID).usage
    return ModelPrice(**flat).calc_price(usage)["total_price"]


def _text_only(meta: dict[str, Any]) -> bool:
    """True when no token is of another modality than text (the fast path)."""
    for name in _DETAILS:
        entries = meta.get(name)
        if entries is None:
            continue
        if not isinstance(entries, list):
            return False  # malformed: genai-prices' whole calculation decides
        for entry in entries:
            other = isinstance(entry, dict) and entry.get("modality") not in (None, "TEXT")
            if other and usage_count(entry.get("tokenCount")):
                return False
    return True


def _part_rates(flat: dict[str, Any]) -> dict[str, Decimal]:
    """Per-token rate of each part, from genai-prices on a million tokens of it."""
    key = tuple(sorted(flat.items()))
    rates = _rates.get(key)
    if rates is None:
        probes = {
            "input": {"promptTokenCount": _UNIT},
            "cached_input": {"promptTokenCount": _UNIT, "cachedContentTokenCount": _UNIT},
            "tool_use_input": {"toolUsePromptTokenCount": _UNIT},
            "output": {"candidatesTokenCount": _UNIT},
            "thoughts": {"thoughtsTokenCount": _UNIT},
        }
        rates = {part: _calc(flat, probe) / _UNIT for part, probe in probes.items()}
        with _rates_lock:
            _rates[key] = rates
    return rates


class _Priced:
    """What pricing one model at one rate on one day needs, resolved once."""

    __slots__ = ("flat", "info_id", "note", "rates", "time_dependent", "version")

    def __init__(
        self, info_id: str, flat: dict[str, Any], version: str, note: str | None, timed: bool
    ) -> None:
        self.info_id = info_id
        self.flat = flat
        self.version = version
        self.note = note
        self.time_dependent = timed
        self.rates = _part_rates(flat) if not any("_text_" in key for key in flat) else None


class _Tiers:
    """The tier starts of a model's prices (which tier a request falls in)."""

    __slots__ = ("starts",)

    def __init__(self, starts: list[int]) -> None:
        self.starts = starts


# Memo: (snapshot, model, rate, day) -> _Tiers or why unpriced; + (tier,) -> _Priced.
_resolved: dict[tuple[Any, ...], _Priced | _Tiers | str] = {}


def _resolve(ref: str, batch: bool, when: datetime, total_input: int) -> _Priced | str:
    """The model's prices at this request's rate and tier, or why there are none."""
    from genai_prices import data_snapshot
    from genai_prices.types import TieredPrices, TimeOfDateConstraint

    snapshot = data_snapshot.get_snapshot()
    day_key = (id(snapshot), ref, batch, when.date())
    tiers = _resolved.get(day_key)
    if isinstance(tiers, str):
        return tiers
    if isinstance(tiers, _Tiers):
        tier = 0
        for start in tiers.starts:
            tier += total_input > start
        priced = _resolved.get((*day_key, tier))
        if isinstance(priced, _Priced) and not priced.time_dependent:
            return priced
    version = price_data_version()
    try:
        _, info = snapshot.find_provider_model(ref, None, PROVIDER_ID, None)
    except LookupError:
        reason = f"{version} has no price for model {ref!r}"
        _resolved[day_key] = reason
        return reason
    model_price = info.get_prices(when, BATCH_CONTEXT if batch else None)
    note = None
    if batch and model_price == info.get_prices(when):
        note = f"{version} has no Batch API price for {info.id}: priced at the standard rate"
    tiered = [v for v in model_price.__dict__.values() if isinstance(v, TieredPrices)]
    starts = sorted({tier.start for value in tiered for tier in value.tiers})
    constraints = [c.constraint for c in (info.prices if isinstance(info.prices, list) else ())]
    constraints += [v.constraint for v in info.price_variants or ()]
    timed = any(isinstance(c, TimeOfDateConstraint) for c in constraints)
    tier = sum(1 for start in starts if total_input > start)
    priced = _Priced(info.id, _flat_price(model_price, total_input), version, note, timed)
    _resolved[day_key] = _Tiers(starts)
    tier_key = (*day_key, tier)
    _resolved[tier_key] = priced
    return priced


def price(
    meta: dict[str, Any] | None,
    model: str,
    *,
    batch: bool = False,
    when: datetime | None = None,
) -> dict[str, Any]:
    """The cost record of one answer: Gemini's `usageMetadata` priced for `model`.

    `batch`: priced at the Batch API's rate. `when`: the request's time (prices change
    over time; default now).
    """
    ref = _model_ref(model)
    if not isinstance(meta, dict):
        return _no_price(ref, "Gemini reported no usage for this answer")
    if not ref:
        return _no_price(ref, f"the answer names no model to price ({model!r:.80})")
    when = when or datetime.now(tz=timezone.utc)
    counts = {}
    for part, key in _COUNT_KEYS:
        value = meta.get(key, 0)
        counts[part] = value if type(value) is int else usage_count(value)
    cached = counts["cached_input"]
    counts["input"] -= cached  # promptTokenCount includes the cached tokens
    total_input = counts["input"] + cached + counts["tool_use_input"]
    priced = _resolve(ref, batch, when, total_input)
    if isinstance(priced, str):
        return _no_price(ref, priced)
    try:
        rates = priced.rates
        if rates is not None and counts["input"] >= 0 and _text_only(meta):
            parts = {part: rates[part] * counts[part] for part in PARTS}
            saved = (rates["input"] - rates["cached_input"]) * cached
        else:
            parts = _parts(meta, priced.flat, ref, when, batch)
            saved = _uncached(meta, priced.flat) - parts["cached_input"] if cached else Decimal(0)
    except Exception as exc:  # usage genai-prices refuses (e.g. more cached than prompt)
        return _no_price(priced.info_id, f"genai-prices cannot price this usage: {exc}")
    record: dict[str, Any] = {
        "currency": CURRENCY,
        "total": float(sum(parts.values(), Decimal(0))),
        "parts": {part: float(value) for part, value in parts.items()},
        "saved_by_cache": float(saved),
        "model": priced.info_id,
        "rate": "batch" if batch else "standard",
        "prices": priced.version,
    }
    if priced.note:
        record["note"] = priced.note
    return record


_COUNT_KEYS = (
    ("input", "promptTokenCount"),
    ("cached_input", "cachedContentTokenCount"),
    ("tool_use_input", "toolUsePromptTokenCount"),
    ("output", "candidatesTokenCount"),
    ("thoughts", "thoughtsTokenCount"),
)


def _uncached(meta: dict[str, Any], flat: dict[str, Any]) -> Decimal:
    """What the cached tokens would have cost as ordinary input."""
    piece: dict[str, Any] = {"promptTokenCount": usage_count(meta.get("cachedContentTokenCount"))}
    if meta.get("cacheTokensDetails"):
        piece["promptTokensDetails"] = meta["cacheTokensDetails"]
    return _calc(flat, piece)


def storage_price(model: str) -> tuple[float | None, str]:
    """(USD per million cached tokens per hour, or None; a sentence saying which)."""
    from genai_prices import data_snapshot

    version = price_data_version()
    ref = _model_ref(model)
    try:
        _, info = data_snapshot.get_snapshot().find_provider_model(ref, None, PROVIDER_ID, None)
    except LookupError:
        return None, f"{version} has no price for model {ref!r}"
    prices = info.get_prices(datetime.now(tz=timezone.utc))
    for key, value in prices.__dict__.items():
        if "storage" in key and "hour" in key and value is not None:
            return float(value), f"cache storage: ${value} per million tokens per hour"
    return None, (
        f"cache storage: {version} has no storage price for {info.id} (Gemini bills "
        "cached tokens per hour of storage; see Google's pricing page)"
    )


def _parts(
    meta: dict[str, Any],
    flat: dict[str, Any],
    ref: str,
    when: datetime,
    batch: bool,
) -> dict[str, Decimal]:
    """The slow path: other modalities (audio, images, ...) have their own rates, or the
    counts do not add up; genai-prices prices the whole usage (and refuses bad counts)."""
    # Each part is its slice of the usage; the prompt's rest is the input part.
    import genai_prices

    usage = genai_prices.extract_usage({"usageMetadata": meta}, provider_id=PROVIDER_ID).usage
    total = genai_prices.calc_price(
        usage,
        ref,
        provider_id=PROVIDER_ID,
        genai_request_timestamp=when,
        price_context=BATCH_CONTEXT if batch else None,
    ).total_price
    parts = {part: _calc(flat, piece) for part, piece in _slices(meta).items()}
    return {"input": total - sum(parts.values(), Decimal(0)), **parts}
