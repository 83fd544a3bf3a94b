"""One simulated isp-2014 run shared by the simulator's tests (it takes about a second)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from uproar.simulate import SimulationResult, load_scenario, simulate


@pytest.fixture(scope="session")
def isp_run(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    out = tmp_path_factory.mktemp("isp") / "isp.jsonl"
    return simulate(load_scenario("isp-2014"), out, seed=11)


def read_pages(path: Path) -> list[dict[str, Any]]:
    import gzip

    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as fh:
        return [orjson.loads(line) for line in fh]


@pytest.fixture(scope="session")
def isp_pages(isp_run: SimulationResult) -> list[dict[str, Any]]:
    return read_pages(isp_run.out)


@pytest.fixture(scope="session")
def isp_tweets(isp_pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [t for page in isp_pages for t in page["data"]]
