"""Answer what was asked: a message's intent and theme, and the reply a brand would send.

    pack = load_pack("airline")                      # common.toml + packs/airline.toml
    intent = classify_intent(text, labels)           # "question", "thanks", ...
    topic = pack.topic_of(labels.topics)             # "delay_cancellation", "security", None
    draft = compose_reply(pack, intent, topic, incident_open=False, has_link=False,
                          name="Sam", signoff="^KN", facts=None, linter=linter)

Everything a brand would change is data: ``packs/common.toml`` (intent patterns and the
replies every industry shares) and one ``packs/<industry>.toml`` per industry (its
replies, the identifier it asks for). A message's theme is one of the understand stage's
topics: the industry's topic pack in ``understand/data/taxonomy.toml`` is the inbox's too,
so the labels the inbox reads and the themes it answers by are one taxonomy. The rules
that keep a draft safe are code and hold whatever the data says:

* a reply that says "we know about it" (``incident = true``) is used only while an
  incident for the brand is open at the post's time;
* thanks get thanks: no reply for the ``thanks`` intent may apologise;
* a link warning (``link = true``) goes only to a post that carries a link.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import regex

from uproar.config import INDUSTRIES, INDUSTRY_ALIASES
from uproar.errors import ConfigError
from uproar.records import Finding, Labels
from uproar.respond.lint import Linter
from uproar.respond.match import risky_texts, search_column, translate
from uproar.respond.thread import Facts, fill_facts
from uproar.understand.taxonomy import GENERAL, UnderstandConfig, for_industry
from uproar.understand.taxonomy import Topic as TaxonomyTopic

INTENTS: tuple[str, ...] = (
    "question",
    "problem",
    "complaint",
    "thanks",
    "information",
    "abuse",
    "none",
)
# Intents that get no reply at all.
SILENT: frozenset[str] = frozenset({"abuse", "none"})
_APOLOGY = regex.compile(r"\b(?:sorry|apologi[sz]e|apologies|regret)\b", regex.IGNORECASE)
# Words that claim a known problem: only a reply marked ``incident = true`` may use them.
_KNOWN_PROBLEM = regex.compile(
    r"\b(?:not just you|we know about|we're aware|we are aware|known (?:issue|problem)|"
    r"the outage|our outage|working on (?:it|a fix) now)\b",
    regex.IGNORECASE,
)
_PLACEHOLDER = regex.compile(r"\{(\w+)\}")
_LINK = regex.compile(r"https?://\S+|www\.\S+|\b\w+\.(?:com|net|org|co|ly|me|io)/\S*")


class ReplySpec(msgspec.Struct, forbid_unknown_fields=True):
    intent: str
    text: str
    topics: list[str] = []
    incident: bool | None = None
    link: bool = False
    uses: list[str] = []


class IntentPatterns(msgspec.Struct, forbid_unknown_fields=True):
    abuse: list[str]
    thanks: list[str]
    not_thanks: list[str]
    question: list[str]
    problem: list[str]
    complaint: list[str]
    information: list[str]


class CommonFile(msgspec.Struct, forbid_unknown_fields=True):
    intents: IntentPatterns
    replies: list[ReplySpec]


class PackFile(msgspec.Struct, forbid_unknown_fields=True):
    industry: str
    name: str
    identifier: str
    replies: list[ReplySpec] = []


@dataclass(frozen=True, slots=True)
class Topic:
    """A theme the inbox answers by: one of the understand stage's topics."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Pack:
    """One industry's themes and replies, with the shared ones after its own."""

    industry: str | None
    name: str
    identifier: str
    topics: tuple[Topic, ...]
    replies: tuple[ReplySpec, ...]
    intents: Mapping[str, regex.Pattern[str]]

    def topic_of(self, topics: Sequence[str]) -> str | None:
        """The theme of a message whose labels have ``topics`` (the understand stage's topic
        ids): the first of the pack's topics among them, in the pack's order (security
        first, then the industry's own topics, then the shared ones); None when the
        labels name none of the pack's topics."""
        given = set(topics)
        return next((t.id for t in self.topics if t.id in given), None)

    def topic_name(self, topic: str | None) -> str:
        return next((t.name for t in self.topics if t.id == topic), "Other")


