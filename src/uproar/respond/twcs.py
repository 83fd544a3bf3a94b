"""Real support conversations to measure against: Customer Support on Twitter (TWCS).

The data set is read in place (``../shared/data/twcs/twcs_head.csv``), never copied: the
linter is scored on its 2,222 real agent replies and the inbox on its customer messages.

    rows = read_twcs()                      # every row, in file order
    agent = [r for r in rows if not r.inbound]
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from uproar.errors import InputError

DEFAULT_PATH = Path("../shared/data/twcs/twcs_head.csv")


@dataclass(frozen=True, slots=True)
class TwcsRow:
    id: str
    author: str
    inbound: bool
    created_at: datetime
    text: str
    in_reply_to: str | None


def twcs_path(path: str | Path | None = None) -> Path:
    """The file to read: ``path``, else ``UPROAR_TWCS``, else ``../shared/data/twcs/``
    beside the working directory or beside this checkout."""
    if path is not None:
        return Path(path)
    if os.environ.get("UPROAR_TWCS"):
        return Path(os.environ["UPROAR_TWCS"])
    if DEFAULT_PATH.is_file():
        return DEFAULT_PATH
    return Path(__file__).resolve().parents[4] / "shared" / "data" / "twcs" / "twcs_head.csv"


@dataclass(frozen=True, slots=True)
class TwcsSample:
    rows: tuple[TwcsRow, ...]
    quarantined: tuple[tuple[int, str], ...]  # (record number, why): broken in the source

    @property
    def agent_replies(self) -> list[TwcsRow]:
        return [r for r in self.rows if not r.inbound]

    @property
    def customer_messages(self) -> list[TwcsRow]:
        return [r for r in self.rows if r.inbound]

    def by_id(self) -> dict[str, TwcsRow]:
        return {r.id: r for r in self.rows}


def read_twcs(path: str | Path | None = None) -> TwcsSample:
    """Every row of the TWCS sample. pandas wrote it: an unnamed index column first, and
    ``in_response_to_tweet_id`` as a float ("3.0" is id "3"). A record broken across lines
    in the source is kept aside with its line number, not dropped silently."""
    source = twcs_path(path)
    try:
        handle = source.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise InputError(
            f"cannot read the TWCS sample: {exc.strerror or exc}; set UPROAR_TWCS or pass --twcs",
            file=str(source),
        ) from exc
    rows = []
    quarantined: list[tuple[int, str]] = []
    with handle:
        for line, rec in enumerate(csv.DictReader(handle), start=2):
            try:
                created = datetime.strptime(rec["created_at"], "%a %b %d %H:%M:%S %z %Y")
                reply_to = rec["in_response_to_tweet_id"]
                rows.append(
                    TwcsRow(
                        id=rec["tweet_id"],
                        author=rec["author_id"],
                        inbound=rec["inbound"] == "True",
                        created_at=created.astimezone(UTC),
                        text=rec["text"],
                        in_reply_to=str(int(float(reply_to))) if reply_to else None,
                    )
                )
            except (KeyError, ValueError, TypeError) as exc:
                quarantined.append((line, f"bad record: {exc}"))
    if not rows:
        raise InputError("no TWCS records read", file=str(source))
    return TwcsSample(rows=tuple(rows), quarantined=tuple(quarantined))
