"""ScriptedGemini's computed tasks: code that computes what was asked, true values, charts.

Through the real SDK on every HTTP path (the `ask` fixture), invoke and stream.
"""

from __future__ import annotations

import base64
import statistics

import pytest
from hypothesis import strategies as st
from pydantic import BaseModel

from langchain_gemini_codeexec import CodeExecutionReport
from langchain_gemini_codeexec.testing._tasks import compute, first_primes
from tests.support import Caller, property_test


class Stats(BaseModel):
    mean: float
    count: int


async def test_the_sum_of_primes_is_computed_and_charted(ask: Caller) -> None:
    llm = ask.model(model="gemini-2.5-flash")
    answer = await ask(llm, "What is the sum of the first 50 prime numbers? Plot them.")
    report = CodeExecutionReport.from_message(answer.message)
    assert [run.ok for run in report.runs] == [True, True]
    assert "sum=5117" in report.runs[0].output and "50" in report.runs[0].code
    (chart,) = report.runs[1].images
    assert chart.data.startswith(b"\x89PNG")
    assert "5117" in report.answer


async def test_the_mean_is_right_in_text_and_in_a_schema(ask: Caller) -> None:
    llm = ask.model(model="gemini-2.5-flash")
    answer = await ask(llm, "Mean of 2, 4 and 9? Run code.")
    assert "mean=5.0" in CodeExecutionReport.from_message(answer.message).runs[0].output
    assert "5.0" in answer.message.text
    # Gemini 2.x: compute, then format (two requests); Gemini 3: one request.
    for model in ("gemini-2.5-flash", "gemini-3-flash-preview"):
        structured = ask.model(model=model).with_structured_output(Stats)
        if ask.method.startswith("a"):
            stats = await structured.ainvoke("Mean of 2, 4 and 9? Run code.")
        else:
            stats = structured.invoke("Mean of 2, 4 and 9? Run code.")
        assert stats == Stats(mean=5.0, count=3)


def test_a_grouped_question_over_an_attached_csv() -> None:
    csv = "month,region,revenue\n1,North,10\n1,South,4\n2,North,20\n2,South,6\n"
    found = compute("Mean revenue per region; bar chart.", [csv])
    assert found is not None
    assert found.runs[0][1] == "{'North': 15.0, 'South': 5.0}\n"
    assert 'groupby("region"' in found.runs[0][0] and "mean()" in found.runs[0][0]
    assert found.chart == [15.0, 5.0] and "North 15.00" in found.answer
    images = [p for p in found.parts() if "inlineData" in p]
    assert len(images) == 1
    assert compute("Mean salary per team", [csv]) is None  # no such column: not made up


@property_test(100, st.lists(st.integers(-1000, 1000), min_size=2, max_size=8))
def test_listed_numbers_give_their_true_statistics(values: list[int]) -> None:
    prompt = f"What is the median of {', '.join(map(str, values))}?"
    found = compute(prompt)
    assert found is not None
    assert found.values["mean"] == sum(values) / len(values)
    assert found.values["median"] == statistics.median(values)
    assert found.values["count"] == len(values)
    printed = dict(line.split("=") for line in found.runs[0][1].splitlines())
    assert float(printed["median"]) == statistics.median(values)


@pytest.mark.parametrize("count", [1, 10, 50])
def test_primes_output_is_the_true_list(count: int) -> None:
    found = compute(f"Sum of the first {count} primes")
    assert found is not None
    assert found.runs[0][1].endswith(f"sum={sum(first_primes(count))}\n")
    assert first_primes(10) == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]


def test_prompts_without_a_known_task_are_not_computed() -> None:
    assert compute("Tell me a joke about 3 cats") is None
    assert compute("The mean of life") is None


def test_chart_png_is_a_valid_png() -> None:
    from langchain_gemini_codeexec.testing import chart_png

    for kind in ("line", "bar"):
        png = chart_png([1.0, 3.0, 2.0], kind=kind)
        assert png.startswith(b"\x89PNG") and png.endswith(b"IEND\xaeB`\x82")
    with pytest.raises(ValueError, match="kind"):
        chart_png([1.0], kind="pie")
    assert base64.b64encode(chart_png([])).decode()  # nothing to draw is a blank chart
