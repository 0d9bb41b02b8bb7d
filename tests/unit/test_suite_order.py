"""The suite's own scheduling hint stays true: the modules `RUN_FIRST` names exist."""

from __future__ import annotations

from pathlib import Path

from tests.modes import RUN_FIRST

TESTS = Path(__file__).resolve().parents[1]


def test_every_module_run_first_exists() -> None:
    missing = [name for name in RUN_FIRST if not (TESTS / name).is_file()]
    assert not missing, f"RUN_FIRST in tests/modes.py names modules that are gone: {missing}"
