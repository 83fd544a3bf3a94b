"""The reply inbox: who needs an answer first, grouped, with a checked draft per group.

    inbox = build_inbox(store, incident="inc-kiwinet-0001", facts=load_facts("update.toml"))
    for cluster in inbox.clusters:          # best first
        cluster.count, cluster.label, cluster.draft.text, cluster.draft.needs_review

How it works (the numbers live in ``templates/inbox.toml``):

1. **Mentions** of the brand by others in the incident's window (or ``brand`` and
   ``since``/``until``), with the understand stage's labels: the stored ones, or for posts
   not yet labelled, ``understand.Classifier`` run on them here (one owner of each label).
2. **Intent and theme** (``answer.py``, data in ``packs/``): question, problem, complaint,
   thanks, information, abuse or none; the theme is the first topic of the brand's
   industry pack among the labels' topics (the understand stage's topic pack, chosen by
   the brand's ``industry`` in the brands file: one taxonomy for labels and inbox). Abuse
   and "none" need no reply.
3. **Score** = weighted sum of six signals in [0, 1]: question, urgency, anger, reach
   (``understand.classifier.reach``, scaled), repeat (the author keeps posting) and
   unanswered (no reply from the brand's own account).
4. **Clusters by meaning** (``clusters.py``): within one intent group (questions, problems
   and complaints together; thanks; information) and one open incident, mentions of the
   same theme are one cluster (many people rebooking a cancelled flight, in their own
   words, are one cluster with a count), and a mention without a theme joins the cluster
   whose sentence vectors (all-MiniLM-L6-v2) it is nearest (cosine >= ``similarity``). A
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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, overload

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from uproar.errors import ConfigError, InputError
from uproar.records import Finding
from uproar.respond.answer import (
    INTENTS,
    SILENT,
    Pack,
    classify_intents,
    compose_reply,
    first_name,
    have_links,
    load_pack,
    topics_of,
)
from uproar.respond.clusters import meaning_clusters, text_vectors
from uproar.respond.datafiles import load_toml
from uproar.respond.lint import Linter, Profile, default_linter
from uproar.respond.llm import ModelDrafter
from uproar.respond.match import risky_texts
from uproar.respond.platforms import PLATFORMS, fits, link_spans, weighted_length
from uproar.respond.thread import Facts
from uproar.store.respond import (
    brand_incidents,
    inbox_mentions,
    incident_window,
    latest_mention,
    save_drafts,
)
from uproar.store.store import Store
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
    mentions: Sequence[Mention]  # a tuple, or a view that builds each as it is read
    draft: Draft
    first_reply_s: float | None = None
    median_reply_s: float | None = None
    topic: str | None = None

    @property
    def count(self) -> int:
        return len(self.mentions)

    @property
    def authors(self) -> int:
        if isinstance(self.mentions, MentionView):
            return self.mentions.authors()
        return len({(m.platform, m.author_id) for m in self.mentions})

    @property
    def unanswered(self) -> int:
        if isinstance(self.mentions, MentionView):
            return int((~self.mentions.flags("replied")).sum())
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

    table = inbox_mentions(store, brand=brand, since=since, until=until, now=now)
    scored = _columns(table, settings, pack, open_spans)
    # Rank: score, then time, then id, as one row at a time would sort them.
    needing = np.flatnonzero(scored.needs_reply)
    ranking = pa.table(
        {
            "score": pa.array(-scored.score[needing]),
            "at": pa.array(scored.stamps[needing]),
            "id": table.column("id").take(pa.array(needing)),
        }
    )
    order = needing[
        pc.sort_indices(
            ranking, sort_keys=[("score", "ascending"), ("at", "ascending"), ("id", "ascending")]
        ).to_numpy()
    ]
    members = _cluster_rows(scored, order, settings.similarity)
    leads = np.fromiter((g[0] for g in members), dtype=np.int64, count=len(members))
    sizes = np.fromiter((len(g) for g in members), dtype=np.int64, count=len(members))
    bonus = {n: settings.cluster_bonus * math.log2(n) for n in np.unique(sizes).tolist()}
    cluster_score = scored.score[leads] + np.array([bonus[n] for n in sizes.tolist()])
    # Clusters by score, then their lead's time and id (its place in time-and-id order).
    by_time = pc.sort_indices(
        pa.table({"at": pa.array(scored.stamps), "id": table.column("id")}),
        sort_keys=[("at", "ascending"), ("id", "ascending")],
    ).to_numpy()
    time_rank = np.empty(len(scored), dtype=np.int64)
    time_rank[by_time] = np.arange(len(by_time))
    ranked = np.lexsort((time_rank[leads], -cluster_score)) if len(leads) else leads

    out = []
    for number, c in enumerate(ranked[:limit].tolist(), start=1):
        view = MentionView(scored, np.asarray(members[c], dtype=np.int64))
        lead = view[0]
        platform = _platform(view)
        draft = _draft(view, platform, facts, pack, linter, drafter, brand, signoff)
        created, replies, replied = view.stamps()
        latencies = (replies[replied] - created[replied]) / 1e6
        out.append(
            Cluster(
                id=number,
                intent=lead.intent,
                score=float(cluster_score[c]),
                label=lead.text,
                mentions=view,
                draft=draft,
                first_reply_s=(
                    float((replies[replied].min() - created.min()) / 1e6) if replied.any() else None
                ),
                median_reply_s=float(np.median(latencies)) if replied.any() else None,
                topic=lead.topic,
            )
        )
    response, per_author = _response_columns(scored, needing, now)
    return Inbox(
        brand=brand,
        since=since,
        until=until,
        now=now,
        incident=incident,
        mentions=len(scored),
        needing_reply=len(needing),
        clusters_total=len(members),
        clusters=tuple(out),
        response=response,
        author_first_reply_s=per_author,
    )


def _cluster_rows(scored: Scored, order: np.ndarray, threshold: float) -> list[list[int]]:
    """``cluster_mentions`` over rows in rank order (``order``): the same clusters, as
    lists of rows, best first. Only the best ``MEANING_LIMIT`` rows are encoded."""
    rows = order.tolist()
    head = rows[:MEANING_LIMIT]
    vectors = text_vectors().encode([scored.texts[i].as_py() for i in head])
    intent, incident = scored.intent, scored.incident
    groups = meaning_clusters(
        vectors,
        blocks=[(_group(intent[i]), int(incident[i])) for i in rows],
        topics=[scored.topic[i] for i in rows],
        similarity=threshold,
    )
    return [[rows[k] for k in group] for group in groups]


def _response_columns(
    scored: Scored, rows: np.ndarray, now: datetime | None
) -> tuple[ResponseTimes, dict[str, float | None]]:
    """``_response_times`` over the rows that need a reply, a column at a time."""
    created, replies, replied = scored.stamps[rows], scored.reply_stamps[rows], scored.replied[rows]
    latencies = (replies[replied] - created[replied]) / 1e6
    waiting = (
        (_micros(now) - created[~replied]) / 1e6 if now is not None else np.zeros(0, np.float64)
    )
    picked = scored.table.take(pa.array(rows))
    handle = pc.if_else(
        pc.is_valid(picked.column("author_handle")),
        picked.column("author_handle"),
        picked.column("author_id"),
    )
    # An empty handle falls back to the id too, as ``m.author_handle or m.author_id`` does.
    handle = pc.if_else(pc.equal(handle, ""), picked.column("author_id"), handle)
    key = pc.binary_join_element_wise(picked.column("platform"), handle, ":")
    # Authors in the order they first appear (the row-at-a-time dict's order).
    encoded = pc.dictionary_encode(key).combine_chunks()
    authors = encoded.dictionary.to_pylist()
    inverse = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    first_post = np.full(len(authors), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_post, inverse, created)
    first_reply = np.full(len(authors), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_reply, inverse[replied], replies[replied])
    answered = first_reply < np.iinfo(np.int64).max
    author_latency = (first_reply - first_post) / 1e6
    per_author: dict[str, float | None] = {
        str(name): float(author_latency[a]) if answered[a] else None
        for a, name in enumerate(authors)
    }
    done = author_latency[answered]
    return (
        ResponseTimes(
            mentions=len(rows),
            answered=int(replied.sum()),
            median_first_reply_s=float(np.median(latencies)) if len(latencies) else None,
            p90_first_reply_s=float(np.percentile(latencies, 90)) if len(latencies) else None,
            oldest_unanswered_s=float(waiting.max()) if len(waiting) else None,
            authors=len(authors),
            authors_answered=int(answered.sum()),
            median_author_first_reply_s=float(np.median(done)) if len(done) else None,
        ),
        per_author,
    )


@cache
def _classifier() -> Classifier:
    return Classifier("fast")


def _flags(table: pa.Table, name: str) -> np.ndarray:
    """A boolean label column, False where it is NULL."""
    column = pc.fill_null(table.column(name), False)
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=bool)


@dataclass(frozen=True, slots=True)
class Scored:
    """Every mention of an inbox as columns (row ``i`` of each): what ``_columns`` works
    out for the whole window at once. ``mention(i)`` builds one ``Mention`` record; only
    the mentions someone looks at are ever built."""

    table: pa.Table  # the query's columns
    texts: pa.Array
    stamps: np.ndarray  # created_at, naive-UTC microseconds
    reply_stamps: np.ndarray  # the brand's first reply, same unit (0 where none)
    replied: np.ndarray
    score: np.ndarray
    signals: tuple[np.ndarray, ...]  # in SIGNALS order
    needs_reply: np.ndarray
    complaint: np.ndarray
    topics: list[tuple[str, ...]]
    intent: list[str]
    topic: list[str | None]
    incident: np.ndarray  # which open incident (``_incident_of``), -1 for none
    link: np.ndarray

    def __len__(self) -> int:
        return int(self.table.num_rows)

    @property
    def incident_open(self) -> np.ndarray:
        """Whether an incident of the brand was open at each mention's time."""
        return np.asarray(self.incident >= 0)

    def value(self, column: str, i: int) -> Any:
        return self.table.column(column)[i].as_py()

    def mention(self, i: int) -> Mention:
        return Mention(
            platform=self.value("platform", i),
            id=self.value("id", i),
            created_at=_time(int(self.stamps[i])),
            author_id=self.value("author_id", i),
            author_handle=self.value("author_handle", i),
            text=self.texts[i].as_py(),
            score=float(self.score[i]),
            signals={name: float(col[i]) for name, col in zip(SIGNALS, self.signals, strict=True)},
            needs_reply=bool(self.needs_reply[i]),
            complaint=bool(self.complaint[i]),
            first_reply_at=_time(int(self.reply_stamps[i])) if self.replied[i] else None,
            topics=self.topics[i],
            intent=self.intent[i],
            topic=self.topic[i],
            incident_open=bool(self.incident[i] >= 0),
            link=bool(self.link[i]),
            author_name=self.value("author_name", i),
        )


