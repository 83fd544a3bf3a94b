"""Listen: archive formats and live protocols, normalised into one post record."""

from uproar.sources.ingestor import FORMATS, Ingestor, IngestResult, detect_format, ingest

__all__ = ["FORMATS", "IngestResult", "Ingestor", "detect_format", "ingest"]
