"""Synthetic archives for the detect tests: seeded Poisson-gamma traffic, planted events."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from uproar.config import Brand
from uproar.store import Store
from uproar.store.store import POST_COLUMNS

T0 = datetime(2024, 3, 4, tzinfo=UTC)  # a Monday


@dataclass(frozen=True)
class Surge:
    brand: str
    onset: datetime
    minutes: int
    per_minute: float
    text: str = "is the app down? cannot log in, not working"
    url: str | None = None
    authors: int | None = None  # None: fresh authors each post; n: that many authors
    region: str = "NZ"


def brands(*ids: str, peers: dict[str, Sequence[str]] | None = None) -> dict[str, Brand]:
    peers = peers or {}
    return {
        b: Brand(id=b, name=b.title(), keywords=(b,), peers=tuple(peers.get(b, ()))) for b in ids
    }


def archive(
    brand_rates: dict[str, float],
    *,
    hours: float,
    surges: Sequence[Surge] = (),
    seed: int = 0,
    start: datetime = T0,
) -> pa.Table:
    """Posts for each brand at ``rate`` per minute with a daily rhythm, plus surges."""
    rng = np.random.default_rng(seed)
    minutes = int(hours * 60)
    t = np.arange(minutes)
    rows: dict[str, list[object]] = {c: [] for c in POST_COLUMNS}
    n = 0

    def add(
        when: datetime, brand: str, author: str, text: str, url: str | None, region: str
    ) -> None:
        nonlocal n
        n += 1
        given: dict[str, object] = {
            "platform": "x",
            "id": f"p{n:08d}",
            "created_at": when.replace(tzinfo=None),
            "text": text,
            "author_id": author,
            "urls": [url] if url else [],
            "region": region,
            "brands": [brand],
            "ingested_at": start.replace(tzinfo=None),
        }
        for c in POST_COLUMNS:
            rows[c].append(given.get(c))

    events = []
    for brand, rate in brand_rates.items():
        daily = 1.0 + 0.6 * np.sin(2 * np.pi * (t / 1440.0 - 0.3))
        noise = rng.gamma(25.0, 1 / 25.0, size=minutes // 10 + 1).repeat(10)[:minutes]
        counts = rng.poisson(rate * daily * noise)
        for m in np.nonzero(counts)[0]:
            secs = np.sort(rng.integers(0, 60, size=counts[m]))
            for s in secs:
                author = f"{brand}-u{rng.integers(0, 5000)}"
                text = "love the new plan" if rng.random() < 0.7 else "my wifi is slow again"
                region = "NZ" if rng.random() < 0.7 else "AU"
                events.append(
                    (
                        start + timedelta(minutes=int(m), seconds=int(s)),
                        brand,
                        author,
                        text,
                        None,
                        region,
                    )
                )
    for k, s in enumerate(surges):
        counts = rng.poisson(s.per_minute, size=s.minutes)
        for m, c in enumerate(counts):
            for j in range(c):
                when = s.onset + timedelta(minutes=m, seconds=int(rng.integers(0, 60)))
                author = (
                    f"{s.brand}-s{k}-{m}-{j}"
                    if s.authors is None
                    else f"{s.brand}-s{k}-a{rng.integers(0, s.authors)}"
                )
                events.append((when, s.brand, author, s.text, s.url, s.region))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    for e in events:
        add(*e)
    # one in seven is a repost: a mention, never signal
    rows["reposted_id"] = [f"orig{i}" if i % 7 == 3 else None for i in range(n)]
    return pa.table(rows, schema=_schema())


def _schema() -> pa.Schema:
    store = Store()
    schema = store.connection.sql("SELECT * FROM posts LIMIT 0").to_arrow_table().schema
    store.close()
    return schema


@pytest.fixture
def store() -> Iterator[Store]:
    s = Store()
    yield s
    s.close()
