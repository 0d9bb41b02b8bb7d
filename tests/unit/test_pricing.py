"""The cost record (`_core.pricing`), checked against genai-prices' own calculation.

No price is typed here: every expected figure comes from genai-prices (its `calc_price`
on the whole usage, its `calc_unit_price` per token class at the request's tier).
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import genai_prices
import pytest
from genai_prices import data_snapshot
from genai_prices.types import calc_unit_price
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from langchain_gemini_codeexec._core import pricing

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BATCH = {"processing": "batch"}
# Models whose answers are text (code execution's), some with long-context tiers.
MODELS = [
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
    "gemini-2.5-pro",
    "gemini-3-flash-preview",
    "gemini-3-pro-preview",
    "gemini-3.1-pro-preview",
    "gemini-3.1-flash-lite",
]
# The genai-prices price key of each token class (cached input: its own rate if listed).
PRICE_KEYS = {
    "input": ("input_mtok",),
    "cached_input": ("cache_read_mtok", "input_mtok"),
    "tool_use_input": ("input_mtok",),
    "output": ("output_mtok",),
    "thoughts": ("output_mtok",),
}
FIELDS = {
    "cached_input": "cachedContentTokenCount",
    "tool_use_input": "toolUsePromptTokenCount",
    "output": "candidatesTokenCount",
    "thoughts": "thoughtsTokenCount",
}


def library_total(meta: dict[str, Any], model: str, batch: bool = False) -> Decimal:
    usage = genai_prices.extract_usage({"usageMetadata": meta}, provider_id="google").usage
    return genai_prices.calc_price(
        usage, model, provider_id="google", price_context=BATCH if batch else None
    ).total_price


def library_part(meta: dict[str, Any], model: str, part: str, batch: bool = False) -> Decimal:
    """genai-prices' price of one token class at the tier of the whole request."""
    _, info = data_snapshot.get_snapshot().find_provider_model(model, None, "google", None)
    prices = info.get_prices(datetime.now(tz=timezone.utc), BATCH if batch else None)
    key = next(k for k in PRICE_KEYS[part] if getattr(prices, k) is not None)
    cached = meta.get("cachedContentTokenCount", 0)
    counts = {
        "input": meta.get("promptTokenCount", 0) - cached,
        "cached_input": cached,
        "tool_use_input": meta.get("toolUsePromptTokenCount", 0),
        "output": meta.get("candidatesTokenCount", 0),
        "thoughts": meta.get("thoughtsTokenCount", 0),
    }
    total_input = meta.get("promptTokenCount", 0) + counts["tool_use_input"]
    return calc_unit_price(getattr(prices, key), counts[part], total_input, 1_000_000)


@st.composite
def usages(draw: st.DrawFn) -> dict[str, Any]:
    # Around the 200k tier start too, where Gemini's long-context price begins.
    prompt = draw(st.integers(0, 5000) | st.integers(195_000, 260_000))
    meta: dict[str, Any] = {"promptTokenCount": prompt}
    for name, top in (
        ("cachedContentTokenCount", prompt),
        ("toolUsePromptTokenCount", 20_000),
        ("candidatesTokenCount", 20_000),
        ("thoughtsTokenCount", 20_000),
    ):
        value = draw(st.integers(0, top))
        if value:
            meta[name] = value
    return meta


@PROPERTY
@given(usages(), st.sampled_from(MODELS), st.booleans())
def test_total_and_every_part_are_genai_prices_own(
    meta: dict[str, Any], model: str, batch: bool
) -> None:
    record = pricing.price(meta, model, batch=batch)
    assert record["total"] == float(library_total(meta, model, batch))
    for part in pricing.PARTS:
        assert record["parts"][part] == float(library_part(meta, model, part, batch)), part
    assert record["rate"] == ("batch" if batch else "standard")
    assert json.loads(json.dumps(record)) == record  # plain JSON


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("part", sorted(FIELDS))
def test_each_token_class_alone(model: str, part: str) -> None:
    count = 12_345
    meta = {FIELDS[part]: count}
    if part == "cached_input":
        meta["promptTokenCount"] = count  # cached tokens are a part of the prompt
    record = pricing.price(meta, model)
    assert record["parts"][part] == record["total"] == float(library_total(meta, model))
    assert record["total"] > 0
    assert all(v == 0 for k, v in record["parts"].items() if k != part)


