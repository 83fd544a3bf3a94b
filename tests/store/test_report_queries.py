"""The report's label timelines over a store with hand-made labels."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from uproar.config import Brand
from uproar.sources import ingest
from uproar.store import Store
from uproar.store.report import own_posts, sentiment_over_time, topics_over_time


def test_timelines_and_own_posts(fixtures: Path, store: Store, brands: dict[str, Brand]) -> None:
    ingest([fixtures / "x_v2_page.jsonl"], store, brands)
    ids = [p.id for p in store.posts()]
    store.save_labels(
        pa.table(
            {
                "platform": ["x"] * 4,
                "id": ids,
                "complaint": [True, False, True, True],
                "sentiment": ["negative", "neutral", "negative", "neutral"],
                "topics": [["slow"], [], ["slow"], ["outage_question"]],
            }
        )
    )
    since, until = datetime(2014, 9, 6, 8, tzinfo=UTC), datetime(2014, 9, 6, 9, tzinfo=UTC)
    sentiment = sentiment_over_time(store, "kiwinet", since, until).to_pylist()
    # the brand's own reply (@KiwiNetHelp) is not a customer mention
    assert [(r["sentiment"], r["posts"]) for r in sentiment] == [("negative", 2), ("neutral", 1)]
    topics = topics_over_time(store, "kiwinet", since, until, top=1).to_pylist()
    assert [(r["topic"], r["posts"]) for r in topics] == [("slow", 2)]
    (own,) = own_posts(store, "kiwinet").to_pylist()
    assert own["reply_to_id"] == "508170146223599616"
