"""How the stages plug into each other: what runs on every batch that ingest stores."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import pyarrow as pa

from uproar.config import Brand
from uproar.sources.ingestor import Enricher
from uproar.store import Store


@dataclass(frozen=True, slots=True)
class ClassifyLabeller:
    """Labels posts with the understand stage where ingest parses them (the parse workers,
    for big files) and stores the labels of the new ones (``sources.ingestor.Labeller``).

    ``industries`` (brand id -> industry, set by ``for_brands``) keeps a post's topics to
    the topic packs of the brands it mentions: an airline's post gets airline topics."""

    model: str = "fast"
    industries: tuple[tuple[str, str], ...] = ()

    def for_brands(self, brands: Mapping[str, Brand]) -> ClassifyLabeller:
        """This labeller with the brands' industries (``sources.ingestor.BrandAware``)."""
        pairs = sorted((b.id, b.industry) for b in brands.values() if b.industry)
        return replace(self, industries=tuple(pairs))

    def label(self, posts: pa.Table) -> pa.Table:
        from uproar.understand import label_table
        from uproar.understand.taxonomy import keep_pack_topics

        rows = label_table(posts, model=self.model)
        if not self.industries or "brands" not in posts.column_names:
            return rows
        topics = keep_pack_topics(
            rows.column("topics"), posts.column("brands"), dict(self.industries)
        )
        return rows.set_column(rows.schema.get_field_index("topics"), "topics", topics)

    def save(self, store: Store, rows: pa.Table, *, fresh: bool = False) -> None:
        store.save_labels(rows, fresh=fresh)

    def __call__(self, store: Store, posts: pa.Table) -> None:
        self.save(store, self.label(posts))


def classify_enricher(*, model: str = "fast") -> Enricher:
    """Label each batch's new posts with the understand stage and store the labels.

    The fast model labels in the parse workers; the accurate one runs its own threads, so it
    labels in the writing process, on the new posts only.
    """
    labeller = ClassifyLabeller(model)
    if model == "fast":
        return labeller
    return WriterLabeller(labeller)


@dataclass(frozen=True, slots=True)
class WriterLabeller:
    """A labeller run in the writing process on the new posts only (not a ``Labeller``, so
    ingest does not send it to the parse workers)."""

    labeller: ClassifyLabeller

    def for_brands(self, brands: Mapping[str, Brand]) -> WriterLabeller:
        return WriterLabeller(self.labeller.for_brands(brands))

    def __call__(self, store: Store, posts: pa.Table) -> None:
        self.labeller(store, posts)


def ingest_enrichers(*, model: str = "fast") -> tuple[Enricher, ...]:
    """The enrichers ingest runs inside each batch's transaction, on the new posts only."""
    return (classify_enricher(model=model),)
