"""`CodeExecutionReport`: links in the answer resolved to the charts of the runs that made
them, shown where the link was, saved with `save_images(...).links`; cache usage stated.

Messages come from real answers of the loopback server through the chat model.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_gemini_codeexec import ChatGeminiCodeExecution, CodeExecutionReport
from langchain_gemini_codeexec.testing import (
    GeminiTestServer,
    code,
    image,
    response,
    result,
    text,
    usage,
)

PNG_A = b"\x89PNG\r\n\x1a\nAAAA"
PNG_B = b"\x89PNG\r\n\x1a\nBBBB"


def report_of(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution], *parts: Any
) -> CodeExecutionReport:
    server.enqueue(response(*parts))
    return CodeExecutionReport.from_message(make_llm().invoke("chart it"))


def test_links_by_name_from_the_code(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    report = report_of(
        server,
        make_llm,
        code("plt.savefig('/mnt/data/units.png')\nplt.savefig('price.png')"),
        result(""),
        image(PNG_A),
        image(PNG_B),
        text(
            "Units are in ![Units](sandbox:/mnt/data/units.png); prices: "
            "[download](sandbox:/mnt/data/price.png)."
        ),
    )
    links = report.image_links
    assert links["sandbox:/mnt/data/units.png"].data == PNG_A
    assert links["sandbox:/mnt/data/price.png"].data == PNG_B
    assert [img.name for img in report.images] == ["units.png", "price.png"]


def test_links_by_order_when_no_name_is_known(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    report = report_of(
        server,
        make_llm,
        code("plt.show()"),
        result(""),
        image(PNG_A),
        code("plt.show()"),
        result(""),
        image(PNG_B),
        text("See /mnt/data/first.png, then `second.png`; first.png again."),
    )
    links = report.image_links
    assert links["/mnt/data/first.png"].data == PNG_A
    assert links["second.png"].data == PNG_B
    assert links["first.png"].data == PNG_A  # the same file mentioned twice: one image


def test_name_given_by_gemini_wins(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    named = image(PNG_B)
    named["inlineData"]["displayName"] = "b.png"
    report = report_of(
        server, make_llm, code("x"), result(""), image(PNG_A), named, text("Look: b.png")
    )
    assert report.image_links == {"b.png": report.images[1]}


def test_markdown_and_html_show_the_image_where_the_link_was(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    report = report_of(
        server,
        make_llm,
        code("plt.savefig('u.png')"),
        result(""),
        image(PNG_A),
        text("Before ![Units chart](sandbox:/mnt/data/u.png) after."),
    )
    data_url = "data:image/png;base64," + base64.b64encode(PNG_A).decode()
    markdown = report.to_markdown()
    assert markdown.startswith(f"Before ![Units chart]({data_url}) after.")
    assert markdown.count(data_url) == 1  # not repeated under the run
    page = report._repr_html_()
    assert f"Before <img alt='Units chart' src='{data_url}'/> after." in page
    assert page.count(data_url) == 1
    # The message itself is untouched.
    assert "sandbox:/mnt/data/u.png" in report.answer


def test_bare_file_name_keeps_its_text_and_the_image_follows(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    report = report_of(
        server,
        make_llm,
        code("plt.savefig('u.png')"),
        result(""),
        image(PNG_A),
        text("The chart u.png shows growth.\n\nDone."),
    )
    markdown = report.to_markdown()
    assert markdown.startswith("The chart u.png shows growth.\n\n![u.png](data:image/png")
    assert "Done." in markdown


def test_unresolvable_and_web_links_are_left_alone(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    report = report_of(
        server,
        make_llm,
        text("No chart. See [docs](https://example.com/x.png) and notes.csv <b>x</b>"),
    )
    assert report.image_links == {}
    assert "https://example.com/x.png" in report.to_markdown()
    assert "&lt;b&gt;" in report._repr_html_()


def test_save_images_is_still_a_list_and_maps_links_to_paths(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution], tmp_path: Path
) -> None:
    report = report_of(
        server,
        make_llm,
        code("plt.savefig('a.png')\nplt.savefig('b.png')"),
        result(""),
        image(PNG_A),
        image(PNG_B),
        text("Files: sandbox:/mnt/data/b.png and sandbox:/mnt/data/a.png"),
    )
    saved = report.save_images(tmp_path)
    assert saved == [tmp_path / "chart-1-1.png", tmp_path / "chart-1-2.png"]
    assert isinstance(saved, list)
    assert saved.links == {
        "sandbox:/mnt/data/b.png": tmp_path / "chart-1-2.png",
        "sandbox:/mnt/data/a.png": tmp_path / "chart-1-1.png",
    }
    assert saved.links["sandbox:/mnt/data/a.png"].read_bytes() == PNG_A


def test_report_states_input_served_from_cache(
    server: GeminiTestServer, make_llm: Callable[..., ChatGeminiCodeExecution]
) -> None:
    server.enqueue(response(text("ok"), usage=usage(prompt=1000, candidates=5, cached=900)))
    report = CodeExecutionReport.from_message(make_llm().invoke("q"))
    assert (report.input_tokens, report.cached_input_tokens) == (1000, 900)
    assert report.full_price_input_tokens == 100
    line = "Input tokens: 1,000, of which 900 from cache (90%) and 100 at full price."
    saved = report.cost["saved_by_cache"]  # type: ignore[index]
    assert saved > 0  # its figure: tests/unit/test_pricing.py
    line += f" Caching saved ${saved:.6f} against the uncached price; cache storage: "
    assert report.cache_summary().startswith(line)
    assert "has no storage price for gemini-2.5-flash" in report.cache_summary()
    assert line in report.to_markdown() and line in report._repr_html_()
    restored = CodeExecutionReport.model_validate_json(report.model_dump_json())
    assert restored.cached_input_tokens == 900
