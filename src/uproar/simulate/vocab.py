"""Text vocabularies: template pools and slot fillers, loaded from ``data/*.yaml``.

``common.yaml`` holds what every industry shares (emoji, slang, off-topic chatter, praise,
sarcasm, outage questions); ``<industry>.yaml`` adds its own topics, slots, topic mixes and
the brand's own-post templates. A template is a string with slots:

* ``{brand}`` a mention of the brand: a handle, a hashtag or a keyword, in varied casing;
  ``{handle}``, ``{hashtag}`` and ``{name}`` force one form; ``{peer}`` mentions a peer;
* ``{user}`` an @mention of some other customer; ``{city}`` a place in the brand's
  regions; ``{url}`` a link; ``{bait_url}`` the rumour's link; ``{copypasta}`` its text;
* ``{any_slot}`` a value from a ``slots:`` list (values may hold slots themselves);
* ``{a|b|}`` one of the inline alternatives (an empty one means "nothing").

A template that starts with ``[es] `` is Spanish (any BCP 47 code works); the rest are
English. Rendering adds human noise to the literal text (casing, slang, typos, stretched
words, emoji) but never to mentions, hashtags or links, whose character offsets are
recorded as X API v2 entities (offsets count code points, as Python indexes strings).
"""

from __future__ import annotations

import bisect
import hashlib
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, TypeVar

import yaml

from uproar.errors import ConfigError

T = TypeVar("T")

_VOCAB_PACKAGE = "uproar.simulate.data"
_SLOT = re.compile(r"\{([^{}]*)\}")
_LANG = re.compile(r"^\[([a-z]{2,3}(?:-[A-Za-z]{2,4})?)\]\s+")
_WORD = re.compile(r"[A-Za-z']+")
_VOWEL_END = re.compile(r"([aeiouwy])\b", re.IGNORECASE)

# Slots the renderer fills itself rather than from a ``slots:`` list.
BUILTIN_SLOTS = frozenset(
    {"brand", "handle", "hashtag", "name", "peer", "user", "city", "url", "bait_url", "copypasta"}
)


@dataclass(frozen=True, slots=True)
class Template:
    lang: str
    parts: tuple[str | tuple[str, ...], ...]  # literal text, or (slot,) / (alt, alt, ...)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """One industry's merged vocabulary (common + industry)."""

    industry: str
    topics: Mapping[str, tuple[Template, ...]]
    slots: Mapping[str, tuple[str, ...]]
    slang: Mapping[str, tuple[str, ...]]
    moods: Mapping[str, str]
    mix: Mapping[str, Mapping[str, float]]
    own: Mapping[str, tuple[Template, ...]]
    rhythm_daily: tuple[float, ...]
    rhythm_weekly: tuple[float, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)


def _parse_template(text: str, where: str) -> Template:
    lang = "en"
    m = _LANG.match(text)
    if m:
        lang, text = m.group(1), text[m.end() :]
    parts: list[str | tuple[str, ...]] = []
    pos = 0
    for match in _SLOT.finditer(text):
        if match.start() > pos:
            parts.append(text[pos : match.start()])
        inner = match.group(1)
        if "|" in inner:
            parts.append((*inner.split("|"), "|"))  # marker: alternatives
        else:
            if not re.fullmatch(r"[a-z_]+", inner):
                raise ConfigError(f"{where}: bad slot {{{inner}}} in {text!r}", key=where)
            parts.append((inner,))
        pos = match.end()
    if pos < len(text):
        parts.append(text[pos:])
    return Template(lang=lang, parts=tuple(parts))


