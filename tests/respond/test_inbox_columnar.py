"""The inbox scores a column at a time (``inbox._score``) with the same results as the
row-at-a-time scoring it replaced, kept below as the reference, on real customer messages
(TWCS, ../shared/data/twcs) ingested from their CSV: every mention's signals, score,
intent, theme, link and incident flag, with stored labels and without."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from uproar.config import load_brands
from uproar.pipeline import ingest_enrichers
from uproar.records import Labels
from uproar.respond.answer import SILENT, Pack, classify_intent, has_link, load_pack
from uproar.respond.inbox import (
    InboxSettings,
    Mention,
    _classifier,
    _response_times,
    _score,
    build_inbox,
    cluster_mentions,
    load_inbox_settings,
)
from uproar.respond.twcs import twcs_path
from uproar.sources import ingest
from uproar.store import Store
from uproar.store.respond import inbox_mentions
from uproar.store.store import utc
from uproar.understand.classifier import reach

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not twcs_path().is_file(), reason="../shared/data/twcs absent"),
]

# Support accounts of the sample, each with the industry pack its inbox answers with.
BRANDS = """
[brands.apple]
name = "Apple Support"
handles = ["@AppleSupport"]
industry = "online"
[brands.amazon]
name = "Amazon Help"
handles = ["@AmazonHelp"]
industry = "retail"
[brands.comcast]
name = "Comcast"
handles = ["@comcastcares"]
industry = "telco"
[brands.delta]
name = "Delta"
handles = ["@Delta"]
industry = "airline"
[brands.spotify]
name = "Spotify"
handles = ["@SpotifyCares"]
keywords = ["spotify"]
"""


def reference_score(
    rows: list[dict[str, Any]],
    settings: InboxSettings,
    pack: Pack,
    open_spans: Sequence[tuple[datetime, datetime | None]],
) -> list[Mention]:
    """The inbox's scoring before it became columnar (a602257), one row at a time."""
    missing = [i for i, r in enumerate(rows) if r["complaint"] is None]
    fresh = _classifier().classify([rows[i]["text"] or "" for i in missing]) if missing else []
    labels: list[Labels | None] = [None] * len(rows)
    for i, row in enumerate(rows):
        if row["complaint"] is not None:
            labels[i] = Labels(
                complaint=bool(row["complaint"]),
                sentiment=row["sentiment"] or "neutral",
                topics=tuple(row["topics"] or ()),
                question=bool(row["question"]),
                urgency=bool(row["urgency"]),
            )
    for i, lab in zip(missing, fresh, strict=True):
        labels[i] = lab
    w = settings.weights
    reaches = reach(
        pa.table(
            {
                "author_followers": pa.array([r["author_followers"] for r in rows], pa.int64()),
                "like_count": pa.array([r["like_count"] for r in rows], pa.int64()),
                "repost_count": pa.array([r["repost_count"] for r in rows], pa.int64()),
            }
        )
    )
    out = []
    for row, lab, raw_reach in zip(rows, labels, reaches, strict=True):
        assert lab is not None
        text = row["text"] or ""
        created = utc(row["created_at"])
        assert created is not None
        scores = lab.sentiment_scores
        anger = float(scores["negative"]) if scores else float(lab.sentiment == "negative")
        repeat = min(1.0, ((row["author_posts"] or 1) - 1) / settings.repeat_saturation)
        first_reply_at = utc(row["first_reply_at"])
        signals = {
            "question": float(lab.question),
            "urgency": float(lab.urgency),
            "anger": anger,
            "reach": min(1.0, float(raw_reach) / settings.reach_max),
            "repeat": repeat,
            "unanswered": 0.0 if first_reply_at else 1.0,
        }
        intent = classify_intent(
            text, lab, pack, replies_to_brand=bool(row.get("replies_to_brand"))
        )
        out.append(
            Mention(
                platform=row["platform"],
                id=row["id"],
                created_at=created,
                author_id=row["author_id"],
                author_handle=row["author_handle"],
                text=text,
                score=sum(w[k] * v for k, v in signals.items()),
                signals=signals,
                needs_reply=intent not in SILENT,
                complaint=lab.complaint,
                first_reply_at=first_reply_at,
                topics=lab.topics,
                intent=intent,
                topic=pack.topic_of(lab.topics),
                incident_open=any(
                    s <= created and (e is None or created < e) for s, e in open_spans
                ),
                link=bool(row.get("urls")) or has_link(text),
                author_name=row.get("author_name"),
            )
        )
    return out


