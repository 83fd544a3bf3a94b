"""No record stops a run: each format's records, broken every way, are stored or quarantined.

A valid record per format has any of its fields replaced by a hostile value (a wrong type,
a huge number, a long text, JSON nested 250-1,100 levels deep, an impossible time). Ingest
takes it as an archive line (typed and generic parsers) and as a decoded object (the live
and HTTP path); every time the counts add up (read = stored + duplicates + quarantined +
skipped) and each quarantined record is in the table with a reason.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uproar.config import load_brands
from uproar.sources import Ingestor
from uproar.store import Store

NOW = datetime(2024, 9, 6, 12, 0, tzinfo=UTC)
FIXTURES = Path(__file__).parents[1] / "fixtures"

TEMPLATES: dict[str, dict[str, Any]] = {
    "x-v2": {
        "data": [{
            "id": "1", "text": "@KiwiNet down &amp; out", "author_id": "9",
            "created_at": "2014-09-06T10:00:00.000Z", "conversation_id": "1", "lang": "en",
            "referenced_tweets": [{"type": "replied_to", "id": "0"}],
            "entities": {"urls": [{"url": "http://t.co/x", "expanded_url": "http://e.com"}]},
            "geo": {"place_id": "p1"},
            "public_metrics": {"like_count": 1, "retweet_count": 2, "reply_count": 3},
        }],
        "includes": {
            "users": [{"id": "9", "username": "kim", "name": "Kim", "location": "Wellington",
                       "public_metrics": {"followers_count": 5}}],
            "places": [{"id": "p1", "full_name": "Wellington, NZ", "country_code": "NZ"}],
        },
    },
    "twarc": {
        "id": "2", "text": "@KiwiNet down", "created_at": "2014-09-06T10:00:00.000Z",
        "author_id": "9", "author": {"id": "9", "username": "kim"},
        "edit_history_tweet_ids": ["2"],
    },
    "x-v1": {
        "id_str": "3", "created_at": "Sat Sep 06 08:15:02 +0000 2014",
        "full_text": "@KiwiNet down", "lang": "en", "favorite_count": 1, "retweet_count": 2,
        "user": {"id_str": "9", "screen_name": "kim", "name": "Kim", "followers_count": 5,
                 "location": "Wellington"},
        "entities": {"urls": [{"expanded_url": "http://e.com"}]},
        "place": {"full_name": "Wellington", "country_code": "NZ"},
        "in_reply_to_status_id_str": "1",
        "retweeted_status": {"id_str": "0", "full_text": "orig", "user": {"screen_name": "o"}},
    },
    "mastodon": {
        "id": "4", "created_at": "2014-09-06T10:00:00.000Z",
        "content": '<p>@KiwiNet <a href="http://e.com">down</a></p>',
        "account": {"id": "9", "acct": "kim@x", "username": "kim", "display_name": "Kim",
                    "followers_count": 5},
        "language": "en", "in_reply_to_id": "1", "favourites_count": 1, "reblogs_count": 2,
        "replies_count": 3, "card": {"url": "http://c.com"},
    },
    "bluesky": {
        "did": "did:plc:x", "time_us": 1, "kind": "commit",
        "commit": {
            "rev": "r", "operation": "create", "collection": "app.bsky.feed.post", "rkey": "k",
            "record": {
                "$type": "app.bsky.feed.post", "text": "@kiwinet down",
                "createdAt": "2024-09-06T10:00:00.000Z", "langs": ["en"],
                "facets": [{"features": [{"$type": "app.bsky.richtext.facet#link",
                                          "uri": "http://e.com"}]}],
                "embed": {"external": {"uri": "http://x.com"}},
                "reply": {"parent": {"uri": "at://p"}, "root": {"uri": "at://r"}},
            },
        },
    },
}  # fmt: skip
FORMAT_OF = {"twarc": "x-v2"}


class Deep:
    """A list nested ``depth`` levels deep, written straight as bytes (no recursion)."""

    def __init__(self, depth: int) -> None:
        self.depth = depth

    def __repr__(self) -> str:
        return f"Deep({self.depth})"

    def value(self) -> list[Any]:
        inner: list[Any] = []
        for _ in range(self.depth - 1):
            inner = [inner]
        return inner


class Long(str):
    """A text just over the cap, with a short repr (hypothesis prints what it draws)."""

    def __repr__(self) -> str:
        return f"Long({len(self)})"


def places(obj: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into a JSON value."""
    if prefix:
        yield prefix
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from places(value, (*prefix, key))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            yield from places(value, (*prefix, index))


def put(obj: Any, path: tuple[Any, ...], value: Any) -> None:
    """Set ``path`` in ``obj`` if it still leads somewhere (an earlier change may cut it)."""

    def leads(obj: Any, step: Any) -> bool:
        if isinstance(obj, dict):
            return isinstance(step, str)
        return isinstance(obj, list) and isinstance(step, int) and step < len(obj)

    for step in path[:-1]:
        if not leads(obj, step) or (isinstance(obj, dict) and step not in obj):
            return
        obj = obj[step]
    if leads(obj, path[-1]):
        obj[path[-1]] = value


TIMES = [
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2014-09-06T10:00:00+99:00",
    "Sat Sep 06 08:15:02 +9999 2014", "Mon Jan 01 00:00:00 +0100 0001", "1970-01-01T00:00:00Z",
    "2030-01-01T00:00:00Z", "", "yesterday", "2014-13-45T99:99:99Z",
]  # fmt: skip
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.sampled_from([2**63, -(2**63) - 1, 2**64 - 1, 99999999999999999999])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(TIMES)
    | st.just(Long("x" * 100_001))
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=12,
)  # fmt: skip
hostile = json_values | st.sampled_from([254, 255, 300, 1000, 1024, 1100]).map(Deep)