def _read(name: str) -> dict[str, Any]:
    try:
        raw = resources.files(_VOCAB_PACKAGE).joinpath(name).read_text("utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"vocabulary file {name} not found", file=name) from exc
    data = yaml.safe_load(raw)
    if not isinstance(data, dict):
        raise ConfigError(f"{name}: expected a mapping at the top", file=name)
    return data


@cache
def load_data(name: str) -> dict[str, Any]:
    """A parsed data file from the vocabulary package (places, people)."""
    return _read(name)


@cache
def vocabulary(industry: str) -> Vocabulary:
    """The merged vocabulary of one industry (cached)."""
    common = _read("common.yaml")
    own = _read(f"{industry}.yaml")
    where = f"{industry}.yaml"
    topics: dict[str, list[Template]] = {}
    for source, data in (("common.yaml", common), (where, own)):
        for topic, templates in (data.get("topics") or {}).items():
            if not isinstance(templates, list) or not all(isinstance(t, str) for t in templates):
                raise ConfigError(f"{source}: topics.{topic} must be a list of strings")
            topics.setdefault(topic, []).extend(
                _parse_template(t, f"{source}: topics.{topic}") for t in templates
            )
    slots: dict[str, tuple[str, ...]] = {}
    for data in (common, own):
        for name, values in (data.get("slots") or {}).items():
            slots[name] = slots.get(name, ()) + tuple(str(v) for v in values)
    slang = {k.lower(): tuple(v) for k, v in (common.get("slang") or {}).items()}
    moods = {**(common.get("moods") or {}), **(own.get("moods") or {})}
    mix = {k: dict(v) for k, v in (own.get("mix") or {}).items()}
    for mix_name, weights in mix.items():
        for topic in weights:
            if topic not in topics:
                raise ConfigError(f"{where}: mix.{mix_name} names unknown topic {topic!r}")
    own_posts = {
        k: tuple(_parse_template(t, f"{where}: own.{k}") for t in v)
        for k, v in (own.get("own") or {}).items()
    }
    rhythm = own.get("rhythm") or common.get("rhythm") or {}
    vocab = Vocabulary(
        industry=industry,
        topics={k: tuple(v) for k, v in topics.items()},
        slots=slots,
        slang=slang,
        moods=moods,
        mix=mix,
        own=own_posts,
        rhythm_daily=tuple(float(x) for x in rhythm.get("daily", [1.0] * 24)),
        rhythm_weekly=tuple(float(x) for x in rhythm.get("weekly", [1.0] * 7)),
        extra={k: v for k, v in own.items() if k not in ("topics", "slots", "mix", "own")},
    )
    _check_slots(vocab, where)
    return vocab


def _check_slots(vocab: Vocabulary, where: str) -> None:
    templates = [t for pool in vocab.topics.values() for t in pool]
    templates += [t for pool in vocab.own.values() for t in pool]
    for t in templates:
        for part in t.parts:
            if isinstance(part, tuple) and len(part) == 1:
                slot = part[0]
                if slot not in BUILTIN_SLOTS and slot not in vocab.slots:
                    raise ConfigError(f"{where}: template uses unknown slot {{{slot}}}")


# --------------------------------------------------------------------------- rendering

Entities = dict[str, list[dict[str, Any]]]


@dataclass(slots=True)
class Rendered:
    """One rendered text, ready to become a tweet. ``entities`` is X v2-shaped."""

    text: str
    lang: str
    entities: Entities | None
    mentioned: tuple[int, ...]  # population indices of mentioned accounts (includes.users)


@dataclass(frozen=True, slots=True)
class Mention:
    """A way of naming an account or brand in text."""

    text: str  # as typed: "@KiwiNet", "#kiwinet", "kiwinet"
    kind: str  # "mention" | "hashtag" | "plain"
    username: str = ""
    user_id: str = ""
    user_idx: int = -1


@dataclass(slots=True)
class RenderContext:
    """What a renderer needs to fill the builtin slots for one brand and purpose."""

    brand_forms: Sequence[Mention]
    brand_cum: Sequence[float]  # cumulative weights of brand_forms, ending below 1
    handles: Sequence[Mention]
    hashtags: Sequence[Mention]
    names: Sequence[Mention]
    peers: Sequence[Mention]
    cities: Sequence[str]
    pick_user: Callable[[], Mention]
    bait_url: str | None = None
    copypasta: str | None = None


def entities_of(
    mentions: list[dict[str, Any]], hashtags: list[dict[str, Any]], urls: list[dict[str, Any]]
) -> Entities | None:
    """X v2 ``entities``: only the non-empty groups, in X's order; None when all are empty."""
    entities: Entities = {}
    if mentions:
        entities["mentions"] = mentions
    if hashtags:
        entities["hashtags"] = hashtags
    if urls:
        entities["urls"] = urls
    return entities or None


def tco(url: str) -> str:
    """A stable t.co-style short link for a URL (X wraps every link: 23 characters)."""
    digest = hashlib.blake2b(url.encode(), digest_size=8).hexdigest()
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    n = int(digest, 16)
    code = "".join(alphabet[(n >> (6 * i)) % 62] for i in range(10))
    return "https://t.co/" + code


def display_url(url: str) -> str:
    bare = re.sub(r"^https?://(www\.)?", "", url)
    return bare if len(bare) <= 26 else bare[:25] + "…"


class Renderer:
    """Renders templates into varied texts with entities. Deterministic given ``rng``."""

    def __init__(self, vocab: Vocabulary, rng: random.Random) -> None:
        self.vocab = vocab
        self.rng = rng
        self._rand = rng.random
        # One pass that stops only at words the slang table knows.
        words = sorted(vocab.slang, key=len, reverse=True)
        self._slang_re = re.compile(
            r"(?<![\w'])(?:" + "|".join(re.escape(w) for w in words) + r")(?![\w'])", re.IGNORECASE
        )

    def pick(self, seq: Sequence[T]) -> T:
        """``rng.choice`` at a third of the cost (one float instead of rejection sampling)."""
        return seq[int(self._rand() * len(seq))]

    def render(self, template: Template, ctx: RenderContext, mood: str = "angry") -> Rendered:
        rng = self.rng
        human = mood != "own"  # the brand's own posts are written with care
        casing = rng.random() if human else 1.0
        lower = casing < 0.28
        upper = 0.28 <= casing < 0.31
        noisy = template.lang == "en" and human
        pieces: list[tuple[str, Mention | str | None]] = []
        self._expand(template.parts, ctx, pieces, 0)
        if noisy:
            self._noise(pieces, mood)
        text_parts: list[str] = []
        mentions: list[dict[str, Any]] = []
        hashtags: list[dict[str, Any]] = []
        urls: list[dict[str, Any]] = []
        mentioned: list[int] = []
        pos = 0
        for piece, ent in pieces:
            if ent is None:
                if lower:
                    piece = piece.lower()
                elif upper:
                    piece = piece.upper()
            elif isinstance(ent, Mention):
                if lower and (ent.kind == "plain" or rng.random() < 0.5):
                    piece = piece.lower()
                if ent.kind == "mention":
                    mentions.append(
                        {
                            "start": pos,
                            "end": pos + len(piece),
                            "username": ent.username,
                            "id": ent.user_id,
                        }
                    )
                    mentioned.append(ent.user_idx)
                elif ent.kind == "hashtag":
                    hashtags.append({"start": pos, "end": pos + len(piece), "tag": piece[1:]})
            else:  # a URL: the text shows the t.co link, the entity the real one
                urls.append(
                    {
                        "start": pos,
                        "end": pos + len(piece),
                        "url": piece,
                        "expanded_url": ent,
                        "display_url": display_url(ent),
                    }
                )
            text_parts.append(piece)
            pos += len(piece)
        text = "".join(text_parts)
        # Collapse doubled spaces left by empty alternatives; entity offsets must follow.
        if "  " in text or text.startswith(" ") or text.endswith(" "):
            text, shift = _squeeze(text)
            for group in (mentions, hashtags, urls):
                for e in group:
                    e["start"], e["end"] = shift(e["start"]), shift(e["end"])
        entities = entities_of(mentions, hashtags, urls)
        return Rendered(text, template.lang, entities, tuple(dict.fromkeys(mentioned)))

    # -- expansion -------------------------------------------------------------------
    def _expand(
        self,
        parts: Sequence[str | tuple[str, ...]],
        ctx: RenderContext,
        out: list[tuple[str, Mention | str | None]],
        depth: int,
    ) -> None:
        for part in parts:
            if isinstance(part, str):
                out.append((part, None))
                continue
            if part[-1] == "|":  # inline alternatives
                out.append((part[int(self._rand() * (len(part) - 1))], None))
                continue
            slot = part[0]
            if slot == "brand":
                m = ctx.brand_forms[bisect.bisect(ctx.brand_cum, self._rand())]
                out.append((m.text, m))
            elif slot in ("handle", "hashtag", "name", "peer"):
                forms = {
                    "handle": ctx.handles,
                    "hashtag": ctx.hashtags or ctx.handles,
                    "name": ctx.names,
                    "peer": ctx.peers,
                }[slot]
                if not forms:
                    out.append(("the other lot", None))
                else:
                    m = self.pick(forms)
                    out.append((m.text, m))
            elif slot == "user":
                m = ctx.pick_user()
                out.append((m.text, m))
            elif slot == "city":
                out.append((self.pick(ctx.cities) if ctx.cities else "town", None))
            elif slot == "url":
                real = self.pick(self.vocab.slots.get("links", ("https://example.com",)))
                out.append((tco(real), real))
            elif slot == "bait_url":
                real = ctx.bait_url or "https://example.com"
                out.append((tco(real), real))
            elif slot == "copypasta":
                if depth < 3 and ctx.copypasta:
                    tpl = _parse_template(ctx.copypasta, "rumours.text")
                    self._expand(tpl.parts, ctx, out, depth + 1)
            else:
                value = self.pick(self.vocab.slots[slot])
                if "{" in value and depth < 3:
                    tpl = _parse_template(value, f"slots.{slot}")
                    self._expand(tpl.parts, ctx, out, depth + 1)
                else:
                    out.append((value, None))

    def _noise(self, pieces: list[tuple[str, Mention | str | None]], mood: str) -> None:
        """Human noise on literal pieces only: slang, typos, stretched words, emoji."""
        rng = self.rng
        literal = [i for i, (_, ent) in enumerate(pieces) if ent is None and pieces[i][0].strip()]
        if not literal:
            return
        if rng.random() < 0.3:
            for i in literal:
                pieces[i] = (self._slangify(pieces[i][0]), None)
        roll = rng.random()
        if roll < 0.16:
            i = self.pick(literal)
            pieces[i] = (self._typo(pieces[i][0]), None)
        elif roll < 0.22:
            i = self.pick(literal)
            pieces[i] = (
                _VOWEL_END.sub(lambda m: m.group(1) * rng.randint(2, 5), pieces[i][0], 1),
                None,
            )
        last = len(pieces) - 1
        tail, ent = pieces[last]
        if ent is None:
            roll = rng.random()
            if roll < 0.25:
                tail = tail.rstrip(".")
            elif roll < 0.33 and mood == "angry":
                tail = tail.rstrip(".!") + self.pick(("!!", "!!!", "?!", "!1!"))
            pieces[last] = (tail, None)
        emoji_slot = f"emoji_{mood}"
        if rng.random() < 0.18 and emoji_slot in self.vocab.slots:
            emoji = self.pick(self.vocab.slots[emoji_slot]) * self.pick((1, 1, 1, 2, 3))
            pieces.append((" " + emoji, None))

    def _slangify(self, text: str) -> str:
        rand, slang = self._rand, self.vocab.slang

        def swap(m: re.Match[str]) -> str:
            word = m.group(0)
            if rand() < 0.6:
                return self.pick(slang[word.lower()])
            return word

        return self._slang_re.sub(swap, text)

    def _typo(self, text: str) -> str:
        rng = self.rng
        words = [m for m in _WORD.finditer(text) if len(m.group(0)) >= 4]
        if not words:
            return text
        m = self.pick(words)
        w = m.group(0)
        i = rng.randrange(1, len(w) - 1)
        kind = rng.random()
        if kind < 0.4:
            w2 = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
        elif kind < 0.7:
            w2 = w[:i] + w[i + 1 :]
        else:
            w2 = w[:i] + w[i] + w[i:]
        return text[: m.start()] + w2 + text[m.end() :]


def _squeeze(text: str) -> tuple[str, Callable[[int], int]]:
    """Collapse runs of spaces and trim; return the new text and an offset map."""
    keep: list[int] = []
    out: list[str] = []
    prev_space = True
    for i, ch in enumerate(text):
        if ch == " " and prev_space:
            continue
        keep.append(i)
        out.append(ch)
        prev_space = ch == " "
    while out and out[-1] == " ":
        out.pop()
        keep.pop()

    # new index of old position p = number of kept chars before p
    def shift(p: int) -> int:
        return bisect.bisect_left(keep, p)

    return "".join(out), shift
