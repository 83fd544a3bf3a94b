"""The simulation engine: per-minute volumes, then posts, written as X API v2 pages.

Volumes are columnar: for each brand and each source of posts (baseline chatter, an
incident, a rumour, a flood, the brand's replies) a per-minute rate is built with numpy
(daily and weekly rhythm in the brand's local time, holidays, gamma-distributed
10-minute noise so counts are overdispersed like real mentions) and counts are drawn
from a Poisson around it. Posts are then generated a few hours at a time, sorted by time,
given snowflake ids and filled from template pools (see :mod:`uproar.simulate.vocab`):
a pool holds rendered texts and re-renders an entry after a few uses, which keeps texts
varied at a fraction of the rendering cost. Pages of up to 100 tweets are serialised
with orjson and streamed out, so memory stays bounded whatever the size.

Determinism: one numpy generator and one ``random.Random``, both seeded from ``seed``,
consumed in a fixed order; gzip output has a zero mtime. Same seed, same bytes.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from uproar.errors import ConfigError
from uproar.simulate import volume
from uproar.simulate.pools import TextPool, prefixed, shifted, verbatim
from uproar.simulate.population import Place, Population, all_places, places_in
from uproar.simulate.scenario import IncidentSpec, Scenario, SimBrand
from uproar.simulate.sink import PageSink
from uproar.simulate.truth import brands_toml, build_truth, iso, output_paths
from uproar.simulate.vocab import (
    Mention,
    RenderContext,
    Rendered,
    Renderer,
    Vocabulary,
    tco,
    vocabulary,
)

Progress = Callable[[int, int], None]
"""Called as ``progress(posts_written, posts_total)`` while writing."""

# Twitter's snowflake epoch (ms): ids are (ms - epoch) << 22 | worker | sequence.
# https://developer.x.com/en/docs/twitter-ids
TWEPOCH_MS = 1288834974657
PAGE_SIZE = 100  # X v2 search returns at most 100 tweets per page (max_results=100)

BASE, INCIDENT, RUMOUR, FLOOD, OWN_REPLY, OWN_POST = range(6)
ORIGINAL, RETWEET, REPLY, QUOTE = range(4)


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """What :func:`simulate` wrote."""

    out: Path
    truth_path: Path
    brands_path: Path
    posts: int
    truth: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        """What was planted and where it was written (``uproar simulate --json``)."""
        truth = self.truth
        return {
            "scenario": truth["scenario"],
            "seed": truth["seed"],
            "posts": self.posts,
            "own_posts": truth["own_posts"],
            "incidents": len(truth["incidents"]),
            "rumours": len(truth["rumours"]),
            "floods": len(truth["floods"]),
            "out": str(self.out),
            "truth": str(self.truth_path),
            "brands": str(self.brands_path),
        }


# --------------------------------------------------------------------------- components


@dataclass(slots=True)
class Component:
    """One source of posts for one brand, with its per-minute counts."""

    kind: int
    brand: int
    counts: npt.NDArray[np.int64]
    pools: list[TextPool]
    topic_cdf: npt.NDArray[np.float64]
    authors: npt.NDArray[np.int64]  # candidate user indices (one entry: a fixed author)
    author_cdf: npt.NDArray[np.float64]
    form_cdf: npt.NDArray[np.float64]
    buffer: int  # which recent-posts buffer feeds and takes its retweets and replies


@dataclass(slots=True)
class OwnPost:
    """A brand's own post at a fixed time (scripted, or generated from own templates)."""

    ms: int
    brand: int
    author: int
    rendered: Rendered
    thread: int  # index of the thread; posts after the first reply to the previous one
    incident: int


@dataclass(slots=True)
class _Source:
    """A recent post that later posts may retweet, reply to or quote."""

    id: str
    tweet: dict[str, Any]
    author: int
    conversation: str
    rt: tuple[str, dict[str, list[dict[str, Any]]]] | None = None


@dataclass(slots=True)
class _Page:
    tweets: list[dict[str, Any]] = field(default_factory=list)
    users: dict[int, None] = field(default_factory=dict)
    places: dict[int, None] = field(default_factory=dict)
    refs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def cite(self, src: _Source) -> None:
        """A post on this page points at ``src``: include it and its author."""
        self.refs[src.id] = src.tweet
        self.users[src.author] = None


