"""Publishing and consuming through a real NATS JetStream server on loopback."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from uproar.bus import MemberLimits, check_stores, consume, parse_bus_url, publish_files
from uproar.cli.app import get_app
from uproar.config import Brand
from uproar.errors import BusError
from uproar.sources import Ingestor
from uproar.store import Store

from .broker import free_port

QUICK = MemberLimits(lease=2, max_idle=1.5, detect=False)


def reference_posts(path: Path, brands: dict[str, Brand]) -> int:
    with Store(":memory:") as store:
        return Ingestor(store, brands).ingest([path]).stored


@pytest.mark.slow
def test_one_member_stores_every_post_once_and_redelivery_is_harmless(
    nats_host: str, two_industries: tuple[Path, Path], two_brands: dict[str, Brand], tmp_path: Path
) -> None:
    stream, _ = two_industries
    address = parse_bus_url(f"nats://{nats_host}/once?partitions=4")
    first = asyncio.run(publish_files(address, [stream], brands=two_brands))
    again = asyncio.run(publish_files(address, [stream], brands=two_brands))  # the log repeats
    assert first.posts == again.posts == reference_posts(stream, two_brands)
    stores = tmp_path / "stores"
    totals = asyncio.run(
        consume(address, stores=stores, group="g", brands=two_brands, limits=QUICK)
    )
    assert totals.ingested.stored == first.posts
    assert totals.ingested.duplicates == first.posts  # the repeat met the post keys
    assert sorted(totals.gained) == [0, 1, 2, 3]
    check = check_stores(stores, stream="once")
    assert (check.posts, check.duplicates) == (first.posts, 0)
    assert all(check.cursors[p] is not None for p, n in check.partitions.items() if n)
    # Each brand's posts, with its peers', are in one partition's store.
    for path in stores.iterdir():
        with Store(path, read_only=True) as store:
            own = set(store.load_brands())
            seen = {b for row in store.posts_arrow(columns=("brands",)).to_pylist()
                    for b in row["brands"]}  # fmt: skip
            assert seen <= own or not own

    # A member that comes back carries on after the stores' cursors: nothing is re-read.
    later = asyncio.run(consume(address, stores=stores, group="g", brands=two_brands, limits=QUICK))
    assert (later.messages, later.ingested.stored) == (0, 0)
    # Another group reads the whole log again, into its own stores.
    other = asyncio.run(
        consume(address, stores=tmp_path / "other", group="h", brands=two_brands, limits=QUICK)
    )
    assert other.ingested.stored == first.posts


def test_quarantined_records_travel_with_the_posts(
    nats_host: str, two_industries: tuple[Path, Path], two_brands: dict[str, Brand], tmp_path: Path
) -> None:
    stream, _ = two_industries
    lines = stream.read_bytes().splitlines()[:5]
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"\n".join([lines[0], b'{"data": [{"id": 1', lines[1]]) + b"\n")
    address = parse_bus_url(f"nats://{nats_host}/bad?partitions=2")
    sent = asyncio.run(publish_files(address, [bad], brands=two_brands))
    assert sent.quarantined == 1
    stores = tmp_path / "stores"
    asyncio.run(consume(address, stores=stores, group="g", brands=two_brands, limits=QUICK))
    check = check_stores(stores)
    assert (check.quarantined, check.posts) == (1, sent.posts)


def test_a_stream_keeps_its_partition_count(nats_host: str, two_brands: dict[str, Brand]) -> None:
    asyncio.run(publish_files(parse_bus_url(f"nats://{nats_host}/fixed?partitions=3"), [],
                              brands=two_brands))  # fmt: skip
    with pytest.raises(BusError, match="has 3 partitions, not 5"):
        asyncio.run(
            publish_files(
                parse_bus_url(f"nats://{nats_host}/fixed?partitions=5"), [], brands=two_brands
            )
        )


def test_an_unreachable_bus_is_a_loud_error(two_brands: dict[str, Brand]) -> None:
    address = parse_bus_url(f"nats://127.0.0.1:{free_port()}/s")
    with pytest.raises(BusError, match=r"cannot reach NATS .*nats-server -js"):
        asyncio.run(publish_files(address, [], brands=two_brands))


@pytest.mark.slow
def test_cli_publish_consume_check(
    nats_host: str, two_industries: tuple[Path, Path], tmp_path: Path
) -> None:
    stream, brands = two_industries
    runner = CliRunner()
    app = get_app()
    url = f"nats://{nats_host}/cli?partitions=2"
    out = runner.invoke(app, ["bus", "publish", str(stream), "--bus", url, "--brands",
                              str(brands), "--json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    posts = json.loads(out.stdout)["posts"]
    stores = tmp_path / "stores"
    out = runner.invoke(app, ["bus", "consume", "--bus", url, "--stores", str(stores),
                              "--group", "cli", "--brands", str(brands), "--lease", "2",
                              "--max-idle", "3", "--json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["stored"] == posts
    out = runner.invoke(app, ["bus", "check", "--stores", str(stores), "--stream", "cli",
                              "--json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert (result["posts"], result["duplicate_posts"]) == (posts, 0)
    # No --brands: a loud error, not a member that routes nothing.
    out = runner.invoke(app, ["bus", "publish", str(stream), "--bus", url, "--json"])
    assert out.exit_code != 0 and "--brands FILE is needed" in out.stdout


@pytest.mark.slow
def test_watch_bus_consumes_as_one_member(
    nats_host: str, two_industries: tuple[Path, Path], tmp_path: Path
) -> None:
    stream, brands = two_industries
    config = tmp_path / "watch.toml"
    # (watch.toml must name a listener; with --bus the member consumes instead of listening)
    config.write_text(f'brands = {str(brands)!r}\n[[rss]]\nurl = "https://news.example/rss"\n')
    url = f"nats://{nats_host}/watch?partitions=2"
    runner = CliRunner()
    app = get_app()
    out = runner.invoke(app, ["bus", "publish", str(stream), "--bus", url, "--brands",
                              str(brands), "--json"])  # fmt: skip
    posts = json.loads(out.stdout)["posts"]
    stores = tmp_path / "stores"
    member = ["--bus", url, "--stores", str(stores), "--group", "w", "--max-seconds", "12"]
    out = runner.invoke(app, ["watch", "--config", str(config), *member, "--json"])
    assert out.exit_code == 0, out.output
    stored = json.loads(out.stdout)["stored"]
    assert stored > 0 and check_stores(stores).posts == stored
    # `uproar bus consume` in the same group carries on where the watch member stopped.
    out = runner.invoke(app, ["bus", "consume", *member[:6], "--brands", str(brands),
                              "--max-idle", "3", "--json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    check = check_stores(stores)
    assert (check.posts, check.duplicates) == (posts, 0)
    out = runner.invoke(app, ["watch", "--config", str(config), "--bus", url, "--json"])
    assert out.exit_code != 0 and "--bus needs --stores DIR" in out.stdout


def test_a_live_source_piped_in_is_published_as_it_comes(
    nats_host: str, two_industries: tuple[Path, Path], tmp_path: Path
) -> None:
    stream, brands = two_industries
    pages = [*stream.read_bytes().splitlines(keepends=True)[:6], b"{not json\n"]
    url = f"nats://{nats_host}/piped?partitions=2"
    out = CliRunner().invoke(
        get_app(),
        [
            "bus",
            "publish",
            "-",
            "--format",
            "x-v2",
            "--bus",
            url,
            "--brands",
            str(brands),
            "--json",
        ],
        input=b"".join(pages),
    )
    assert out.exit_code == 0, out.output
    sent = json.loads(out.stdout)
    assert sent["posts"] > 0 and sent["quarantined"] == 1
    out = CliRunner().invoke(
        get_app(),
        ["bus", "publish", "-", "--format", "auto", "--bus", url, "--brands", str(brands)],
        input=b"",
    )
    assert out.exit_code != 0 and "JSON Lines format" in out.output
