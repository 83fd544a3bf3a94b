"""The DuckDB store: the only place Uproar speaks SQL. See ``docs/schema.md``."""

from uproar.store.store import Store

__all__ = ["Store"]
