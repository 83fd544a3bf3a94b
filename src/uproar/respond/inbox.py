"""The reply inbox: who needs an answer first, grouped, with a checked draft per group.

    inbox = build_inbox(store, incident="inc-kiwinet-0001", facts=load_facts("update.toml"))
    for cluster in inbox.clusters:          # best first
        cluster.count, cluster.label, cluster.draft.text, cluster.draft.needs_review

How it works (the numbers live in ``templates/inbox.toml``):

1. **Mentions** of the brand by others in the incident's window (or ``brand`` and
   ``since``/``until``), with the understand stage's labels: the stored ones, or for posts
   not yet labelled, ``understand.Classifier`` run on them here (one owner of each label).
2. **Intent and theme** (``answer.py``, data in ``packs/``): question, problem, complaint,
   thanks, information, abuse or none; the theme from the brand's industry pack (chosen
   by the brand's ``industry`` in the brands file). Abuse and "none" need no reply.
3. **Score** = weighted sum of six signals in [0, 1]: question, urgency, anger, reach
   (``understand.classifier.reach``, scaled), repeat (the author keeps posting) and
   unanswered (no reply from the brand's own account).
4. **Clusters by meaning**: mentions with the same intent and theme are one cluster (many
   people rebooking a cancelled flight, in their own words, are one cluster with a count);
   without a theme, near-identical texts (character 3-5-gram TF-IDF cosine) group. A
   cluster scores its best mention plus a bonus for its size.
5. **Drafts**: the pack's first reply for the intent and theme that passes the linter
   (kind "reply") and fits the platform: "we know about it" only while an incident for the
   brand is open at every member's post time, thanks for thanks, the link warning only to
   posts that carry a link, the customer's name for a cluster of one, the brand's sign-off
   from the voice profile. An optional model (``llm.ModelDrafter``) may propose a better
   one; the linter still decides.
6. **Guard**: a draft that carries media or a link in reply to a complaint is held for a
   second person's review (in 2014 an airline's reply to a complaint carried an obscene
   image: no single person should be able to send that).
7. **Response times**: the brand's first reply to each mention, per cluster and per author.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import regex
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from uproar.errors import ConfigError, InputError
from uproar.records import Finding, Labels
from uproar.respond.answer import (
    INTENTS,
    SILENT,
    Pack,
    classify_intent,
    compose_reply,
    first_name,
    has_link,
    load_pack,
)
from uproar.respond.datafiles import load_toml
from uproar.respond.lint import Linter, Profile, default_linter
from uproar.respond.llm import ModelDrafter
from uproar.respond.platforms import PLATFORMS, fits, link_spans, weighted_length
from uproar.respond.thread import Facts
from uproar.store.respond import (
    brand_incidents,
    inbox_mentions,
    incident_window,
    latest_mention,
    save_drafts,
)
from uproar.store.store import Store, utc
from uproar.understand.classifier import Classifier, reach

SIGNALS: tuple[str, ...] = ("question", "urgency", "anger", "reach", "repeat", "unanswered")
__all__ = ["INTENTS", "Cluster", "Draft", "Inbox", "Mention", "build_inbox", "save_inbox"]


# -- settings (data) -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class InboxSettings:
    """Weights, thresholds and term lists (``templates/inbox.toml``)."""

    weights: Mapping[str, float]
    cluster_bonus: float
    reach_max: float
    repeat_saturation: int
    similarity: float


def load_inbox_settings(path: str | Path | None = None) -> InboxSettings:
    return load_toml(path, _parse_settings, shipped="inbox.toml", what="inbox settings")


def _parse_settings(data: dict[str, Any], source: str) -> InboxSettings:
    try:
        score = data["score"]
        weights = {name: float(score[name]) for name in SIGNALS}
        return InboxSettings(
            weights=weights,
            cluster_bonus=float(score.get("cluster_bonus", 1.0)),
            reach_max=float(score.get("reach_max", 8.0)),
            repeat_saturation=int(score.get("repeat_saturation", 3)),
            similarity=float(data.get("cluster", {}).get("similarity", 0.5)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: missing or bad key {exc}", file=source) from exc


# -- records -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Mention:
    """One incoming post that may need a reply, with the signals behind its score."""

    platform: str
    id: str
    created_at: datetime
    author_id: str
    author_handle: str | None
    text: str
    score: float
    signals: Mapping[str, float]
    needs_reply: bool
    complaint: bool
    first_reply_at: datetime | None = None
    topics: tuple[str, ...] = ()
    intent: str = "none"
    topic: str | None = None
    incident_open: bool = False
    link: bool = False
    author_name: str | None = None

    @property
    def answered(self) -> bool:
        return self.first_reply_at is not None

    @property
    def first_reply_s(self) -> float | None:
        """Seconds from the post to the brand's first reply to it."""
        if self.first_reply_at is None:
            return None
        return (self.first_reply_at - self.created_at).total_seconds()


