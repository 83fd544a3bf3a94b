"""What describing an incident gives: the regions it names (the over-represented ones, else
the whole country), its samples, terms and counts, for one incident or many at once."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from uproar.detect import describe as describe_module
from uproar.detect.describe import affected_regions, describe, describe_all
from uproar.detect.signal import TOKEN_SPLIT, complaint_pattern
from uproar.records import Incident
from uproar.store import Store
from uproar.store import detect as sql
from uproar.store.store import POST_COLUMNS

USUAL = Counter({"NZ-AUK": 400, "NZ-WGN": 200, "NZ-CAN": 100, "NZ-MWT": 40, "NZ-OTA": 40})


def test_a_regional_outage_names_its_regions() -> None:
    storm = Counter({"NZ-WGN": 260, "NZ-MWT": 70, "NZ-AUK": 40, "NZ-CAN": 12, "NZ-OTA": 5})
    assert set(affected_regions(storm, USUAL)) == {"NZ-WGN", "NZ-MWT"}


def test_a_nationwide_outage_is_the_country_not_noise() -> None:
    # Every region up about sixfold; shares wobble a little, as they do.
    nationwide = Counter(
        {"NZ-AUK": 2350, "NZ-WGN": 1260, "NZ-CAN": 590, "NZ-MWT": 260, "NZ-OTA": 230}
    )
    assert affected_regions(nationwide, USUAL) == ("NZ",)


def test_without_history_every_region_counts_and_without_regions_none() -> None:
    assert affected_regions(Counter({"AU": 30}), Counter()) == ("AU",)
    assert affected_regions(Counter(), USUAL) == ()


# -- describing from the store -----------------------------------------------------------

START = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)


def _post(n: int, minute: float, author: str, text: str, likes: int = 0) -> dict[str, object]:
    return {
        "platform": "x",
        "id": f"p{n:05d}",
        "created_at": (START + timedelta(minutes=minute)).replace(tzinfo=None),
        "text": text,
        "author_id": author,
        "urls": [],
        "region": "NZ-AUK",
        "brands": ["acme"],
        "like_count": likes,
        "ingested_at": START.replace(tzinfo=None),
    }


def _store(rows: list[dict[str, object]]) -> Store:
    store = Store()
    store.insert_posts(pa.Table.from_pylist([{c: r.get(c) for c in POST_COLUMNS} for r in rows]))
    return store


def _incident(start: datetime, end: datetime) -> Incident:
    return Incident(
        id="acme-1", brand="acme", start=start, detected_at=start, peak=start, end=end,
        severity="high", scope="brand", posts=0, authors=0,
    )  # fmt: skip


def _greedy_samples(
    rows: list[dict[str, object]], start: datetime, end: datetime
) -> tuple[object, ...]:
    """The samples by their definition, over every post of the window."""
    pattern = re.compile(complaint_pattern())
    lo, hi = start.replace(tzinfo=None), end.replace(tzinfo=None)
    inside = [r for r in rows if isinstance(t := r["created_at"], datetime) and lo <= t < hi]
    inside.sort(
        key=lambda r: (
            not pattern.search(str(r["text"]).lower()),
            -int(r["like_count"]),  # type: ignore[call-overload]
            r["created_at"],
            r["id"],
        )
    )
    authors: set[object] = set()
    texts: set[str] = set()
    out = []
    for r in inside:
        text = " ".join(str(r["text"]).lower().split())
        if r["author_id"] in authors or text in texts:
            continue
        authors.add(r["author_id"])
        texts.add(text)
        out.append(r["id"])
    return tuple(out[:5])


@pytest.mark.parametrize("read", [3, describe_module.SAMPLE_READ])
def test_samples_are_one_per_author_and_text_through_floods(
    read: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A copypasta by 300 authors (the most liked first), one author's 40 complaints, the
    # same text in other spacing and case, and a few plain posts: the samples must be the
    # ones a pick over every post gives, however few posts the store is asked for at once.
    monkeypatch.setattr(describe_module, "SAMPLE_READ", read)
    rows, n = [], 0
    for k in range(300):
        n += 1
        rows.append(_post(n, k * 0.1, f"flood{k}", "outage again, not working!!", likes=300 - k))
    for k in range(40):
        n += 1
        rows.append(_post(n, 1 + k * 0.5, "ranter", f"still down, day {k} of no internet", 500))
    n += 1
    rows.append(_post(n, 2, "echo", "OUTAGE   again, not   working!!", likes=900))
    for k in range(6):
        n += 1
        rows.append(_post(n, 3 + k, f"plain{k}", f"is the app down? cannot log in ({k})"))
    n += 1
    rows.append(_post(n, -30, "before", "not working since this morning", likes=10_000))
    start, end = START, START + timedelta(minutes=40)
    with _store(rows) as store:
        described = describe(store, _incident(start, end), until=end)
    assert described.sample_post_ids == _greedy_samples(rows, start, end)
    assert len(described.sample_post_ids) == 5
    assert described.posts == len(rows) - 1 and described.authors == 300 + 1 + 1 + 6


def test_describing_many_incidents_at_once_equals_one_by_one() -> None:
    rows, n = [], 0
    for k in range(600):  # a reference week of chatter, then two bursts of complaints
        n += 1
        rows.append(_post(n, -600 + k, f"u{k % 97}", f"thanks for the update {k % 7}"))
    for burst in (0, 120):
        for k in range(60):
            n += 1
            rows.append(_post(n, burst + k / 3, f"b{burst}-{k}", "no internet, modem lights red"))
    windows = [
        _incident(START, START + timedelta(minutes=20)),
        _incident(START + timedelta(minutes=120), START + timedelta(minutes=140)),
    ]
    until = START + timedelta(hours=3)
    with _store(rows) as store:
        together = [d.incident for d in describe_all(store, windows, until=until)]
        apart = [describe(store, i, until=until) for i in windows]
    assert together == apart
    assert [i.posts for i in together] == [60, 60]
    assert "modem" in together[0].terms and together[1].term_counts[0]["posts"] == 60


def test_a_large_reference_has_its_terms_counted_on_a_steady_sample(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(describe_module, "REFERENCE_SAMPLE", 300)
    rows = [_post(k, -3000 + k, f"u{k}", f"plan price word{k % 10}") for k in range(3000)]
    rows += [_post(3000 + k, k / 4, f"o{k}", "modem lights red, no internet") for k in range(80)]
    week_before = START - timedelta(days=7)
    window = sql.DescribeWindow("acme", week_before, START, START + timedelta(hours=1))
    with _store(rows) as store:
        first, again = (
            sql.window_details(
                store, [window], pattern=complaint_pattern(), token_pattern=TOKEN_SPLIT,
                reference_sample=300,
            )[0]
            for _ in range(2)
        )  # fmt: skip
    assert first == again
    assert first.reference_posts == 3000 and first.term_posts == 80
    assert 200 <= first.reference_term_posts <= 400
    # every sampled reference post says "plan" and "price"
    assert first.reference_terms["plan"] == first.reference_term_posts
    assert first.terms["modem"] == 80 and "modem" not in first.reference_terms
