"""Tasks ScriptedGemini recognises in a prompt, computed here as its code would compute them.

Each recogniser is a small pure function (prompt, attached CSV texts) -> Computation or
None, tried in the order of ``RECOGNISERS``. The code shown is what a model would write;
the output is computed locally with the same arithmetic, so scripted answers say true
things (the mean of 2, 4 and 9 is 5.0) without running any code.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ._charts import chart_png

_CHART = re.compile(r"\b(plot|chart|graph|visuali[sz]e|histogram|draw)\b", re.IGNORECASE)
_PRIMES = re.compile(r"\bfirst\s+(\d{1,4})\s+prime", re.IGNORECASE)
_NUM = r"-?\d+(?:\.\d+)?"
_STATS = re.compile(
    rf"\b(mean|average|sum|total|median|max(?:imum)?|min(?:imum)?)\b(?:[\w\s,]{{0,40}}?)\bof\s+"
    rf"((?:{_NUM}(?:\s*,\s*(?:and\s+)?|\s+and\s+|\s+))+{_NUM})",
    re.IGNORECASE,
)
_GROUPED = re.compile(
    r"\b(mean|average|sum|total|max(?:imum)?|min(?:imum)?)\s+(?:of\s+)?(?:the\s+)?"
    r"([a-z_][\w ]*?)\s+(?:per|by|for each)\s+([a-z_]\w*)",
    re.IGNORECASE,
)
_AGGREGATES: dict[str, tuple[str, Callable[[list[float]], float]]] = {
    "mean": ("mean", statistics.fmean),
    "average": ("mean", statistics.fmean),
    "sum": ("sum", sum),
    "total": ("sum", sum),
    "max": ("max", max),
    "maximum": ("max", max),
    "min": ("min", min),
    "minimum": ("min", min),
}


_SAME = {"average": "mean", "total": "sum", "maximum": "max", "minimum": "min"}


@dataclass(frozen=True)
class Computation:
    """Code runs (code, output), the answer, named values for a schema, a chart's data."""

    runs: list[tuple[str, str]]
    answer: str
    values: dict[str, float] = field(default_factory=dict)
    chart: list[float] | None = None
    chart_kind: str = "line"
    chart_code: str = ""

    def parts(self) -> list[dict[str, object]]:
        """Gemini parts: each run's code and result, then the chart as its own run."""
        parts: list[dict[str, object]] = []
        for code, output in self.runs:
            parts += [
                {"executableCode": {"language": "PYTHON", "code": code}},
                {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": output}},
            ]
        if self.chart is not None:
            png = chart_png(self.chart, kind=self.chart_kind)
            parts += [
                {"executableCode": {"language": "PYTHON", "code": self.chart_code}},
                {"codeExecutionResult": {"outcome": "OUTCOME_OK"}},
                {"inlineData": {"mimeType": "image/png", "data": _b64(png)}},
            ]
        return parts

    def named_text(self) -> str:
        """``name=value`` pairs, the way the code printed them (hints for a schema)."""
        return " ".join(f"{name}={value}" for name, value in self.values.items())


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def _listed(values: Sequence[int | float]) -> str:
    shown = [str(v) for v in values]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def first_primes(count: int) -> list[int]:
    """The first ``count`` primes."""
    primes: list[int] = []
    n = 2
    while len(primes) < count:
        if all(n % p for p in primes if p * p <= n):
            primes.append(n)
        n += 1
    return primes


PRIMES_CODE = """\
primes, n = [], 2
while len(primes) < {count}:
    if all(n % p for p in primes if p * p <= n):
        primes.append(n)
    n += 1
print(f"{{primes=}}")
print(f"sum={{sum(primes)}}")
"""
PRIMES_PLOT_CODE = """\
import matplotlib.pyplot as plt
plt.plot(range(1, len(primes) + 1), primes, marker="o")
plt.xlabel("position"); plt.ylabel("prime"); plt.title("The first {count} primes")
plt.show()
"""


def primes_task(prompt: str, csvs: Sequence[str]) -> Computation | None:
    """ "The sum of the first N prime numbers" (Google's own code-execution example)."""
    match = _PRIMES.search(prompt)
    if not match or not 0 < int(match.group(1)) <= 5000:
        return None
    count = int(match.group(1))
    primes = first_primes(count)
    total = sum(primes)
    chart = _CHART.search(prompt) is not None
    answer = (
        f"The first {count} prime numbers run from 2 to {primes[-1]}, and their sum is **{total}**."
    )
    if chart:
        answer += " The chart shows them growing a little faster than linearly."
    return Computation(
        runs=[(PRIMES_CODE.format(count=count), f"primes={primes}\nsum={total}\n")],
        answer=answer,
        values={"sum": total, "total": total, "count": count, "result": total, "answer": total},
        chart=[float(p) for p in primes] if chart else None,
        chart_code=PRIMES_PLOT_CODE.format(count=count),
    )


def statistics_task(prompt: str, csvs: Sequence[str]) -> Computation | None:
    """ "Mean of 2, 4 and 9": count, sum and mean (and the median, max or min asked for)."""
    match = _STATS.search(prompt)
    if not match:
        return None
    values = [_number(n) for n in re.findall(_NUM, match.group(2))]
    if len(values) < 2:
        return None
    words = re.findall(
        r"\b(mean|average|sum|total|median|max(?:imum)?|min(?:imum)?)\b", prompt, re.IGNORECASE
    )
    asked = {_SAME.get(w.lower(), w.lower()) for w in words}
    lines = [
        f"values = [{', '.join(str(v) for v in values)}]",
        'print(f"count={len(values)}")',
        'print(f"sum={sum(values)}")',
        'print(f"mean={sum(values) / len(values)}")',
    ]
    found: dict[str, float] = {
        "count": len(values),
        "sum": sum(values),
        "mean": sum(values) / len(values),
    }
    if "median" in asked:
        lines[0:0] = ["import statistics", ""]
        lines.append('print(f"median={statistics.median(values)}")')
        found["median"] = statistics.median(values)
    for name in ("max", "min"):
        if name in asked:
            lines.append(f'print(f"{name}={{{name}(values)}}")')
            found[name] = (max if name == "max" else min)(values)
    output = "".join(f"{name}={value}\n" for name, value in found.items())
    main = next((n for n in ("mean", "median", "max", "min", "sum") if n in asked), "mean")
    answer = (
        f"The {main} of {_listed(values)} is **{found[main]}** "
        f"({len(values)} values, sum {found['sum']})."
    )
    named = {**found, "average": found["mean"], "total": found["sum"]}
    return Computation(runs=[("\n".join(lines) + "\n", output)], answer=answer, values=named)


def _column(header: Sequence[str], wanted: str) -> str | None:
    """The column a prompt means: its exact name, or the one that starts with the word."""
    key = wanted.strip().lower().replace(" ", "_")
    for name in header:
        if name.lower() == key:
            return name
    return next((n for n in header if n.lower().startswith(key)), None)


GROUPED_CODE = """\
import pandas as pd

df = pd.read_csv("input_file_0.csv")
by_{key} = df.groupby("{key}", sort=False)["{value}"].{agg}()
print(by_{key}.round(2).to_dict())
"""
GROUPED_PLOT_CODE = """\
import matplotlib.pyplot as plt

by_{key}.plot(kind="bar", title="{title}")
plt.tight_layout()
plt.show()
"""


def grouped_csv_task(prompt: str, csvs: Sequence[str]) -> Computation | None:
    """ "Mean revenue per region" over the first attached CSV, grouped in file order."""
    match = _GROUPED.search(prompt)
    if not match or not csvs:
        return None
    rows = list(csv.DictReader(io.StringIO(csvs[0])))
    header = list(rows[0]) if rows else []
    value_col, key_col = _column(header, match.group(2)), _column(header, match.group(3))
    if value_col is None or key_col is None:
        return None
    agg, fn = _AGGREGATES[match.group(1).lower()]
    groups: dict[str, list[float]] = {}
    try:
        for row in rows:
            groups.setdefault(row[key_col], []).append(float(row[value_col]))
    except (TypeError, ValueError):
        return None
    result = {key: round(fn(values), 2) for key, values in groups.items()}
    best = max(result, key=lambda k: result[k])
    chart = _CHART.search(prompt) is not None
    answer = (
        f"The {agg} of {value_col} per {key_col}: "
        + ", ".join(f"{k} {v:,.2f}" for k, v in result.items())
        + f". {best} is highest."
    )
    return Computation(
        runs=[(GROUPED_CODE.format(key=key_col, value=value_col, agg=agg), f"{result}\n")],
        answer=answer + (" The bar chart shows each group." if chart else ""),
        values={k.lower(): v for k, v in result.items()} | {"count": len(result)},
        chart=list(result.values()) if chart else None,
        chart_kind="bar",
        chart_code=GROUPED_PLOT_CODE.format(key=key_col, title=f"{agg} {value_col} per {key_col}"),
    )


RECOGNISERS: list[Callable[[str, Sequence[str]], Computation | None]] = [
    grouped_csv_task,
    primes_task,
    statistics_task,
]


def compute(prompt: str, csvs: Sequence[str] = ()) -> Computation | None:
    """The first task the prompt asks for that this module can compute, else None."""
    for recognise in RECOGNISERS:
        found = recognise(prompt, csvs)
        if found is not None:
            return found
    return None
