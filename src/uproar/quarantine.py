"""What an ingest's quarantine tells the user.

Bad records are kept, never dropped, but a run that kept *only* bad records stored nothing
to detect on, and must not look like a success: ``verdict`` turns an ingest's counts and
its commonest quarantine reasons into nothing to say, a warning (more than ``WARN_SHARE``
of the records quarantined) or an error (every record quarantined), each with the reasons
and the fix. ``FIXES`` holds, per input format, a function that suggests the flags that
would have read the file (for CSV, the ``--map`` flags to add); the generic advice applies
where a format has none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from uproar.sources import csv_format

# Above this share of quarantined records, an ingest warns: real archives have the odd bad
# line (a truncated last line, a deleted account), not one in twenty.
WARN_SHARE = 0.05

Reason = Mapping[str, Any]  # {"kind", "field", "count", "example"}, from Store.quarantine_reasons
Fix = Callable[[Sequence[Reason], str], str | None]  # (reasons, a file of that format)


# format name -> a function naming the flags that would fix these reasons (or None).
FIXES: dict[str, Fix] = {"csv": csv_format.map_flags}


@dataclass(frozen=True, slots=True)
class Verdict:
    level: Literal["ok", "warn", "error"]
    message: str = ""


def verdict(
    *,
    read: int,
    stored: int,
    duplicates: int,
    quarantined: int,
    reasons: Sequence[Reason],
    files: Mapping[str, str],
    forced_format: str = "auto",
) -> Verdict:
    """Judge one ingest run (``files``: each file read, with the format it was read as)."""
    usable = stored + duplicates
    if quarantined == 0 or read == 0:
        return Verdict("ok")
    share = quarantined / max(read, 1)
    if usable > 0 and share <= WARN_SHARE:
        return Verdict("ok")
    top = "; ".join(_reason(r) for r in reasons) or "see `uproar stats`"
    fix = _fix(reasons, files, forced_format)
    if usable == 0:
        return Verdict(
            "error",
            f"nothing stored: all {quarantined:,} record(s) read were quarantined "
            f"(commonest: {top}). {fix}",
        )
    return Verdict(
        "warn",
        f"{quarantined:,} of {read:,} record(s) ({share:.0%}) were quarantined "
        f"(commonest: {top}). {fix}",
    )


def _reason(r: Reason) -> str:
    field = f" {r['field']!r}" if r.get("field") else ""
    detail = str(r.get("example") or "")
    example = f", e.g. {detail}" if len(detail) > len(str(r["kind"])) else ""
    return f"{r['kind']}{field} x{r['count']:,}{example}"


def _fix(reasons: Sequence[Reason], files: Mapping[str, str], forced_format: str) -> str:
    for path, name in files.items():
        if name in FIXES and (suggestion := FIXES[name](reasons, path)):
            return suggestion
    if forced_format != "auto":
        return (
            f"The files may not be {forced_format}: run again without --format (or "
            f"--format auto) to detect it."
        )
    return "The quarantine table keeps each record with its line and reason (`uproar stats`)."
