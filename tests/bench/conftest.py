"""Benchmark smoke runs carry the `slow` marker (registered here too, harmlessly twice)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: slow soaks and benchmark smoke runs")
