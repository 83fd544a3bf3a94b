"""Fixtures for the bus tests: a NATS JetStream server on loopback, and a small simulated
stream of two industries (one outage each) with its brands."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from uproar.config import Brand, load_brands
from uproar.simulate import load_scenario, simulate

from .broker import DATA, running_nats


@pytest.fixture(scope="module")
def nats_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_nats(tmp_path_factory.mktemp("jetstream")) as host:
        yield host


@pytest.fixture(scope="session")
def two_industries(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The simulated stream (X v2 pages) and its brands file."""
    folder = tmp_path_factory.mktemp("two-industries")
    result = simulate(load_scenario(DATA / "two-industries.toml"), folder / "two.jsonl", seed=17)
    return folder / "two.jsonl", result.brands_path


@pytest.fixture(scope="session")
def two_brands(two_industries: tuple[Path, Path]) -> dict[str, Brand]:
    return load_brands(two_industries[1])
