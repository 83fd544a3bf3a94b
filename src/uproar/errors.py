"""Errors raised by Uproar's library code.

The tree::

    UproarError                 anything Uproar raises on purpose
    ├── ConfigError             a bad brands file, settings file or profile (names the key)
    ├── InputError              unreadable or malformed input (names file, line, field)
    │   ├── FormatError         a file whose format cannot be detected or is not supported
    │   ├── UnknownNameError    a brand or incident that is not in the store (lists the known)
    │   └── NothingStoredError  an ingest that quarantined every record it read
    ├── StoreError              the DuckDB store refused an operation (names the file)
    │   ├── StoreMissingError   a command that reads a store was given one that does not exist
    │   ├── StoreLockedError    another process holds the store's write lock
    │   ├── StoreCorruptError   the file is not a DuckDB database, or is damaged
    │   └── DiskFullError       the disk holding the store is full
    ├── RuleError               a bad lint rule or style (names the rule id)
    ├── BusError                the stream backbone (NATS, Kafka) is unreachable or refused
    ├── ModelError              a model file is missing or cannot be loaded
    └── EngineError             Spark (``--engine spark``) is not installed, or its job failed

The library raises these and never prints or exits; the CLI catches them in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class UproarError(Exception):
    """Base class. ``context`` carries what the message names, for JSON output."""

    def __init__(self, message: str, **context: object) -> None:
        super().__init__(message)
        self.message = message
        self.context = {k: v for k, v in context.items() if v is not None}


class ConfigError(UproarError):
    """A configuration file (brands, settings, profile) is wrong."""


class InputError(UproarError):
    """Input that cannot be read, with file, line and field where known."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        where = ":".join(str(p) for p in (file, line) if p is not None)
        full = f"{where}: {message}" if where else message
        if field:
            full = f"{full} (field {field!r})"
        super().__init__(full, file=file, line=line, field=field)
        self.file, self.line, self.field = file, line, field


class FormatError(InputError):
    """The input's format is unknown or cannot be detected."""


class UnknownNameError(InputError):
    """A name the user typed (a brand id, an incident id) that the store does not know.

    The message lists the known names, so the user can see the typo."""

    def __init__(
        self, what: str, name: str, known: Iterable[str], *, field: str, hint: str = ""
    ) -> None:
        names = sorted(known)
        shown = ", ".join(names[:20]) + (
            f" (and {len(names) - 20} more)" if len(names) > 20 else ""
        )
        listing = f"known: {shown}" if names else f"the store has no {what}s yet"
        super().__init__(f"unknown {what} {name!r}; {listing}{hint}", field=field)
        self.name, self.known = name, tuple(names)


class NothingStoredError(InputError):
    """An ingest read records but quarantined every one: nothing usable was stored.

    ``context`` carries the run's counts, so ``--json`` still reports them."""

    def __init__(self, message: str, *, counts: Mapping[str, object]) -> None:
        super().__init__(message)
        self.context.update(counts)


class StoreError(UproarError):
    """The store could not do what was asked."""


class StoreMissingError(StoreError):
    """A command that reads a store was pointed at a file that does not exist."""


class StoreLockedError(StoreError):
    """Another process (an ingest, a listener) holds the store's write lock."""


class StoreCorruptError(StoreError):
    """The file is not a DuckDB database Uproar can read, or it is damaged."""


class DiskFullError(StoreError):
    """No space left on the device that holds the store (or DuckDB's spill folder)."""


class RuleError(UproarError):
    """A lint rule or style is invalid."""


class BusError(UproarError):
    """The stream backbone cannot be reached, or refused what was asked (names the URL)."""


class ModelError(UproarError):
    """A model artefact is missing or unreadable."""


class EngineError(UproarError):
    """A distributed engine (Spark) cannot be had (no pyspark, no Java) or its job failed."""
