"""Hostile-archive benchmark: how long ingest takes on archives built to exhaust it.

    python bench/hostile.py               # every case, each in its own process
    python bench/hostile.py --timeout 60  # give up on a case after 60 s (old code)

Cases (issue 11): a 1 MB gzip of 1 GiB with no newline, a 4 MB gzip of 4 GiB of blank
lines, a plain 64 MiB line, and 100,000 blank lines around one good post. The gzip files
are concatenated gzip members (a 1 MiB block compressed once, repeated), so they take no
time to build. Each case prints wall time, peak RSS and what ingest said: its counts, or
its error. Prints one line per case and a summary line.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOOD = (
    b'{"data":{"id":"1","text":"@KiwiNet down?","author_id":"9",'
    b'"created_at":"2014-09-06T10:00:00.000Z"}}'
)


def bomb(path: Path, block: bytes, times: int) -> Path:
    member = gzip.compress(block, compresslevel=9)
    with path.open("wb") as out:
        for _ in range(times):
            out.write(member)
    return path


def build(folder: Path) -> dict[str, Path]:
    mib = 1 << 20
    long_line = folder / "long-line.jsonl"
    with long_line.open("wb") as out:
        out.write(GOOD + b"\n" + b"x" * (64 * mib) + b"\n" + GOOD.replace(b'"1"', b'"2"') + b"\n")
    blanks = folder / "blanks.jsonl"
    blanks.write_bytes(b"\n" * 50_000 + GOOD + b"\n" * 50_000)
    return {
        "gzip 1 GiB no newline": bomb(folder / "no-newline.jsonl.gz", b"a" * mib, 1024),
        "gzip 4 GiB blank lines": bomb(folder / "blank-lines.jsonl.gz", b"\n" * mib, 4096),
        "plain 64 MiB line": long_line,
        "100k blank lines": blanks,
    }


CHILD = """
import json, resource, sys, time
from uproar.errors import UproarError
from uproar.sources import ingest
from uproar.store import Store
start = time.perf_counter()
with Store(":memory:") as store:
    try:
        r = ingest([sys.argv[1]], store, {}, workers=1)
        said = {k: v for k, v in r.as_dict().items() if k != "files"}
    except UproarError as exc:
        said = {"error": exc.message}
said["seconds"] = round(time.perf_counter() - start, 2)
said["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(json.dumps(said))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=120.0, help="Seconds per case.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cases = build(Path(tmp))
        worst = 0.0
        for name, path in cases.items():
            size = path.stat().st_size
            start = time.perf_counter()
            try:
                done = subprocess.run(
                    [sys.executable, "-c", CHILD, str(path)],
                    capture_output=True,
                    text=True,
                    timeout=args.timeout,
                )
                lines = done.stdout.strip().splitlines()
                said = (
                    json.loads(lines[-1])
                    if done.returncode == 0 and lines
                    else {"crashed": (done.stderr.strip().splitlines() or ["?"])[-1][:160]}
                )
            except subprocess.TimeoutExpired:
                said = {"timed_out": f"> {args.timeout:.0f} s"}
            wall = time.perf_counter() - start
            worst = max(worst, wall)
            print(f"{name} ({size:,} bytes on disk): {wall:.1f} s wall, {json.dumps(said)}")
        print(f"hostile: {len(cases)} archives, slowest {worst:.1f} s")


if __name__ == "__main__":
    main()
