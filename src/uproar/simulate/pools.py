"""Pools of rendered texts, and the small edits posts make to them.

A :class:`TextPool` keeps a few dozen rendered texts for one brand, context and topic and
re-renders an entry after a few uses; reused entries get a tail so texts seldom repeat
exactly. Entities travel with the text: :func:`shifted` moves them when a prefix (a reply's
``@user``, a retweet's ``RT @user:``, a thread's ``2/4``) is put in front.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from uproar.simulate.vocab import (
    Entities,
    RenderContext,
    Rendered,
    Renderer,
    Template,
    entities_of,
    tco,
)

POOL_SIZE = 48  # rendered texts per pool ...
POOL_REUSE = 4  # ... each used at most this often before it is re-rendered

_MENTION = re.compile(r"(?<![\w@])@(\w{1,15})")
_HASHTAG = re.compile(r"(?<![\w#&])#(\w+)")
_URL = re.compile(r"https?://\S+")


class TextPool:
    """Rendered texts for one brand, context and topic; entries are re-rendered after use.

    A reused entry gets a tail from the vocabulary (``tails_<mood>``: " ugh", " 🙄", ...),
    so a text seldom repeats exactly; tails hold no entities, so offsets stay right.
    """

    __slots__ = ("ctx", "items", "mood", "rand", "renderer", "tails", "templates", "uses")

    def __init__(
        self, renderer: Renderer, templates: tuple[Template, ...], ctx: RenderContext, mood: str
    ) -> None:
        self.renderer, self.templates, self.ctx, self.mood = renderer, templates, ctx, mood
        self.items: list[Rendered | None] = [None] * POOL_SIZE
        self.uses = [0] * POOL_SIZE
        self.tails = renderer.vocab.slots.get(f"tails_{mood}", ())
        self.rand = renderer.rng.random

    def draw(self, u: float) -> Rendered:
        j = int(u * POOL_SIZE)
        item = self.items[j]
        uses = self.uses[j]
        if item is None or uses >= POOL_REUSE:
            tpl = self.renderer.pick(self.templates)
            item = self.renderer.render(tpl, self.ctx, self.mood)
            self.items[j] = item
            uses = 0
        self.uses[j] = uses + 1
        if uses and self.tails and item.lang == "en":
            tail = self.tails[int(self.rand() * len(self.tails))]
            return Rendered(item.text + tail, item.lang, item.entities, item.mentioned)
        return item


def shifted(entities: Entities | None, offset: int) -> dict[str, list[dict[str, Any]]]:
    """A copy of ``entities`` with every offset moved right by ``offset``."""
    out: dict[str, list[dict[str, Any]]] = {}
    if entities:
        for key, group in entities.items():
            out[key] = [
                {**e, "start": e["start"] + offset, "end": e["end"] + offset} for e in group
            ]
    return out


def prefixed(prefix: str, r: Rendered) -> Rendered:
    """``r`` with ``prefix`` in front and its entities moved along."""
    return Rendered(prefix + r.text, r.lang, shifted(r.entities, len(prefix)) or None, r.mentioned)


def verbatim(
    text: str,
    accounts: Mapping[str, int],
    usernames: Sequence[str],
    user_ids: Sequence[str],
) -> Rendered:
    """A scripted text as written, links wrapped in t.co as X does; entities found for
    @handles of known accounts, #hashtags and links."""
    pieces: list[str] = []
    urls: list[dict[str, Any]] = []
    pos = 0
    length = 0
    for m in _URL.finditer(text):
        pieces.append(text[pos : m.start()])
        length += m.start() - pos
        short = tco(m.group(0))
        bare = m.group(0).split("//", 1)[1]
        urls.append(
            {
                "start": length,
                "end": length + len(short),
                "url": short,
                "expanded_url": m.group(0),
                "display_url": bare if len(bare) <= 26 else bare[:25] + "…",
            }
        )
        pieces.append(short)
        length += len(short)
        pos = m.end()
    pieces.append(text[pos:])
    text = "".join(pieces)
    mentions, mentioned = [], []
    for m in _MENTION.finditer(text):
        idx = accounts.get(m.group(1).lower())
        if idx is not None:
            mentions.append(
                {
                    "start": m.start(),
                    "end": m.end(),
                    "username": usernames[idx],
                    "id": user_ids[idx],
                }
            )
            mentioned.append(idx)
    hashtags = [
        {"start": m.start(), "end": m.end(), "tag": m.group(1)} for m in _HASHTAG.finditer(text)
    ]
    return Rendered(text, "en", entities_of(mentions, hashtags, urls), tuple(mentioned))
