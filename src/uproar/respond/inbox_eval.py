"""Score the inbox on real customer messages: the TWCS sample, read in place.

``evaldata/twcs-inbox.jsonl`` holds, for 340 customer messages of the sample, the id, the
brand that answered and the intent and theme a person gave them (the texts stay in
../shared/data/twcs; only ids and labels are kept here). ``evaldata/twcs-brands.toml`` gives
each support account's industry, which picks its pack.

Figures: intent accuracy, theme accuracy, cluster purity (each brand's messages clustered as
the inbox clusters them, scored against the labelled themes; with pairwise precision and
recall, two messages of one brand being "together" in truth when they share a labelled
theme, and the adjusted Rand index over all brands), how many clusters the
airlines' messages form, and the safety checks of the issue (no "we know about it" with no
incident open, no apology to thanks, the link warning only with a link, the security answer
to security questions, airline wording to airlines). "Sendable unedited" counts drafts
whose intent and theme match the labels and that pass the linter with no finding at all:
a strict stand-in for a person's judgement, which is reported beside it.
"""

from __future__ import annotations

import json
import tomllib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any

import regex
from sklearn.metrics import adjusted_rand_score

from uproar.errors import InputError
from uproar.records import Labels
from uproar.respond.answer import (
    SILENT,
    classify_intent,
    compose_reply,
    has_link,
    load_pack,
)
from uproar.respond.inbox import Mention, cluster_mentions, load_inbox_settings
from uproar.respond.lint import Linter
from uproar.respond.twcs import TwcsSample
from uproar.understand.classifier import Classifier

_KNOWN = regex.compile(r"\b(?:not just you|we know about|we're aware)\b", regex.IGNORECASE)
_SORRY = regex.compile(r"\b(?:sorry|apologi[sz]e|apologies)\b", regex.IGNORECASE)
_LINK_WARNING = regex.compile(r"don't open the link", regex.IGNORECASE)
_SECURITY_ANSWER = regex.compile(r"never ask for your password", regex.IGNORECASE)
_ISP_WORDS = regex.compile(r"\b(?:modem|router|your line|cut off|broadband)\b", regex.IGNORECASE)


@dataclass(frozen=True, slots=True)
class LabelledMessage:
    id: str
    brand: str
    intent: str
    theme: str


def load_inbox_labels() -> list[LabelledMessage]:
    text = (resources.files("uproar.respond") / "evaldata" / "twcs-inbox.jsonl").read_text("utf-8")
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        try:
            out.append(LabelledMessage(**json.loads(line)))
        except (ValueError, TypeError) as exc:
            raise InputError(f"bad label: {exc}", file="twcs-inbox.jsonl", line=n) from exc
    return out


def twcs_industries() -> dict[str, str]:
    """Support account -> industry, for the accounts in the TWCS sample."""
    raw = (resources.files("uproar.respond") / "evaldata" / "twcs-brands.toml").read_text("utf-8")
    return {h: ind for ind, handles in tomllib.loads(raw).items() for h in handles}


@dataclass(frozen=True, slots=True)
class Answered:
    """One labelled message with what the inbox made of it."""

    id: str
    brand: str
    industry: str | None
    text: str
    intent: str
    theme: str
    predicted_intent: str
    predicted_theme: str | None
    draft: str | None
    lint_clean: bool

    @property
    def sendable(self) -> bool:
        if self.intent in SILENT:
            return self.predicted_intent in SILENT
        return (
            self.predicted_intent == self.intent
            and (self.predicted_theme or "other") == self.theme
            and self.draft is not None
            and self.lint_clean
        )