def _tweet(
    tid: str, text: str, created_at: str, author_id: str, conversation_id: str, lang: str
) -> dict[str, Any]:
    """The fields every X v2 tweet starts with, in X's order."""
    return {
        "id": tid,
        "text": text,
        "created_at": created_at,
        "author_id": author_id,
        "conversation_id": conversation_id,
        "lang": lang,
    }


def _mention(start: int, username: str, user_id: str) -> dict[str, Any]:
    """An X v2 mention entity for ``@username`` at ``start``."""
    return {"start": start, "end": start + 1 + len(username), "username": username, "id": user_id}


# --------------------------------------------------------------------------- the run


class _Run:
    def __init__(self, scenario: Scenario, seed: int, scale: float) -> None:
        self.sc = scenario
        self.seed = seed
        self.scale = scenario.scale * scale
        self.rng = np.random.default_rng(seed)
        self.py = random.Random(seed)
        self.places: list[Place] = all_places()
        self.pop = Population(self.places, self.rng)
        self.T = scenario.minutes
        self.start_ms = int(scenario.start.timestamp() * 1000)
        self.vocabs: dict[str, Vocabulary] = {}
        self.renderers: dict[str, Renderer] = {}
        for b in scenario.brands:
            if b.industry not in self.vocabs:
                self.vocabs[b.industry] = vocabulary(b.industry)
                self.renderers[b.industry] = Renderer(self.vocabs[b.industry], self.py)
        self._check_topics()
        self.brand_index = {b.id: i for i, b in enumerate(scenario.brands)}
        self.pools: dict[tuple[int, str, str], TextPool] = {}
        self.contexts: dict[tuple[int, str], RenderContext] = {}

    def _check_topics(self) -> None:
        for i, inc in enumerate(self.sc.incidents):
            vocab = self.vocabs[self.sc.brand(inc.brand).industry]
            for t in inc.topics:
                if t not in vocab.topics:
                    raise ConfigError(
                        f"{self.sc.source}: incidents[{i}].topics names unknown topic {t!r} "
                        f"(the {vocab.industry} vocabulary has: {', '.join(sorted(vocab.topics))})",
                        file=self.sc.source,
                        key=f"incidents[{i}].topics",
                    )
        for i, r in enumerate(self.sc.rumours):
            vocab = self.vocabs[self.sc.brand(r.brand).industry]
            if r.topic not in vocab.topics:
                raise ConfigError(
                    f"{self.sc.source}: rumours[{i}].topic names unknown topic {r.topic!r}",
                    file=self.sc.source,
                    key=f"rumours[{i}].topic",
                )
        for i, f in enumerate(self.sc.floods):
            vocab = self.vocabs[self.sc.brand(f.brand).industry]
            for t in f.topics:
                if t not in vocab.topics:
                    raise ConfigError(
                        f"{self.sc.source}: floods[{i}].topics names unknown topic {t!r}",
                        file=self.sc.source,
                        key=f"floods[{i}].topics",
                    )

    def minute_of(self, t: datetime) -> int:
        return int((t - self.sc.start).total_seconds() // 60)

    # -- contexts and pools ----------------------------------------------------------------
    def context(self, bi: int, key: str, regions: tuple[str, ...], **extra: str) -> RenderContext:
        cached = self.contexts.get((bi, key))
        if cached is not None:
            return cached
        b = self.sc.brands[bi]
        pop = self.pop
        handles = [
            Mention(h, "mention", pop.usernames[i], pop.user_ids[i], i)
            for h in b.brand.handles
            for i in [pop.by_username[h[1:].lower()]]
        ]
        tags = [Mention(t, "hashtag") for t in b.brand.hashtags]
        tags += [Mention("#" + b.brand.name.replace(" ", ""), "hashtag")] if tags else []
        # Name-style mentions use the keywords (so the brand matcher finds them): mostly as
        # written or as the brand spells its name, sometimes Title Case, rarely SHOUTED.
        names: list[Mention] = []
        name_w: list[float] = []
        for rank, kw in enumerate(b.brand.keywords):
            share = 1.0 / (rank + 1)
            variants = [(kw, 0.45), (kw.title(), 0.2), (kw.upper(), 0.05)]
            if b.brand.name.lower() == kw.lower():
                variants.append((b.brand.name, 0.3))
            else:
                variants[0] = (kw, 0.75)
            for text, w in variants:
                names.append(Mention(text, "plain"))
                name_w.append(share * w)
        if not names:
            names, name_w = [Mention(b.brand.name, "plain")], [1.0]
        forms = [*handles, *names, *tags]
        weights = [0.55 / (len(handles) + 1) * (2 if j == 0 else 1) for j in range(len(handles))]
        weights += [0.3 * w / sum(name_w) for w in name_w]
        weights += [0.15 / len(tags)] * len(tags) if tags else []
        peers = []
        for peer_id in b.brand.peers:
            pb = self.sc.brands[self.brand_index[peer_id]]
            i = pop.by_username[pb.brand.handles[0][1:].lower()]
            peers.append(
                Mention(pb.brand.handles[0], "mention", pop.usernames[i], pop.user_ids[i], i)
            )
            if pb.brand.keywords:
                peers.append(Mention(pb.brand.keywords[0].title(), "plain"))
        cities: list[str] = []
        for i in places_in(self.places, regions) or places_in(self.places, b.brand.regions):
            cities += [self.places[i].name] * max(1, round(self.places[i].weight / 4))
        customers = self.customers[bi]
        py = self.py

        def pick_user() -> Mention:
            i = int(customers[py.randrange(len(customers))])
            return Mention("@" + pop.usernames[i], "mention", pop.usernames[i], pop.user_ids[i], i)

        cum = np.cumsum(np.array(weights) / sum(weights)).tolist()
        ctx = RenderContext(
            brand_forms=forms,
            brand_cum=cum[:-1],
            handles=handles,
            hashtags=tags,
            names=names,
            peers=peers,
            cities=cities,
            pick_user=pick_user,
            bait_url=extra.get("bait_url"),
            copypasta=extra.get("copypasta"),
        )
        self.contexts[(bi, key)] = ctx
        return ctx

    def pool(self, bi: int, ctx_key: str, topic: str) -> TextPool:
        cached = self.pools.get((bi, ctx_key, topic))
        if cached is not None:
            return cached
        b = self.sc.brands[bi]
        vocab = self.vocabs[b.industry]
        pool = TextPool(
            self.renderers[b.industry],
            vocab.topics[topic],
            self.contexts[(bi, ctx_key)],
            vocab.moods.get(topic, "angry"),
        )
        self.pools[(bi, ctx_key, topic)] = pool
        return pool

    def mixture(self, parts: list[tuple[dict[str, float], float]]) -> dict[str, float]:
        out: dict[str, float] = {}
        for weights, share in parts:
            total = sum(weights.values())
            if share <= 0 or total <= 0:
                continue
            for topic, w in weights.items():
                out[topic] = out.get(topic, 0.0) + share * w / total
        return out

    # -- building ------------------------------------------------------------------------
    def build(self) -> None:
        sc, pop, rng = self.sc, self.pop, self.rng
        # Brand accounts first, so their handles resolve in every context.
        for b in sc.brands:
            home = (places_in(self.places, b.brand.regions) or [0])[0]
            for h in b.brand.handles:
                pop.add_account(h[1:], b.brand.name, verified=True, home=home)
        self.support = [pop.by_username[b.support_handle[1:].lower()] for b in sc.brands]
        self.rates = [
            volume.rhythm(
                sc,
                b,
                self.vocabs[b.industry].rhythm_daily,
                self.vocabs[b.industry].rhythm_weekly,
                self.scale,
            )
            for b in sc.brands
        ]
        self.noises = [volume.noise(sc, b, sc.dispersion, rng) for b in sc.brands]
        self.profiles = [volume.incident_profile(sc, inc) for inc in sc.incidents]
        # Expected posts per brand decide the size of its author population.
        expected = [float(r.sum()) for r in self.rates]
        for inc, p in zip(sc.incidents, self.profiles, strict=True):
            for bid, mag in [(inc.brand, inc.magnitude)] + [
                (x, inc.peer_magnitude) for x in inc.peers_hit
            ]:
                bi = self.brand_index[bid]
                expected[bi] += float(((mag - 1) * self.rates[bi] * p).sum())
        self.customers: list[npt.NDArray[np.int64]] = []
        self.weights: list[npt.NDArray[np.float64]] = []
        for bi, b in enumerate(sc.brands):
            n = b.users or int(np.clip(expected[bi] / 3.0, 300, 150_000))
            idx = pop.add_customers(n, places_in(self.places, b.brand.regions) or [0])
            self.customers.append(idx)
            # A few loud customers post a lot; most post once or twice (lognormal activity).
            self.weights.append(rng.lognormal(0.0, 1.1, size=n))
        self.components: list[Component] = []
        self.buffers: list[deque[_Source]] = []
        self.own_posts: list[OwnPost] = []
        self.flood_authors: list[int] = []
        for bi, b in enumerate(sc.brands):
            self._baseline(bi, b)
        for ii, inc in enumerate(sc.incidents):
            self._incident(ii, inc)
        for ri in range(len(sc.rumours)):
            self._rumour(ri)
        for fi in range(len(sc.floods)):
            self._flood(fi)
        self.own_posts.sort(key=lambda o: o.ms)

    def _authors(
        self, bi: int, regions: tuple[str, ...] | None
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        cands, w = self.customers[bi], self.weights[bi]
        if regions:
            inside = set(places_in(self.places, regions))
            homes = np.array([self.pop.home[int(i)] for i in cands])
            mask = np.isin(homes, list(inside))
            if mask.sum() >= 20:
                cands, w = cands[mask], w[mask]
        cdf = np.cumsum(w)
        return cands, cdf / cdf[-1]

    def _forms(self, b: SimBrand, rt: float | None = None) -> npt.NDArray[np.float64]:
        rt = b.retweet_share if rt is None else rt
        p = np.array(
            [max(0.0, 1 - rt - b.reply_share - b.quote_share), rt, b.reply_share, b.quote_share]
        )
        return np.cumsum(p / p.sum())

    def _component(
        self,
        kind: int,
        bi: int,
        counts: npt.NDArray[np.int64],
        ctx_key: str,
        topics: dict[str, float],
        authors: tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]],
        forms: npt.NDArray[np.float64],
        buffer: int,
    ) -> None:
        names = sorted(topics)
        w = np.array([topics[t] for t in names])
        self.components.append(
            Component(
                kind=kind,
                brand=bi,
                counts=counts,
                pools=[self.pool(bi, ctx_key, t) for t in names],
                topic_cdf=np.cumsum(w / w.sum()),
                authors=authors[0],
                author_cdf=authors[1],
                form_cdf=forms,
                buffer=buffer,
            )
        )

    def _new_buffer(self) -> int:
        self.buffers.append(deque(maxlen=64))
        return len(self.buffers) - 1

    def _baseline(self, bi: int, b: SimBrand) -> None:
        vocab = self.vocabs[b.industry]
        lam = self.rates[bi] * self.noises[bi]
        counts = self.rng.poisson(lam).astype(np.int64)
        self.context(bi, "base", b.brand.regions)
        topics = self.mixture(
            [
                (dict(vocab.mix["complaint"]), b.complaint_share),
                (dict(vocab.mix["chatter"]), 1 - b.complaint_share),
            ]
        )
        self._component(
            BASE,
            bi,
            counts,
            "base",
            topics,
            self._authors(bi, None),
            self._forms(b),
            self._new_buffer(),
        )

    def _incident(self, ii: int, inc: IncidentSpec) -> None:
        p = self.profiles[ii]
        hit = [(inc.brand, inc.magnitude)] + [(x, inc.peer_magnitude) for x in inc.peers_hit]
        for bid, mag in hit:
            bi = self.brand_index[bid]
            b = self.sc.brands[bi]
            vocab = self.vocabs[b.industry]
            # Its own noise: an incident's volume is not locked to the baseline's bursts.
            g = volume.noise(self.sc, b, self.sc.dispersion, self.rng)
            lam = (mag - 1) * self.rates[bi] * p * g
            counts = self.rng.poisson(lam).astype(np.int64)
            key = f"incident-{ii}"
            self.context(bi, key, inc.regions)
            own_topics = {t: 1.0 for t in inc.topics if t in vocab.topics}
            # news is people talking about the brand, not at it: no outage questions
            topics = self.mixture(
                [(own_topics, 0.9), (dict(vocab.mix["chatter"]), 0.1)]
                if inc.kind == "news"
                else [
                    (own_topics, 0.7),
                    (dict(vocab.mix.get("incident", {})), 0.22),
                    (dict(vocab.mix["chatter"]), 0.08),
                ]
            )
            buf = self._new_buffer()
            self._component(
                INCIDENT,
                bi,
                counts,
                key,
                topics,
                self._authors(bi, inc.regions),
                self._forms(b, b.retweet_share * 1.5),
                buf,
            )
            if bid == inc.brand and inc.own_posts:
                self._own(ii, inc, bi, buf)

    def _own(self, ii: int, inc: IncidentSpec, bi: int, buf: int) -> None:
        """The brand's status threads during an incident and its replies to customers."""
        b = self.sc.brands[bi]
        vocab = self.vocabs[b.industry]
        renderer = self.renderers[b.industry]
        ctx = self.contexts[(bi, f"incident-{ii}")]
        threads: list[tuple[datetime, int, list[Rendered]]] = []
        if inc.updates:
            for u in inc.updates:
                author = self.pop.by_username[u.author[1:].lower()]
                threads.append(
                    (
                        u.at,
                        author,
                        [self._verbatim(t) for t in u.thread],
                    )
                )
        else:
            support = self.support[bi]

            def thread(kind: str) -> list[Rendered]:
                n = self.py.choice((1, 1, 2, 3)) if kind == "update" else 1
                texts = [
                    renderer.render(self.py.choice(vocab.own[kind]), ctx, "own") for _ in range(n)
                ]
                if n > 1:
                    texts = [prefixed(f"{k + 1}/{n} ", r) for k, r in enumerate(texts)]
                return texts

            ack = inc.onset + timedelta(minutes=self.py.uniform(18, 45))
            threads.append((ack, support, thread("ack")))
            t = ack + inc.update_every
            while t < inc.end:
                threads.append((t, support, thread("update")))
                t += inc.update_every
            threads.append((inc.end + timedelta(minutes=12), support, thread("resolved")))
        for at, author, posts in threads:
            thread_id = len(self.own_posts)
            for k, r in enumerate(posts):
                ms = int(at.timestamp() * 1000) + k * 41_000
                if self.start_ms <= ms < self.start_ms + self.T * 60000:
                    self.own_posts.append(OwnPost(ms, bi, author, r, thread_id, ii))
        # Replies to customers, as many as a social team manages (not scaled).
        lam = inc.replies_per_hour / 60.0 * np.minimum(1.0, self.profiles[ii] * 3)
        counts = self.rng.poisson(lam).astype(np.int64)
        support = self.support[bi]
        self.components.append(
            Component(
                kind=OWN_REPLY,
                brand=bi,
                counts=counts,
                pools=[self.pool_own_reply(bi, f"incident-{ii}")],
                topic_cdf=np.array([1.0]),
                authors=np.array([support], dtype=np.int64),
                author_cdf=np.array([1.0]),
                form_cdf=np.array([0.0, 0.0, 1.0, 1.0]),
                buffer=buf,
            )
        )

    def pool_own_reply(self, bi: int, ctx_key: str) -> TextPool:
        b = self.sc.brands[bi]
        key = (bi, ctx_key, "__reply")
        if key not in self.pools:
            vocab = self.vocabs[b.industry]
            self.pools[key] = TextPool(
                self.renderers[b.industry], vocab.own["reply"], self.contexts[(bi, ctx_key)], "own"
            )
        return self.pools[key]

    def _verbatim(self, text: str) -> Rendered:
        pop = self.pop
        return verbatim(text, pop.by_username, pop.usernames, pop.user_ids)

    def _rumour(self, ri: int) -> None:
        r = self.sc.rumours[ri]
        bi = self.brand_index[r.brand]
        b = self.sc.brands[bi]
        lam = volume.rumour_rate(self.sc, r, self.scale)
        counts = self.rng.poisson(lam).astype(np.int64)
        key = f"rumour-{ri}"
        text = r.text or ""
        if not any(f"{{{slot}}}" in text for slot in ("brand", "handle", "hashtag", "name")):
            text += " {brand}"  # a pasted text that never names the brand is not a mention
        extra = {"bait_url": r.url} if r.url else {"copypasta": text}
        self.context(bi, key, b.brand.regions, **extra)
        # Bait spreads mostly by retweet; copypasta by pasting (originals).
        forms = self._forms(b, 0.55 if r.kind == "bait_link" else 0.1)
        self._component(
            RUMOUR,
            bi,
            counts,
            key,
            {r.topic: 1.0},
            self._authors(bi, None),
            forms,
            self._new_buffer(),
        )

    def _flood(self, fi: int) -> None:
        f = self.sc.floods[fi]
        bi = self.brand_index[f.brand]
        lo = max(0, self.minute_of(f.onset))
        hi = min(self.T, max(lo + 1, self.minute_of(f.end)))
        counts = np.zeros(self.T, dtype=np.int64)
        if lo < self.T:
            counts[lo:hi] = self.rng.multinomial(f.posts, np.full(hi - lo, 1.0 / (hi - lo)))
        if f.username:
            author = self.pop.add_account(
                f.username,
                f.username,
                verified=False,
                home=int(self.pop.home[int(self.customers[bi][0])]),
            )
        else:
            author = int(self.customers[bi][int(self.rng.integers(len(self.customers[bi])))])
        self.flood_authors.append(author)
        self._component(
            FLOOD,
            bi,
            counts,
            "base",
            {t: 1.0 for t in f.topics},
            (np.array([author]), np.array([1.0])),
            np.array([0.92, 0.92, 1.0, 1.0]),
            self._new_buffer(),
        )

    # -- writing ---------------------------------------------------------------------------
    def total(self) -> int:
        return int(sum(int(c.counts.sum()) for c in self.components)) + len(self.own_posts)

    def events(self) -> Iterator[tuple[list[Any], ...]]:
        """Sorted event columns, a few hours at a time (bounded memory)."""
        rng = self.rng
        per_minute = sum(c.counts for c in self.components)
        cum = np.cumsum(per_minute)
        own_ms = np.array([o.ms for o in self.own_posts], dtype=np.int64)
        a = 0
        while a < self.T:
            # Chunks of up to 6 hours and about 100,000 posts.
            base = int(cum[a - 1]) if a else 0
            b = int(np.searchsorted(cum, base + 100_000, side="right"))
            b = max(a + 1, min(b, a + 360, self.T))
            cols: dict[str, list[npt.NDArray[Any]]] = {
                k: [] for k in ("ms", "comp", "topic", "author", "form")
            }
            for ci, c in enumerate(self.components):
                cnt = c.counts[a:b]
                n = int(cnt.sum())
                if not n:
                    continue
                minutes = np.repeat(np.arange(a, b, dtype=np.int64), cnt)
                cols["ms"].append(self.start_ms + minutes * 60000 + rng.integers(0, 60000, n))
                cols["comp"].append(np.full(n, ci, dtype=np.int64))
                cols["topic"].append(np.searchsorted(c.topic_cdf, rng.random(n), side="right"))
                pick = np.searchsorted(c.author_cdf, rng.random(n), side="right")
                cols["author"].append(c.authors[np.minimum(pick, len(c.authors) - 1)])
                cols["form"].append(np.searchsorted(c.form_cdf, rng.random(n), side="right"))
            lo_ms, hi_ms = self.start_ms + a * 60000, self.start_ms + b * 60000
            own = np.nonzero((own_ms >= lo_ms) & (own_ms < hi_ms))[0]
            if len(own):
                cols["ms"].append(own_ms[own])
                cols["comp"].append(-1 - own)  # negative: an own post, by index
                cols["topic"].append(np.zeros(len(own), dtype=np.int64))
                cols["author"].append(np.zeros(len(own), dtype=np.int64))
                cols["form"].append(np.zeros(len(own), dtype=np.int64))
            a = b
            if not cols["ms"]:
                continue
            ms = np.concatenate(cols["ms"])
            order = np.argsort(ms, kind="stable")
            ms = ms[order]
            n = len(ms)
            # Snowflake ids: time, then a sequence number within the millisecond.
            first = np.r_[0, np.nonzero(np.diff(ms))[0] + 1]
            seq = np.arange(n) - np.repeat(first, np.diff(np.r_[first, n]))
            ids = ((ms - TWEPOCH_MS) << 22) | (1 << 17) | seq
            secs = ms // 1000
            created = np.char.add(
                np.datetime_as_string(secs.astype("datetime64[s]"), unit="s"), ".000Z"
            )
            likes = rng.poisson(rng.exponential(0.8, n))
            rts = rng.poisson(rng.exponential(0.3, n))
            replies = rng.poisson(rng.exponential(0.25, n))
            quotes = rng.binomial(1, 0.02, n)
            geo = rng.random(n) < self.sc.geo_share
            u1, u2 = rng.random(n), rng.random(n)
            yield (
                ids.astype(str).tolist(),
                created.tolist(),
                np.concatenate(cols["comp"])[order].tolist(),
                np.concatenate(cols["topic"])[order].tolist(),
                np.concatenate(cols["author"])[order].tolist(),
                np.concatenate(cols["form"])[order].tolist(),
                likes.tolist(),
                rts.tolist(),
                replies.tolist(),
                quotes.tolist(),
                geo.tolist(),
                u1.tolist(),
                u2.tolist(),
            )

    def write(self, sink: PageSink, progress: Progress | None) -> dict[str, int]:
        pop = self.pop
        uids = pop.user_ids
        unames = pop.usernames
        home = pop.home
        place_ids = [p.id for p in self.places]
        comps = self.components
        buffers = self.buffers
        own_last: dict[int, _Source] = {}  # thread -> its latest post
        brand_own: dict[int, _Source] = {}  # brand -> its latest own post
        base_buffer = {c.brand: c.buffer for c in comps if c.kind == BASE}
        written = 0
        own_count = 0
        flood_posts = [0] * len(self.sc.floods)
        flood_comp = [ci for ci, c in enumerate(comps) if c.kind == FLOOD]
        total = self.total()
        page = _Page()
        dumps = orjson.dumps

        # twarc2 stamps each page it saves; retrieved "just after" the window, so no clock.
        twarc = {
            "url": "https://api.twitter.com/2/tweets/search/all?max_results=100",
            "version": "2.14.0",
            "retrieved_at": iso(self.sc.end),
        }

        def flush() -> None:
            tweets = page.tweets
            includes: dict[str, Any] = {"users": [pop.user(i) for i in page.users]}
            if page.places:
                includes["places"] = [self.places[i].as_x() for i in page.places]
            if page.refs:
                includes["tweets"] = list(page.refs.values())
            # Pages run oldest to newest (a timeline capture); meta names both ends.
            doc = {
                "data": tweets,
                "includes": includes,
                "meta": {
                    "result_count": len(tweets),
                    "newest_id": tweets[-1]["id"],
                    "oldest_id": tweets[0]["id"],
                },
                "__twarc": twarc,
            }
            sink.write(dumps(doc))
            sink.write(b"\n")

        for cols in self.events():
            (ids, created, comp, topic, author, form, likes, rts, replies, quotes, geo, u1, u2) = (
                cols
            )
            for k in range(len(ids)):
                tid = ids[k]
                ci = comp[k]
                if ci < 0:  # the brand's own post
                    own = self.own_posts[-1 - ci]
                    a = own.author
                    r = own.rendered
                    tw = _tweet(tid, r.text, created[k], uids[a], tid, r.lang)
                    prev = own_last.get(own.thread)
                    if prev is not None:
                        tw["conversation_id"] = prev.conversation
                        tw["in_reply_to_user_id"] = uids[prev.author]
                        tw["referenced_tweets"] = [{"type": "replied_to", "id": prev.id}]
                        page.cite(prev)
                    if r.entities:
                        tw["entities"] = r.entities
                    tw["public_metrics"] = {
                        "retweet_count": rts[k] * 6 + 3,
                        "reply_count": replies[k] * 5 + 2,
                        "like_count": likes[k] * 4 + 2,
                        "quote_count": quotes[k],
                    }
                    src = _Source(tid, tw, a, tw["conversation_id"])
                    own_last[own.thread] = src
                    brand_own[own.brand] = src
                    own_count += 1
                else:
                    c = comps[ci]
                    a = author[k]
                    f = form[k]
                    buf = buffers[c.buffer]
                    if c.kind == OWN_REPLY:
                        # Reply to a recent complaint from the incident, else the baseline.
                        if not buf:
                            buf = buffers[base_buffer[c.brand]]
                        if not buf:
                            continue
                        parent = buf[int(u2[k] * len(buf))]
                        if parent.author == a:
                            continue
                        r = c.pools[0].draw(u1[k])
                        own_count += 1
                        f = REPLY
                    else:
                        r = c.pools[topic[k]].draw(u1[k])
                        parent = None
                        if f != ORIGINAL:
                            if f == REPLY and c.kind == INCIDENT and u2[k] < 0.3:
                                parent = brand_own.get(c.brand)
                            if parent is None and buf:
                                # Recent posts draw more reactions than old ones.
                                parent = buf[len(buf) - 1 - int(len(buf) * u2[k] * u2[k])]
                            if parent is None or parent.author == a:
                                f = ORIGINAL
                                parent = None
                    if f == ORIGINAL:
                        tw = _tweet(tid, r.text, created[k], uids[a], tid, r.lang)
                        if r.entities:
                            tw["entities"] = r.entities
                    elif f == RETWEET:
                        assert parent is not None
                        if parent.rt is None:
                            uname = unames[parent.author]
                            prefix = f"RT @{uname}: "
                            ents = shifted(parent.tweet.get("entities"), len(prefix))
                            ents.setdefault("mentions", []).insert(
                                0, _mention(3, uname, uids[parent.author])
                            )
                            parent.rt = (prefix + parent.tweet["text"], ents)
                        tw = _tweet(
                            tid, parent.rt[0], created[k], uids[a], tid, parent.tweet["lang"]
                        )
                        tw["referenced_tweets"] = [{"type": "retweeted", "id": parent.id}]
                        tw["entities"] = parent.rt[1]
                    elif f == REPLY:
                        assert parent is not None
                        uname = unames[parent.author]
                        prefix = f"@{uname} "
                        ents = shifted(r.entities, len(prefix))
                        ents.setdefault("mentions", []).insert(
                            0, _mention(0, uname, uids[parent.author])
                        )
                        tw = _tweet(
                            tid, prefix + r.text, created[k], uids[a], parent.conversation, r.lang
                        )
                        tw["in_reply_to_user_id"] = uids[parent.author]
                        tw["referenced_tweets"] = [{"type": "replied_to", "id": parent.id}]
                        tw["entities"] = ents
                    else:  # QUOTE
                        assert parent is not None
                        uname = unames[parent.author]
                        status = f"https://twitter.com/{uname}/status/{parent.id}"
                        link = tco(status)
                        text = f"{r.text} {link}"
                        ents = shifted(r.entities, 0)
                        ents.setdefault("urls", []).append(
                            {
                                "start": len(text) - len(link),
                                "end": len(text),
                                "url": link,
                                "expanded_url": status,
                                "display_url": f"twitter.com/{uname}/status/{parent.id}"[:25] + "…",
                            }
                        )
                        tw = _tweet(tid, text, created[k], uids[a], tid, r.lang)
                        tw["referenced_tweets"] = [{"type": "quoted", "id": parent.id}]
                        tw["entities"] = ents
                    if parent is not None:
                        page.cite(parent)
                    tw["public_metrics"] = {
                        "retweet_count": rts[k],
                        "reply_count": replies[k],
                        "like_count": likes[k],
                        "quote_count": quotes[k],
                    }
                    if f != RETWEET:
                        buf.append(_Source(tid, tw, a, tw["conversation_id"]))
                    if c.kind == FLOOD:
                        flood_posts[flood_comp.index(ci)] += 1
                    if geo[k]:
                        h = home[a]
                        tw["geo"] = {"place_id": place_ids[h]}
                        page.places[h] = None
                page.users[a] = None
                for m in r.mentioned:
                    page.users[m] = None
                # Every v2 tweet carries its edit history (just itself: nothing was edited).
                tw["edit_history_tweet_ids"] = [tid]
                page.tweets.append(tw)
                written += 1
                if len(page.tweets) >= PAGE_SIZE:
                    flush()
                    page = _Page()
                    if progress is not None:
                        progress(written, total)
        if page.tweets:
            flush()
        if progress is not None:
            progress(written, written)
        return {
            "posts": written,
            "own_posts": own_count,
            **{f"flood-{i}": n for i, n in enumerate(flood_posts)},
        }


