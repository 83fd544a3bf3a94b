"""How the stages plug into each other: what runs on every batch that ingest stores."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from uproar.sources.ingestor import Enricher
from uproar.store import Store


@dataclass(frozen=True, slots=True)
class ClassifyLabeller:
    """Labels posts with the understand stage where ingest parses them (the parse workers,
    for big files) and stores the labels of the new ones (``sources.ingestor.Labeller``)."""

    model: str = "fast"

    def label(self, posts: pa.Table) -> pa.Table:
        from uproar.understand import label_table

        return label_table(posts, model=self.model)

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

    def enrich(store: Store, posts: pa.Table) -> None:
        labeller(store, posts)

    return enrich


def ingest_enrichers(*, model: str = "fast") -> tuple[Enricher, ...]:
    """The enrichers ingest runs inside each batch's transaction, on the new posts only."""
    return (classify_enricher(model=model),)
