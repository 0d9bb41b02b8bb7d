"""Generation and call options: one definition, one resolver, one mapping to the wire.

Every option a user can set on the model (`ChatGeminiCodeExecution(temperature=...)`) or
per call (`invoke(..., temperature=...)`, `.bind(...)`, `.bind_tools(...)`) is a field of
`GenerationOptions` below, declared once with its validation, its aliases and (in its
`Wire` annotation) where and under which name it goes in the request body. The chat model
inherits these fields; `resolve` merges the model's values with a call's keyword
arguments (the call wins) and validates the call's values with the same rules, so the
request, `bind`, `bind_tools`, LangSmith's tracing params, batch and cache requests all
see the same resolved options. `wire_fields` turns resolved options into the body's
`generationConfig` and top-level fields.

Adding an option is one line: a field with a `Wire` annotation.
"""

from __future__ import annotations

import operator
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from langchain_gemini_codeexec._core import checks as _checks
from langchain_gemini_codeexec._core import foreign_names as _foreign_names
from langchain_gemini_codeexec.errors import InvalidMessageError

DEFAULT_MODEL = "gemini-2.5-flash"

# Keys LangChain itself passes down to `_generate`; not ours to judge.
LANGCHAIN_KWARGS = frozenset({"ls_structured_output_format", "stream_usage"})


GENERATION = "generationConfig"
THINKING = "thinkingConfig"  # nested in generationConfig
BODY = "body"  # a top-level field of the request body


@dataclass(frozen=True)
class Wire:
    """Where an option goes in the request: `section` ("generationConfig",
    "thinkingConfig" or "body") under `name`, its value passed through `encode`."""

    section: str
    name: str
    encode: Callable[[Any], Any] | None = None


def _enum_name(value: Any) -> str:
    """An SDK enum (`HarmCategory.X`, str() of which is not "X") or a plain name."""
    return str(getattr(value, "value", value))


def encode_safety_settings(value: Any) -> list[dict[str, str]]:
    """`[{"category", "threshold"}]` from that list or from `{category: threshold}`."""
    if isinstance(value, dict):
        return [{"category": _enum_name(k), "threshold": _enum_name(v)} for k, v in value.items()]
    if not isinstance(value, list):
        raise ValueError(
            "safety_settings: pass [{'category': ..., 'threshold': ...}] or "
            f"{{category: threshold}}, got {type(value).__name__}"
        )
    settings = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or "category" not in item or "threshold" not in item:
            raise ValueError(
                f"safety_settings[{i}]: needs 'category' and 'threshold', got {item!r}"
            )
        category, threshold = _enum_name(item["category"]), _enum_name(item["threshold"])
        settings.append({"category": category, "threshold": threshold})
    return settings


def _upper(value: str) -> str:
    return value.upper()  # the API's enum name (what the SDK sends for "low")


def _nonempty(value: Any) -> Any:
    return value or None  # `stop=[]` sends no stopSequences


def _modalities(value: list[Any]) -> list[str]:
    return [_enum_name(m).upper() for m in value]  # "text", Modality.TEXT -> "TEXT"


def _media_resolution(value: Any) -> str:
    name = _enum_name(value).upper()  # "low", MediaResolution.MEDIA_RESOLUTION_LOW
    return name if name.startswith("MEDIA_RESOLUTION_") else f"MEDIA_RESOLUTION_{name}"


def _camel_keys(value: dict[str, Any]) -> dict[str, Any]:
    """`{"aspect_ratio": "16:9"}` -> `{"aspectRatio": "16:9"}` (camelCase passes through)."""

    def camel(key: str) -> str:
        head, *rest = key.split("_")
        return head + "".join(word.title() for word in rest)

    return {camel(k): v for k, v in value.items()}


