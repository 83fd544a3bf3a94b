"""Uproar: social-media incident command for companies whose service goes down.

The stages live in their own packages (``uproar.sources``, ``uproar.detect``,
``uproar.understand``, ``uproar.respond``, ``uproar.report``); this namespace holds the
records and the entry points most scripts need.
"""

from uproar.config import Brand, load_brands
from uproar.errors import UproarError
from uproar.records import Finding, Incident, Labels, Post
from uproar.sources import ingest
from uproar.store import Store

__all__ = [
    "Brand",
    "Finding",
    "Incident",
    "Labels",
    "Post",
    "Store",
    "UproarError",
    "ingest",
    "load_brands",
]

__version__ = "0.1.0"
