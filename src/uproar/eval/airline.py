"""Detection on real mentions: the Twitter US Airline Sentiment set (Feb 2015).

The set (Crowdflower's "Data for Everyone", also on Kaggle as ``Tweets.csv``) holds 14,640
tweets to six US airlines from 17 to 24 February 2015: a *sampled* stream (a few to a few
dozen posts an hour per airline), collected per airline, with American's collection
beginning only on 22 February. Its rows labelled ``Delta`` are tweets to @JetBlue.

There is no labelled incident list, so the check is against what a reader of the hourly
counts sees (``EXPECTED``, from issue 13's measurements) and against what an incident list
must never hold (``checks``): a surge found or missed, a coverage start read as a surge, one
storm cut into many incidents, incidents with no posts or with a peak outside their span.

The CSV is converted to Uproar's own CSV shape (ids, ISO times, author handles), ingested
with the product's enrichers and run through ``detect_store`` as a user would.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from uproar.config import Brand
from uproar.errors import InputError
from uproar.records import Incident
from uproar.store import Store

# (id, name, handle, the set's ``airline`` value)
AIRLINES: tuple[tuple[str, str, str, str], ...] = (
    ("united", "United", "@united", "United"),
    ("usairways", "US Airways", "@USAirways", "US Airways"),
    ("american", "American Airlines", "@AmericanAir", "American"),
    ("southwest", "Southwest", "@SouthwestAir", "Southwest"),
    ("jetblue", "JetBlue", "@JetBlue", "Delta"),
    ("virgin", "Virgin America", "@VirginAmerica", "Virgin America"),
)


@dataclass(frozen=True, slots=True)
class Expected:
    """A surge (or reaction) a reader of the hourly counts sees, in UTC."""

    brand: str
    kind: str  # "surge" | "reaction"
    since: datetime
    until: datetime
    note: str


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


EXPECTED: tuple[Expected, ...] = (
    Expected(
        "usairways",
        "surge",
        _utc("2015-02-22T02:00"),
        _utc("2015-02-23T05:00"),
        "negative posts about 2x the same hours of earlier days all through 22 Feb (ice storm)",
    ),
    Expected(
        "southwest",
        "surge",
        _utc("2015-02-21T15:00"),
        _utc("2015-02-22T06:00"),
        "2.4x on the evening of 21 Feb",
    ),
    Expected(
        "jetblue",
        "surge",
        _utc("2015-02-22T13:00"),
        _utc("2015-02-23T00:00"),
        "2.6x on the afternoon of 22 Feb",
    ),
    Expected(
        "jetblue",
        "reaction",
        _utc("2015-02-23T18:00"),
        _utc("2015-02-23T21:00"),
        "viral reaction to JetBlue's own post ('Our fleet's on fleek'), mostly not complaints",
    ),
)


def brands() -> dict[str, Brand]:
    """The six airlines, each the others' peer."""
    ids = [a[0] for a in AIRLINES]
    return {
        bid: Brand(
            id=bid,
            name=name,
            handles=(handle,),
            keywords=(),
            peers=tuple(p for p in ids if p != bid),
        )
        for bid, name, handle, _label in AIRLINES
    }