@dataclass(frozen=True, slots=True)
class Draft:
    """A reply ready for a human: its text, where it came from, what the linter said, and
    whether a second person must review it before it goes out."""

    text: str
    intent: str
    platform: str
    length: int
    source: str = "template"
    findings: tuple[Finding, ...] = ()
    media: tuple[str, ...] = ()
    needs_review: bool = False
    review_reasons: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Cluster:
    """Mentions asking (nearly) the same thing, best first, with one draft for all."""

    id: int
    intent: str
    score: float
    label: str
    mentions: tuple[Mention, ...]
    draft: Draft
    first_reply_s: float | None = None
    median_reply_s: float | None = None
    topic: str | None = None

    @property
    def count(self) -> int:
        return len(self.mentions)

    @property
    def authors(self) -> int:
        return len({(m.platform, m.author_id) for m in self.mentions})

    @property
    def unanswered(self) -> int:
        return sum(not m.answered for m in self.mentions)

    def to_dict(self, *, mentions: int = 5) -> dict[str, Any]:
        return {
            "id": self.id,
            "intent": self.intent,
            "topic": self.topic,
            "score": round(self.score, 3),
            "count": self.count,
            "authors": self.authors,
            "unanswered": self.unanswered,
            "label": self.label,
            "first_reply_s": self.first_reply_s,
            "median_reply_s": self.median_reply_s,
            "draft": self.draft,
            "mentions": [
                {
                    "platform": m.platform,
                    "id": m.id,
                    "created_at": m.created_at,
                    "author": m.author_handle or m.author_id,
                    "text": m.text,
                    "score": round(m.score, 3),
                    "signals": {k: round(v, 3) for k, v in m.signals.items()},
                    "answered": m.answered,
                    "first_reply_s": m.first_reply_s,
                }
                for m in self.mentions[:mentions]
            ],
        }


@dataclass(frozen=True, slots=True)
class ResponseTimes:
    """How fast the brand answers: first-reply latency over mentions and over authors (from
    each author's first mention to the brand's first reply to any of theirs)."""

    mentions: int
    answered: int
    median_first_reply_s: float | None
    p90_first_reply_s: float | None
    oldest_unanswered_s: float | None
    authors: int
    authors_answered: int
    median_author_first_reply_s: float | None

    @property
    def unanswered(self) -> int:
        return self.mentions - self.answered


@dataclass(frozen=True, slots=True)
class Inbox:
    brand: str
    since: datetime | None
    until: datetime | None
    now: datetime | None
    incident: str | None
    mentions: int
    needing_reply: int
    clusters_total: int
    clusters: tuple[Cluster, ...]
    response: ResponseTimes
    author_first_reply_s: Mapping[str, float | None] = field(default_factory=dict)

    def to_dict(self, *, mentions: int = 5) -> dict[str, Any]:
        return {
            "brand": self.brand,
            "incident": self.incident,
            "since": self.since,
            "until": self.until,
            "now": self.now,
            "mentions": self.mentions,
            "needing_reply": self.needing_reply,
            "clusters_total": self.clusters_total,
            "response": {
                **{k: getattr(self.response, k) for k in ResponseTimes.__dataclass_fields__},
                "unanswered": self.response.unanswered,
            },
            "clusters": [c.to_dict(mentions=mentions) for c in self.clusters],
        }


