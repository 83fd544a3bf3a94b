"""The simulated archive both scale test modules use: isp-2014, small, with its planted
incident, a bait-link rumour, and the mess a real archive has (a broken line, posts twice)."""

from __future__ import annotations

import dataclasses
import gzip
from pathlib import Path

from uproar.config import Brand, load_brands
from uproar.simulate import load_scenario, simulate

NOW = "2026-01-01T00:00:00"  # the ingest clock: both paths stamp the same ingested_at


def make_archive(folder: Path, *, scale: float = 0.2) -> tuple[list[Path], dict[str, Brand]]:
    """Two files (JSON Lines with a broken line and 40 repeated lines, and a gzip copy of
    part of it: posts stored twice) and brands in two families: kiwinet and tuinet are
    peers, wekamobile is judged alone."""
    spec = load_scenario("isp-2014")
    result = simulate(spec, folder / "isp.jsonl", seed=spec.seed, scale=scale)
    lines = result.out.read_bytes().splitlines(keepends=True)
    plain = folder / "archive.jsonl"
    plain.write_bytes(b"".join([*lines[:3], b'{"data": [{"id": "1", "text": \n', *lines[3:]]))
    packed = folder / "more.jsonl.gz"
    packed.write_bytes(gzip.compress(b"".join(lines[-40:])))
    brands = load_brands(result.brands_path)
    peers = {"kiwinet": ("tuinet",), "tuinet": ("kiwinet",), "wekamobile": ()}
    brands = {k: dataclasses.replace(b, peers=peers[k]) for k, b in brands.items()}
    return [plain, packed], brands
