"""A responder that answers like a cooperative Gemini, for tests that need many turns.

:class:`ScriptedGemini` looks at each request (declared tools, ``toolConfig``, response
schema, the conversation) and answers plausibly: a ``functionCall`` with arguments valid for
the declared schema, a JSON object valid for ``responseJsonSchema``, a code run for simple
arithmetic when code execution is on, text otherwise. It also refuses requests the way
Gemini does (400 with Gemini's message) when a rule of the real API is broken, so a client
that sends something Gemini would reject fails offline too. It is a test double: answers
are deterministic and simple, never clever.
"""

from __future__ import annotations

import ast
import itertools
import json
import operator
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

from ._replies import (
    JSON,
    Reply,
    blocked,
    grounding_metadata,
    refused,
    response,
    stream_chunks,
    url_context_metadata,
    usage,
    web_source,
)
from ._rules import (
    GeminiRuleError,
    builtin_tools,
    call_signature,
    check_request,
    declarations_of,
    field,
    is_legacy_model,
    parts_of,
    starts_turn,
    user_text,
)
from ._tasks import Computation, compute
from ._wire import RecordedRequest, b64decode_any

_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w])")
_NAMED = re.compile(r"\b([A-Za-z_]\w*)\s*[=:]\s*\**(-?\d+(?:\.\d+)?)\b")
_QUOTED = re.compile(r"(?<!\w)'([^']+)'(?!\w)|\"([^\"]+)\"|“([^”]+)”|「([^」]+)」")
_PHRASE = re.compile(r"[A-Z][\w.'-]*(?:(?:,\s*|\s+)[A-Z][\w.'-]*)*")
_WORD = re.compile(r"[^\W_]+")
_ARITHMETIC = re.compile(
    r"[-+]?\(?\d+(?:\.\d+)?(?:\s*(?:\*\*|//|[-+*/%])\s*\(?[-+]?\d+(?:\.\d+)?\)?)+"
)
_GREETINGS = frozenset({"hello", "hi", "hey", "hola", "greetings"})
# Words that say nothing about which tool a prompt wants.
_STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        "a an and are as at be by can do does for from get give has have how i in is it me my "
        "of on or please run set should tell that the this to tool tools use using value what "
        "when which who why will with you your function",
    )
)
_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}



# --- values for a schema -------------------------------------------------------------------


class _Hints:
    """Values taken from the prompt, handed out in order to the fields that need them."""

    def __init__(self, prompt: str, context: str = "") -> None:
        self.prompt = prompt
        self.numbers = [float(n) for n in _NUMBER.findall(prompt)]
        # "mean=5.0" printed by a computation: the value for a field of that name.
        self.named = {k.lower(): float(v) for k, v in _NAMED.findall(f"{context} {prompt}")}
        self.quoted: list[str] = [next(g for g in m if g) for m in _QUOTED.findall(prompt)]
        self.phrases = [
            m.group(0).strip(" ,.")
            for m in _PHRASE.finditer(prompt)
            if m.start() > 0 and m.group(0).lower() not in _STOPWORDS
        ]
        self.strings = 0

    def number(self, schema: Mapping[str, Any], name: str = "") -> float:
        if name.lower() in self.named:
            value = self.named[name.lower()]
        else:
            value = self.numbers.pop(0) if self.numbers else 1.0
        for key, step in (("minimum", 0), ("exclusiveMinimum", 1)):
            low = schema.get(key)
            if isinstance(low, (int, float)) and (value < low or (step and value == low)):
                value = float(low + step)
        for key, step in (("maximum", 0), ("exclusiveMaximum", 1)):
            high = schema.get(key)
            if isinstance(high, (int, float)) and (value > high or (step and value == high)):
                value = float(high - step)
        return value

    def string(self, name: str, schema: Mapping[str, Any]) -> str:
        self.strings += 1
        if self.quoted:
            return self.quoted.pop(0)
        if self.phrases and self.strings == 1:
            return self.phrases.pop(0)
        described = schema.get("description") or schema.get("title") or name.replace("_", " ")
        topic = " ".join(_WORD.findall(self.prompt)[-4:])
        return (
            f"{str(described).strip().rstrip('.').capitalize()} ({topic})"
            if topic
            else str(described)
        )


