"""How the stages plug into each other: what runs on every batch that ingest stores."""

from __future__ import annotations

import pyarrow as pa

from uproar.sources.ingestor import Enricher
from uproar.store import Store


def classify_enricher(*, model: str = "fast") -> Enricher:
    """Label each batch's new posts with the understand stage and store the labels."""
    from uproar.understand import label_table

    def enrich(store: Store, posts: pa.Table) -> None:
        store.save_labels(label_table(posts, model=model))

    return enrich


def ingest_enrichers(*, model: str = "fast") -> tuple[Enricher, ...]:
    """The enrichers ingest runs inside each batch's transaction, on the new posts only."""
    return (classify_enricher(model=model),)