def read_tweets(path: Path) -> tuple[list[dict[str, str]], int]:
    """The set's rows in Uproar's CSV shape, oldest first, and how many rows had no
    readable time (copies saved by spreadsheets mangle some rows; they are counted)."""
    try:
        handle = path.open(newline="", encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputError(
            f"cannot read the airline tweets: {exc.strerror}; pass the path of Tweets.csv "
            "(Twitter US Airline Sentiment, Crowdflower 2015)",
            file=str(path),
        ) from exc
    out: list[dict[str, str]] = []
    unreadable = 0
    with handle:
        reader = csv.DictReader(handle)
        need = {"text", "tweet_created", "name", "airline"}
        if reader.fieldnames is None or not need <= set(reader.fieldnames):
            raise InputError(
                f"not the airline tweets: expected columns {sorted(need)}, got {reader.fieldnames}",
                file=str(path),
                line=1,
            )
        for n, row in enumerate(reader):
            try:
                t = datetime.strptime(row["tweet_created"], "%Y-%m-%d %H:%M:%S %z")
            except (TypeError, ValueError):
                unreadable += 1
                continue
            out.append(
                {
                    # spreadsheet copies round the ids (5.70306E+17); the row number is exact
                    "id": f"{n + 1}",
                    "created_at": t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "text": row["text"],
                    "author_id": row["name"],
                    "author_handle": row["name"],
                    "repost_count": row.get("retweet_count") or "0",
                    "airline": row["airline"],
                }
            )
    out.sort(key=lambda r: (r["created_at"], int(r["id"])))
    return out, unreadable


@dataclass(frozen=True, slots=True)
class AirlineReport:
    posts: int
    unreadable: int
    incidents: tuple[Incident, ...]
    rumours: tuple[dict[str, Any], ...]
    coverage: tuple[dict[str, Any], ...]
    first_posts: dict[str, datetime]

    def found(self, e: Expected) -> bool:
        if e.kind == "reaction":
            return any(
                r["brand"] == e.brand
                and r["kind"] == "reaction"
                and e.since - timedelta(hours=1) <= _aware(r["detected_at"]) <= e.until
                for r in self.rumours
            )
        return any(
            i.brand == e.brand and i.start <= e.until and (i.end is None or i.end >= e.since)
            for i in self.incidents
        )

    def checks(self) -> dict[str, Any]:
        first_post = self.first_posts
        american = [i for i in self.incidents if i.brand == "american"]
        return {
            "expected_found": {
                f"{e.brand} {e.kind} {e.since:%d %H:%M}-{e.until:%d %H:%M}": self.found(e)
                for e in EXPECTED
            },
            "incidents": len(self.incidents),
            "american_incidents": len(american),
            "coverage_start_as_incident": sum(
                1
                for i in self.incidents
                if i.brand in first_post and i.start - first_post[i.brand] < timedelta(hours=6)
            ),
            "zero_post_incidents": sum(i.posts == 0 for i in self.incidents),
            "peak_outside_span": sum(
                not (i.start <= i.peak <= (i.end or i.peak)) for i in self.incidents
            ),
            "industry_without_peer": sum(
                i.scope == "industry" and not getattr(i, "peers", ()) for i in self.incidents
            ),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "posts": self.posts,
            "unreadable_rows": self.unreadable,
            "checks": self.checks(),
            "incidents": [
                {
                    "brand": i.brand,
                    "start": i.start,
                    "peak": i.peak,
                    "end": i.end,
                    "severity": i.severity,
                    "scope": i.scope,
                    "posts": i.posts,
                    "authors": i.authors,
                    "terms": list(i.terms),
                }
                for i in self.incidents
            ],
            "reactions": [r for r in self.rumours if r.get("kind") == "reaction"],
            "coverage": list(self.coverage),
        }


def _aware(value: Any) -> datetime:
    text = str(value).replace("Z", "+00:00")
    t = value if isinstance(value, datetime) else datetime.fromisoformat(text)
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _write(rows: list[dict[str, str]], out: Path) -> None:
    with out.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def load_airline(path: Path, store: Store, *, workdir: Path | None = None) -> dict[str, Any]:
    """Ingest the set into ``store`` with the product's enrichers; returns the brands,
    the unreadable row count and when each airline's collection began."""
    from uproar.pipeline import ingest_enrichers
    from uproar.sources import ingest

    rows, unreadable = read_tweets(path)
    if not rows:
        raise InputError("no readable tweets in the file", file=str(path))
    airlines = brands()
    first_posts = collection_starts(rows)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        csv_path = Path(tmp) / "airline.csv"
        _write(rows, csv_path)
        ingest([csv_path], store, airlines, workers=1, enrichers=ingest_enrichers())
    store.save_brands(airlines)
    return {"brands": airlines, "unreadable": unreadable, "first_posts": first_posts}


def evaluate_airline(
    path: Path, *, workdir: Path | None = None, store: Store | None = None, **detect_options: Any
) -> AirlineReport:
    """Ingest the set into a fresh in-memory store (or use ``store``, already loaded by
    ``load_airline``), detect, and report."""
    from uproar.detect.batch import detect_store

    own = store is None
    db = Store() if store is None else store
    try:
        loaded: dict[str, Any] = (
            load_airline(path, db, workdir=workdir)
            if own
            else {"brands": brands(), "unreadable": read_tweets(path)[1],
                  "first_posts": _first_posts(path)}
        )  # fmt: skip
        options = {"hourly": True, **detect_options}  # a sampled stream: see detect.scales
        result = detect_store(db, brands=loaded["brands"], save=False, **options)
    finally:
        if own:
            db.close()
    return AirlineReport(
        posts=result.posts,
        unreadable=loaded["unreadable"],
        incidents=result.incidents,
        rumours=tuple(_rumour_dicts(result)),
        coverage=tuple(_coverage_dicts(result)),
        first_posts=loaded["first_posts"],
    )


def _first_posts(path: Path) -> dict[str, datetime]:
    return collection_starts(read_tweets(path)[0])


# A day with this many rows of an airline is a day its collection ran (a handful of rows
# before that are strays; American's collection began on 22 February).
COLLECTED_DAY = 50


def collection_starts(rows: list[dict[str, str]]) -> dict[str, datetime]:
    """When each airline's collection began: its first row on the first UTC day holding at
    least ``COLLECTED_DAY`` of its rows."""
    label = {a[3]: a[0] for a in AIRLINES}
    per_day: dict[tuple[str, str], list[datetime]] = {}
    for r in rows:
        per_day.setdefault((label.get(r["airline"], ""), r["created_at"][:10]), []).append(
            _aware(r["created_at"])
        )
    out: dict[str, datetime] = {}
    for (brand, _day), times in sorted(per_day.items(), key=lambda kv: kv[0][1]):
        if brand and brand not in out and len(times) >= COLLECTED_DAY:
            out[brand] = min(times)
    return out


def _rumour_dicts(result: Any) -> Iterator[dict[str, Any]]:
    for r in result.rumours:
        yield r.as_dict()


def _coverage_dicts(result: Any) -> Iterator[dict[str, Any]]:
    for c in getattr(result, "coverage", ()):
        yield c.as_dict()