def _resolve(schema: Any, root: Mapping[str, Any]) -> Any:
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    node: Any = root
    for key in ref[2:].split("/"):
        node = node.get(key, {}) if isinstance(node, dict) else {}
    return _resolve(node, root)


def example_value(
    schema: Any,
    root: Mapping[str, Any] | None = None,
    hints: _Hints | None = None,
    name: str = "value",
) -> Any:
    """A value valid for a JSON schema, filled from the prompt where it fits."""
    root = root if root is not None else (schema if isinstance(schema, dict) else {})
    hints = hints or _Hints("")
    schema = _resolve(schema, root)
    if not isinstance(schema, dict):
        return None
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        options = [o for o in schema.get(key) or () if _resolve(o, root).get("type") != "null"]
        if options:
            return example_value(options[0], root, hints, name)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    if kind == "object":
        properties = schema.get("properties") or {}
        return {key: example_value(sub, root, hints, key) for key, sub in properties.items()}
    if kind == "array":
        return [example_value(schema.get("items") or {"type": "string"}, root, hints, name)]
    if kind == "integer":
        return int(hints.number(schema, name))
    if kind == "number":
        return hints.number(schema, name)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return hints.string(name, schema)


# --- answers -------------------------------------------------------------------------------


def evaluate(expression: str) -> int | float | None:
    """The value of a plain arithmetic expression, or None (no names, no calls)."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        return None

    def value(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = value(node.operand)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = value(node.left), value(node.right)
            if isinstance(node.op, ast.Pow) and abs(right) > 64:
                raise ValueError("exponent too large")
            return _BINARY[type(node.op)](left, right)
        raise ValueError("not arithmetic")

    try:
        result = value(tree)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    return result if isinstance(result, (int, float)) else None


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)} - _STOPWORDS


def _pick_functions(prompt: str, declarations: list[JSON], forced: bool) -> list[JSON]:
    """The functions a prompt asks for: named ones (in parallel), else the best match."""
    named = [d for d in declarations if re.search(rf"\b{re.escape(str(d.get('name')))}\b", prompt)]
    if len(named) > 1:
        return named
    asked = _words(prompt)
    scored = sorted(
        declarations,
        key=lambda d: (
            -len(asked & (_words(str(d.get("name", ""))) | _words(str(d.get("description", "")))))
        ),
    )
    best = named or [
        d
        for d in scored[:1]
        if asked & (_words(str(d.get("name", ""))) | _words(str(d.get("description", ""))))
    ]
    wants_tool = bool(re.search(r"\b(use|using|call)\b.*\btools?\b", prompt, re.IGNORECASE))
    if best:
        return best
    if (forced or wants_tool) and declarations:
        return declarations[:1]
    return []


def _function_schema(declaration: Mapping[str, Any]) -> Any:
    return (
        field(declaration, "parametersJsonSchema")
        or field(declaration, "parameters")
        or {"type": "object", "properties": {}}
    )


def _responses_text(contents: list[Any]) -> str | None:
    """What the tools answered, when the conversation ends with function responses."""
    last = contents[-1] if contents else None
    if starts_turn(last):
        return None
    answers = []
    for part in parts_of(last):
        answer = field(part, "functionResponse")
        if isinstance(answer, dict):
            result = answer.get("response") or {}
            shown = (
                result.get("output", result.get("error", result))
                if isinstance(result, dict)
                else result
            )
            answers.append(
                shown if isinstance(shown, str) else json.dumps(shown, ensure_ascii=False)
            )
    return "; ".join(answers) if answers else None


class ScriptedGemini:
    """A :data:`Responder` for :class:`GeminiTestServer` that plays a plausible Gemini.

    Per request, in this order:

    - a request Gemini would refuse gets Gemini's 400 (``check=True``): built-in and
      function tools together on Gemini 1.x/2.x (or on Gemini 3 without
      ``toolConfig.includeServerSideToolInvocations``; that message is this responder's
      own wording, the others are Gemini's), a JSON response type with tools on
      Gemini 1.x/2.x, function responses that do not answer the previous calls one for one,
      ``toolCall`` parts sent back without their ``toolResponse``, and on Gemini 3 a function
      call of the current turn without its thought signature (or with one this responder
      gave to another call);
    - when function tools are declared and the mode is not ``NONE``: a ``functionCall`` if
      the mode is ``ANY`` (restricted to ``allowedFunctionNames``), or if the prompt names a
      function, shares a word with one's name or description, or asks to use a tool.
      Functions named together are called in parallel. Arguments are valid for the
      declared schema, taken from the prompt where it has them (numbers in order, quoted
      text, capitalized names). Gemini 3 calls get ids and a signature on the first call;
      Gemini 1.x/2.x calls get neither, as from the real API;
    - after function responses: a text (or JSON) answer that quotes what the tools said;
    - with ``responseJsonSchema`` (or ``responseSchema``): a JSON object valid for it; with
      only ``responseMimeType: application/json``: an object whose keys are the words the
      prompt quotes;
    - with code execution on and arithmetic in the prompt: an ``executableCode`` part that
      prints it, its ``codeExecutionResult`` (the real value), then the answer; or, for a
      task ``_tasks`` knows (the sum of the first N primes, the mean / sum / median of
      listed numbers, a mean or total per group of an attached CSV), the code a model
      would write, its output computed here, a chart when one is asked for, and an answer
      that states the values (a schema's fields of the same name get them too);
    - otherwise a greeting for a greeting, else a short echo of the prompt.

    With ``googleSearch`` or ``urlContext`` among the tools, the answer's last text is
    grounded (``groundingMetadata`` citing a search page and each URL of the prompt, and
    ``urlContextMetadata`` for those URLs).

    A prompt matching ``refuse`` (a regular expression) gets a candidate stopped for
    ``SAFETY`` with no parts, one matching ``block`` a blocked prompt (``promptFeedback``
    with ``blockReason: SAFETY``), as Gemini refuses.

    A function call already made ``max_repeats`` times (default 3) in the current turn with
    the same arguments is not made again: the answer is text instead, so an agent loop
    over this responder always ends. Stop sequences cut the text, and streaming requests
    get the answer in chunks (:func:`stream_chunks`). ``model_version`` defaults to the
    requested model.
    """

    def __init__(
        self,
        *,
        check: bool = True,
        model_version: str | None = None,
        max_repeats: int = 3,
        refuse: str | None = None,
        block: str | None = None,
    ) -> None:
        self.check = check
        self.model_version = model_version
        self.max_repeats = max_repeats
        self.refuse = re.compile(refuse) if refuse is not None else None
        self.block = re.compile(block) if block is not None else None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def _next(self) -> int:
        with self._lock:
            return next(self._ids)

    def __call__(self, request: RecordedRequest) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        if self.check:
            try:
                check_request(request.model, body)
            except GeminiRuleError as exc:
                return Reply.error(400, str(exc))
        answer = self.answer(request.model or "gemini", body)
        if request.stream:
            return Reply.stream(stream_chunks(answer))
        return Reply.json(answer)

    def answer(self, model: str, body: Mapping[str, Any]) -> JSON:
        """The whole GenerateContentResponse for a request body."""
        number = self._next()
        contents = [c for c in field(body, "contents") or () if isinstance(c, dict)]
        prompt = user_text(contents)
        if self.block is not None and self.block.search(prompt):
            return {**blocked("SAFETY"), "modelVersion": self.model_version or model}
        if self.refuse is not None and self.refuse.search(prompt):
            return refused(
                reason="SAFETY",
                model_version=self.model_version or model,
                response_id=f"scripted-{number}",
            )
        generation = field(body, "generationConfig") or {}
        parts = self._parts(model, body, contents, prompt, generation, number)
        finish = "STOP"
        stops = [s for s in field(generation, "stopSequences") or () if s]
        for part in parts:
            text = part.get("text")
            if isinstance(text, str) and stops:
                cut = min((text.find(s) for s in stops if s in text), default=-1)
                if cut >= 0:
                    part["text"] = text[:cut]
        limit = field(generation, "maxOutputTokens")
        out_tokens = sum(len(json.dumps(p)) for p in parts) // 4 + 1
        if (
            isinstance(limit, int)
            and out_tokens > limit
            and not any("functionCall" in p for p in parts)
        ):
            finish = "MAX_TOKENS"
        in_tokens = len(json.dumps(contents)) // 4 + 1
        tool_tokens = sum(len(json.dumps(p)) for p in parts if "codeExecutionResult" in p) // 4
        answer = response(
            *parts,
            finish_reason=finish,
            usage=usage(prompt=in_tokens, candidates=out_tokens, tool_use_prompt=tool_tokens),
            model_version=self.model_version or model,
            response_id=f"scripted-{number}",
        )
        _ground(answer, builtin_tools(body), prompt)
        return answer

    def _parts(
        self,
        model: str,
        body: Mapping[str, Any],
        contents: list[JSON],
        prompt: str,
        generation: Mapping[str, Any],
        number: int,
    ) -> list[JSON]:
        declarations = declarations_of(body)
        calling = field(field(body, "toolConfig") or {}, "functionCallingConfig") or {}
        mode = str(field(calling, "mode") or "AUTO").upper()
        allowed = field(calling, "allowedFunctionNames") or []
        if allowed:
            declarations = [d for d in declarations if d.get("name") in allowed]
        tool_answers = _responses_text(contents)
        if declarations and mode != "NONE" and (tool_answers is None or mode == "ANY"):
            made = _calls_this_turn(contents)
            if tool_answers is not None:
                # Forced to call again after answers: a function not called yet this turn
                # (an agent's final-answer tool, say), as Gemini moves on.
                called = {name for name, _ in made}
                declarations = [d for d in declarations if d.get("name") not in called] or (
                    declarations
                )
            chosen = _pick_functions(prompt, declarations, forced=mode == "ANY")
            if chosen:
                hints = _Hints(f"{prompt} {_last_model_line(contents)}")
                calls = self._calls(model, chosen, hints, number)
                # Never loop forever: a call already made `max_repeats` times in this turn,
                # with the same arguments, is not made again (the answer is text instead).
                calls = [c for c in calls if made.count(_call_key(c)) < self.max_repeats]
                if calls:
                    return calls
        parts: list[JSON] = []
        computed: int | float | None = None
        task: Computation | None = None
        if "codeExecution" in builtin_tools(body) or "code_execution" in builtin_tools(body):
            match = _ARITHMETIC.search(prompt) if tool_answers is None else None
            computed = evaluate(match.group(0)) if match else None
            if computed is None and tool_answers is None:
                task = compute(prompt, _csv_texts(contents))
            if task is not None:
                parts += task.parts()
            elif match and computed is not None:
                parts += [
                    {
                        "executableCode": {
                            "language": "PYTHON",
                            "code": f"print({match.group(0).strip()})\n",
                        }
                    },
                    {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": f"{computed}\n"}},
                ]
        schema = field(generation, "responseJsonSchema") or field(generation, "responseSchema")
        if isinstance(schema, dict):
            hints = _Hints(
                f"{computed} {prompt}"
                if computed is not None
                else f"{task.named_text() if task else ''} {prompt} {_last_model_line(contents)}",
                context=_last_model_text(contents),
            )
            data = example_value(schema, schema, hints)
            return [*parts, {"text": json.dumps(data, ensure_ascii=False)}]
        if field(generation, "responseMimeType") == "application/json":
            asked = next(
                (t for t in [prompt, *reversed(_all_user_texts(contents))] if _QUOTED.search(t)),
                prompt,
            )
            keys = [next(g for g in m if g) for m in _QUOTED.findall(asked)] or ["answer"]
            hints = _Hints(_QUOTED.sub("", asked))
            data = {
                key: hints.number({}) if hints.numbers else hints.string(key, {}) for key in keys
            }
            return [*parts, {"text": json.dumps(data, ensure_ascii=False)}]
        if tool_answers is not None:
            return [*parts, {"text": f"The tool answered: {tool_answers}"}]
        if task is not None:
            return [*parts, {"text": task.answer}]
        if computed is not None:
            return [*parts, {"text": f"The result is {computed}."}]
        return [*parts, {"text": _reply_text(prompt)}]

    def _calls(self, model: str, chosen: list[JSON], hints: _Hints, number: int) -> list[JSON]:
        parts: list[JSON] = []
        for position, declaration in enumerate(chosen):
            name = str(declaration.get("name"))
            args = example_value(_function_schema(declaration), None, hints)
            call: JSON = {"name": name, "args": args if isinstance(args, dict) else {}}
            part: JSON = {"functionCall": call}
            if not is_legacy_model(model):
                call["id"] = f"call-{number}-{position}"
                if position == 0:
                    part["thoughtSignature"] = call_signature(name, call["args"])
            parts.append(part)
        return parts


_URL = re.compile(r"https?://[^\s\"'<>)]+")


def _ground(answer: JSON, builtins: list[str], prompt: str) -> None:
    """With Google Search or URL context on, the last text part is cited, as Gemini does:
    a search result page (Google Search) or each URL of the prompt (URL context)."""
    search = any(b in ("googleSearch", "google_search") for b in builtins)
    urls = _URL.findall(prompt) if any(b in ("urlContext", "url_context") for b in builtins) else []
    parts = answer["candidates"][0]["content"]["parts"]
    texts = [p["text"] for p in parts if isinstance(p.get("text"), str) and p["text"].strip()]
    if not (search or urls) or not texts:
        return
    sources = [web_source(u, u.split("//", 1)[1].split("/", 1)[0]) for u in urls]
    query = " ".join(_WORD.findall(prompt)[:8])
    if search:
        sources.append(web_source(f"https://search.example/?q={query.replace(' ', '+')}", query))
    candidate = answer["candidates"][0]
    candidate["groundingMetadata"] = grounding_metadata(
        parts,
        [(texts[-1].strip(), list(range(len(sources))))],
        sources,
        queries=[query] if search else (),
        entry_point=f"<div class=\"scripted-search\">{query}</div>" if search else None,
    )
    if urls:
        candidate["urlContextMetadata"] = url_context_metadata(*urls)


def _call_key(part: Mapping[str, Any]) -> tuple[str, str]:
    call = field(part, "functionCall") or {}
    return str(call.get("name")), json.dumps(call.get("args") or {}, sort_keys=True)


def _calls_this_turn(contents: list[JSON]) -> list[tuple[str, str]]:
    """(name, args) of every function call the model made since the user last spoke."""
    made: list[tuple[str, str]] = []
    for content in reversed(contents):
        if starts_turn(content):
            break
        if content.get("role") == "model":
            made += [_call_key(p) for p in parts_of(content) if field(p, "functionCall")]
    return made


def _all_user_texts(contents: list[JSON]) -> list[str]:
    """Every text the user wrote, in order (a JSON answer may be asked for a turn back)."""
    return [
        p["text"]
        for c in contents
        if c.get("role", "user") == "user"
        for p in parts_of(c)
        if isinstance(p.get("text"), str)
    ]


def _csv_texts(contents: list[JSON]) -> list[str]:
    """The CSV files attached inline, decoded (the data a grouped question is about)."""
    found = []
    for content in contents:
        for part in parts_of(content):
            blob = field(part, "inlineData")
            if isinstance(blob, dict) and str(field(blob, "mimeType")).startswith("text/csv"):
                try:
                    found.append(b64decode_any(str(blob.get("data", ""))).decode("utf-8"))
                except (ValueError, UnicodeDecodeError):
                    continue
    return found


def _last_model_text(contents: list[JSON]) -> str:
    """Everything the model wrote in its last turn (a computation a schema answer uses)."""
    for content in reversed(contents):
        if content.get("role") == "model":
            return "\n".join(p["text"] for p in parts_of(content) if isinstance(p.get("text"), str))
    return ""


def _last_model_line(contents: list[JSON]) -> str:
    """The last line the model wrote (what a follow-up answer builds on), or ''."""
    for content in reversed(contents):
        if content.get("role") == "model":
            texts = [p["text"] for p in parts_of(content) if isinstance(p.get("text"), str)]
            lines = "\n".join(texts).strip().splitlines()
            return lines[-1] if lines else ""
    return ""


def _reply_text(prompt: str) -> str:
    words = [w.lower() for w in _WORD.findall(prompt)]
    if words and words[0] in _GREETINGS:
        return "Hello! How can I help you today?"
    if not prompt.strip():
        return "I am here. What would you like me to do?"
    shown = " ".join(prompt.split())
    return f"You asked: {shown[:200]}. Here is a short answer from the scripted Gemini."