class GenerationOptions(BaseModel):
    """The options shared by the constructor and each call (see the module docstring)."""

    model: str = Field(default=DEFAULT_MODEL, min_length=1, description="a non-empty model name")
    """Gemini model name, e.g. `gemini-2.5-flash` or `gemini-3-flash-preview`."""
    code_execution: bool = True
    """Send the code execution tool. `False` sends none (a plain Gemini chat model)."""
    allow_mixed_tools: bool = False
    """Send built-in and function tools together even to a Gemini 1.x/2.x model."""

    temperature: Annotated[float | None, Wire(GENERATION, "temperature")] = Field(
        default=None, ge=0.0, le=2.0
    )
    max_output_tokens: Annotated[int | None, Wire(GENERATION, "maxOutputTokens")] = Field(
        default=None, gt=0, validation_alias=AliasChoices("max_output_tokens", "max_tokens")
    )
    """Cap on the answer's tokens; `max_tokens` (LangChain's name) is the same option."""
    top_p: Annotated[float | None, Wire(GENERATION, "topP")] = Field(default=None, ge=0, le=1)
    top_k: Annotated[int | None, Wire(GENERATION, "topK")] = Field(default=None, gt=0)
    stop: Annotated[list[str] | None, Wire(GENERATION, "stopSequences", _nonempty)] = Field(
        default=None, validation_alias=AliasChoices("stop", "stop_sequences")
    )
    seed: Annotated[int | None, Wire(GENERATION, "seed")] = None
    response_mime_type: Annotated[str | None, Wire(GENERATION, "responseMimeType")] = None
    """`application/json` for JSON answers, `text/x.enum` with a schema of an enum."""
    response_json_schema: Annotated[
        dict[str, Any] | None, Wire(GENERATION, "responseJsonSchema")
    ] = Field(
        default=None, validation_alias=AliasChoices("response_json_schema", "response_schema")
    )
    """A JSON schema the answer follows (with `response_mime_type="application/json"`)."""
    presence_penalty: Annotated[float | None, Wire(GENERATION, "presencePenalty")] = Field(
        default=None, allow_inf_nan=False
    )
    frequency_penalty: Annotated[float | None, Wire(GENERATION, "frequencyPenalty")] = Field(
        default=None, allow_inf_nan=False
    )
    candidate_count: Annotated[int | None, Wire(GENERATION, "candidateCount")] = Field(
        default=None, validation_alias=AliasChoices("candidate_count", "n")
    )
    """Answers per call: 1 (one message per call); `n` is the same option."""
    response_modalities: Annotated[
        list[Any] | None, Wire(GENERATION, "responseModalities", _modalities)
    ] = None
    """`["TEXT"]`, `["TEXT", "IMAGE"]`, ... (strings or google-genai `Modality`)."""
    media_resolution: Annotated[Any, Wire(GENERATION, "mediaResolution", _media_resolution)] = None
    """`"low"`, `"medium"`, `"high"` (or `MEDIA_RESOLUTION_*`, or the SDK enum)."""
    image_config: Annotated[dict[str, Any] | None, Wire(GENERATION, "imageConfig", _camel_keys)] = (
        None
    )
    """Image output settings, e.g. `{"aspect_ratio": "16:9"}` (image models)."""
    thinking_budget: Annotated[int | None, Wire(THINKING, "thinkingBudget")] = Field(
        default=None, ge=-1
    )
    """Thinking tokens budget (`0` off, `-1` dynamic); Gemini 2.5 models."""
    thinking_level: Annotated[
        Literal["minimal", "low", "medium", "high"] | None, Wire(THINKING, "thinkingLevel", _upper)
    ] = Field(default=None, validation_alias=AliasChoices("thinking_level", "reasoning_effort"))
    """Thinking level; Gemini 3 models (`reasoning_effort` is the same option)."""
    include_thoughts: Annotated[bool | None, Wire(THINKING, "includeThoughts")] = None
    """Return thought summaries as `reasoning` blocks."""
    safety_settings: Annotated[Any, Wire(BODY, "safetySettings", encode_safety_settings)] = None
    """`[{"category": ..., "threshold": ...}]`, or `{category: threshold}`."""
    cached_content: Annotated[str | None, Wire(BODY, "cachedContent")] = None
    """A `cachedContents/...` name whose content prefixes the request."""
    labels: Annotated[dict[str, str] | None, Wire(BODY, "labels")] = None
    """Billing labels (Vertex AI)."""
    generation_config: dict[str, Any] | None = None
    """Raw `generationConfig` fields (camelCase), merged over the ones above."""

    @model_validator(mode="before")
    @classmethod
    def _our_names(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = _foreign_names.translate_options(data, cls.__name__)
        if "max_tokens" in data:
            # LangChain's name and Gemini's name for one option: if both are given, the
            # LangChain name (what `max_tokens=` per call means everywhere) wins, and
            # errors name the option by Gemini's name either way.
            data["max_output_tokens"] = data.pop("max_tokens")
        return data

    @field_validator("candidate_count")
    @classmethod
    def _one_candidate(cls, value: int | None) -> int | None:
        if value is not None and value != 1:
            raise ValueError(
                f"candidate_count: {value} answers per call are not supported (each call "
                "returns one message); for several answers call llm.batch([prompt] * n)"
            )
        return value

    @field_validator("model")
    @classmethod
    def _check_model(cls, model: str) -> str:
        # A model name becomes part of the URL path: it must not leave the models path.
        return _checks.check_model(model)

    @field_validator(
        "temperature",
        "max_output_tokens",
        "top_p",
        "top_k",
        "seed",
        "thinking_budget",
        "presence_penalty",
        "frequency_penalty",
        "candidate_count",
        mode="before",
    )
    @classmethod
    def _no_bool(cls, value: Any, info: ValidationInfo) -> Any:
        # `True` is an int to Python (and passes lax validation as 1 or 1.0).
        return _checks.reject_bool(str(info.field_name), value)

    @field_validator("stop", mode="before")
    @classmethod
    def _stop_list(cls, value: Any) -> list[str] | None:
        return _checks.stop_sequences(value)  # a string is one stop sequence (as ChatOpenAI)

    @field_validator("seed")
    @classmethod
    def _check_seed(cls, value: int | None) -> int | None:
        return _checks.check_seed(value)  # type: ignore[no-any-return]

    @field_validator("generation_config", "response_json_schema")
    @classmethod
    def _plain_json(cls, value: Any, info: ValidationInfo) -> Any:
        return _checks.check_json(str(info.field_name), value)

    @field_validator("media_resolution")
    @classmethod
    def _check_media_resolution(cls, value: Any) -> Any:
        if value is None:
            return None
        from google.genai import types  # only when the option is given

        known = {m.value for m in types.MediaResolution}
        name = _enum_name(value)
        if not isinstance(name, str) or _media_resolution(value) not in known:
            names = sorted(k.removeprefix("MEDIA_RESOLUTION_").lower() for k in known)
            raise ValueError(f"media_resolution: {value!r:.40} is not one of {names}")
        return value

    @field_validator("safety_settings")
    @classmethod
    def _check_safety(cls, value: Any) -> Any:
        if value is not None:
            encode_safety_settings(value)  # checked here, converted when the request is built
        return value


class CallOptions(GenerationOptions):
    """Resolved options of one call: the model's settings with the call's on top."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    tools: list[Any] | None = None
    """Function tools and built-ins, normalized by `bind_tools`."""
    tool_choice: Any = None

    @model_validator(mode="before")
    @classmethod
    def _response_format(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return _foreign_names.translate_response_format(data, "call option")
        return data


SHARED_FIELDS = tuple(GenerationOptions.model_fields)


def _aliases(fields: Mapping[str, Any]) -> set[str]:
    names = set()
    for field in fields.values():
        if isinstance(field.validation_alias, AliasChoices):
            names |= {c for c in field.validation_alias.choices if isinstance(c, str)}
    return names


_ALIASES = _aliases(CallOptions.model_fields)
# Names a call may use: ours, their aliases, and the foreign names translated first.
CALL_OPTION_NAMES = frozenset(CallOptions.model_fields) - {"stop"} | {"max_tokens"}
_ACCEPTED = CALL_OPTION_NAMES | _ALIASES | {"thinking_config", "response_format", "strict"}


def _wire_of(name: str) -> Wire | None:
    for meta in CallOptions.model_fields[name].metadata:
        if isinstance(meta, Wire):
            return meta
    return None


_WIRED = {name: wire for name in CallOptions.model_fields if (wire := _wire_of(name)) is not None}


def _bounds(name: str) -> str | None:
    """A field's numeric constraints in words ("between 0 and 2", "a positive integer")."""
    field = CallOptions.model_fields[name]
    found = {
        type(m).__name__: getattr(m, type(m).__name__.lower())
        for m in field.metadata
        if type(m).__name__ in ("Gt", "Ge", "Le")
    }
    integer = int in typing.get_args(field.annotation) or field.annotation is int
    if found.get("Gt") == 0 and integer:
        return "must be a positive integer"
    if "Ge" in found and "Le" in found:
        return f"must be between {found['Ge']:g} and {found['Le']:g}"
    if "Ge" in found:
        return f"must be {'an integer' if integer else 'a number'} >= {found['Ge']:g}"
    return None


def _literals(name: str) -> tuple[Any, ...]:
    for arg in typing.get_args(CallOptions.model_fields[name].annotation):
        if typing.get_origin(arg) is Literal:
            return typing.get_args(arg)
    return ()


def _describe(error: ValidationError) -> str:
    """`name: what is wrong, got value` for each problem, in the words of the field rules."""
    problems = []
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else "options"
        loc = ".".join(str(part) for part in item["loc"]) or name
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            problems.append(f"unknown call option {loc!r}")
            continue
        if item["type"] == "literal_error" and _literals(name):
            problems.append(f"{name}: {item.get('input')!r} is not one of {_literals(name)}")
            continue
        if message.startswith(name):  # our own validators name the option already
            problems.append(message)
            continue
        field = CallOptions.model_fields.get(name)
        rule = field and (_bounds(name) or (field.description and f"must be {field.description}"))
        problems.append(f"{loc}: {rule or message}, got {item.get('input')!r:.80}")
    return "; ".join(problems)


def resolve(
    defaults: GenerationOptions, kwargs: Mapping[str, Any], stop: list[str] | None = None
) -> CallOptions:
    """The options of one call: `defaults` (the model) overridden by `kwargs`.

    The call's values are validated by the same field definitions as the constructor's
    (strictly: no string for a number), so a bad value fails here, before any request,
    as an `InvalidMessageError` naming the option. `stop` (LangChain's separate
    argument) wins over the model's `stop` when it is non-empty.
    """
    given = {k: v for k, v in kwargs.items() if k not in LANGCHAIN_KWARGS}
    for name in given:
        if name in _foreign_names.MODEL_ONLY:
            raise InvalidMessageError(
                f"{name}: a setting of the model, not of one call; use "
                f"{_foreign_names.MODEL_ONLY[name]} (or llm.model_copy(update={{...}}))"
            )
        message = _foreign_names.refusal(name, "call option")
        if message:
            raise InvalidMessageError(message)
    unknown = set(given) - _ACCEPTED
    if unknown:
        raise InvalidMessageError(
            f"unknown call option(s) {sorted(unknown)}; supported: {sorted(CALL_OPTION_NAMES)}"
        )
    try:
        call = CallOptions.model_validate(given, strict=True)
    except ValidationError as error:
        raise InvalidMessageError(_describe(error)) from None
    try:
        stop = _checks.stop_sequences(stop)  # LangChain's own argument: checked here
    except ValueError as exc:
        raise InvalidMessageError(str(exc)) from None
    values = {name: getattr(defaults, name) for name in SHARED_FIELDS}
    values.update({name: getattr(call, name) for name in call.model_fields_set})
    if stop:
        values["stop"] = stop
    return CallOptions.model_construct(**values)


_settings = operator.attrgetter(*SHARED_FIELDS)


@dataclass(frozen=True)
class OwnOptions:
    """A model's resolved options for calls that pass none, and the settings they are of."""

    settings: tuple[Any, ...]
    options: CallOptions


def passes_none(kwargs: Mapping[str, Any], stop: list[str] | None) -> bool:
    """Whether a call's options are the model's own (LangChain's own keys aside)."""
    return stop is None and all(name in LANGCHAIN_KWARGS for name in kwargs)


def own_options(defaults: GenerationOptions, cached: OwnOptions | None) -> OwnOptions:
    """`defaults`' options, resolved once: `cached` while each setting is the same object.

    LangChain asks for a call's options twice (tracing params, then the request), and most
    calls pass none. Comparing by identity, not equality, so that any new value (even an
    equal one, `True` for `1`) resolves anew; a value changed in place is shared anyway.
    """
    settings = _settings(defaults)
    if cached is not None and all(map(operator.is_, settings, cached.settings)):
        return cached
    return OwnOptions(settings, resolve(defaults, {}))


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, (list, dict, str)) and not value)


def wire_fields(options: CallOptions) -> dict[str, Any]:
    """The request body's top-level option fields, `generationConfig` among them."""
    sections: dict[str, dict[str, Any]] = {GENERATION: {}, THINKING: {}, BODY: {}}
    for name, wire in _WIRED.items():
        value = getattr(options, name)
        if _empty(value):
            continue
        encoded = wire.encode(value) if wire.encode else value
        if not _empty(encoded):
            sections[wire.section][wire.name] = encoded
    generation = sections[GENERATION]
    if sections[THINKING]:
        generation[THINKING] = sections[THINKING]
    if options.generation_config:
        generation.update(options.generation_config)
    body = dict(sections[BODY])
    if generation:
        body[GENERATION] = generation
    return body