def mutated(name: str) -> st.SearchStrategy[dict[str, Any]]:
    template = TEMPLATES[name]
    paths = list(places(template))

    def build(changes: list[tuple[tuple[Any, ...], Any]]) -> dict[str, Any]:
        record = copy.deepcopy(template)
        for path, value in changes:
            put(record, path, value)
        return record

    return st.lists(st.tuples(st.sampled_from(paths), hostile), min_size=1, max_size=3).map(build)


def as_line(record: Any) -> bytes:
    """JSON bytes of a record; a ``Deep`` becomes its brackets (deeper than json can write)."""
    deep: list[int] = []

    def default(value: Any) -> str:
        deep.append(value.depth)
        return f"@@deep{len(deep) - 1}@@"

    text = json.dumps(record, default=default, ensure_ascii=False).encode("utf-8", "surrogatepass")
    for i, depth in enumerate(deep):
        text = text.replace(f'"@@deep{i}@@"'.encode(), b"[" * depth + b"]" * depth)
    return text


def as_object(record: Any) -> Any:
    if isinstance(record, Deep):
        return record.value()
    if isinstance(record, dict):
        return {k: as_object(v) for k, v in record.items()}
    if isinstance(record, list):
        return [as_object(v) for v in record]
    return record


class Rig:
    """One store and ingestor for a whole property run; each example gets its own source."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.store = Store(":memory:")
        self.ingestor = Ingestor(
            self.store, load_brands(FIXTURES / "brands.toml"), now=NOW, workers=1
        )
        self.serial = itertools.count()

    def check(self, result: Any, source: str) -> None:
        assert result.read == (
            result.stored + result.duplicates + result.quarantined + result.skipped
        )
        rows = self.store.connection.execute(
            "SELECT count(*), count(*) FILTER (WHERE reason <> '') FROM quarantine "
            "WHERE source_file = $s",
            {"s": source},
        ).fetchone()
        assert rows == (result.quarantined, result.quarantined)
        stored = self.store.connection.execute(
            "SELECT count(*) FROM posts WHERE source_file = $s", {"s": source}
        ).fetchone()
        assert stored == (result.stored,)

    def run(self, name: str, records: list[Any]) -> None:
        n = next(self.serial)
        path = self.folder / f"{name}-{n}.jsonl"
        path.write_bytes(b"\n".join(map(as_line, records)) + b"\n")
        result = self.ingestor.ingest([path], format=FORMAT_OF.get(name, name))
        self.check(result, str(path))
        source = f"objects:{name}:{n}"
        objects = [as_object(r) for r in records]
        result = self.ingestor.ingest_objects(objects, format=FORMAT_OF.get(name, name),
                                              source=source)  # fmt: skip
        self.check(result, source)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    made = Rig(tmp_path_factory.mktemp("fuzz"))
    yield made
    made.store.close()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TEMPLATES))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_record_stops_a_run(rig: Rig, name: str, data: st.DataObject) -> None:
    records = data.draw(st.lists(mutated(name) | json_values, min_size=1, max_size=4))
    rig.run(name, [TEMPLATES[name], *records])


# The records issue 11 found stopping a run (exit 1, nothing stored or quarantined).
ISSUE_11 = [
    ("mastodon", ("account", "acct"), 123, "stored"),
    ("mastodon", ("account", "display_name"), {}, "stored"),
    ("mastodon", ("language",), ["en", "de"], "stored"),
    ("x-v1", ("entities", "urls"), 7, "stored"),
    ("x-v1", ("place", "full_name"), 1, "stored"),
    ("x-v1", ("favorite_count",), 2**64 - 1, "stored"),
    ("x-v1", ("created_at",), "Sat Sep 06 08:15:02 +9999 2014", "quarantined"),
    ("mastodon", ("created_at",), "0001-01-01T00:00:00+01:00", "quarantined"),
    ("bluesky", ("commit", "record", "facets"), 7, "stored"),
    ("bluesky", ("type",), ["com"], "stored"),
    ("x-v2", ("data", 0, "public_metrics", "like_count"), 2**64 - 1, "stored"),
    ("x-v2", ("data", 0, "lang"), Deep(255), "stored"),
    ("x-v2", ("data", 0, "lang"), Deep(600), "stored"),
    ("x-v2", ("data", 0, "lang"), Deep(1024), "quarantined"),
    ("mastodon", ("card",), Deep(300), "stored"),
    ("bluesky", ("commit", "record", "embed"), Deep(600), "stored"),
]


@pytest.mark.parametrize("name, path, value, outcome", ISSUE_11)
def test_records_that_once_stopped_a_run(
    rig: Rig, name: str, path: tuple[Any, ...], value: Any, outcome: str
) -> None:
    record = copy.deepcopy(TEMPLATES[name])
    put(record, path, value)
    n = next(rig.serial)
    line = rig.folder / f"issue11-{n}.jsonl"
    line.write_bytes(as_line(record) + b"\n")
    for source, result in (
        (str(line), rig.ingestor.ingest([line], format=FORMAT_OF.get(name, name))),
        (
            f"issue11:{n}",
            rig.ingestor.ingest_objects([as_object(record)], format=name, source=f"issue11:{n}"),
        ),
    ):
        rig.check(result, source)
        assert result.read == 1
        assert (result.quarantined == 1) == (outcome == "quarantined")