@dataclass(frozen=True, slots=True)
class InboxEval:
    messages: int
    intent_accuracy: float
    theme_accuracy: float
    cluster_purity: float
    clusters: int
    labelled_groups: int
    sendable_share: float
    airline_posts: int
    airline_clusters: int
    checks: dict[str, tuple[int, int]]  # name -> (passed, cases)
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    cluster_precision: float = 0.0  # of pairs clustered together, the share with one theme
    cluster_recall: float = 0.0  # of pairs with one labelled theme, the share clustered together
    cluster_ari: float = 0.0  # adjusted Rand index of clusters against brand-themes

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _mention(i: int, text: str, intent: str, topic: str | None, at: datetime) -> Mention:
    return Mention(
        platform="x",
        id=str(i),
        created_at=at,
        author_id=str(i),
        author_handle=None,
        text=text,
        score=0.0,
        signals={},
        needs_reply=intent not in SILENT,
        complaint=False,
        intent=intent,
        topic=topic,
    )


def answer_all(
    sample: TwcsSample,
    labels: Sequence[LabelledMessage],
    linter: Linter,
    classifier: Classifier | None = None,
) -> list[Answered]:
    """Classify and draft a reply for each labelled message (no incident open)."""
    classifier = classifier or Classifier("fast")
    rows = sample.by_id()
    missing = [m.id for m in labels if m.id not in rows]
    if missing:
        raise InputError(f"labelled ids not in the TWCS sample: {missing[:5]}", field="id")
    industries = twcs_industries()
    texts = [rows[m.id].text for m in labels]
    found: list[Labels] = classifier.classify(texts)
    out = []
    for m, text, lab in zip(labels, texts, found, strict=True):
        industry = industries.get(m.brand)
        pack = load_pack(industry)
        parent = rows.get(rows[m.id].in_reply_to or "")
        intent = classify_intent(
            text, lab, pack, replies_to_brand=parent is not None and not parent.inbound
        )
        topic = pack.topic_of(lab.topics)
        reply = compose_reply(
            pack, intent, topic, incident_open=False, link=has_link(text), linter=linter
        )
        out.append(
            Answered(
                id=m.id,
                brand=m.brand,
                industry=industry,
                text=text,
                intent=m.intent,
                theme=m.theme,
                predicted_intent=intent,
                predicted_theme=topic,
                draft=reply.text if reply else None,
                lint_clean=bool(reply) and not (reply.findings if reply else ()),
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class ClusterScore:
    purity: float
    clusters: int
    labelled_groups: int
    precision: float
    recall: float
    ari: float


def _pairs(keys: Sequence[object]) -> int:
    """Pairs of items that share a key."""
    return sum(n * (n - 1) // 2 for n in Counter(keys).values())


def cluster_score(answered: Sequence[Answered], similarity: float | None = None) -> ClusterScore:
    """Cluster each brand's messages as the inbox does (at ``similarity``, default the
    shipped setting); purity against the labelled themes (within the labelled intents), the
    number of clusters and of labelled groups, pairwise precision and recall, and ARI."""
    if similarity is None:
        similarity = load_inbox_settings().similarity
    by_brand: dict[str, list[Answered]] = defaultdict(list)
    for a in answered:
        if a.intent not in SILENT and a.predicted_intent not in SILENT:
            by_brand[a.brand].append(a)
    at = datetime(2017, 10, 31)
    total = majority = clusters = together = true_pairs = both = 0
    groups: set[tuple[str, str]] = set()
    found: list[str] = []
    truth: list[str] = []
    for brand, items in by_brand.items():
        mentions = [
            _mention(i, a.text, a.predicted_intent, a.predicted_theme, at)
            for i, a in enumerate(items)
        ]
        groups |= {(brand, a.theme) for a in items}
        label = [0] * len(items)
        for cluster in cluster_mentions(mentions, similarity):
            themes = Counter(items[int(m.id)].theme for m in cluster)
            majority += themes.most_common(1)[0][1]
            total += len(cluster)
            clusters += 1
            for m in cluster:
                label[int(m.id)] = clusters
        themes_of = [a.theme for a in items]
        together += _pairs(label)
        true_pairs += _pairs(themes_of)
        both += _pairs(list(zip(label, themes_of, strict=True)))
        found += [str(k) for k in label]
        truth += [f"{brand}/{t}" for t in themes_of]
    return ClusterScore(
        purity=majority / total if total else 0.0,
        clusters=clusters,
        labelled_groups=len(groups),
        precision=both / together if together else 1.0,
        recall=both / true_pairs if true_pairs else 1.0,
        ari=float(adjusted_rand_score(truth, found)) if found else 1.0,
    )


def airline_clusters(
    sample: TwcsSample, classifier: Classifier | None = None, similarity: float | None = None
) -> tuple[int, int]:
    """Every customer post to an airline account that needs a reply, clustered per brand
    (at ``similarity``, default the shipped setting): (posts, clusters)."""
    if similarity is None:
        similarity = load_inbox_settings().similarity
    classifier = classifier or Classifier("fast")
    industries = twcs_industries()
    rows = sample.by_id()
    brand_of: dict[str, str] = {}
    for r in sample.agent_replies:
        if r.in_reply_to in rows and rows[r.in_reply_to].inbound:
            brand_of.setdefault(r.in_reply_to, r.author)
    pack = load_pack("airline")
    posts = [
        r for r in sample.customer_messages if industries.get(brand_of.get(r.id, "")) == "airline"
    ]
    found = classifier.classify([r.text for r in posts])
    by_brand: dict[str, list[Mention]] = defaultdict(list)
    for i, (r, lab) in enumerate(zip(posts, found, strict=True)):
        parent = rows.get(r.in_reply_to or "")
        intent = classify_intent(
            r.text, lab, pack, replies_to_brand=parent is not None and not parent.inbound
        )
        if intent in SILENT:
            continue
        topic = pack.topic_of(lab.topics)
        by_brand[brand_of[r.id]].append(_mention(i, r.text, intent, topic, r.created_at))
    needing = sum(len(v) for v in by_brand.values())
    clusters = sum(len(cluster_mentions(v, similarity)) for v in by_brand.values())
    return needing, clusters


def _checks(answered: Sequence[Answered]) -> dict[str, tuple[int, int]]:
    drafts = [a for a in answered if a.draft is not None]
    thanks = [a for a in drafts if a.intent == "thanks"]
    warned = [a for a in drafts if a.draft and _LINK_WARNING.search(a.draft)]
    security = [a for a in drafts if a.theme == "security"]
    airline = [a for a in drafts if a.industry == "airline"]
    return {
        "no known-problem claim without an open incident": (
            sum(not _KNOWN.search(a.draft or "") for a in drafts),
            len(drafts),
        ),
        "thanks get no apology": (
            sum(not _SORRY.search(a.draft or "") for a in thanks),
            len(thanks),
        ),
        "link warning only to a post with a link": (
            sum(has_link(a.text) for a in warned),
            len(warned),
        ),
        "security questions get the security answer": (
            sum(bool(_SECURITY_ANSWER.search(a.draft or "")) for a in security),
            len(security),
        ),
        "airline replies carry no ISP wording": (
            sum(not _ISP_WORDS.search(a.draft or "") for a in airline),
            len(airline),
        ),
    }


def evaluate_inbox(
    sample: TwcsSample, linter: Linter, *, classifier: Classifier | None = None
) -> InboxEval:
    classifier = classifier or Classifier("fast")
    answered = answer_all(sample, load_inbox_labels(), linter, classifier)
    n = len(answered)
    score = cluster_score(answered)
    posts, airline = airline_clusters(sample, classifier)
    confusion: dict[str, dict[str, int]] = defaultdict(dict)
    for a in answered:
        row = confusion[a.intent]
        row[a.predicted_intent] = row.get(a.predicted_intent, 0) + 1
    return InboxEval(
        messages=n,
        intent_accuracy=sum(a.intent == a.predicted_intent for a in answered) / n,
        theme_accuracy=sum((a.predicted_theme or "other") == a.theme for a in answered) / n,
        cluster_purity=score.purity,
        clusters=score.clusters,
        labelled_groups=score.labelled_groups,
        sendable_share=sum(a.sendable for a in answered) / n,
        airline_posts=posts,
        airline_clusters=airline,
        checks=_checks(answered),
        confusion=dict(confusion),
        cluster_precision=score.precision,
        cluster_recall=score.recall,
        cluster_ari=score.ari,
    )