class MentionView(Sequence[Mention]):
    """A cluster's mentions, best first, built as they are read (a cluster of a huge
    incident may hold a hundred thousand; a page shows three)."""

    __slots__ = ("_rows", "_scored")

    def __init__(self, scored: Scored, rows: np.ndarray) -> None:
        self._scored, self._rows = scored, rows

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> Mention: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Mention, ...]: ...
    def __getitem__(self, index: int | slice) -> Mention | tuple[Mention, ...]:
        if isinstance(index, slice):
            return tuple(self._scored.mention(int(i)) for i in self._rows[index])
        return self._scored.mention(int(self._rows[index]))

    def __iter__(self) -> Iterator[Mention]:
        return (self._scored.mention(int(i)) for i in self._rows)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(tuple(self._rows.tolist()))

    def __repr__(self) -> str:
        return f"MentionView({len(self)} mentions)"

    def flags(self, name: str) -> np.ndarray:
        """A boolean field (complaint, incident_open, link, replied) of every mention."""
        return np.asarray(getattr(self._scored, name)[self._rows], dtype=bool)

    def authors(self) -> int:
        table = self._scored.table.take(pa.array(self._rows)).select(["platform", "author_id"])
        return int(table.group_by(["platform", "author_id"]).aggregate([]).num_rows)

    def platforms(self) -> Counter[str]:
        column = self._scored.table.column("platform").take(pa.array(self._rows))
        return Counter(column.to_pylist())

    def stamps(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Created and first-reply times (microseconds), and which were replied to."""
        s = self._scored
        return s.stamps[self._rows], s.reply_stamps[self._rows], s.replied[self._rows]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _time(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _score(
    table: pa.Table,
    settings: InboxSettings,
    pack: Pack,
    open_spans: Sequence[tuple[datetime, datetime | None]],
) -> list[Mention]:
    """Every mention of ``table`` (``inbox_mentions``) as a scored ``Mention``."""
    scored = _columns(table, settings, pack, open_spans)
    return [scored.mention(i) for i in range(len(scored))]


def _columns(
    table: pa.Table,
    settings: InboxSettings,
    pack: Pack,
    open_spans: Sequence[tuple[datetime, datetime | None]],
) -> Scored:
    """Every mention's signals, score, intent and theme, a column at a time: the labels
    (the understand stage's for posts it has not labelled yet), reach, repeat, unanswered,
    the pack's intent and theme patterns over the whole column (``answer.classify_intents``,
    the same answers as ``classify_intent`` text by text), and whether an incident was open."""
    rows = table.num_rows
    texts = pc.fill_null(table.column("text"), "").combine_chunks()
    sentiment = [s or "neutral" for s in table.column("sentiment").to_pylist()]
    topics = [tuple(t or ()) for t in table.column("topics").to_pylist()]
    complaint = _flags(table, "complaint")
    question = _flags(table, "question")
    urgency = _flags(table, "urgency")
    anger = np.array([float(s == "negative") for s in sentiment], dtype=np.float64)
    missing = np.flatnonzero(pc.is_null(table.column("complaint")).to_numpy(zero_copy_only=False))
    if len(missing):
        fresh = _classifier().classify([texts[int(i)].as_py() for i in missing])
        for i, lab in zip(missing.tolist(), fresh, strict=True):
            complaint[i], question[i], urgency[i] = lab.complaint, lab.question, lab.urgency
            sentiment[i], topics[i] = lab.sentiment, lab.topics
            scores = lab.sentiment_scores
            anger[i] = float(scores["negative"]) if scores else float(lab.sentiment == "negative")
    raw_reach = reach(table.select(["author_followers", "like_count", "repost_count"]))
    author_posts = pc.fill_null(table.column("author_posts"), 1).to_numpy(zero_copy_only=False)
    first_reply = table.column("first_reply_at")
    replied = np.asarray(pc.is_valid(first_reply).to_numpy(zero_copy_only=False), dtype=bool)
    signals = {
        "question": question.astype(np.float64),
        "urgency": urgency.astype(np.float64),
        "anger": anger,
        "reach": np.minimum(1.0, raw_reach / settings.reach_max),
        "repeat": np.minimum(
            1.0, (author_posts.astype(np.float64) - 1) / settings.repeat_saturation
        ),
        "unanswered": np.where(replied, 0.0, 1.0),
    }
    score = np.zeros(rows, dtype=np.float64)
    for name in SIGNALS:  # the same additions, in the same order, as one row at a time
        score = score + settings.weights[name] * signals[name]
    risky = risky_texts(texts)
    negative = np.array([s == "negative" for s in sentiment], dtype=bool)
    intents = classify_intents(
        texts,
        pack,
        question=question,
        complaint=complaint,
        negative=negative,
        replies_to_brand=_flags(table, "replies_to_brand"),
        risky=risky,
    )
    themes = topics_of(topics, pack)
    stamps = _micros_column(table.column("created_at"))
    incident = _incident_of(stamps, open_spans)
    urls = pc.fill_null(pc.list_value_length(table.column("urls")), 0).to_numpy(
        zero_copy_only=False
    )
    return Scored(
        table=table,
        texts=texts,
        stamps=stamps,
        reply_stamps=_micros_column(pc.fill_null(first_reply, pa.scalar(0, first_reply.type))),
        replied=replied,
        score=score,
        signals=tuple(signals[name] for name in SIGNALS),
        needs_reply=np.array([i not in SILENT for i in intents], dtype=bool),
        complaint=complaint,
        topics=topics,
        intent=intents,
        topic=themes,
        incident=incident,
        link=(urls > 0) | have_links(texts, risky),
    )


def _micros_column(column: Any) -> np.ndarray:
    """A naive-UTC timestamp column as int64 microseconds."""
    values = pc.cast(column, pa.timestamp("us")).cast(pa.int64())
    return np.asarray(pc.fill_null(values, 0).to_numpy(zero_copy_only=False), dtype=np.int64)


def _micros(moment: datetime) -> int:
    """A time as the store's naive-UTC microseconds."""
    return round(moment.timestamp() * 1_000_000)


# Mentions, best first, that get a sentence vector (the rest join by theme only). The
# encoder costs about 7 ms of CPU per real post (bench/classify.py), so 2,000 cost about 7 s
# on two threads the first time and nothing after (respond.clusters keeps vectors by text).
MEANING_LIMIT = 2_000


def _incident_of(
    stamps: np.ndarray, open_spans: Sequence[tuple[datetime, datetime | None]]
) -> np.ndarray:
    """For each time (naive-UTC microseconds), the index in ``open_spans`` (the brand's
    incidents in start order) of the latest-started incident open at that time, or -1."""
    out = np.full(len(stamps), -1, dtype=np.int64)
    for k, (start, end) in enumerate(open_spans):
        after = stamps >= _micros(start)
        out[after if end is None else after & (stamps < _micros(end))] = k
    return out


# Intents whose people want the same thing from the brand (help with something that went
# wrong): within one theme they are one cluster and get one holding reply.
_ASKING_FOR_HELP = frozenset({"question", "problem", "complaint"})


def _group(intent: str) -> str:
    return "help" if intent in _ASKING_FOR_HELP else intent


def cluster_mentions(
    mentions: Sequence[Mention],
    threshold: float,
    *,
    open_spans: Sequence[tuple[datetime, datetime | None]] = (),
) -> list[list[Mention]]:
    """Clusters by meaning (``clusters.meaning_clusters``), each best first: within an
    intent group (questions, problem reports and complaints together; thanks and
    information apart) and one open incident of ``open_spans`` (the brand's incidents),
    one theme is one cluster, and a mention without a theme joins the cluster whose sentence
    vectors it is nearest (cosine >= ``threshold``). The cluster's intent is its
    best-scored member's."""
    ranked = sorted(mentions, key=lambda m: (-m.score, m.created_at, m.id))
    stamps = np.array([_micros(m.created_at) for m in ranked], dtype=np.int64)
    incident = _incident_of(stamps, open_spans)
    vectors = text_vectors().encode([m.text for m in ranked[:MEANING_LIMIT]])
    groups = meaning_clusters(
        vectors,
        blocks=[(_group(m.intent), int(k)) for m, k in zip(ranked, incident, strict=True)],
        topics=[m.topic for m in ranked],
        similarity=threshold,
    )
    return [[ranked[k] for k in group] for group in groups]


def _platform(members: Sequence[Mention]) -> str:
    """The platform most of the cluster wrote on (X's rules where it is none of the four)."""
    counts = (
        members.platforms()
        if isinstance(members, MentionView)
        else Counter(m.platform for m in members)
    )
    platform = counts.most_common(1)[0][0]
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
    to_complaint = _flag(members, "complaint", any)
    name = first_name(lead.author_name) if len(members) == 1 else None
    reply = compose_reply(
        pack,
        lead.intent,
        lead.topic,
        # "We know about it" only if an incident was open when every one of them posted.
        incident_open=_flag(members, "incident_open", all),
        # The link warning only if every one of them carries a link.
        link=_flag(members, "link", all),
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


def _flag(members: Sequence[Mention], name: str, how: Callable[[Iterable[bool]], bool]) -> bool:
    """Whether any (or all) of the members have a boolean field set, from the columns when
    the members are a view of them."""
    if isinstance(members, MentionView):
        return bool(how(members.flags(name).tolist()))
    return bool(how(bool(getattr(m, name)) for m in members))


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
