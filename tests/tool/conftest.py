"""The tool tests' settings of the shared fixtures (tests/conftest.py): no retries, so
that every failure reaches the tool as it happened."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def llm_settings(llm_settings: dict[str, Any]) -> dict[str, Any]:
    return {**llm_settings, "retry_max_delay": 0.0, "max_retries": 0}
