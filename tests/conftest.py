"""Shared fixtures: the gold data and seed stories live outside the repo, in ../shared."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared").resolve()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared (seeds and gold data) is not present")
    return SHARED


@pytest.fixture(scope="session")
def seed_path(shared_dir):
    def get(n: int) -> Path:
        matches = sorted((shared_dir / "seeds").glob(f"{n:03d}_*.txt"))
        if not matches:
            pytest.skip(f"seed {n:03d} not present")
        return matches[0]

    return get


@pytest.fixture(scope="session")
def seed_text(seed_path):
    def get(n: int) -> str:
        return seed_path(n).read_text(encoding="utf-8")

    return get
