"""Checking a group's stores together: every post once across the partition files, every
incident once, and where each partition's cursor stands."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from uproar.errors import InputError
from uproar.records import Incident
from uproar.store import Store
from uproar.store.detect import load_incidents

PARTITION_FILE = re.compile(r"partition-(\d+)\.duckdb")


@dataclass(slots=True)
class StoresCheck:
    """The union of a group's partition stores."""

    partitions: dict[int, int] = field(default_factory=dict)  # partition -> posts
    posts: int = 0  # rows, all files together
    unique: int = 0  # distinct (platform, id) across the files
    quarantined: int = 0
    cursors: dict[int, int | None] = field(default_factory=dict)
    incidents: list[Incident] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return self.posts - self.unique

    @property
    def incident_duplicates(self) -> int:
        """Incidents of one brand starting at the same minute in two stores."""
        seen = Counter((i.brand, i.start.replace(second=0, microsecond=0)) for i in self.incidents)
        return sum(n - 1 for n in seen.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "partitions": len(self.partitions),
            "posts": self.posts,
            "unique_posts": self.unique,
            "duplicate_posts": self.duplicates,
            "quarantined": self.quarantined,
            "incidents": len(self.incidents),
            "duplicate_incidents": self.incident_duplicates,
            "posts_per_partition": {str(k): v for k, v in sorted(self.partitions.items())},
        }


def partition_files(directory: Path) -> dict[int, Path]:
    if not directory.is_dir():
        raise InputError("no such folder of partition stores", file=str(directory))
    found = {
        int(m.group(1)): path
        for path in sorted(directory.iterdir())
        if (m := PARTITION_FILE.fullmatch(path.name))
    }
    if not found:
        raise InputError(
            "no partition stores (partition-<p>.duckdb) here; members write them with "
            "`uproar bus consume --stores DIR`",
            file=str(directory),
        )
    return found


def check_stores(directory: Path, *, stream: str | None = None) -> StoresCheck:
    """Read every partition store in ``directory`` (members that hold them lend them) and
    count the union."""
    check = StoresCheck()
    keys: list[pa.Table] = []
    for partition, path in partition_files(directory).items():
        with Store(path, read_only=True) as store:
            table = store.posts_arrow(columns=("platform", "id"))
            keys.append(table)
            check.partitions[partition] = table.num_rows
            check.quarantined += sum(store.stats()["quarantine"].values())
            if stream is not None:
                check.cursors[partition] = store.load_cursor(f"bus:{stream}:{partition}")
            check.incidents += load_incidents(store)
    union = pa.concat_tables(keys)
    check.posts = union.num_rows
    if union.num_rows:
        joined = pc.binary_join_element_wise(union.column("platform"), union.column("id"), "\x1f")
        check.unique = len(pc.unique(joined))
    return check
