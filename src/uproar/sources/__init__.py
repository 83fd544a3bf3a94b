"""Listen: archive formats and live protocols, normalised into one post record."""

from uproar.sources.ingest import FORMATS, IngestResult, Ingestor, detect_format, ingest

__all__ = ["FORMATS", "IngestResult", "Ingestor", "detect_format", "ingest"]