def save_inbox(store: Store, inbox: Inbox) -> int:
    """Keep the inbox's drafts in the store (``reply_drafts``), so a second person can
    review the held ones; returns how many were saved."""
    if inbox.now is None:
        raise InputError("an inbox without a time cannot be saved", field="now")
    return save_drafts(
        store,
        brand=inbox.brand,
        drafted_at=inbox.now,
        incident=inbox.incident,
        drafts=[
            {
                "cluster": c.id,
                "intent": c.intent,
                "platform": c.draft.platform,
                "text": c.draft.text,
                "source": c.draft.source,
                "needs_review": c.draft.needs_review,
                "review_reasons": c.draft.review_reasons,
                "findings": c.draft.findings,
                "post_ids": [f"{m.platform}:{m.id}" for m in c.mentions],
            }
            for c in inbox.clusters
        ],
    )


# -- the guard -----------------------------------------------------------------------------
def review_reasons(
    text: str, *, media: Sequence[str] = (), to_complaint: bool, platform: str = "x"
) -> tuple[str, ...]:
    """Why an outgoing reply must be seen by a second person before it is sent: media or a
    link in a reply to someone who complained (one wrong attachment is a headline)."""
    if not to_complaint:
        return ()
    reasons = []
    if media:
        reasons.append(f"attaches media ({', '.join(media)}) in a reply to a complaint")
    links = link_spans(text, platform if platform in PLATFORMS else "x")
    if links:
        shown = ", ".join(text[s:e] for s, e in links)
        reasons.append(f"carries a link ({shown}) in a reply to a complaint")
    return tuple(reasons)


# -- signals -------------------------------------------------------------------------------
_NORMALISE = (
    (regex.compile(r"https?://\S+|www\.\S+"), " "),
    (regex.compile(r"[@\uff20]\w+"), " "),
    (regex.compile(r"\d+"), "0"),
    (regex.compile(r"[^\p{L}\p{N}?]+"), " "),
)


def normalise(text: str) -> str:
    """The text as clustering sees it: lower case, no links, handles or punctuation."""
    out = text.lower().replace("#", "")
    for pattern, repl in _NORMALISE:
        out = pattern.sub(repl, out)
    return " ".join(out.split())