@pytest.fixture(scope="module", params=["labelled", "unlabelled"])
def twcs_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp(f"twcs-{request.param}")
    (folder / "brands.toml").write_text(BRANDS)
    brands = load_brands(folder / "brands.toml")
    db = folder / "uproar.duckdb"
    with Store(db) as store:
        store.save_brands(brands)
        enrichers = ingest_enrichers() if request.param == "labelled" else ()
        ingest([twcs_path()], store, brands, enrichers=enrichers)
    return db


@pytest.mark.parametrize("brand", ["apple", "amazon", "comcast", "delta", "spotify"])
def test_columnar_scores_equal_the_row_at_a_time_ones(twcs_store: Path, brand: str) -> None:
    settings = load_inbox_settings()
    with Store(twcs_store, read_only=True) as store:
        table = inbox_mentions(store, brand=brand)
        industry = store.load_brands()[brand].industry
    assert table.num_rows > 20, "too few mentions to compare"
    pack = load_pack(industry)
    times = sorted(t.replace(tzinfo=UTC) for t in table.column("created_at").to_pylist())
    # Open incidents over part of the span (and one still open), so the flag varies.
    quarter, half, late = (times[len(times) * k // 8] for k in (2, 4, 7))
    spans = [(quarter, half), (late, None)]
    new = _score(table, settings, pack, spans)
    old = reference_score(table.to_pylist(), settings, pack, spans)
    assert new == old
    assert {m.intent for m in new} >= {"question", "complaint"}
    assert any(m.topic is not None for m in new) and any(m.link for m in new)
    assert len({m.incident_open for m in new}) == 2
    assert np.isfinite([m.score for m in new]).all()


@pytest.mark.parametrize("brand", ["apple", "comcast", "spotify"])
def test_the_inbox_equals_the_row_at_a_time_one(twcs_store: Path, brand: str) -> None:
    """Clusters (members, order, scores, reply times) and response times as the inbox
    built them before it became columnar."""
    settings = load_inbox_settings()
    with Store(twcs_store, read_only=True) as store:
        inbox = build_inbox(store, brand=brand, limit=10_000)
        table = inbox_mentions(store, brand=brand, now=inbox.now)
        pack = load_pack(store.load_brands()[brand].industry)
    needing = [m for m in reference_score(table.to_pylist(), settings, pack, []) if m.needs_reply]
    expected = []
    for members in cluster_mentions(needing, settings.similarity):
        members.sort(key=lambda m: (-m.score, m.created_at, m.id))
        bonus = settings.cluster_bonus * math.log2(len(members))
        expected.append((members[0].score + bonus, members))
    expected.sort(key=lambda c: (-c[0], c[1][0].created_at, c[1][0].id))
    assert inbox.clusters_total == len(expected) == len(inbox.clusters)
    for cluster, (score, members) in zip(inbox.clusters, expected, strict=True):
        assert cluster.score == score
        assert list(cluster.mentions) == members
        assert cluster.count == len(members)
        assert cluster.authors == len({(m.platform, m.author_id) for m in members})
        assert cluster.unanswered == sum(not m.answered for m in members)
        replied = [m.first_reply_s for m in members if m.first_reply_s is not None]
        assert cluster.median_reply_s == (float(np.median(replied)) if replied else None)
    response, per_author = _response_times(needing, inbox.now)
    assert inbox.response == response
    assert list(inbox.author_first_reply_s.items()) == list(per_author.items())
    assert inbox.needing_reply == len(needing) and response.answered > 0
