"""The typed records that cross Uproar's API edges.

Hot paths (ingest, classify, detect) work on Arrow batches whose columns carry the same
names as these fields; the dataclasses are for single records at the edges (tests, CLI,
the web app). Every datetime is timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Sentiment = Literal["negative", "neutral", "positive"]
Severity = Literal["error", "warning", "suggestion"]
Scope = Literal["brand", "industry"]


@dataclass(frozen=True, slots=True)
class Post:
    """One social post, whatever the platform. ``raw`` keeps the source record verbatim."""

    platform: str
    id: str
    created_at: datetime
    text: str
    author_id: str
    author_handle: str | None = None
    author_name: str | None = None
    author_followers: int | None = None
    author_location: str | None = None  # the profile's free text, e.g. "Welly, NZ"
    lang: str | None = None
    reply_to_id: str | None = None
    conversation_id: str | None = None
    quoted_id: str | None = None
    reposted_id: str | None = None
    urls: tuple[str, ...] = ()
    place: str | None = None
    region: str | None = None
    like_count: int = 0
    repost_count: int = 0
    reply_count: int = 0
    brands: tuple[str, ...] = ()
    own_brand: str | None = None
    raw: str = ""

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Post:
        """Build from a store row (a dict keyed by column name)."""
        values: dict[str, Any] = {k: row[k] for k in cls.__slots__ if k in row}
        values["urls"] = tuple(values.get("urls") or ())
        values["brands"] = tuple(values.get("brands") or ())
        for count in ("like_count", "repost_count", "reply_count"):
            values[count] = values.get(count) or 0
        values["raw"] = values.get("raw") or ""
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Labels:
    """What the understand stage says about one post."""

    complaint: bool
    sentiment: Sentiment
    topics: tuple[str, ...] = ()
    question: bool = False
    urgency: bool = False
    language: str | None = None
    sarcasm: bool = False
    reach: float = 0.0
    sentiment_scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Incident:
    """An outage or crisis the detector found for one brand."""

    id: str
    brand: str
    start: datetime
    detected_at: datetime
    peak: datetime
    end: datetime | None
    severity: str
    scope: Scope
    posts: int
    authors: int
    regions: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()
    sample_post_ids: tuple[str, ...] = ()
    rumours: tuple[dict[str, Any], ...] = ()
    # the peers that surged with it (an "industry" incident names them), each with its own
    # signal, expected count and excess over the incident's span
    peers: tuple[dict[str, Any], ...] = ()
    # flare-ups and re-openings of the same event, each with its own times (empty when the
    # incident had one phase)
    phases: tuple[dict[str, Any], ...] = ()
    # each of ``terms`` with its counts: posts in the incident holding it, and in the
    # brand's reference posts before it, with both totals and the lift
    term_counts: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Finding:
    """One lint alert on a draft (Vale's alert record, with Uproar's category)."""

    line: int
    start: int
    end: int
    rule: str
    category: str
    severity: Severity
    message: str
    suggestion: str | None = None
