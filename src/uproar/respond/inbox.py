"""The reply inbox: who needs an answer first, grouped, with a checked draft per group.

    inbox = build_inbox(store, incident="inc-kiwinet-0001", facts=load_facts("update.toml"))
    for cluster in inbox.clusters:          # best first
        cluster.count, cluster.label, cluster.draft.text, cluster.draft.needs_review

How it works (the numbers live in ``templates/inbox.toml``):

1. **Mentions** of the brand by others in the incident's window (or ``brand`` and
   ``since``/``until``), with their labels from the understand stage where present and a cheap
   fallback where not (a "?" or question opener; urgent and complaint terms; VADER).
2. **Score** = weighted sum of six signals in [0, 1]: question, urgency, anger, reach
   (followers and engagement, log-scaled), repeat (the author keeps posting) and unanswered
   (no reply from the brand's own account). A mention *needs a reply* when it is a question,
   urgent or a complaint.
3. **Clusters**: mentions whose normalised text (links, handles and digits dropped) is
   near-identical - cosine similarity of character 3-5-gram TF-IDF over the threshold - form
   one cluster; a cluster scores its best mention plus a bonus for its size.
4. **Drafts**: the cluster's intent (ETA, is-it-down, what-to-do, refund, complaint) picks a
   reply template (``templates/replies.toml``) filled from the status facts; every draft is
   linted as a reply and must fit the platform. An optional model (``llm.ModelDrafter``) may
   propose a better one; the linter still decides.
5. **Guard**: a draft that carries media or a link in reply to a complaint is held for a
   second person's review (in 2014 an airline's reply to a complaint carried an obscene
   image: no single person should be able to send that).
6. **Response times**: the brand's first reply to each mention, per cluster and per author.
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
import regex
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from uproar.errors import ConfigError, InputError
from uproar.records import Finding
from uproar.respond.datafiles import load_toml
from uproar.respond.lint import Linter, Profile, default_linter
from uproar.respond.llm import ModelDrafter
from uproar.respond.platforms import PLATFORMS, fits, link_spans, weighted_length
from uproar.respond.thread import Facts, fill_facts
from uproar.store.respond import inbox_mentions, incident_window, latest_mention, save_drafts
from uproar.store.store import Store, utc

SIGNALS: tuple[str, ...] = ("question", "urgency", "anger", "reach", "repeat", "unanswered")
INTENTS: tuple[str, ...] = ("eta", "status", "what_to_do", "refund", "complaint", "other")


# -- settings (data) -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class InboxSettings:
    """Weights, thresholds and term lists (``templates/inbox.toml``)."""

    weights: Mapping[str, float]
    cluster_bonus: float
    complaint_anger: float
    reach_log_max: float
    repeat_saturation: int
    similarity: float
    question_openers: tuple[str, ...]
    urgent: tuple[str, ...]
    complaint: tuple[str, ...]
    intents: tuple[tuple[str, tuple[str, ...]], ...]


def load_inbox_settings(path: str | Path | None = None) -> InboxSettings:
    return load_toml(path, _parse_settings, shipped="inbox.toml", what="inbox settings")


def _parse_settings(data: dict[str, Any], source: str) -> InboxSettings:
    try:
        score, terms = data["score"], data["terms"]
        weights = {name: float(score[name]) for name in SIGNALS}
        intents = tuple((str(i["name"]), tuple(i["terms"])) for i in data.get("intents", []))
        for name, _ in intents:
            if name not in INTENTS:
                raise ConfigError(f"{source}: unknown intent {name!r}", key="intents")
        return InboxSettings(
            weights=weights,
            cluster_bonus=float(score.get("cluster_bonus", 1.0)),
            complaint_anger=float(score.get("complaint_anger", 0.3)),
            reach_log_max=float(score.get("reach_log_max", 6.0)),
            repeat_saturation=int(score.get("repeat_saturation", 3)),
            similarity=float(data.get("cluster", {}).get("similarity", 0.5)),
            question_openers=tuple(terms["question_openers"]),
            urgent=tuple(terms["urgent"]),
            complaint=tuple(terms["complaint"]),
            intents=intents,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: missing or bad key {exc}", file=source) from exc


@dataclass(frozen=True, slots=True)
class ReplyTemplate:
    """A reply for one intent. With ``topics`` it answers only clusters about one of them
    (the understand stage's topic ids), so a scam warning goes to people asking about the
    scam and a rebooking offer to people whose flight was cancelled."""

    intent: str
    text: str
    uses: tuple[str, ...] = ()
    media: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()


def load_reply_templates(path: str | Path | None = None) -> dict[str, tuple[ReplyTemplate, ...]]:
    """Reply templates per intent (``templates/replies.toml`` or a brand's own file)."""
    return load_toml(path, _parse_replies, shipped="replies.toml", what="reply templates")


_PLACEHOLDER = regex.compile(r"\{(\w+)\}")


def _parse_replies(data: dict[str, Any], source: str) -> dict[str, tuple[ReplyTemplate, ...]]:
    out: dict[str, tuple[ReplyTemplate, ...]] = {}
    for intent in INTENTS:
        specs = data.get(intent)
        if not specs:
            raise ConfigError(f"{source}: no replies for intent {intent!r}", key=intent)
        replies = []
        for i, spec in enumerate(specs):
            where = f"{intent}[{i}]"
            text = spec.get("text") if isinstance(spec, dict) else None
            if not isinstance(text, str):
                raise ConfigError(
                    f"{source}: {where} needs a `text` string", file=source, key=where
                )
            reply = ReplyTemplate(
                intent=intent,
                text=text,
                **{k: _strings(spec, k, where, source) for k in ("uses", "media", "topics")},
            )
            named = {m.lower() for m in _PLACEHOLDER.findall(reply.text)}
            if not named <= set(reply.uses):
                raise ConfigError(
                    f"{source}: {intent}[{i}] uses {sorted(named - set(reply.uses))} "
                    "without listing them in `uses`",
                    key=f"{intent}[{i}]",
                )
            replies.append(reply)
        if replies[-1].uses or replies[-1].topics:
            raise ConfigError(
                f"{source}: the last {intent!r} reply must need no facts and no topic",
                key=intent,
            )
        out[intent] = tuple(replies)
    return out


def _strings(spec: dict[str, Any], key: str, where: str, source: str) -> tuple[str, ...]:
    value = spec.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(
            f"{source}: {where}.{key} must be a list of strings", file=source, key=f"{where}.{key}"
        )
    return tuple(value)


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
@cache
def _term_pattern(terms: tuple[str, ...]) -> regex.Pattern[str]:
    """Compiled once per term list: the inbox asks for the same lists for every cluster."""
    alternation = "|".join(regex.escape(t) for t in sorted(terms, key=len, reverse=True))
    return regex.compile(rf"(?<!\w)(?:{alternation})(?!\w)", regex.IGNORECASE)


@cache
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


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
    replies: Mapping[str, Sequence[ReplyTemplate]] | None = None,
    drafter: ModelDrafter | None = None,
) -> Inbox:
    """Rank the mentions that need a reply, cluster them and draft one reply per cluster.

    With ``incident`` the brand and window come from the store's ``incidents`` table;
    otherwise give ``brand`` (and optionally ``since``/``until``). ``now`` (default: the
    window's end, else its newest post) bounds which brand replies count as sent."""
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
    replies = replies or load_reply_templates()
    linter = linter or (Linter(profile) if profile is not None else default_linter())

    rows = inbox_mentions(store, brand=brand, since=since, until=until, now=now).to_pylist()
    mentions = _score(rows, settings)
    needing = [m for m in mentions if m.needs_reply]
    groups = _cluster(needing, settings.similarity)
    inbox_topics = Counter(t for m in needing for t in m.topics)
    clusters: list[tuple[float, list[Mention]]] = []
    for members in groups:
        members.sort(key=lambda m: (-m.score, m.created_at, m.id))
        bonus = settings.cluster_bonus * math.log2(len(members))
        clusters.append((members[0].score + bonus, members))
    clusters.sort(key=lambda c: (-c[0], c[1][0].created_at, c[1][0].id))

    out = []
    for number, (score, members) in enumerate(clusters[:limit], start=1):
        intent = _intent(members, settings)
        topic = _topic(members, inbox_topics, len(needing))
        platform = _platform(members)
        draft = _draft(intent, topic, members, platform, facts, replies, linter, drafter, brand)
        replied = [m.first_reply_s for m in members if m.first_reply_s is not None]
        first_reply = None
        if replied:
            first_at = min(m.first_reply_at for m in members if m.first_reply_at is not None)
            first_reply = (first_at - min(m.created_at for m in members)).total_seconds()
        out.append(
            Cluster(
                id=number,
                intent=intent,
                score=score,
                label=members[0].text,
                mentions=tuple(members),
                draft=draft,
                first_reply_s=first_reply,
                median_reply_s=float(np.median(replied)) if replied else None,
                topic=topic,
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


def _score(rows: list[dict[str, Any]], settings: InboxSettings) -> list[Mention]:
    urgent = _term_pattern(settings.urgent)
    complaint_terms = _term_pattern(settings.complaint)
    opener = _term_pattern(settings.question_openers)
    w = settings.weights
    out = []
    for row in rows:
        text = row["text"] or ""
        question = row["question"]
        if question is None:
            stripped = normalise(text)
            question = "?" in text or bool(opener.match(stripped))
        urgency = row["urgency"]
        if urgency is None:
            urgency = bool(urgent.search(text))
        if row["sentiment"] is not None:
            anger = 1.0 if row["sentiment"] == "negative" else 0.0
        else:
            anger = max(0.0, -float(_vader().polarity_scores(text)["compound"]))
        complaint = row["complaint"]
        if complaint is None:
            complaint = anger >= settings.complaint_anger or bool(complaint_terms.search(text))
        engagement = (row["like_count"] or 0) + (row["repost_count"] or 0)
        followers = row["author_followers"] or 0
        reach = min(1.0, math.log10(1 + followers + 5 * engagement) / settings.reach_log_max)
        repeat = min(1.0, ((row["author_posts"] or 1) - 1) / settings.repeat_saturation)
        first_reply_at = utc(row["first_reply_at"])
        signals = {
            "question": float(bool(question)),
            "urgency": float(bool(urgency)),
            "anger": anger,
            "reach": reach,
            "repeat": repeat,
            "unanswered": 0.0 if first_reply_at else 1.0,
        }
        created = utc(row["created_at"])
        assert created is not None
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
                needs_reply=bool(question or urgency or complaint),
                complaint=bool(complaint),
                first_reply_at=first_reply_at,
                topics=tuple(row["topics"] or ()),
            )
        )
    return out


_BLOCK = 256  # rows whose similarities to every earlier text are computed in one product


def _cluster(mentions: Sequence[Mention], threshold: float) -> list[list[Mention]]:
    """Leader clustering in score order: each mention joins the earliest cluster whose
    leader it resembles most (cosine >= threshold), or leads a new one. Identical normalised
    texts are grouped before any vector is built; similarities are computed a block of rows
    at a time against every earlier text."""
    by_text: dict[str, list[Mention]] = {}
    ordered = sorted(mentions, key=lambda m: (-m.score, m.created_at, m.id))
    for m in ordered:
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


def _intent(members: Sequence[Mention], settings: InboxSettings) -> str:
    votes: Counter[str] = Counter()
    for name, terms in settings.intents:
        pattern = _term_pattern(terms)
        votes[name] = sum(bool(pattern.search(m.text)) for m in members[:50])
    if votes and max(votes.values()) > 0:
        top = max(votes.values())
        return next(name for name, _ in settings.intents if votes[name] == top)
    return "complaint" if any(m.complaint for m in members) else "other"


def _topic(members: Sequence[Mention], inbox_topics: Counter[str], inbox_size: int) -> str | None:
    """What sets the cluster apart: of the topics at least a third of it talks about, the
    one most over-represented against the whole inbox ("botnet on my modem" is labelled
    both no-connection and security; security is what is particular to it). None if no
    topic reaches a third."""
    counts = Counter(t for m in members for t in m.topics)
    common = [t for t, c in counts.items() if 3 * c >= len(members)]
    if not common:
        return None
    return max(common, key=lambda t: counts[t] * inbox_size / inbox_topics[t])


def _platform(members: Sequence[Mention]) -> str:
    """The platform most of the cluster wrote on (X's rules where it is none of the four)."""
    platform = Counter(m.platform for m in members).most_common(1)[0][0]
    return platform if platform in PLATFORMS else "x"


def _draft(
    intent: str,
    topic: str | None,
    members: Sequence[Mention],
    platform: str,
    facts: Facts | None,
    replies: Mapping[str, Sequence[ReplyTemplate]],
    linter: Linter,
    drafter: ModelDrafter | None,
    brand: str,
) -> Draft:
    known = set() if facts is None else {k for k in ("what", "who", "do", "doing",
                                                       "next_update", "link", "changed",
                                                       "brand") if getattr(facts, k)}  # fmt: skip
    to_complaint = any(m.complaint for m in members)
    chosen: tuple[ReplyTemplate, str, list[Finding]] | None = None
    last: tuple[ReplyTemplate, str, list[Finding]] | None = None
    # Replies written for the cluster's topic first, then the general ones, each in file order.
    ordered = sorted(replies[intent], key=lambda t: not t.topics)
    for template in ordered:
        if not set(template.uses) <= known or (template.topics and topic not in template.topics):
            continue
        text = fill_facts(template.text, facts) if facts is not None else template.text
        findings = linter.lint(text, kind="reply")
        last = (template, text, findings)
        if fits(text, platform) and not linter.has_errors(findings):
            chosen = last
            break
    note = None
    if chosen is None:
        assert last is not None  # the last template of each intent needs no facts
        chosen = last
        note = "no reply template passed the linter and fitted; rewrite before sending"
    template, text, findings = chosen
    source = "template"
    if drafter is not None:
        proposal = drafter.reply(
            brand=brand,
            intent=intent,
            examples=[m.text for m in members],
            count=len(members),
            template=text,
            facts=facts,
            platform=platform,
        )
        note = proposal.reason
        if proposal.accepted and proposal.text is not None:
            text, findings, source = proposal.text, list(proposal.findings), "model"
    media = template.media if source == "template" else ()
    reasons = list(review_reasons(text, media=media, to_complaint=to_complaint, platform=platform))
    if linter.has_errors(findings):
        reasons.append("the linter reports errors in this draft")
    return Draft(
        text=text,
        intent=intent,
        platform=platform,
        length=weighted_length(text, platform),
        source=source,
        findings=tuple(findings),
        media=media,
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
