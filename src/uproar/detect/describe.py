"""The why of an incident: affected regions, topics, newly frequent terms, sample posts.

Everything here reads the store over the incident's window and a reference window (the
day before it), so the batch and streaming paths describe an incident the same way.

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
from collections.abc import Mapping
from dataclasses import replace
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
    end = incident.end or until
    posts = sql.incident_posts(
        store, brand=incident.brand, since=incident.start, until=end, pattern=complaint_pattern()
    )
    ref_since = incident.start - REFERENCE
    ref = sql.incident_posts(
        store,
        brand=incident.brand,
        since=ref_since,
        until=incident.start,
        pattern=complaint_pattern(),
        limit=100_000,
    )
    cols = posts.to_pydict()
    ref_cols = ref.to_pydict()
    regions = affected_regions(
        Counter(r for r in cols["region"] if r), Counter(r for r in ref_cols["region"] if r)
    )
    topics = _excess_keys(
        Counter(t for ts in cols["topics"] if ts for t in ts),
        Counter(t for ts in ref_cols["topics"] if ts for t in ts),
        TOP_TOPICS,
    )
    inc_terms, _n_inc = sql.term_counts(
        store, brand=incident.brand, since=incident.start, until=end, token_pattern=TOKEN_SPLIT
    )
    ref_terms, _n_ref = sql.term_counts(
        store,
        brand=incident.brand,
        since=ref_since,
        until=incident.start,
        token_pattern=TOKEN_SPLIT,
    )
    own = _brand_words(brand)
    ranked = lifted_terms(inc_terms, _n_inc, ref_terms, _n_ref, exclude=own)[:TOP_TERMS]
    attached = tuple(
        r.as_dict()
        for r in (rumours or [])
        # a rumour spreading at any time in the incident (or the hour before it): the 2014
        # bait link began hours before the outage and was still spreading through it
        if r.brand == incident.brand
        and r.detected_at <= end
        and r.last_seen >= incident.start - timedelta(hours=1)
    )
    return replace(
        incident,
        posts=len(cols["id"]),
        authors=len(set(cols["author_id"])),
        regions=regions,
        topics=topics,
        terms=tuple(r["term"] for r in ranked),
        term_counts=tuple(ranked),
        sample_post_ids=_samples(cols),
        rumours=attached,
    )


# A surge whose complaints are a smaller share of the brand's mentions than usual (under
# this fraction of the reference share) is talk about the brand, not complaints to it: a
# viral ad, news, a meme. Its complaint count rose only because everything did (issue 13:
# "news spikes that are not complaints"); an outage or a backlash raises the share.
CHATTER_SHARE = 0.8
# The reference needs this many mentions before its share is trusted.
CHATTER_MIN_REFERENCE = 100


def is_chatter(store: Store, incident: Incident, *, until: datetime) -> bool:
    """Whether ``incident`` is a surge of chatter rather than of complaints: the share of
    its mentions that complain is below ``CHATTER_SHARE`` times the brand's share over the
    ``REFERENCE`` before it."""
    n, c, n_ref, c_ref = sql.complaint_shares(
        store,
        brand=incident.brand,
        since=incident.start,
        until=incident.end or until,
        ref_since=incident.start - REFERENCE,
        pattern=complaint_pattern(),
    )
    if n == 0 or n_ref < CHATTER_MIN_REFERENCE or c_ref == 0:
        return False
    return c / n < CHATTER_SHARE * c_ref / n_ref


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


def _samples(cols: dict[str, list[object]]) -> tuple[str, ...]:
    """Representative posts: complaints first, most engaged, one per author and per text."""
    order = sorted(
        range(len(cols["id"])),
        key=lambda i: (
            not cols["complaint"][i],
            -int(cols["engagement"][i] or 0),  # type: ignore[call-overload]
            cols["created_at"][i],
            cols["id"][i],
        ),
    )
    seen_authors: set[object] = set()
    seen_texts: set[str] = set()
    out: list[str] = []
    for i in order:
        text = " ".join(str(cols["text"][i]).lower().split())
        if cols["author_id"][i] in seen_authors or text in seen_texts:
            continue
        seen_authors.add(cols["author_id"][i])
        seen_texts.add(text)
        out.append(str(cols["id"][i]))
        if len(out) == SAMPLES:
            break
    return tuple(out)
