"""The typed X v2 decoder stores exactly what the generic parser stores, or steps aside.

``ChunkParser.parse_lines`` takes well-formed X v2 pages through msgspec; every other line
goes through ``x_v2.records``. Both ways must give the same rows (every column; ``raw`` the
same JSON value, as the typed path keeps a record's ``\\u`` escapes), the same quarantine and
the same counts.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uproar.config import Brand
from uproar.sources import x_v2
from uproar.sources.ingestor import Chunk, ChunkParser

NOW = datetime(2026, 1, 1)


def both(parser: ChunkParser, lines: list[bytes]) -> tuple[Chunk, Chunk]:
    return (
        parser.parse_lines("src.jsonl", "x-v2", 1, lines),
        parser.parse_lines("src.jsonl", "x-v2", 1, lines, fast=False),
    )


def assert_same(fast: Chunk, generic: Chunk) -> None:
    assert fast.posts.schema == generic.posts.schema
    for name in fast.posts.column_names:
        if name == "raw":  # the typed path keeps a record's own escapes: the same JSON value
            fast_raw = [orjson.loads(r) for r in fast.posts[name].to_pylist()]
            assert fast_raw == [orjson.loads(r) for r in generic.posts[name].to_pylist()]
            continue
        assert fast.posts[name].to_pylist() == generic.posts[name].to_pylist(), name
    assert fast.quarantine.equals(generic.quarantine)
    assert (fast.read, fast.skipped, fast.errors) == (generic.read, generic.skipped, generic.errors)


@pytest.fixture
def parser(brands: dict[str, Brand]) -> ChunkParser:
    return ChunkParser(brands, NOW)


@pytest.mark.parametrize("name", ["x_v2_page.jsonl", "twarc2_flat.jsonl", "bad.jsonl"])
def test_fixtures_parse_the_same_both_ways(fixtures: Path, parser: ChunkParser, name: str) -> None:
    lines = (fixtures / name).read_bytes().split(b"\n")
    fast, generic = both(parser, lines)
    assert_same(fast, generic)
    assert fast.posts.num_rows > 0


def test_the_typed_decoder_takes_well_formed_pages(fixtures: Path) -> None:
    for name in ("x_v2_page.jsonl", "twarc2_flat.jsonl"):
        for line in (fixtures / name).read_bytes().splitlines():
            assert x_v2.typed_rows(line) is not None, name


def test_simulated_archive_parses_the_same_both_ways(tmp_path: Path) -> None:
    from uproar.config import load_brands
    from uproar.simulate import load_scenario, simulate

    result = simulate(load_scenario("isp-2014"), tmp_path / "sim.jsonl", seed=3, scale=0.02)
    lines = result.out.read_bytes().split(b"\n")
    assert all(x_v2.typed_rows(line) is not None for line in lines if line)
    fast, generic = both(ChunkParser(load_brands(result.brands_path), NOW), lines)
    assert fast.posts.num_rows == result.posts
    assert_same(fast, generic)


def page_line(fixtures: Path) -> dict[str, Any]:
    page: dict[str, Any] = orjson.loads((fixtures / "x_v2_page.jsonl").read_bytes().split(b"\n")[0])
    return page


@pytest.mark.parametrize(
    "encode",
    [
        lambda page: json.dumps(page).encode(),  # Python's default: spaces, \\u escapes
        lambda page: json.dumps(page, indent=None, ensure_ascii=False).encode(),
        lambda page: json.dumps(page, separators=(",", ":")).encode(),
        lambda page: json.dumps(page, separators=(",", ": ")).encode(),
        lambda page: json.dumps(page, separators=(", ", ":")).encode(),
        lambda page: json.dumps(page, indent=1).replace("\n", "").encode(),
    ],
    ids=["json.dumps", "unicode", "compact-ascii", "colon-space", "comma-space", "indented"],
)
def test_other_writers_spacing_and_escapes(
    fixtures: Path, parser: ChunkParser, encode: Any
) -> None:
    page = page_line(fixtures)
    page["data"][0]["text"] = 'caf\u00e9 \U0001f600 a/b "quoted", \\ tab\t @KiwiNet'
    page["includes"]["users"][0]["name"] = "Mära \u2603"
    assert_same(*both(parser, [encode(page)]))


@pytest.mark.parametrize(
    "source",
    [
        "\\ud800 alone",  # a high surrogate with no pair
        "\\udc00 alone",  # a low one
        "pair \\ud83d\\ude00 then \\ude00",  # a pair, then a low one on its own
        "\\\\ud83d\\ude00",  # an escaped backslash, then a low surrogate alone
    ],
)
def test_escaped_records_keep_their_escapes_unless_unreadable(
    fixtures: Path, parser: ChunkParser, source: str
) -> None:
    """twarc2's escapes stay in ``raw``; a field the typed decoder skips that holds a lone
    surrogate (which orjson refuses) is judged by the generic path, as before."""
    page = page_line(fixtures)
    page["data"][0]["text"] = "caf\u00e9 \U0001f600 @KiwiNet"
    line = json.dumps(page).encode().replace(b'"lang"', f'"source":"{source}","lang"'.encode(), 1)
    fast, generic = both(parser, [line])
    assert_same(fast, generic)
    assert fast.posts.num_rows < len(page["data"])  # the line was quarantined, both ways
    kept = both(parser, [json.dumps(page).encode()])[0].posts["raw"].to_pylist()
    assert "\\ud83d\\ude00" in kept[0]  # the record's own escapes, kept


def test_floats_and_unusual_values(fixtures: Path, parser: ChunkParser) -> None:
    page = page_line(fixtures)
    tweets = page["data"]
    tweets[0]["geo"]["coordinates"] = {"type": "Point", "coordinates": [174.76, -36.85]}
    tweets[1]["id"] = 508170199999999998  # an integer id
    tweets[2]["public_metrics"]["like_count"] = True  # not a count
    page["includes"]["places"][0]["geo"] = {"bbox": [174.6, -37.1, 175.3, -36.6]}
    assert_same(*both(parser, [orjson.dumps(page)]))


@pytest.mark.parametrize(
    "line",
    [
        b'{"data":[{"id":"1","text":"a","created_at":"2014-09-06T10:00:00,5Z","author_id":"1"}]}',
        b'{"data":[{"id":"1","text":"a","created_at":"20140906T100000Z","author_id":"1"}]}',
        b'{"data":[{"id":"","text":"a","created_at":"2014-09-06T10:00:00Z","author_id":"1"}]}',
        b'{"data":[{"id":"1","text":"a","created_at":"2014-09-06T10:00:00Z"}]}',
        b'{"data":[{"id":"1","text":"a","created_at":"2014-09-06T10:00:00Z","author_id":"1"}],'
        b'"meta":{"note":"\xff"}}',
        b'{"data":[{"id":"1","text":"a","created_at":"2014-09-06T10:00:00Z","author_id":"1"}],'
        b'"includes":{"users":[{"id":"1","username":"u"},{"name":"no id"}]}}',
        b'{"data":[],"includes":{}}',
        b'{"errors":[{"title":"Not Found Error"}]}',
        b"[1, 2]",
        b"   ",
    ],
)
def test_lines_the_typed_decoder_declines(parser: ChunkParser, line: bytes) -> None:
    assert_same(*both(parser, [line]))


@pytest.mark.parametrize(
    "where",
    [b'"bbox":[1e400,0]', b'"coordinates":{"coordinates":[1e400,0]}'],
    ids=["place", "tweet"],
)
def test_numbers_orjson_cannot_read(fixtures: Path, parser: ChunkParser, where: bytes) -> None:
    line = (fixtures / "x_v2_page.jsonl").read_bytes().split(b"\n")[0]
    if where.startswith(b'"bbox"'):  # in the expanded place
        line = line.replace(b'"country_code":', where + b',"country_code":', 1)
    else:  # in the first tweet's geo, beside its place id
        line = line.replace(b'"geo":{', b'"geo":{' + where + b",", 1)
    assert where in line
    fast, generic = both(parser, [line])
    assert_same(fast, generic)
    assert generic.quarantine.column("kind").to_pylist() == ["invalid JSON"]


def test_integers_beyond_64_bits(fixtures: Path, parser: ChunkParser) -> None:
    page = page_line(fixtures)
    page["data"][0]["id"] = 2**64  # orjson reads it as a float: a wrong-type id
    page["data"][1]["public_metrics"]["like_count"] = -(2**63) - 1
    assert_same(*both(parser, [json.dumps(page).encode()]))


# Values a tweet's fields might hold in hostile input. Floats and integers beyond 64 bits
# are kept out of fields Uproar does not read: orjson rewrites their text inside ``raw``
# (1e+16 becomes 1e16) where the typed path keeps the source's bytes; X sends neither.
scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text()
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
fields = st.sampled_from(
    ["id", "text", "created_at", "author_id", "author", "conversation_id", "lang", "geo",
     "referenced_tweets", "entities", "public_metrics", "username", "name", "full_name",
     "country_code", "place_id", "extra"]
)  # fmt: skip
# Which record a change lands in: a tweet, an expanded user or the expanded place.
targets = st.sampled_from(
    [("data", 0), ("data", 1), ("data", 2), ("users", 0), ("users", 1), ("places", 0)]
)
# The fields the typed decoder reads (a float there makes it step aside).
READ = {
    "data": {"id", "text", "created_at", "author_id", "author", "conversation_id", "lang",
             "geo", "referenced_tweets", "entities", "public_metrics"},
    "users": {"id", "username", "name", "public_metrics"},
    "places": {"id", "full_name", "country_code"},
}  # fmt: skip
writers = st.sampled_from([orjson.dumps, lambda page: json.dumps(page).encode()])


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(targets, fields, values | st.floats()), max_size=3), writers)
def test_hostile_fields_parse_the_same_both_ways(
    fixtures: Path,
    parser: ChunkParser,
    changes: list[tuple[tuple[str, int], str, Any]],
    write: Any,
) -> None:
    page = page_line(fixtures)
    for (where, index), key, value in changes:
        if key in READ[where] or not isinstance(value, float):
            record = page["data"] if where == "data" else page["includes"][where]
            record[index][key] = value
    line = write(page)
    try:
        generic = parser.parse_lines("src.jsonl", "x-v2", 1, [line], fast=False)
    except (pa.ArrowException, OverflowError) as exc:  # the typed path fails alike
        with pytest.raises(type(exc)):
            parser.parse_lines("src.jsonl", "x-v2", 1, [line])
        return
    assert_same(parser.parse_lines("src.jsonl", "x-v2", 1, [line]), generic)
