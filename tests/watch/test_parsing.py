"""The watch's parse workers make exactly the rows, labels and quarantine the writer thread
made, and a watch with them stores what one without them stores: each post once, the
labels of the new ones, bad records quarantined with line and field, ingest times that
grow in commit order, and each piece's checkpoint inside its transaction, in order."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uproar.config import Brand, load_brands
from uproar.pipeline import ingest_enrichers
from uproar.sources.commit import Item, Unparsed, decode, parse_group
from uproar.sources.ingestor import ENRICH_COLUMNS, Ingestor
from uproar.store import Store
from uproar.watch.detection import LiveDetection
from uproar.watch.enrich import for_mentions
from uproar.watch.parsing import ParseStage
from uproar.watch.writer import IngestClock, Writer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NOW = datetime.now(UTC)


def message(n: int, kind: str) -> bytes:
    """A Jetstream message of ``kind``: a brand mention, a complaint, other chatter, a
    delete (skipped), a text that is no string, bad JSON or bad UTF-8."""
    if kind == "bad json":
        return b'{"did": "did:plc:x", "time_us": ' + str(n).encode()
    if kind == "bad utf-8":
        return b'{"did": "\xff\xfe"}'
    text: Any = {
        "mention": f"@KiwiNet thanks for the help {n}",
        "complaint": f"@KiwiNet internet down again, so frustrated {n}",
        "other": f"lovely morning in Wellington {n}",
        "no text": 12345,
    }.get(kind, "")
    at = (NOW - timedelta(seconds=n % 600)).isoformat().replace("+00:00", "Z")
    commit: dict[str, Any] = {
        "rev": f"r{n}",
        "operation": "delete" if kind == "delete" else "create",
        "collection": "app.bsky.feed.post",
        "rkey": f"e{n}",
        "record": {"$type": "app.bsky.feed.post", "text": text, "createdAt": at},
    }
    return orjson.dumps({"did": f"did:plc:a{n}", "time_us": n, "kind": "commit", "commit": commit})


KINDS = ["mention", "complaint", "other", "delete", "no text", "bad json", "bad utf-8"]


def items(kinds: list[str], first: int = 1) -> list[Item]:
    return [decode(k, message(first + k - 1, kind)) for k, kind in enumerate(kinds, 1)]


@pytest.fixture(scope="module")
def stage() -> Iterator[ParseStage]:
    with Store(":memory:") as store:
        brands = load_brands(FIXTURES / "brands.toml")
        ingestor = Ingestor(store, brands, enrichers=for_mentions(ingest_enrichers()))
        parse = ParseStage(ingestor, workers=1)
        parse.wait()
        yield parse
        parse.close()


def _table(table: pa.Table, drop: str) -> list[dict[str, Any]]:
    return table.drop_columns([drop]).to_pylist()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.lists(st.sampled_from(KINDS), min_size=1, max_size=12), min_size=1, max_size=4))
def test_workers_make_what_the_writer_made(stage: ParseStage, pieces: list[list[str]]) -> None:
    ingestor = stage.ingestor
    parser = ingestor.live_parser
    parser.now = datetime.now(UTC).replace(tzinfo=None)
    group = [
        Unparsed(f"ws://test#run/{k}", "bluesky", items(kinds, first=100 * k))
        for k, kinds in enumerate(pieces)
    ]
    here = parse_group(parser, group)
    there = stage.parse(parser, [stage.submit(u) for u in group])
    (labeller,) = ingestor.labellers
    for mine, theirs in zip(here, there, strict=True):
        a, b = mine.chunk, theirs.chunk
        assert (theirs.source, theirs.format, theirs.raws) == (mine.source, mine.format, mine.raws)
        # the writer stamps the group's ingest time on both
        assert a.posts.to_pylist() == b.posts.to_pylist()
        assert _table(a.quarantine, "quarantined_at") == _table(b.quarantine, "quarantined_at")
        assert (a.read, a.skipped, a.errors) == (b.read, b.skipped, b.errors)
        # labelled where parsed, brand mentions only, as the writer labels them
        expected = labeller.label(a.posts.select(ENRICH_COLUMNS)).to_pylist()
        assert [t.to_pylist() for t in b.labels] == ([expected] if b.posts.num_rows else [])
    bad = [row for p in there for row in p.chunk.quarantine.to_pylist()]
    expected = sum(
        kind in ("no text", "bad json", "bad utf-8") for kinds in pieces for kind in kinds
    )
    assert len(bad) == expected
    assert all(row["source_file"].startswith("ws://test#run/") and row["line"] >= 1 for row in bad)
    assert all(row["field"] == "commit.record.text" for row in bad if row["kind"] == "wrong type")


def _watch(db: Path, brands: dict[str, Brand], pieces: list[list[Item]], workers: int) -> list[int]:
    """Write ``pieces`` (the first one twice: a replay after a reconnection) through a
    watch's writer; the order its checkpoints ran in."""
    ran: list[int] = []

    async def run() -> None:
        with Store(db) as store:
            ingestor = Ingestor(
                store,
                brands,
                enrichers=for_mentions(ingest_enrichers()),
                clock=IngestClock(),
            )
            writer = Writer(ingestor, LiveDetection(store, brands), parse_workers=workers)
            writer.start()
            for k, piece in enumerate([*pieces, pieces[0]]):
                if k == len(pieces) // 2 and writer.stage is not None:
                    # the first pieces went to the writer while the workers were starting
                    # (or to the first of them up); the rest go to the workers
                    await asyncio.to_thread(writer.stage.wait)
                unparsed = Unparsed(
                    f"ws://test#run/{k}", "bluesky", piece, checkpoint=lambda k=k: ran.append(k)
                )
                await writer.submit(unparsed)
            while writer.pending:
                await asyncio.sleep(0.05)
            await asyncio.to_thread(writer.close)
            writer.raise_failure()

    asyncio.run(run())
    return ran