@pytest.mark.parametrize("model", ["gemini-2.5-pro", "gemini-3.1-pro-preview"])
def test_long_context_tier_prices_the_whole_request_higher(model: str) -> None:
    short = {"promptTokenCount": 200_000, "candidatesTokenCount": 1000, "thoughtsTokenCount": 500}
    long = {**short, "promptTokenCount": 200_001}
    below, above = pricing.price(short, model), pricing.price(long, model)
    assert below["total"] == float(library_total(short, model))
    assert above["total"] == float(library_total(long, model))
    # Past the tier start every token costs more, output and thoughts included.
    for part in ("output", "thoughts"):
        assert above["parts"][part] > below["parts"][part]
        assert above["parts"][part] == float(library_part(long, model, part))
    # Tool-use tokens count towards the tier, as genai-prices counts them.
    tipped = {**short, "toolUsePromptTokenCount": 1}
    assert pricing.price(tipped, model)["parts"]["output"] == above["parts"]["output"]


def test_batch_rate_is_the_price_datas_batch_variant() -> None:
    meta = {"promptTokenCount": 4000, "candidatesTokenCount": 800, "toolUsePromptTokenCount": 90}
    standard = pricing.price(meta, "gemini-2.5-flash")
    batch = pricing.price(meta, "gemini-2.5-flash", batch=True)
    assert batch["total"] == float(library_total(meta, "gemini-2.5-flash", batch=True))
    assert batch["total"] < standard["total"]
    assert "note" not in batch


def test_batch_without_a_batch_price_says_so() -> None:
    meta = {"promptTokenCount": 4000, "candidatesTokenCount": 800}
    record = pricing.price(meta, "gemini-3-pro-preview", batch=True)
    assert record["total"] == float(library_total(meta, "gemini-3-pro-preview"))
    assert "no Batch API price" in record["note"]


def test_other_modalities_take_genai_prices_whole_calculation() -> None:
    meta = {
        "promptTokenCount": 3000,
        "promptTokensDetails": [
            {"modality": "TEXT", "tokenCount": 1000},
            {"modality": "AUDIO", "tokenCount": 2000},
        ],
        "cachedContentTokenCount": 500,
        "cacheTokensDetails": [{"modality": "AUDIO", "tokenCount": 500}],
        "candidatesTokenCount": 100,
        "thoughtsTokenCount": 40,
        "toolUsePromptTokenCount": 60,
    }
    record = pricing.price(meta, "gemini-2.5-flash")
    assert record["total"] == float(library_total(meta, "gemini-2.5-flash"))
    assert sum(record["parts"].values()) == pytest.approx(record["total"], rel=1e-12)
    # Audio costs more than text: the audio prompt is dearer than a text one of its size.
    text_only = {k: v for k, v in meta.items() if not k.endswith("Details")}
    assert record["total"] > pricing.price(text_only, "gemini-2.5-flash")["total"]
    cached = {"promptTokenCount": 500, "cachedContentTokenCount": 500}
    cached["cacheTokensDetails"] = meta["cacheTokensDetails"]
    cached["promptTokensDetails"] = meta["cacheTokensDetails"]
    assert record["parts"]["cached_input"] == float(library_total(cached, "gemini-2.5-flash"))


def test_caching_saving_is_the_uncached_price_minus_the_cached_one() -> None:
    meta = {"promptTokenCount": 10_000, "cachedContentTokenCount": 9000, "candidatesTokenCount": 5}
    record = pricing.price(meta, "gemini-2.5-flash")
    uncached = {"promptTokenCount": 10_000, "candidatesTokenCount": 5}
    saved = library_total(uncached, "gemini-2.5-flash") - library_total(meta, "gemini-2.5-flash")
    assert record["saved_by_cache"] == float(saved) > 0


