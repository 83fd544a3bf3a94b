"""How the stages plug into each other: what runs on every batch that ingest stores."""

from __future__ import annotations

from uproar.sources.ingestor import Enricher


def ingest_enrichers(*, model: str = "fast") -> tuple[Enricher, ...]:
    """The enrichers ingest runs inside each batch's transaction, on the new posts only."""
    return ()