def _compile(terms: Sequence[str], where: str) -> regex.Pattern[str]:
    body = "|".join(f"(?:{t})" for t in terms) or "(?!)"
    try:
        return regex.compile(rf"(?:{body})", regex.IGNORECASE | regex.VERSION0)
    except regex.error as exc:
        raise ConfigError(f"{where}: bad pattern: {exc}", key=where) from exc


def _read(name: str, path: Path | None) -> bytes:
    if path is not None:
        try:
            return path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read pack: {exc}", file=str(path)) from exc
    return (resources.files("uproar.respond") / "packs" / f"{name}.toml").read_bytes()


def _check_replies(replies: Sequence[ReplySpec], source: str, topics: set[str]) -> None:
    for i, reply in enumerate(replies):
        where = f"{source}: replies[{i}]"
        if reply.intent != "*" and reply.intent not in INTENTS:
            raise ConfigError(f"{where}: unknown intent {reply.intent!r}", key="intent")
        unknown = set(reply.topics) - topics
        if unknown:
            raise ConfigError(f"{where}: unknown topic {sorted(unknown)[0]!r}", key="topics")
        named = {m.lower() for m in _PLACEHOLDER.findall(reply.text)} - {"identifier", "brand"}
        if not named <= set(reply.uses):
            raise ConfigError(
                f"{where}: uses {sorted(named - set(reply.uses))} without listing them in `uses`",
                key="uses",
            )
        if reply.incident is not True and _KNOWN_PROBLEM.search(reply.text):
            raise ConfigError(
                f"{where}: only a reply marked incident = true may say the problem is known",
                key="incident",
            )
        if reply.intent == "thanks" and _APOLOGY.search(reply.text):
            raise ConfigError(f"{where}: a reply to thanks must not apologise", key="text")


PACK_ALIASES: Mapping[str, str] = INDUSTRY_ALIASES  # industries that share another's pack
# The shared topics that say least about what to answer: tried after every other one.
_LAST = ("customer_service",)


def pack_topics(config: UnderstandConfig) -> tuple[Topic, ...]:
    """The themes of an understand config's topic pack, in the order ``topic_of`` tries
    them: security, the industry's own topics, the shared ones, customer service."""

    def rank(t: TaxonomyTopic) -> int:
        if t.id == "security":
            return 0
        if t.id in _LAST:
            return 3
        own = t.industries and GENERAL not in t.industries
        return 1 if own else 2

    ranked = sorted(config.taxonomy.topics, key=rank)  # stable: file order within a rank
    return tuple(Topic(t.id, t.name) for t in ranked)


