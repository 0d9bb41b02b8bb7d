"""google-genai's private surface that `_sdk` (the one seam to it) relies on.

If an SDK release moves or renames any of it, this test names what is missing, instead
of every call failing somewhere inside the transport.
"""

from __future__ import annotations

import ast
import pathlib

import langchain_gemini_codeexec
from langchain_gemini_codeexec._transport import sdk as _sdk


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
    """No module of the package but `_transport/sdk.py` reads `_api_client` / `_http_options`."""
    package = pathlib.Path(langchain_gemini_codeexec.__file__).parent
    seam = package / "_transport" / "sdk.py"
    assert seam.is_file()
    modules = [p for p in package.rglob("*.py") if p != seam]
    assert len(modules) > 10
    for path in modules:
        tree = ast.parse(path.read_text())
        name = str(path.relative_to(package))
        attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert "_api_client" not in attrs, name
        assert "_http_options" not in attrs, name
