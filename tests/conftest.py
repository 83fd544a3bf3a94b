"""Shared fixtures: the fixture folder, brands, a fresh store, the CLI runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from uproar.config import Brand, load_brands
from uproar.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def brands() -> dict[str, Brand]:
    return load_brands(FIXTURES / "brands.toml")


@pytest.fixture
def store() -> Iterator[Store]:
    with Store(":memory:") as s:
        yield s


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