# -- building the inbox --------------------------------------------------------------------
def build_inbox(
    store: Store,
    *,
    incident: str | None = None,
    brand: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
    facts: Facts | None = None,
    limit: int = 20,
    profile: Profile | None = None,
    linter: Linter | None = None,
    settings: InboxSettings | None = None,
    industry: str | None = None,
    pack: Pack | None = None,
    drafter: ModelDrafter | None = None,
) -> Inbox:
    """Rank the mentions that need a reply, cluster them and draft one reply per cluster.

    With ``incident`` the brand and window come from the store's ``incidents`` table;
    otherwise give ``brand`` (and optionally ``since``/``until``). ``now`` (default: the
    window's end, else its newest post) bounds which brand replies count as sent.
    ``industry`` picks the pack (default: the brand's ``industry`` in the stored brands);
    the profile (or the linter's) gives the sign-off."""
    if limit < 1:
        raise InputError(f"limit must be >= 1, got {limit}", field="limit")
    if incident is not None:
        window = incident_window(store, incident)
        if window is None:
            raise InputError(f"no incident {incident!r} in the store", field="incident")
        inc_brand, inc_start, inc_end = window
        if brand is not None and brand != inc_brand:
            raise InputError(
                f"incident {incident!r} is about {inc_brand!r}, not {brand!r}", field="brand"
            )
        brand = inc_brand
        since = since or inc_start
        until = until or inc_end
    if brand is None:
        raise InputError("name an incident or a brand", field="brand")
    if now is None:
        now = until or latest_mention(store, brand=brand, since=since, until=until)
    settings = settings or load_inbox_settings()
    linter = linter or (Linter(profile) if profile is not None else default_linter())
    if pack is None:
        if industry is None:
            known = store.load_brands().get(brand)
            industry = known.industry if known is not None else None
        pack = load_pack(industry)
    signoff = (profile or linter.profile).signoff
    open_spans = brand_incidents(store, brand=brand)

    rows = inbox_mentions(store, brand=brand, since=since, until=until, now=now).to_pylist()
    mentions = _score(rows, settings, pack, open_spans)
    needing = [m for m in mentions if m.needs_reply]
    groups = cluster_mentions(needing, settings.similarity)
    clusters: list[tuple[float, list[Mention]]] = []
    for members in groups:
        members.sort(key=lambda m: (-m.score, m.created_at, m.id))
        bonus = settings.cluster_bonus * math.log2(len(members))
        clusters.append((members[0].score + bonus, members))
    clusters.sort(key=lambda c: (-c[0], c[1][0].created_at, c[1][0].id))

    out = []
    for number, (score, members) in enumerate(clusters[:limit], start=1):
        lead = members[0]
        platform = _platform(members)
        draft = _draft(members, platform, facts, pack, linter, drafter, brand, signoff)
        replied = [m.first_reply_s for m in members if m.first_reply_s is not None]
        first_reply = None
        if replied:
            first_at = min(m.first_reply_at for m in members if m.first_reply_at is not None)
            first_reply = (first_at - min(m.created_at for m in members)).total_seconds()
        out.append(
            Cluster(
                id=number,
                intent=lead.intent,
                score=score,
                label=lead.text,
                mentions=tuple(members),
                draft=draft,
                first_reply_s=first_reply,
                median_reply_s=float(np.median(replied)) if replied else None,
                topic=lead.topic,
            )
        )
    response, per_author = _response_times(needing, now)
    return Inbox(
        brand=brand,
        since=since,
        until=until,
        now=now,
        incident=incident,
        mentions=len(mentions),
        needing_reply=len(needing),
        clusters_total=len(clusters),
        clusters=tuple(out),
        response=response,
        author_first_reply_s=per_author,
    )


def _labels(rows: list[dict[str, Any]]) -> list[Labels | None]:
    """The stored labels, and the understand stage's for posts it has not labelled yet."""
    missing = [i for i, r in enumerate(rows) if r["complaint"] is None]
    fresh = _classifier().classify([rows[i]["text"] or "" for i in missing]) if missing else []
    out: list[Labels | None] = [None] * len(rows)
    for i, row in enumerate(rows):
        if row["complaint"] is not None:
            out[i] = Labels(
                complaint=bool(row["complaint"]),
                sentiment=row["sentiment"] or "neutral",
                topics=tuple(row["topics"] or ()),
                question=bool(row["question"]),
                urgency=bool(row["urgency"]),
            )
    for i, labels in zip(missing, fresh, strict=True):
        out[i] = labels
    return out


@cache
def _classifier() -> Classifier:
    return Classifier("fast")


