"""The per-post signal the detector counts: complaint-like or not, fresh author or not.

The fast complaint signal is a word list (``complaint_terms.toml``) compiled to one regular
expression that both DuckDB (RE2) and Python read the same way, so the batch path (SQL)
and the streaming path (Python) agree post for post. The classifier's labels replace it
where they exist (the ``labels`` table in the batch path, ``complaint=`` in the stream).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources

# An author counts once per brand per this gap: a second mention within an hour adds
# nothing, so one author posting fifty times is one voice (the flood case).
FRESH_GAP = timedelta(hours=1)

# Terms for the "newly frequent" list: runs of letters, digits, '#', '@', '_' and "'".
TOKEN_SPLIT = r"[^a-z0-9#@_']+"


@lru_cache(maxsize=1)
def complaint_pattern() -> str:
    """The word list as one case-less whole-word pattern (RE2 and Python ``re`` alike)."""
    raw = resources.files("uproar.detect").joinpath("complaint_terms.toml").read_text("utf-8")
    terms = sorted(set(tomllib.loads(raw)["terms"]), key=lambda t: (-len(t), t))
    return r"\b(?:" + "|".join(re.escape(t) for t in terms) + r")\b"


@lru_cache(maxsize=1)
def _compiled() -> re.Pattern[str]:
    return re.compile(complaint_pattern())


def is_complaint(text: str) -> bool:
    """One post's fast complaint flag (the streaming path)."""
    return _compiled().search(text.lower()) is not None


@dataclass(slots=True)
class FreshAuthors:
    """Remembers when each author last mentioned each brand, to tell fresh voices apart.

    Matches the SQL in ``store/detect.py``: a mention is fresh when the author's previous
    mention of the brand (of the same kind, for complaints) is at least ``gap`` old.
    """

    gap: timedelta = FRESH_GAP
    _last: dict[tuple[str, str], datetime] = field(default_factory=dict)
    _last_complaint: dict[tuple[str, str], datetime] = field(default_factory=dict)
    _last_other: dict[tuple[str, str], datetime] = field(default_factory=dict)

    def see(self, brand: str, author: str, at: datetime, complaint: bool) -> tuple[bool, bool]:
        """Record a mention; returns (fresh, fresh complaint)."""
        key = (brand, author)
        prev = self._last.get(key)
        fresh = prev is None or at - prev >= self.gap
        self._last[key] = at
        same = self._last_complaint if complaint else self._last_other
        prev_same = same.get(key)
        same[key] = at
        fresh_complaint = complaint and (prev_same is None or at - prev_same >= self.gap)
        return fresh, fresh_complaint

    def remember(self, brand: str, author: str, at: datetime, complaint: bool) -> None:
        """Seed the memory with a mention seen elsewhere (the batch path's last hour)."""
        key = (brand, author)
        if key not in self._last or self._last[key] < at:
            self._last[key] = at
        same = self._last_complaint if complaint else self._last_other
        if key not in same or same[key] < at:
            same[key] = at

    def forget_before(self, cutoff: datetime) -> None:
        """Drop authors last seen before ``cutoff`` (they are fresh again anyway)."""
        for table in (self._last, self._last_complaint, self._last_other):
            for key in [k for k, t in table.items() if t < cutoff]:
                del table[key]
