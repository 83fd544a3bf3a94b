"""What ``uproar watch`` labels: the posts that mention a brand (or are a brand's own).

A live firehose (Jetstream sends every post on Bluesky) is mostly about other things, and
nothing downstream reads their labels: detection, the inbox and the dashboard look at
brand mentions. Labelling only those keeps the classifier, the writer's costliest step
(bench/watch.py), to the posts that matter; the others are stored unlabelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from uproar.sources.ingestor import Enricher, Labeller
from uproar.store import Store


def mentions(posts: pa.Table) -> pa.Table:
    """The rows of ``posts`` that mention a brand or were written by one."""
    named = pc.fill_null(pc.greater(pc.list_value_length(posts.column("brands")), 0), False)
    own = pc.is_valid(posts.column("own_brand"))
    return posts.filter(pc.or_(named, own))


@dataclass(frozen=True, slots=True)
class MentionsOnly:
    """A labeller (``sources.ingestor.Labeller``) that labels brand mentions only."""

    inner: Labeller

    def label(self, posts: pa.Table) -> pa.Table:
        return self.inner.label(mentions(posts))

    def save(self, store: Store, rows: pa.Table, *, fresh: bool = False) -> None:
        self.inner.save(store, rows, fresh=fresh)

    def __call__(self, store: Store, posts: pa.Table) -> None:
        self.save(store, self.label(posts))


@dataclass(frozen=True, slots=True)
class _MentionsEnricher:
    inner: Enricher

    def __call__(self, store: Store, posts: pa.Table) -> None:
        picked = mentions(posts)
        if picked.num_rows:
            self.inner(store, picked)


def for_mentions(enrichers: Sequence[Enricher]) -> list[Enricher]:
    """``enrichers``, each given only the brand mentions of a batch."""
    return [MentionsOnly(e) if isinstance(e, Labeller) else _MentionsEnricher(e) for e in enrichers]