def _score(
    rows: list[dict[str, Any]],
    settings: InboxSettings,
    pack: Pack,
    open_spans: Sequence[tuple[datetime, datetime | None]],
) -> list[Mention]:
    w = settings.weights
    labels = _labels(rows)
    reaches = reach(
        pa.table(
            {
                "author_followers": pa.array([r["author_followers"] for r in rows], pa.int64()),
                "like_count": pa.array([r["like_count"] for r in rows], pa.int64()),
                "repost_count": pa.array([r["repost_count"] for r in rows], pa.int64()),
            }
        )
    )
    out = []
    for row, lab, raw_reach in zip(rows, labels, reaches, strict=True):
        assert lab is not None
        text = row["text"] or ""
        created = utc(row["created_at"])
        assert created is not None
        scores = lab.sentiment_scores
        anger = float(scores["negative"]) if scores else float(lab.sentiment == "negative")
        repeat = min(1.0, ((row["author_posts"] or 1) - 1) / settings.repeat_saturation)
        first_reply_at = utc(row["first_reply_at"])
        signals = {
            "question": float(lab.question),
            "urgency": float(lab.urgency),
            "anger": anger,
            "reach": min(1.0, float(raw_reach) / settings.reach_max),
            "repeat": repeat,
            "unanswered": 0.0 if first_reply_at else 1.0,
        }
        intent = classify_intent(
            text, lab, pack, replies_to_brand=bool(row.get("replies_to_brand"))
        )
        out.append(
            Mention(
                platform=row["platform"],
                id=row["id"],
                created_at=created,
                author_id=row["author_id"],
                author_handle=row["author_handle"],
                text=text,
                score=sum(w[k] * v for k, v in signals.items()),
                signals=signals,
                needs_reply=intent not in SILENT,
                complaint=lab.complaint,
                first_reply_at=first_reply_at,
                topics=lab.topics,
                intent=intent,
                topic=pack.topic_of(text, hints=lab.topics),
                incident_open=any(
                    s <= created and (e is None or created < e) for s, e in open_spans
                ),
                link=bool(row.get("urls")) or has_link(text),
                author_name=row.get("author_name"),
            )
        )
    return out


NEAR_DUPLICATE_LIMIT = 5_000  # mentions without a theme that are compared for near-duplicates
_BLOCK = 256  # rows whose similarities to every earlier text are computed in one product


# Intents whose people want the same thing from the brand (help with something that went
# wrong): within one theme they are one cluster and get one holding reply.
_ASKING_FOR_HELP = frozenset({"question", "problem", "complaint"})


def _group(intent: str) -> str:
    return "help" if intent in _ASKING_FOR_HELP else intent


def cluster_mentions(mentions: Sequence[Mention], threshold: float) -> list[list[Mention]]:
    """Clusters by meaning: one per theme where the theme is known (questions, problem
    reports and complaints about it together; thanks and information apart), so one theme
    from many authors in their own words is one cluster; mentions without a theme group
    with near-identical texts of the same intent (``_near_duplicates``). The cluster's
    intent is its best-scored member's."""
    by_key: dict[tuple[str, str], list[Mention]] = {}
    loose: dict[str, list[Mention]] = {}
    for m in sorted(mentions, key=lambda m: (-m.score, m.created_at, m.id)):
        if m.topic is not None:
            by_key.setdefault((_group(m.intent), m.topic), []).append(m)
        else:
            loose.setdefault(m.intent, []).append(m)
    out = list(by_key.values())
    for group in loose.values():
        # Near-duplicate search costs (texts x clusters): the best-scored texts get it, the
        # long tail of a huge incident stays one mention a cluster (never read first anyway).
        out.extend(_near_duplicates(group[:NEAR_DUPLICATE_LIMIT], threshold))
        out.extend([m] for m in group[NEAR_DUPLICATE_LIMIT:])
    return out


def _near_duplicates(mentions: Sequence[Mention], threshold: float) -> list[list[Mention]]:
    """Leader clustering in score order: each mention joins the earliest cluster whose
    leader it resembles most (cosine >= threshold), or leads a new one. Identical normalised
    texts are grouped before any vector is built; similarities are computed a block of rows
    at a time against every earlier text."""
    by_text: dict[str, list[Mention]] = {}
    for m in mentions:
        by_text.setdefault(normalise(m.text), []).append(m)
    keys = list(by_text)
    if not keys:
        return []
    analysable = [k if k.strip() else "\x00" for k in keys]
    vectors = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, lowercase=False
    ).fit_transform(analysable)
    matrix = sp.csr_matrix(vectors)
    leaders: list[int] = []
    members: list[list[int]] = []
    for b0 in range(0, len(keys), _BLOCK):
        b1 = min(b0 + _BLOCK, len(keys))
        sims = (matrix[b0:b1] @ matrix[:b1].T).toarray()
        for i in range(b0, b1):
            if leaders:
                row = sims[i - b0, leaders]
                j = int(np.argmax(row))
                if row[j] >= threshold:
                    members[j].append(i)
                    continue
            leaders.append(i)
            members.append([i])
    return [[m for k in group for m in by_text[keys[k]]] for group in members]


