"""Classifiers are built once per session: loading the models is the slow part."""

from __future__ import annotations

from pathlib import Path

import pytest

from uproar.understand import Classifier

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="session")
def fast() -> Classifier:
    return Classifier("fast")


@pytest.fixture(scope="session")
def accurate() -> Classifier:
    return Classifier("accurate", threads=1)


@pytest.fixture
def shared_data() -> Path:
    if not (SHARED_DATA / "tweeteval" / "sentiment" / "test_text.txt").exists():
        pytest.skip(f"shared data not found at {SHARED_DATA} (evaluation data is not in the repo)")
    return SHARED_DATA
