"""Bait links and rumours: one URL domain, or one near-identical text, spreading fast.

A key (a linked domain, or a text fingerprint with links, mentions, digits and punctuation
removed) is a rumour when ``min_authors`` different authors post it within ``within`` of
its first appearance in the brand's mentions, and it was new: first seen at least
``novelty`` after the data began (so everyday domains, present from the start, never
qualify). The 2014 case that motivates it: a bait link about leaked photos that spread
through a brand's mentions before the outage talk did.

A *reaction* (``kind: "reaction"``) is the same spread around one of the brand's own posts:
``min_authors`` authors replying to or quoting it within ``within``, whatever their
sentiment (JetBlue's "Our fleet's on fleek", Feb 2015: about 150 authors in three hours,
mostly not complaints). Its key names the post (``post <id>``, or ``quote <its text>`` when
an archive keeps only the quoting text). A reaction is new by nature, so the novelty rule
does not apply to it.

A reaction to a post the brand made *during one of its incidents* (an acknowledgement or a
status update) is that incident's own voice: customers complaining under the update are the
outage, already paged. ``part_of_incidents`` folds such reactions into the incident (they
stay in its ``rumours``) instead of flagging them as a crisis of their own; on the
simulated suite, where every status update draws replies, they were four in five of the
rumour flags (precision 0.80 fell to 0.19 when reactions were added).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from uproar.records import Incident
from uproar.store import Store
from uproar.store import detect as sql
from uproar.store.store import utc


@dataclass(frozen=True, slots=True)
class Rumour:
    """One spreading key for one brand."""

    brand: str
    kind: str  # "domain" | "text" | "reaction"
    key: str
    first_seen: datetime
    detected_at: datetime
    posts: int
    authors: int
    last_seen: datetime
    growth: float  # authors per minute while it reached ``min_authors``
    sample_post_ids: tuple[str, ...]
    variants: int = 0  # other keys of the same spread (reworded copies) folded into it
    # a reaction's own post: when the brand posted it, where the archive holds it
    origin: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "brand": self.brand,
            "kind": self.kind,
            "domain": self.key if self.kind == "domain" else None,
            "text": self.key if self.kind == "text" else None,
            "reacts_to": self.key if self.kind == "reaction" else None,
            "first_seen": self.first_seen,
            "detected_at": self.detected_at,
            "posts": self.posts,
            "authors": self.authors,
            "last_seen": self.last_seen,
            "growth": round(self.growth, 3),
            "sample_post_ids": list(self.sample_post_ids),
            "variants": self.variants,
            "origin": self.origin,
        }


def find_rumours(
    store: Store,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    min_authors: int = 10,
    within: timedelta = timedelta(hours=4),
    novelty: timedelta = timedelta(hours=24),
) -> list[Rumour]:
    """Rumours in the store's mentions between ``since`` and ``until``, earliest first."""
    table = sql.spread_candidates(
        store, since=since, until=until, min_authors=min_authors, within_s=within.total_seconds()
    )
    if table.num_rows == 0:
        return []
    begin = since if since is not None else sql.first_post_time(store)
    out = []
    for r in table.to_pylist():
        first = utc(r["first_seen"])
        reached = utc(r["reached_at"])
        assert first is not None and reached is not None
        if r["kind"] != "reaction" and begin is not None and first - begin < novelty:
            continue
        minutes = max((reached - first).total_seconds() / 60.0, 1.0)
        last = utc(r["last_seen"])
        assert last is not None
        out.append(
            Rumour(
                brand=r["brand"],
                kind=r["kind"],
                key=r["key"],
                first_seen=first,
                detected_at=reached,
                posts=int(r["posts"]),
                authors=int(r["authors"]),
                last_seen=last,
                growth=min_authors / minutes,
                sample_post_ids=tuple(r["sample_ids"] or ()),
                origin=utc(r["origin"]),
            )
        )
    return _one_per_spread(out)


def _one_per_spread(rumours: list[Rumour]) -> list[Rumour]:
    """One rumour per spread: a bait link's posts share the domain and the text, and a
    copypasta gets reworded. A key of the same brand reached while an earlier-kept spread
    is still going is folded into it (counted in ``variants``); domains are kept first."""
    kept: list[Rumour] = []
    for r in sorted(rumours, key=lambda r: (r.kind != "domain", r.detected_at, r.brand, r.key)):
        home = next(
            (
                i
                for i, k in enumerate(kept)
                if k.brand == r.brand
                and (
                    (r.kind == "text" and k.kind != "reaction")
                    or (k.kind == r.kind != "text" and k.key == r.key)
                )
                and k.first_seen - timedelta(hours=1) <= r.detected_at <= k.last_seen
            ),
            None,
        )
        if home is not None:
            kept[home] = replace(kept[home], variants=kept[home].variants + 1)
            continue
        kept.append(r)
    return sorted(kept, key=lambda r: (r.detected_at, r.brand, r.kind, r.key))


def part_of_incidents(
    rumours: list[Rumour], incidents: list[Incident], *, until: datetime | None = None
) -> tuple[list[Rumour], list[Rumour]]:
    """``(own, folded)``: the rumours that are crises of their own, and the reactions that
    belong to an incident of their brand. A reaction belongs to an incident when what it
    reacts to began inside it: the brand's own post (or, where the archive keeps only the
    quoting text, the first reacting post) after the incident's start and before its end
    (``until`` for one still open). A backlash that itself raises an incident reacts to a
    post made before that incident began, so it stays a crisis of its own."""
    spans: dict[str, list[tuple[datetime, datetime | None]]] = {}
    for inc in incidents:
        spans.setdefault(inc.brand, []).append((inc.start, inc.end or until))
    own: list[Rumour] = []
    folded: list[Rumour] = []
    for r in rumours:
        origin = r.origin or r.first_seen
        inside = r.kind == "reaction" and any(
            start < origin and (end is None or origin <= end)
            for start, end in spans.get(r.brand, ())
        )
        (folded if inside else own).append(r)
    return own, folded
