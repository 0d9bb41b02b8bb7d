"""`save_images` cases an outside audit of issue 9 found (point 6), through the real SDK.

A prefix is refused before anything is written when it holds a bidi override or other
format character (U+202E turns "chart\\u202egnp.exe" into a name that reads "chartexe.png")
or is too long for a file name (an `OSError` after the directory was made, before);
`max_images` is an integer (not `True`, not a string).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from langchain_gemini_codeexec import CodeExecutionReport
from langchain_gemini_codeexec.testing import GeminiTestServer, code, image, response, result, text
from tests.support import PATHS, invoke
from tests.support import path_llm as make_llm

PNG = b"\x89PNG\r\n\x1a\n" + b"chart" * 30


def _report(server: GeminiTestServer, path: str) -> CodeExecutionReport:
    server.enqueue(response(code("plot()"), result("ok"), image(PNG), text("Chart.")))
    message = invoke(make_llm(server.base_url, path, max_retries=0), path, "plot")
    report = CodeExecutionReport.from_message(message)
    assert len(report.images) == 1
    return report


@pytest.mark.parametrize(
    "prefix",
    ["chart\u202egnp", "\u200bchart", "chart\u2028", "chart\ue000", "c" * 201, "é" * 101],
    ids=["rtl-override", "zero-width", "line-separator", "private-use", "long", "long-bytes"],
)
@pytest.mark.parametrize("path", [PATHS[0], PATHS[2]])
def test_save_images_refuses_a_disguised_or_overlong_prefix(
    server: GeminiTestServer, tmp_path: Path, path: str, prefix: str
) -> None:
    report = _report(server, path)
    target = tmp_path / "charts"
    with pytest.raises(ValueError, match="prefix"):
        report.save_images(target, prefix)
    assert not target.exists()  # refused before anything was made


@pytest.mark.parametrize("max_images", [True, "3", -1, 2.5])
def test_save_images_max_images_is_an_integer(
    server: GeminiTestServer, tmp_path: Path, max_images: Any
) -> None:
    report = _report(server, PATHS[0])
    with pytest.raises(ValueError, match="max_images"):
        report.save_images(tmp_path / "charts", max_images=max_images)
    assert not (tmp_path / "charts").exists()


def test_save_images_accepts_a_plain_unicode_prefix(
    server: GeminiTestServer, tmp_path: Path
) -> None:
    report = _report(server, PATHS[0])
    paths = report.save_images(tmp_path, "graphique-é" + "c" * 180)
    assert [p.read_bytes() for p in paths] == [PNG]
