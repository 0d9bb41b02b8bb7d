"""google-genai's private surface that `_sdk` (the one seam to it) relies on.

If an SDK release moves or renames any of it, this test names what is missing, instead
of every call failing somewhere inside the transport.
"""

from __future__ import annotations

import ast
import pathlib

import langchain_gemini_codeexec
from langchain_gemini_codeexec import _sdk


def test_private_surface_exists_with_expected_signatures() -> None:
    assert _sdk.missing_private_surface() == []


def test_missing_surface_is_reported() -> None:
    original = _sdk.PRIVATE_SURFACE
    try:
        _sdk.PRIVATE_SURFACE = (
            ("google.genai._api_client", "BaseApiClient._no_such_method", ("self",)),
            ("google.genai._api_client", "BaseApiClient._request_once", ("self", "renamed")),
        )
        assert len(_sdk.missing_private_surface()) == 2
    finally:
        _sdk.PRIVATE_SURFACE = original


def test_only_the_seam_touches_the_sdk_private_api() -> None:
    """`_api_client` and `google.genai._api_client` appear in `_sdk.py` and nowhere else
    in the transport modules (batch keeps its own wire calls in `_batch_http.py`)."""
    package = pathlib.Path(langchain_gemini_codeexec.__file__).parent
    for name in ("_transport.py", "_classify.py", "_retry.py", "_config.py", "chat_models.py"):
        tree = ast.parse((package / name).read_text())
        attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert "_api_client" not in attrs, name
        assert "_http_options" not in attrs, name