@cache
def load_pack(
    industry: str | None = None,
    path: Path | None = None,
    *,
    understand: UnderstandConfig | None = None,
) -> Pack:
    """The shared pack plus ``industry``'s (one of ``config.INDUSTRIES``), or a pack file
    of your own at ``path``. Without an industry: the shared pack alone, which asks for "the
    details" and names no industry's products. The themes are the understand stage's topic
    pack for the industry (``understand``: a config of your own, whose added topics are
    themes too)."""
    if industry is not None and industry not in INDUSTRIES:
        raise ConfigError(
            f"unknown industry {industry!r}: expected one of {', '.join(INDUSTRIES)}",
            key="industry",
        )
    if industry is not None:
        industry = PACK_ALIASES.get(industry, industry)
    try:
        common = msgspec.toml.decode(_read("common", None), type=CommonFile)
        own = (
            msgspec.toml.decode(_read(industry or "", path), type=PackFile)
            if industry is not None or path is not None
            else None
        )
    except msgspec.ValidationError as exc:
        raise ConfigError(f"pack {industry or path}: {exc}", file=str(path or industry)) from exc
    topics = pack_topics(understand if understand is not None else for_industry(industry))
    ids = {t.id for t in topics}
    _check_replies(common.replies, "packs/common.toml", ids)
    if own is not None:
        _check_replies(own.replies, f"packs/{own.industry}.toml", ids)
    pats = common.intents
    return Pack(
        industry=own.industry if own else None,
        name=own.name if own else "General",
        identifier=own.identifier if own else "a few details",
        topics=topics,
        replies=tuple([*(own.replies if own else []), *common.replies]),
        intents={
            "abuse": _compile(pats.abuse, "intents.abuse"),
            "thanks": _compile(pats.thanks, "intents.thanks"),
            "not_thanks": _compile(pats.not_thanks, "intents.not_thanks"),
            "question": _compile(pats.question, "intents.question"),
            "problem": _compile(pats.problem, "intents.problem"),
            "complaint": _compile(pats.complaint, "intents.complaint"),
            "information": _compile(pats.information, "intents.information"),
        },
    )


def has_link(text: str) -> bool:
    return bool(_LINK.search(text))


def classify_intent(
    text: str, labels: Labels | None, pack: Pack, *, replies_to_brand: bool = False
) -> str:
    """What a message wants. Patterns first (abuse, thanks, question, problem), then the
    understand stage's labels (question, complaint, negative sentiment) and complaint
    words, then information (or any reply to the brand's own post); else no reply is
    needed."""
    p = pack.intents
    body = _LINK.sub(" ", text).replace("&amp;", "&")
    if p["abuse"].search(body):
        return "abuse"
    if p["thanks"].search(body) and not p["not_thanks"].search(body):
        return "thanks"
    if p["question"].search(body) or (labels is not None and labels.question):
        return "question"
    if p["problem"].search(body):
        return "problem"
    if p["complaint"].search(body) or (
        labels is not None and (labels.complaint or labels.sentiment == "negative")
    ):
        return "complaint"
    if replies_to_brand or p["information"].search(body):
        return "information"
    return "none"


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    template: ReplySpec
    findings: tuple[Finding, ...]
    passed: bool


def _conditions(
    reply: ReplySpec, intent: str, topic: str | None, incident_open: bool, link: bool
) -> bool:
    if reply.intent not in ("*", intent):
        return False
    if reply.intent == "*" and intent in SILENT | {"thanks", "information"}:
        return False
    if reply.topics and topic not in reply.topics:
        return False
    if reply.incident is not None and reply.incident != incident_open:
        return False
    return not (reply.link and not link)


def first_name(name: str | None) -> str | None:
    """A name to greet by: the first word of a display name when it looks like a name."""
    if not name:
        return None
    word = name.strip().split()[0] if name.strip() else ""
    ok = regex.fullmatch(r"\p{Lu}\p{Ll}{1,14}", word)
    return word if ok else None


def personalise(text: str, name: str | None, signoff: str | None) -> str:
    """ "Hi Sam, thanks so much..." and the brand's sign-off at the end."""
    out = text
    if name:
        head = out[:1]
        keep = out.startswith(("I ", "I'"))
        out = f"Hi {name}, {out if keep else head.lower() + out[1:]}"
    if signoff:
        out = f"{out} {signoff}"
    return out