def _platform(members: Sequence[Mention]) -> str:
    """The platform most of the cluster wrote on (X's rules where it is none of the four)."""
    platform = Counter(m.platform for m in members).most_common(1)[0][0]
    return platform if platform in PLATFORMS else "x"


def _draft(
    members: Sequence[Mention],
    platform: str,
    facts: Facts | None,
    pack: Pack,
    linter: Linter,
    drafter: ModelDrafter | None,
    brand: str,
    signoff: str | None,
) -> Draft:
    lead = members[0]
    to_complaint = any(m.complaint for m in members)
    name = first_name(lead.author_name) if len(members) == 1 else None
    reply = compose_reply(
        pack,
        lead.intent,
        lead.topic,
        # "We know about it" only if an incident was open when every one of them posted.
        incident_open=all(m.incident_open for m in members),
        # The link warning only if every one of them carries a link.
        link=all(m.link for m in members),
        linter=linter,
        facts=facts,
        name=name,
        signoff=signoff,
        brand=brand,
    )
    if reply is None:
        raise InputError(f"intent {lead.intent!r} needs no reply", field="intent")
    text, findings = reply.text, list(reply.findings)
    note = None
    if not reply.passed or not fits(text, platform):
        note = "no reply template passed the linter and fitted; rewrite before sending"
    source = "template"
    if drafter is not None:
        proposal = drafter.reply(
            brand=brand,
            intent=lead.intent,
            examples=[m.text for m in members],
            count=len(members),
            template=text,
            facts=facts,
            platform=platform,
        )
        note = proposal.reason
        if proposal.accepted and proposal.text is not None:
            text, findings, source = proposal.text, list(proposal.findings), "model"
    reasons = list(review_reasons(text, to_complaint=to_complaint, platform=platform))
    if linter.has_errors(findings):
        reasons.append("the linter reports errors in this draft")
    return Draft(
        text=text,
        intent=lead.intent,
        platform=platform,
        length=weighted_length(text, platform),
        source=source,
        findings=tuple(findings),
        needs_review=bool(reasons),
        review_reasons=tuple(reasons),
        note=note,
    )


def _response_times(
    mentions: Sequence[Mention], now: datetime | None
) -> tuple[ResponseTimes, dict[str, float | None]]:
    latencies = [m.first_reply_s for m in mentions if m.first_reply_s is not None]
    waiting = [(now - m.created_at).total_seconds() for m in mentions if not m.answered and now]
    per_author: dict[str, float | None] = {}
    by_author: dict[str, list[Mention]] = {}
    for m in mentions:
        by_author.setdefault(f"{m.platform}:{m.author_handle or m.author_id}", []).append(m)
    for author, posts in by_author.items():
        replies = [m.first_reply_at for m in posts if m.first_reply_at is not None]
        first_post = min(m.created_at for m in posts)
        per_author[author] = (min(replies) - first_post).total_seconds() if replies else None
    author_latencies = [v for v in per_author.values() if v is not None]
    return (
        ResponseTimes(
            mentions=len(mentions),
            answered=len(latencies),
            median_first_reply_s=float(np.median(latencies)) if latencies else None,
            p90_first_reply_s=float(np.percentile(latencies, 90)) if latencies else None,
            oldest_unanswered_s=max(waiting) if waiting else None,
            authors=len(per_author),
            authors_answered=len(author_latencies),
            median_author_first_reply_s=(
                float(np.median(author_latencies)) if author_latencies else None
            ),
        ),
        per_author,
    )
