"""One post with an impossible time must not blind detection (issue 11).

A store can hold such posts from before ingest's plausible-time gate. Detection walks the
runs of minutes where posts are, so a stray post dated 0001, 1970, 2013 or 9999 costs a
short run of its own: the same incidents, a few more minutes walked, and no span-sized arrays
(once 31 GiB for 9999-12-31, and 100-150 s for a 1970 post in a 21,692-post store).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from uproar.detect import batch
from uproar.detect.batch import breakdown, detect_store
from uproar.store import Store

from .conftest import T0, Surge, archive, brands

STRAYS = [
    datetime(1, 1, 1),
    datetime(9999, 12, 31, 23, 59, 59),
    datetime(1970, 1, 1),
    datetime(2013, 6, 1, 12, 0),
]


@pytest.mark.slow
def test_a_stray_post_leaves_detection_as_it_was(store: Store) -> None:
    surge = Surge("acme", T0 + timedelta(hours=50), minutes=30, per_minute=12.0)
    posts = archive({"acme": 3.0, "zeta": 2.0}, hours=72, surges=[surge], seed=3)
    assert posts.num_rows > 20_000
    store.insert_posts(posts)
    known = brands("acme", "zeta")
    base = detect_store(store, brands=known, save=False, details=False)
    assert any(i.brand == "acme" for i in base.incidents)
    tail = int(batch.GAP_TAIL / batch.MINUTE)
    hourly_tail = int(batch.HOURLY_TAIL / timedelta(hours=1))
    for when in STRAYS:
        store.connection.execute(
            """INSERT INTO posts SELECT * REPLACE ('stray' AS id, $t AS created_at)
               FROM posts WHERE list_contains(brands, 'acme') LIMIT 1""",
            {"t": when},
        )
        found = detect_store(store, brands=known, save=False, details=False)
        assert [(i.id, i.start, i.peak, i.posts) for i in found.incidents] == [
            (i.id, i.start, i.peak, i.posts) for i in base.incidents
        ], when
        # The stray is left out (before 2000, after 2200) or walked as a run of its own: the
        # minutes walked, not a timer (which a loaded machine fails), show it costs nothing.
        assert found.minutes <= base.minutes + 1 + tail, when
        # and so do the hours (a 2013 post once made them walk 11 years of empty hours)
        assert base.hours > 0 and found.hours <= base.hours + 1 + hourly_tail, when
        signal = breakdown(store, brand="acme")
        assert signal.num_rows >= 1
        store.connection.execute("DELETE FROM posts WHERE id = 'stray'")