def simulate(
    scenario: Scenario,
    out: Path,
    *,
    seed: int,
    scale: float = 1.0,
    progress: Progress | None = None,
) -> SimulationResult:
    """Write the scenario's posts to ``out`` (X v2 JSONL, gzip if ``.gz``) plus truth and
    brands files beside it. ``scale`` multiplies the scenario's own scale."""
    if scale <= 0:
        raise ConfigError(f"scale must be > 0 (got {scale})", key="scale")
    out = Path(out)
    run = _Run(scenario, seed, scale)
    run.build()
    with PageSink(out) as sink:
        counts = run.write(sink, progress)
    truth = build_truth(
        scenario,
        seed=seed,
        scale=run.scale,
        posts=counts["posts"],
        own_posts=counts["own_posts"],
        flood_posts=[counts[f"flood-{i}"] for i in range(len(scenario.floods))],
        flood_authors=[(run.pop.user_ids[a], run.pop.usernames[a]) for a in run.flood_authors],
        places=run.places,
    )
    truth_path, brands_path = output_paths(out)
    truth_path.write_bytes(orjson.dumps(truth, option=orjson.OPT_INDENT_2) + b"\n")
    brands_path.write_text(brands_toml(scenario), encoding="utf-8")
    return SimulationResult(out, truth_path, brands_path, counts["posts"], truth)
