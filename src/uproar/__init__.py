"""Uproar: social-media incident command for companies whose service goes down."""

from uproar.config import Brand, load_brands
from uproar.errors import UproarError
from uproar.records import Finding, Incident, Labels, Post

__all__ = [
    "Brand",
    "Finding",
    "Incident",
    "Labels",
    "Post",
    "UproarError",
    "load_brands",
]

__version__ = "0.1.0"
