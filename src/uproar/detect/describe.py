"""The why of an incident: affected regions, topics, newly frequent terms, sample posts.

Everything here reads the store over the incident's window and a reference window (the
week before it), so the batch and streaming paths describe an incident the same way.

Newly frequent terms are ranked by lift against the brand's own baseline: the share of the
incident's posts that hold a term over its share of the brand's posts in the week before
(add-one smoothed), among terms in at least ``MIN_TERM_POSTS`` posts and 1 % of the
incident's. Handles, the brand's own names and stop words are left out. On the airline
tweets (American, 23 Feb 2015) the log-odds z-score this replaced ranked common words
first ("make, much, @united, thank, locator"); lift gives "hold, hrs, rebook, cancelled".
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

from uproar.config import Brand
from uproar.detect.rumours import Rumour
from uproar.detect.signal import TOKEN_SPLIT, complaint_pattern
from uproar.records import Incident
from uproar.store import Store
from uproar.store import detect as sql

REFERENCE = timedelta(days=7)
# A reference of more posts than this has its terms counted on a uniform sample of this
# many: a share of 1 % is then known to about 7 % of itself, plenty for a lift.
REFERENCE_SAMPLE = 20_000
MIN_TERM_POSTS = 5
# Words that say nothing about what went wrong (data: stopwords.txt).
STOPWORDS = frozenset(
    line.strip()
    for line in resources.files("uproar.detect").joinpath("stopwords.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
)
TOP_TERMS = 10
TOP_REGIONS = 5
# A region counts as affected when its share of the incident's located complaints is this
# many standard errors above its usual share; a nationwide outage lifts every region alike,
# and reporting whichever ones noise put on top would send a team to the wrong places.
REGION_Z = 3.0
TOP_TOPICS = 5
SAMPLES = 5


@dataclass(frozen=True, slots=True)
class Described:
    """An incident with its details filled, and whether it is chatter (``is_chatter``)."""

    incident: Incident
    chatter: bool


def describe(
    store: Store,
    incident: Incident,
    *,
    until: datetime,
    brand: Brand | None = None,
    rumours: list[Rumour] | None = None,
) -> Incident:
    """The incident with posts, authors, regions, topics, terms, samples and rumours filled.

    ``until`` closes the window of an incident that is still open (the detector's clock).
    """
    brands = {incident.brand: brand} if brand is not None else {}
    return describe_all(store, [incident], until=until, brands=brands, rumours=rumours)[0].incident


def describe_all(
    store: Store,
    incidents: Sequence[Incident],
    *,
    until: datetime,
    brands: Mapping[str, Brand] | None = None,
    rumours: list[Rumour] | None = None,
) -> list[Described]:
    """``describe`` for many incidents at once: the store is read by a fixed number of
    queries, whatever the number of incidents (at 10M posts, one query per incident and
    detail took 1.5 s an incident)."""
    windows = _windows(incidents, until)
    details = sql.window_details(
        store,
        windows,
        pattern=complaint_pattern(),
        token_pattern=TOKEN_SPLIT,
        reference_sample=REFERENCE_SAMPLE,
    )
    samples = _samples(store, windows)
    out = []
    for inc, d, picked in zip(incidents, details, samples, strict=True):
        end = inc.end or until
        own = _brand_words((brands or {}).get(inc.brand))
        ranked = lifted_terms(
            d.terms, d.term_posts, d.reference_terms, d.reference_term_posts, exclude=own
        )[:TOP_TERMS]
        attached = tuple(
            r.as_dict()
            for r in (rumours or [])
            # a rumour spreading at any time in the incident (or the hour before it): the
            # 2014 bait link began hours before the outage and was still spreading through it
            if r.brand == inc.brand
            and r.detected_at <= end
            and r.last_seen >= inc.start - timedelta(hours=1)
        )
        described = replace(
            inc,
            posts=d.posts,
            authors=d.authors,
            regions=affected_regions(d.regions, d.reference_regions),
            topics=_excess_keys(d.topics, d.reference_topics, TOP_TOPICS),
            terms=tuple(r["term"] for r in ranked),
            term_counts=tuple(ranked),
            sample_post_ids=picked,
            rumours=attached,
        )
        out.append(Described(described, is_chatter(d)))
    return out


# A surge whose complaints are a smaller share of the brand's mentions than usual (under
# this fraction of the reference share) is talk about the brand, not complaints to it: a
# viral ad, news, a meme. Its complaint count rose only because everything did (issue 13:
# "news spikes that are not complaints"); an outage or a backlash raises the share.
CHATTER_SHARE = 0.8
# The reference needs this many mentions before its share is trusted.
CHATTER_MIN_REFERENCE = 100


def is_chatter(details: sql.WindowDetails) -> bool:
    """Whether a window is a surge of chatter rather than of complaints: the share of its
    original mentions that complain is below ``CHATTER_SHARE`` times the brand's share over
    the ``REFERENCE`` before it."""
    n, c = details.originals, details.complaints
    n_ref, c_ref = details.reference_originals, details.reference_complaints
    if n == 0 or n_ref < CHATTER_MIN_REFERENCE or c_ref == 0:
        return False
    return c / n < CHATTER_SHARE * c_ref / n_ref


def chatter_flags(store: Store, incidents: Sequence[Incident], *, until: datetime) -> list[bool]:
    """``is_chatter`` for each incident, from one query whatever their number (``until``
    closes an open one)."""
    shares = sql.window_shares(store, _windows(incidents, until), pattern=complaint_pattern())
    return [is_chatter(d) for d in shares]


def _windows(incidents: Sequence[Incident], until: datetime) -> list[sql.DescribeWindow]:
    """Each incident's span (``until`` closing an open one) and its ``REFERENCE`` before."""
    return [
        sql.DescribeWindow(i.brand, i.start - REFERENCE, i.start, i.end or until) for i in incidents
    ]


def _brand_words(brand: Brand | None) -> frozenset[str]:
    if brand is None:
        return frozenset()
    words = {brand.id.lower(), *brand.name.lower().split()}
    words |= {h.lower() for h in brand.handles} | {h.lstrip("@").lower() for h in brand.handles}
    words |= {k.lower() for k in brand.keywords} | {t.lower() for t in brand.hashtags}
    return frozenset(words)


def affected_regions(now: Counter[str], ref: Counter[str]) -> tuple[str, ...]:
    """The regions over-represented in an incident (``REGION_Z``); when none stands out,
    the incident is as wide as the country that holds most of its located posts."""
    picked = _excess_keys(now, ref, TOP_REGIONS, min_z=REGION_Z)
    if picked:
        return picked
    countries: Counter[str] = Counter()
    for region, n in now.items():
        countries[region.split("-", 1)[0]] += n
    if not countries:
        return ()
    country, n = countries.most_common(1)[0]
    return (country,) if 2 * n >= countries.total() else ()


def _excess_keys(
    now: Counter[str], ref: Counter[str], top: int, *, min_z: float | None = None
) -> tuple[str, ...]:
    """Keys whose share of the incident exceeds their usual share most, by excess count.
    With ``min_z`` a key must also be that many standard errors above its usual share."""
    total_now = sum(now.values())
    if total_now == 0:
        return ()
    total_ref = sum(ref.values())
    keys = set(now)
    # add-one smoothing over the keys seen, so a key new in the incident has a small share
    denom = total_ref + len(keys | set(ref))
    share = {k: (ref.get(k, 0) + 1) / denom for k in keys}
    excess = {k: now[k] - total_now * share[k] if total_ref else float(now[k]) for k in keys}
    positive = sum(v for v in excess.values() if v > 0)
    chosen = [k for k, v in excess.items() if v > 0 and v >= 0.1 * positive and now[k] >= 3]
    if min_z is not None and total_ref:
        chosen = [
            k
            for k in chosen
            if excess[k] >= min_z * math.sqrt(total_now * share[k] * (1.0 - share[k]))
        ]
    chosen.sort(key=lambda k: (-excess[k], k))
    return tuple(chosen[:top])


def lifted_terms(
    focus: Mapping[str, int],
    n_focus: int,
    reference: Mapping[str, int],
    n_reference: int,
    *,
    exclude: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """Terms of ``focus`` (post counts out of ``n_focus``) by lift over ``reference``, with
    their counts: ``{"term", "posts", "reference_posts", "lift"}``, highest lift first."""
    if n_focus <= 0:
        return []
    least = max(MIN_TERM_POSTS, math.ceil(0.01 * n_focus))
    out: list[tuple[float, int, str, int]] = []
    for w, y in focus.items():
        if (
            y < least
            or w in STOPWORDS
            or w in exclude
            or w.startswith("@")
            or w.lstrip("#") in exclude
            or w.isdigit()
        ):
            continue
        r = reference.get(w, 0)
        lift = (y / n_focus) / ((r + 1) / (n_reference + 2))
        if lift > 1.5:
            out.append((lift, y, w, r))
    out.sort(key=lambda t: (-t[0], -t[1], t[2]))
    return [
        {"term": w, "posts": y, "reference_posts": r, "lift": round(lift, 2)}
        for lift, y, w, r in out
    ]


# Samples are picked from each window's first posts in their order; only a window whose
# first posts are all by the same few authors (one author's flood) is read further.
SAMPLE_READ = 200


def _samples(store: Store, windows: list[sql.DescribeWindow]) -> list[tuple[str, ...]]:
    """Representative posts per window: complaints first, most engaged, one per author and
    per text."""
    out: list[tuple[str, ...]] = [() for _ in windows]
    todo = list(range(len(windows)))
    limit = SAMPLE_READ
    while todo:
        rows = sql.sample_candidates(
            store,
            [windows[k] for k in todo],
            pattern=complaint_pattern(),
            limit=limit,
            picks=SAMPLES,
        )
        again = []
        for k, candidates in zip(todo, rows, strict=True):
            out[k] = _distinct_samples(candidates)
            if len(out[k]) < SAMPLES and len(candidates) == limit:
                again.append(k)
        todo, limit = again, limit * 10
    return out


def _distinct_samples(candidates: list[tuple[str, str, str]]) -> tuple[str, ...]:
    """The first ``SAMPLES`` of (id, author, text), skipping a seen author or text."""
    seen_authors: set[str] = set()
    seen_texts: set[str] = set()
    out: list[str] = []
    for post_id, author, raw in candidates:
        text = " ".join(raw.lower().split())
        if author in seen_authors or text in seen_texts:
            continue
        seen_authors.add(author)
        seen_texts.add(text)
        out.append(post_id)
        if len(out) == SAMPLES:
            break
    return tuple(out)