def test_unknown_model_gets_no_number_and_the_reason() -> None:
    record = pricing.price({"promptTokenCount": 10}, "models/gemini-99-imaginary")
    assert record["total"] is None and "parts" not in record
    assert "gemini-99-imaginary" in record["reason"] and "no price" in record["reason"]
    assert record["prices"] == pricing.price_data_version()


def test_no_usage_and_impossible_usage_get_no_number() -> None:
    assert "no usage" in pricing.price(None, "gemini-2.5-flash")["reason"]
    bad = pricing.price({"promptTokenCount": 5, "cachedContentTokenCount": 9}, "gemini-2.5-flash")
    assert bad["total"] is None and "cannot price" in bad["reason"]


def test_counts_sent_as_strings_are_read() -> None:
    as_text = {"promptTokenCount": "1200", "candidatesTokenCount": "30"}
    as_ints = {"promptTokenCount": 1200, "candidatesTokenCount": 30}
    assert pricing.price(as_text, "gemini-2.5-flash") == pricing.price(as_ints, "gemini-2.5-flash")


def test_record_names_the_price_data() -> None:
    record = pricing.price({"promptTokenCount": 10}, "gemini-2.5-flash")
    assert record["prices"] == f"genai-prices {genai_prices.__version__} (bundled)"
    assert record["currency"] == "USD"


@pytest.fixture
def refreshed_prices() -> Iterator[data_snapshot.DataSnapshot]:
    """What `genai_prices.UpdatePrices` installs, built offline: the bundled providers with
    Gemini 2.5 Flash's input price doubled."""
    providers = copy.deepcopy(data_snapshot.get_snapshot().providers)
    google = next(p for p in providers if p.id == "google")
    model = next(m for m in google.models if m.id == "gemini-2.5-flash")
    prices = model.prices
    assert not isinstance(prices, list)
    prices.input_mtok = prices.input_mtok * 2
    snapshot = data_snapshot.DataSnapshot(providers=providers, from_auto_update=True)
    data_snapshot.set_custom_snapshot(snapshot)
    yield snapshot
    data_snapshot.set_custom_snapshot(None)


def test_refreshed_prices_are_used_and_named(
    refreshed_prices: data_snapshot.DataSnapshot,
) -> None:
    meta = {"promptTokenCount": 1000}
    record = pricing.price(meta, "gemini-2.5-flash")
    assert record["total"] == float(library_total(meta, "gemini-2.5-flash"))
    assert "(updated " in record["prices"]
    data_snapshot.set_custom_snapshot(None)
    assert pricing.price(meta, "gemini-2.5-flash")["total"] == record["total"] / 2


def test_cache_storage_price_says_when_the_data_has_none() -> None:
    per_hour, sentence = pricing.storage_price("gemini-2.5-flash")
    assert per_hour is None
    assert "no storage price" in sentence and genai_prices.__version__ in sentence


@pytest.mark.slow  # a fresh interpreter: ~2 s of imports
def test_no_import_of_genai_prices_before_the_first_priced_answer() -> None:
    code = (
        "import sys, langchain_gemini_codeexec\n"
        "from langchain_gemini_codeexec import ChatGeminiCodeExecution, cost\n"
        "from langchain_gemini_codeexec import report\n"
        "assert 'genai_prices' not in sys.modules, 'imported early'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=".")


@pytest.mark.parametrize(
    ("meta", "model"),
    [
        ({"promptTokenCount": 10}, True),
        ({"promptTokenCount": 10}, None),
        ({"promptTokenCount": 10, "promptTokensDetails": 5}, "gemini-2.5-flash"),
        ({"promptTokenCount": 10, "promptTokensDetails": [7]}, "gemini-2.5-flash"),
    ],
)
def test_malformed_answers_get_a_reason_not_an_exception(meta: dict[str, Any], model: Any) -> None:
    record = pricing.price(meta, model)
    assert record["total"] is None or record["total"] == float(library_total(meta, model))
    if record["total"] is None:
        assert record["reason"]