@pytest.mark.slow
def test_a_watch_with_workers_stores_what_one_without_stores(
    tmp_path: Path, brands: dict[str, Brand]
) -> None:
    kinds = [KINDS[n % len(KINDS)] for n in range(600)]
    pieces = [items(kinds[k : k + 60], first=k + 1) for k in range(0, 600, 60)]
    tables: dict[int, dict[str, list[tuple[Any, ...]]]] = {}
    for workers in (0, 1):
        db = tmp_path / f"w{workers}.duckdb"
        ran = _watch(db, brands, pieces, workers)
        assert ran == list(range(len(pieces) + 1))  # each in its transaction, in order
        with Store(db) as store:
            sql = store.connection.execute
            tables[workers] = {
                "posts": sql(
                    "SELECT * EXCLUDE (ingested_at) FROM posts ORDER BY source_file, source_line"
                ).fetchall(),
                "labels": sql("SELECT * FROM labels ORDER BY platform, id").fetchall(),
                "quarantine": sql(
                    "SELECT * EXCLUDE (quarantined_at) FROM quarantine ORDER BY ALL"
                ).fetchall(),
                # one ingest time per transaction, growing as they committed
                "times": sql(
                    "SELECT min(ingested_at) = max(ingested_at), min(ingested_at) FROM posts "
                    "GROUP BY source_file ORDER BY split_part(source_file, '/', -1)::INT"
                ).fetchall(),
            }
    before, after = tables[0], tables[1]
    assert len(after["posts"]) == sum(k in ("mention", "complaint", "other") for k in kinds)
    assert after["posts"] == before["posts"]
    assert after["labels"] == before["labels"]
    assert len(after["labels"]) == sum(k in ("mention", "complaint") for k in kinds)
    assert after["quarantine"] == before["quarantine"]
    broken = ("no text", "bad json", "bad utf-8")
    # the replayed piece's bad records are quarantined again, under its own name
    assert len(after["quarantine"]) == sum(k in broken for k in [*kinds, *kinds[:60]])
    times = after["times"]
    assert all(same for same, _ in times)
    assert [t for _, t in times] == sorted(t for _, t in times)
