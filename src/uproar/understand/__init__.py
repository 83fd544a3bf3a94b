"""Understand: complaint, sentiment, topics, question, urgency, language, sarcasm and reach.

This stage owns the post labels every other stage reads: ``label_table`` labels an ingest
batch column-wise (the store's ``labels`` shape: complaint, sentiment, topics, reach, ...);
``complaint_signal`` is the complaint label alone; ``reach`` the one reach formula;
``for_industry`` the config of a brand's industry topic pack;
``Classifier`` is the batch API behind it (``model="fast"`` or ``"accurate"``);
``discover_topics`` clusters an incident's posts and names each cluster.
"""

from __future__ import annotations

from typing import Any

from uproar.records import Labels
from uproar.understand.classifier import (
    LABELS_SCHEMA,
    MODELS,
    Classifier,
    complaint_signal,
    label_table,
    reach,
)
from uproar.understand.taxonomy import UnderstandConfig, for_industry, load_config, parse_config
from uproar.understand.topics import TopicCluster, discover_topics


def labels_dict(labels: Labels) -> dict[str, Any]:
    """The JSON shape of one post's labels (``uproar classify``'s output line)."""
    return {
        "complaint": labels.complaint,
        "sentiment": labels.sentiment,
        "topics": list(labels.topics),
        "question": labels.question,
        "urgency": labels.urgency,
        "language": labels.language,
        "sarcasm": labels.sarcasm,
        "reach": labels.reach,
        "sentiment_scores": labels.sentiment_scores,
    }


__all__ = [
    "LABELS_SCHEMA",
    "MODELS",
    "Classifier",
    "TopicCluster",
    "UnderstandConfig",
    "complaint_signal",
    "discover_topics",
    "for_industry",
    "label_table",
    "labels_dict",
    "load_config",
    "parse_config",
    "reach",
]
