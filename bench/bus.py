"""Bus benchmark: throughput per group member through the stream backbone.

    python bench/bus.py                  # 8 brands simulated (about 23k posts), 1 and 2 members
    python bench/bus.py --scale 4 --members 1 2 4
    python bench/bus.py --archive big.jsonl --brands brands.toml --bus nats://host:4222/s

Posts are published once (parsed and brand-matched, keyed by peer group) to a stream of
``--partitions`` partitions; then, for each member count, that many ``uproar bus consume``
processes (a fresh group, fresh stores, the classifier on as in production, detection off)
read the whole stream. A member's rate is its posts over its busy time (first message to
last write); the group's rate is all posts over the span from the first member's first
message to the last member's last write. The reference is ``uproar ingest`` of the same file
into one store, with the same classifier, in this process. Without ``--bus`` a NATS
JetStream server is started on loopback (Debian's nats-server).

The simulated stream has eight brands with no peers, chosen so that each partition holds
two of them: the work can be split (a brand and its peers always share a partition).

``measure(...)`` returns the figures as a dict (bench/scale.py imports it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))

from uproar.bus import check_stores, parse_bus_url, partition_of, publish_files  # noqa: E402
from uproar.bus.local import local_nats  # noqa: E402
from uproar.config import load_brands  # noqa: E402
from uproar.pipeline import ingest_enrichers  # noqa: E402
from uproar.simulate import load_scenario, simulate  # noqa: E402
from uproar.sources import Ingestor  # noqa: E402
from uproar.store import Store  # noqa: E402

BIRDS = ("kea", "kaka", "tui", "weka", "ruru", "huia", "moa", "kiwi", "titi", "hoiho",
         "pukeko", "takahe", "kereru", "toroa", "kokako", "piwakawaka", "riroriro")  # fmt: skip


def _scenario(folder: Path, partitions: int, per_partition: int = 2) -> Path:
    """A scenario file: brands with no peers, ``per_partition`` in each partition."""
    chosen: dict[int, list[str]] = {p: [] for p in range(partitions)}
    for bird in BIRDS:
        bid = f"{bird}net"
        home = chosen[partition_of(bid, partitions)]
        if len(home) < per_partition:
            home.append(bid)
    lines = ['[scenario]\nname = "bench-bus"\nstart = "2014-10-06T11:00:00Z"\ndays = 3\n'
             'seed = 5\ndispersion = 25\n']  # fmt: skip
    for bid in sorted(b for group in chosen.values() for b in group):
        lines.append(
            f'[brands.{bid}]\nname = "{bid.title()}"\nhandles = ["@{bid}"]\n'
            f'keywords = ["{bid}"]\nregions = ["NZ"]\nindustry = "telco"\n'
            f'timezone = "Pacific/Auckland"\nmentions_per_hour = 40\ncomplaint_share = 0.25\n'
        )
    path = folder / "bench-bus.toml"
    path.write_text("\n".join(lines))
    return path


@contextmanager
def _backbone(url: str | None, folder: Path) -> Iterator[str]:
    """The bus URL's servers, or a local JetStream server's."""
    if url is not None:
        yield url
        return
    with local_nats(folder / "jetstream") as host:
        yield f"nats://{host}"


def _members(
    count: int, url: str, stores: Path, brands: Path, group: str, idle: float
) -> list[dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    command = [sys.executable, "-m", "uproar.cli", "bus", "consume", "--bus", url,
               "--stores", str(stores), "--group", group, "--brands", str(brands),
               "--max-idle", str(idle), "--no-detect", "--json"]  # fmt: skip
    processes = [
        subprocess.Popen([*command, "--member", f"{group}-{i}"], env=env, stdout=subprocess.PIPE)
        for i in range(count)
    ]
    results = []
    for process in processes:
        out, _ = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"a member failed (exit {process.returncode})")
        results.append(json.loads(out))
    return results


def measure(
    *,
    archive: Path | None = None,
    brands: Path | None = None,
    scale: float = 1.0,
    members: Sequence[int] = (1, 2),
    partitions: int = 4,
    url: str | None = None,
    idle: float = 20.0,
    reference: bool = True,
) -> dict[str, Any]:
    """Publish ``archive`` (default: eight brands simulated at ``scale``) and consume it with each
    count of ``members``; returns posts/s figures per run and for the embedded reference."""
    with tempfile.TemporaryDirectory(prefix="uproar-bench-bus-") as tmp:
        folder = Path(tmp)
        if archive is None:
            scenario = load_scenario(_scenario(folder, partitions))
            result = simulate(scenario, folder / "stream.jsonl", seed=1, scale=scale)
            archive, brands = folder / "stream.jsonl", result.brands_path
        if brands is None:
            raise ValueError("an archive needs its brands file")
        brand_map = load_brands(brands)
        figures: dict[str, Any] = {"archive": str(archive), "partitions": partitions}
        with _backbone(url, folder) as base:
            stream = f"bench-{os.getpid()}-{int(time.time())}"
            address = parse_bus_url(f"{base}/{stream}?partitions={partitions}")
            started = time.perf_counter()
            sent = asyncio.run(publish_files(address, [archive], brands=brand_map))
            publish_s = time.perf_counter() - started
            figures.update(
                backbone=address.scheme,
                posts=sent.posts,
                messages=sent.messages,
                publish_s=round(publish_s, 2),
                publish_posts_per_s=round(sent.posts / publish_s),
                runs=[],
            )
            for count in members:
                stores = folder / f"stores-{count}"
                totals = _members(count, address.url, stores, brands, f"g{count}", idle)
                check = check_stores(stores)
                if (check.posts, check.duplicates) != (sent.posts, 0):
                    raise RuntimeError(f"{count} members stored {check.posts} posts, "
                                       f"{check.duplicates} twice, of {sent.posts}")  # fmt: skip
                span = max(t["last_write_at"] for t in totals if t["last_write_at"]) - min(
                    t["first_message_at"] for t in totals if t["first_message_at"]
                )
                per_member = [
                    round(t["stored"] / (t["last_write_at"] - t["first_message_at"]))
                    for t in totals
                    if t["stored"] and t["last_write_at"] and t["first_message_at"]
                ]
                figures["runs"].append(
                    {
                        "members": count,
                        "seconds": round(span, 2),
                        "group_posts_per_s": round(sent.posts / span),
                        "member_posts_per_s": per_member,
                        "stored_per_member": [t["stored"] for t in totals],
                    }
                )
        if reference:
            with Store(folder / "reference.duckdb") as store:
                ingestor = Ingestor(store, brand_map, enrichers=ingest_enrichers())
                started = time.perf_counter()
                stored = ingestor.ingest([archive]).stored
                seconds = time.perf_counter() - started
            figures["embedded"] = {"seconds": round(seconds, 2),
                                   "posts_per_s": round(stored / seconds)}  # fmt: skip
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", type=Path)
    parser.add_argument("--brands", type=Path)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--members", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--bus", help="an existing backbone (nats://... or kafka://...)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = measure(
        archive=args.archive, brands=args.brands, scale=args.scale, members=args.members,
        partitions=args.partitions, url=args.bus,
    )  # fmt: skip
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    embedded = figures.get("embedded", {}).get("posts_per_s")
    print(f"publish: {figures['posts']:,} posts in {figures['messages']} messages, "
          f"{figures['publish_posts_per_s']:,} posts/s ({figures['backbone']})")  # fmt: skip
    for run in figures["runs"]:
        ratio = f", {run['group_posts_per_s'] / embedded:.2f}x embedded ingest" if embedded else ""
        print(f"bus: {run['members']} member(s), {figures['posts']:,} posts in "
              f"{run['seconds']}s, group {run['group_posts_per_s']:,} posts/s, per member "
              f"{run['member_posts_per_s']} posts/s{ratio}")  # fmt: skip
    if embedded:
        print(f"embedded: uproar ingest {figures['posts']:,} posts, {embedded:,} posts/s")


if __name__ == "__main__":
    main()