def compose_reply(
    pack: Pack,
    intent: str,
    topic: str | None,
    *,
    incident_open: bool,
    link: bool,
    linter: Linter,
    facts: Facts | None = None,
    name: str | None = None,
    signoff: str | None = None,
    brand: str | None = None,
) -> Reply | None:
    """The first reply of the pack that fits the message and passes the linter (kind
    "reply"); ``None`` for intents that need no reply. When none passes, the last one
    tried comes back with ``passed=False``."""
    if intent in SILENT:
        return None
    known = (
        set()
        if facts is None
        else {k for k in ("what", "who", "do", "doing", "next_update", "link") if getattr(facts, k)}
    )
    last: Reply | None = None
    # A post that carries a link gets the replies written for one first (the link warning).
    ordered = sorted(pack.replies, key=lambda r: not r.link) if link else pack.replies
    for reply in ordered:
        if not _conditions(reply, intent, topic, incident_open, link):
            continue
        if not set(reply.uses) <= known:
            continue
        # A fact written as a whole sentence cannot be slotted into another sentence.
        if facts is not None and set(reply.uses) & (facts.sentences - {"what"}):
            continue
        body = reply.text.replace("{identifier}", pack.identifier)
        body = body.replace("{brand}", brand or "us")
        if facts is not None:
            body = fill_facts(body, facts)
        text = personalise(body, name, signoff)
        findings = tuple(linter.lint(text, kind="reply"))
        last = Reply(text, reply, findings, not linter.has_errors(findings))
        if last.passed:
            return last
    return last


# -- a whole column at once ----------------------------------------------------------------
def link_free(texts: pa.Array, risky: np.ndarray) -> pa.Array:
    """``classify_intent``'s view of each text (links blanked, ``&amp;`` read as ``&``) for
    a whole column: RE2 where it is exact, ``regex`` for the risky texts."""
    translated = translate(_LINK.pattern)
    assert translated.source is not None and translated.exact
    blanked = pc.replace_substring_regex(texts, translated.source, " ")
    body = pc.replace_substring(blanked, "&amp;", "&")
    rows = np.flatnonzero(risky)
    if len(rows) == 0:
        return body
    fixed = [_LINK.sub(" ", texts[i].as_py() or "").replace("&amp;", "&") for i in rows]
    return pc.replace_with_mask(body, pa.array(risky), pa.array(fixed, pa.string()))


def classify_intents(
    texts: pa.Array,
    pack: Pack,
    *,
    question: np.ndarray,
    complaint: np.ndarray,
    negative: np.ndarray,
    replies_to_brand: np.ndarray,
    risky: np.ndarray | None = None,
) -> list[str]:
    """``classify_intent`` over a column: the same intent for every text (``question``,
    ``complaint`` and ``negative`` are the labels' flags, False where a text has none), each
    pattern searched once over the texts still undecided."""
    risky = risky_texts(texts) if risky is None else risky
    body = link_free(texts, risky)
    p = pack.intents
    out = np.full(len(texts), "none", dtype=object)
    open_ = np.ones(len(texts), dtype=bool)

    def decide(intent: str, hit: np.ndarray) -> None:
        out[hit & open_] = intent
        open_[hit] = False

    decide("abuse", search_column(p["abuse"], body, risky=risky, only=open_))
    thanks = search_column(p["thanks"], body, risky=risky, only=open_)
    decide("thanks", thanks & ~search_column(p["not_thanks"], body, risky=risky, only=thanks))
    decide("question", search_column(p["question"], body, risky=risky, only=open_) | question)
    decide("problem", search_column(p["problem"], body, risky=risky, only=open_))
    decide(
        "complaint",
        search_column(p["complaint"], body, risky=risky, only=open_) | complaint | negative,
    )
    decide(
        "information",
        replies_to_brand | search_column(p["information"], body, risky=risky, only=open_),
    )
    return [str(v) for v in out]


def topics_of(topics: Sequence[Sequence[str]], pack: Pack) -> list[str | None]:
    """``pack.topic_of`` for each message's label topics."""
    return [pack.topic_of(t) for t in topics]


def have_links(texts: pa.Array, risky: np.ndarray | None = None) -> np.ndarray:
    """``has_link`` over a column."""
    risky = risky_texts(texts) if risky is None else risky
    return search_column(_LINK, texts, risky=risky)
