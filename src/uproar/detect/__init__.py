"""Detect: outages and crises from mention volume, with scope, the why, and rumours.

Public entry points: ``detect_store`` (batch over the store), ``detect_series`` (a
numeric series from a CSV), ``Monitor`` (streaming, post by post, state in the store),
``load_incidents`` (for the inbox and the report) and ``evaluate`` (the scenario harness).
"""

from __future__ import annotations

from typing import Any

from uproar.records import Incident


def incident_dict(incident: Incident) -> dict[str, Any]:
    """The JSON shape of an incident (the keys ``uproar detect --json`` prints)."""
    return {
        "id": incident.id,
        "brand": incident.brand,
        "start": incident.start,
        "detected_at": incident.detected_at,
        "peak": incident.peak,
        "end": incident.end,
        "severity": incident.severity,
        "scope": incident.scope,
        "posts": incident.posts,
        "authors": incident.authors,
        "regions": list(incident.regions),
        "topics": list(incident.topics),
        "terms": list(incident.terms),
        "term_counts": list(incident.term_counts),
        "peers": list(incident.peers),
        "phases": list(incident.phases),
        "sample_post_ids": list(incident.sample_post_ids),
        "rumours": list(incident.rumours),
        "bait_link": any(r.get("kind") == "domain" for r in incident.rumours),
    }


def __getattr__(name: str) -> Any:
    # Lazy so that ``import uproar.detect`` stays light for the CLI.
    if name in ("detect_store", "DetectResult"):
        from uproar.detect import batch

        return getattr(batch, name)
    if name == "detect_series":
        from uproar.detect.series import detect_series

        return detect_series
    if name == "Monitor":
        from uproar.detect.stream import Monitor

        return Monitor
    if name == "load_incidents":
        from uproar.store.detect import load_incidents

        return load_incidents
    if name == "evaluate":
        from uproar.eval.detect import evaluate

        return evaluate
    raise AttributeError(name)


__all__ = [
    "DetectResult",
    "Monitor",
    "detect_series",
    "detect_store",
    "evaluate",
    "incident_dict",
    "load_incidents",
]
