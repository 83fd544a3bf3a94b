"""Copied texts: many authors writing one claim is a rumour; one post retweeted is not."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from uproar.detect.rumours import find_rumours
from uproar.store import Store
from uproar.store.detect import spread_candidates
from uproar.store.store import POST_COLUMNS

from .conftest import T0, archive

COPYPASTA = (
    "heard acme is selling everyone's browsing history to advertisers, share before they delete"
)
VIRAL = "why does acme need me to repeat my account number four times on every single call"


def post(
    n: int, minute: float, author: str, text: str, reposted: str | None = None
) -> dict[str, Any]:
    at = (T0 + timedelta(hours=27, minutes=minute)).replace(tzinfo=None)
    given = {
        "platform": "x", "id": f"extra{n:04d}", "created_at": at, "text": text,
        "author_id": author, "urls": [], "brands": ["acme"], "reposted_id": reposted,
        "ingested_at": at,
    }  # fmt: skip
    return {c: given.get(c) for c in POST_COLUMNS}


def test_a_copypasta_is_a_rumour_and_a_retweet_cascade_is_not(tmp_path: Path) -> None:
    extra = [post(0, 0, "origin", VIRAL)]
    extra += [post(1 + i, 1 + i, f"fan{i}", f"RT @origin: {VIRAL}", "extra0000") for i in range(20)]
    extra += [post(100 + i, 2 * i, f"writer{i}", f"{COPYPASTA} {'!' * i}") for i in range(12)]
    with Store(tmp_path / "r.duckdb") as store:
        store.insert_posts(archive({"acme": 1.0}, hours=30))
        store.insert_posts(pa.Table.from_pylist(extra))
        rumours = [r for r in find_rumours(store) if r.kind == "text"]
    assert [r.key[:40] for r in rumours] == ["heard acme is selling everyone s browsin"]
    assert rumours[0].authors == 12


def test_replies_and_quotes_of_an_own_post_are_one_reaction_each_post_counted_once(
    tmp_path: Path,
) -> None:
    own = post(0, 0, "acme-team", "We're raising prices on every plan from Monday")
    own["own_brand"], own["brands"] = "acme", []
    replies = [post(1 + i, 1 + i, f"a{i}", "no way") for i in range(4)]
    quotes = [post(20 + i, 2 + i, f"q{i}", "look at this") for i in range(3)]
    both = post(40, 6, "b0", "replying and quoting")
    for row in replies:
        row["reply_to_id"] = "extra0000"
    for row in quotes:
        row["quoted_id"] = "extra0000"
    both["reply_to_id"] = both["quoted_id"] = "extra0000"
    with Store(tmp_path / "r.duckdb") as store:
        store.insert_posts(archive({"acme": 1.0}, hours=30))
        store.insert_posts(pa.Table.from_pylist([own, *replies, *quotes, both]))
        found = spread_candidates(store, since=None, until=None, min_authors=5, within_s=3600)
    reactions = [row for row in found.to_pylist() if row["kind"] == "reaction"]
    assert [(r["key"], r["posts"], r["authors"]) for r in reactions] == [("post extra0000", 8, 8)]
