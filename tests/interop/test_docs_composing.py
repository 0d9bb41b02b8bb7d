"""The snippets of docs/composing.md's "Switching providers mid-conversation" run offline
and print what the page says they print."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from tests.interop.conftest import load_providers

PAGE = Path(__file__).parents[2] / "docs" / "composing.md"


def _section() -> str:
    page = PAGE.read_text()
    start = page.index("## Switching providers mid-conversation")
    end = page.find("\n## ", start + 1)
    return page[start : end if end != -1 else None]


def _snippets() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", _section(), flags=re.S | re.M)


@pytest.mark.parametrize("index", range(2))
def test_the_snippet_runs_and_prints_what_it_says(index: int) -> None:
    load_providers()  # the second snippet builds ChatAnthropic and ChatOpenAI
    source = _snippets()[index]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, f"{PAGE}:snippet{index}", "exec"), {"__name__": "__doc__"})
    # Every `print(...)` is followed by the comment lines of what it prints.
    expected = []
    lines = source.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("print("):
            inline = line.partition("  # ")[2]
            block = []
            for follow in lines[i + 1 :]:
                if not follow.startswith("#"):
                    break
                block.append(follow[2:] if follow.startswith("# ") else follow[1:])
            expected.append(inline if inline else "\n".join(block))
    printed = out.getvalue()
    assert printed.strip() == "\n".join(expected).strip()
