"""Fixtures of the evaluation tests: the gold data folders, skipped cleanly when absent."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def pdnc_data_dir(shared_dir):
    """../shared/data when it holds PDNC."""
    path = shared_dir / "data"
    if not (path / "pdnc" / "data").is_dir():
        pytest.skip("PDNC data not present")
    return path
