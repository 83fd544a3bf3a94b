"""Errors raised by Uproar's library code.

The tree::

    UproarError                 anything Uproar raises on purpose
    ├── ConfigError             a bad brands file, settings file or profile (names the key)
    ├── InputError              unreadable or malformed input (names file, line, field)
    │   └── FormatError         a file whose format cannot be detected or is not supported
    ├── StoreError              the DuckDB store refused an operation
    ├── RuleError               a bad lint rule or style (names the rule id)
    └── ModelError              a model file is missing or cannot be loaded

The library raises these and never prints or exits; the CLI catches them in one place.
"""

from __future__ import annotations


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


class StoreError(UproarError):
    """The store could not do what was asked."""


class RuleError(UproarError):
    """A lint rule or style is invalid."""


class ModelError(UproarError):
    """A model artefact is missing or unreadable."""
