"""CSV exports with a header row, mapped onto post fields.

The column names of the common exports (twarc2 csv, Brandwatch, Sprout Social, Meltwater,
Talkwalker, the Kaggle Twitter sets) are recognised on their own; they are data, in
``data/csv_columns.toml``. ``mapping`` names the rest, as ``{"text": "Message"}`` (post
field -> CSV column); ``mapping_help()`` lists the fields one may map.

Files come as spreadsheets write them: UTF-8 with or without a byte-order mark, UTF-16
(Excel's "Unicode Text", Meltwater), comma-, tab- or semicolon-separated, with a few report
lines above the header (Brandwatch). Ids that a spreadsheet wrote as floats (``3.0``) are
read back as integers; ids it rounded (``5.70306E+17``) are refused, never guessed.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import msgspec
import orjson

from uproar.config import parse_toml, read_toml
from uproar.errors import ConfigError, InputError
from uproar.sources.fields import RecordError, Row, epoch_time, iso_time, twitter_time, unescape
from uproar.sources.reader import open_binary

NAME = "csv"

FIELD_LIMIT = 128 << 10  # bytes in one field: more is quarantined (a post is far shorter)
_READ_LIMIT = 64 << 20  # what the csv module may read as one field before giving up
HEADER_SEARCH = 20  # rows looked at for the header (exports put report lines above it)
UNKNOWN_AUTHOR = "unknown:"  # + the post id, when a file names no author at all
_INTS = ("author_followers", "like_count", "repost_count", "reply_count")
_IDS = ("reply_to_id", "conversation_id", "quoted_id", "reposted_id")
_DELIMITERS = (",", "\t", ";")


# -- the column table (data/csv_columns.toml) -------------------------------------------------
class _FieldSpec(msgspec.Struct, forbid_unknown_fields=True):
    help: str
    columns: list[str]
    required: bool = False


class _ColumnsFile(msgspec.Struct, forbid_unknown_fields=True):
    fields: dict[str, _FieldSpec]
    platforms: dict[str, list[str]]


@dataclass(frozen=True, slots=True)
class ColumnTable:
    """Post fields in order, the (folded) column names each is read from, and platforms."""

    fields: Mapping[str, tuple[str, ...]]  # field -> folded names, most preferred first
    names: Mapping[str, tuple[str, ...]]  # field -> names as written in the file
    help: Mapping[str, str]
    required: tuple[str, ...]
    platforms: Mapping[str, str]  # folded name -> platform id


def fold(name: str) -> str:
    """A column or platform name compared ignoring case, spaces and punctuation."""
    return "".join(c for c in unicodedata.normalize("NFKC", name).casefold() if c.isalnum())


def load_columns(path: str | Path | None = None) -> ColumnTable:
    """The shipped column table, or a user's copy at ``path``."""
    if path is None:
        return _shipped_columns()
    return _parse_columns(read_toml(path, what="CSV column table"), str(path))


@lru_cache(maxsize=1)
def _shipped_columns() -> ColumnTable:
    source = "uproar/sources/data/csv_columns.toml"
    text = (resources.files("uproar.sources") / "data" / "csv_columns.toml").read_text("utf-8")
    return _parse_columns(parse_toml(text, source=source), source)


def _parse_columns(data: dict[str, Any], source: str) -> ColumnTable:
    try:
        spec = msgspec.convert(data, _ColumnsFile)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{source}: {exc}", file=source) from exc
    owner: dict[str, str] = {}
    fields: dict[str, tuple[str, ...]] = {}
    for field, entry in spec.fields.items():
        folded: list[str] = []
        for name in entry.columns:
            key = fold(name)
            if owner.setdefault(key, field) != field:
                raise ConfigError(
                    f"{source}: column {name!r} is listed for both {owner[key]} and {field}",
                    file=source,
                    key=f"fields.{field}.columns",
                )
            if key not in folded:
                folded.append(key)
        fields[field] = tuple(folded)
    platforms = {fold(n): platform for platform, names in spec.platforms.items() for n in names}
    return ColumnTable(
        fields=fields,
        names={f: tuple(e.columns) for f, e in spec.fields.items()},
        help={f: e.help for f, e in spec.fields.items()},
        required=tuple(f for f, e in spec.fields.items() if e.required),
        platforms=platforms,
    )


def mapping_help(table: ColumnTable | None = None, *, examples: int | None = None) -> str:
    """One line per mappable field: its meaning and the column names recognised (all of
    them, or the first ``examples``)."""
    table = table or load_columns()
    lines = []
    for field in table.fields:
        names = ", ".join(table.names[field][:examples])
        star = " (required)" if field in table.required else ""
        lines.append(f"{field}{star}: {table.help[field]}; columns: {names}")
    return "\n".join(lines)


def normalise_platform(value: str | None, table: ColumnTable | None = None) -> str:
    """``Twitter`` -> ``x``, ``Facebook`` -> ``facebook``; no value -> ``csv``."""
    if not value or not value.strip():
        return NAME
    table = table or load_columns()
    return table.platforms.get(fold(value)) or value.strip().casefold()


# -- header -> columns -------------------------------------------------------------------------
def resolve_columns(
    header: list[str],
    mapping: Mapping[str, str],
    *,
    file: str,
    table: ColumnTable | None = None,
) -> dict[str, int]:
    """Post field -> column index; errors name the fields and columns one may use."""
    table = table or load_columns()
    columns, missing = _resolve(header, mapping, table, file=file)
    if missing:
        required = missing[0]
        shown = ", ".join(repr(h) for h in header if h.strip()) or "none"
        raise InputError(
            f"no column for required field {required!r} (columns: {shown}); "
            f"map it with --map {required}=COLUMN",
            file=file,
            line=1,
            field=required,
        )
    return columns


def _resolve(
    header: list[str], mapping: Mapping[str, str], table: ColumnTable, *, file: str
) -> tuple[dict[str, int], list[str]]:
    """(field -> column index, required fields without a column)."""
    folded = [fold(h) for h in header]
    taken: set[int] = set()
    columns: dict[str, int] = {}
    for field, column in mapping.items():
        if field not in table.fields:
            raise InputError(
                f"unknown post field {field!r} in --map{_did_you_mean(field, table.fields)}; "
                f"fields: {', '.join(table.fields)}",
                file=file,
                field=field,
            )
        at = _find_column(column, header, folded)
        if at is None:
            shown = ", ".join(repr(h) for h in header if h.strip())
            raise InputError(
                f"--map {field}={column}: no column {column!r} in the header"
                f"{_did_you_mean(column, header)}; columns: {shown}",
                file=file,
                line=1,
                field=field,
            )
        columns[field] = at
        taken.add(at)
    for field, names in table.fields.items():
        if field in columns:
            continue
        for name in names:
            at = next((i for i, f in enumerate(folded) if f == name and i not in taken), None)
            if at is not None:
                columns[field] = at
                taken.add(at)
                break
    if "created_at" not in columns and "created_time" in columns:
        columns["created_at"] = columns.pop("created_time")  # a lone "time" column is the time
    missing = [f for f in table.required if f not in columns]
    return columns, missing


def _find_column(column: str, header: list[str], folded: list[str]) -> int | None:
    if column in header:
        return header.index(column)
    key = fold(column)
    return folded.index(key) if key and key in folded else None


def _did_you_mean(name: str, choices: Iterable[str]) -> str:
    choices = [c for c in choices if c.strip()]
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.6)
    close += [
        c for c in choices if c not in close and fold(name) and fold(c).startswith(fold(name))
    ]
    return f" (did you mean {', '.join(close[:3])}?)" if close else ""


# -- times and ids -----------------------------------------------------------------------------
# Spreadsheet dates, tried in order: a slash means month first (US Excel, Sprout Social), a
# dash or a dot day first (European Excel); month names as Meltwater writes them.
_DATE_FORMATS = (
    "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y", "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d-%m-%Y", "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M", "%d.%m.%Y", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d",
    "%d-%b-%Y %I:%M %p", "%d-%b-%Y %H:%M", "%d-%b-%Y", "%b %d, %Y %I:%M %p", "%b %d, %Y %H:%M",
    "%b %d, %Y", "%d %b %Y %H:%M:%S", "%d %b %Y %H:%M", "%d %b %Y",
)  # fmt: skip
_TIMES_OF_DAY = ("%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p")
_SPACED_OFFSET = re.compile(r"\s+(?:UTC|GMT)?\s*([+-]\d{2}:?\d{2})$|\s+(UTC|GMT|Z)$")
_EPOCH = re.compile(r"^\d{1,13}(\.\d+)?$")


def parse_time(value: str, field: str, *, time_of_day: str | None = None) -> datetime:
    """ISO 8601, epoch seconds or milliseconds, X v1.1's format, or a spreadsheet date
    (``time_of_day`` adds a separate time column's value); zone-less times are UTC."""
    value = value.strip()
    if time_of_day and time_of_day.strip():
        value = f"{value} {time_of_day.strip()}"
    if _EPOCH.match(value):
        seconds = float(value)
        if seconds > 1e11:  # milliseconds
            seconds /= 1000
        return epoch_time(seconds, field, value)
    if value[:3].isalpha():
        try:
            return twitter_time(value, field)
        except RecordError:
            pass  # "Jan 05, 2023": a spreadsheet date
    iso = _SPACED_OFFSET.sub(lambda m: m.group(1) or "+00:00", value)
    iso = iso.replace(" ", "T", 1) if "T" not in iso else iso
    try:
        return iso_time(iso, field)
    except RecordError:
        pass
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(value, pattern)
        except ValueError:
            continue
    raise RecordError(field, f"not a time: {value[:40]!r}")


_STATUS_URL = re.compile(r"/(?:status|statuses|post|posts)/(\d+)(?:[/?#]|$)")
_FLOAT_ID = re.compile(r"^(\d+)\.0*$")
_SCIENTIFIC = re.compile(r"^(\d)(?:\.(\d+))?[eE]\+?(\d+)$")


def read_id(value: str | None, field: str) -> str | None:
    """An id as written in a CSV: ``3.0`` -> ``3``, a status URL -> its number. A spreadsheet
    rounding (``5.70306E+17``) lost digits: that is an error, never a guess."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    whole = _FLOAT_ID.match(value)
    if whole:
        return whole.group(1)
    sci = _SCIENTIFIC.match(value)
    if sci:
        digits = 1 + len(sci.group(2) or "")
        if digits < int(sci.group(3)) + 1:
            raise RecordError(
                field,
                f"id {value!r} was rounded by a spreadsheet (lost digits); export ids as text",
                kind="bad value",
            )
        try:
            return str(int(Decimal(value)))
        except (InvalidOperation, ValueError):
            return value
    if "/" in value:
        status = _STATUS_URL.search(value)
        if status:
            return status.group(1)
    return value


# -- reading -----------------------------------------------------------------------------------
def rows(
    path: Path, *, mapping: Mapping[str, str] | None = None, table: ColumnTable | None = None
) -> Iterator[tuple[int, bytes, Row | RecordError]]:
    """(line, raw record bytes, row or error) for each data record of a CSV file."""
    table = table or load_columns()
    with open_binary(path) as binary, _widened_field_limit():
        text = _text(binary)
        head = [line for line in (text.readline() for _ in range(HEADER_SEARCH)) if line]
        delimiter = "\t" if path.suffix.lower() == ".tsv" else _delimiter(head)
        lines: Iterator[str] = _chain(head, text)
        reader = csv.reader(lines, delimiter=delimiter)
        found = _header(reader, mapping or {}, table, file=str(path))
        if found is None:
            return
        header, index = found
        for line, record in _records(reader):
            if isinstance(record, RecordError):
                yield line, b"", record
                continue
            raw = delimiter.join(record).encode("utf-8", errors="surrogateescape")
            if not any(cell.strip() for cell in record):
                continue
            yield line, raw, _row(record, index, header, table)


def _chain(head: list[str], text: TextIO) -> Iterator[str]:
    yield from head
    yield from text


def _records(reader: Any) -> Iterator[tuple[int, list[str] | RecordError]]:
    """The reader's records; one it cannot read is an error for its line, and reading goes on."""
    while True:
        before = reader.line_num
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, RecordError(None, f"unreadable CSV record: {exc}")
            if reader.line_num == before:
                return  # no progress: nothing more can be read
            continue
        yield reader.line_num, record


@contextmanager
def _widened_field_limit() -> Iterator[None]:
    """Let the csv module read fields up to ``_READ_LIMIT`` (its default is 128 KB, and a
    longer field would stop the run); ``_row`` quarantines fields over ``FIELD_LIMIT``."""
    before = csv.field_size_limit(min(_READ_LIMIT, sys.maxsize))
    try:
        yield
    finally:
        csv.field_size_limit(before)


def _text(binary: BinaryIO) -> TextIO:
    """The file as text in the encoding its first bytes show: UTF-8 (with or without a BOM)
    or UTF-16 (Excel's "Unicode Text"), BOM or not."""
    head = binary.read(4)
    binary.seek(0)
    if head.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"
    elif len(head) == 4 and head[1] == 0 and head[3] == 0 and head[0] and head[2]:
        encoding = "utf-16-le"
    elif len(head) == 4 and head[0] == 0 and head[2] == 0 and head[1] and head[3]:
        encoding = "utf-16-be"
    else:
        encoding = "utf-8"
    return io.TextIOWrapper(binary, encoding=encoding, errors="surrogateescape", newline="")


def _delimiter(head: list[str]) -> str:
    counts = {d: sum(line.count(d) for line in head) for d in _DELIMITERS}
    return max(_DELIMITERS, key=lambda d: (counts[d], d == ","))


def _header(
    reader: Any, mapping: Mapping[str, str], table: ColumnTable, *, file: str
) -> tuple[list[str], dict[str, int]] | None:
    """The header row (the first of the first rows that names every required field; report
    lines may come before it) and its columns. None: an empty file."""
    seen: list[list[str]] = []
    for _ in range(HEADER_SEARCH):
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise InputError(f"cannot read the CSV header: {exc}", file=file) from None
        if not any(cell.strip() for cell in record):
            continue
        seen.append(record)
        try:
            columns, missing = _resolve(record, mapping, table, file=file)
        except InputError:
            continue  # a report line above the header lacks the mapped columns
        if not missing:
            return record, columns
    if not seen:
        return None
    resolve_columns(seen[0], mapping, file=file, table=table)  # raises the error that helps
    raise InputError("no header row found", file=file, line=1)


def _row(
    record: list[str], index: dict[str, int], header: list[str], table: ColumnTable
) -> Row | RecordError:
    if any("\udc80" <= ch <= "\udcff" for cell in record for ch in cell):
        return RecordError(None, "invalid UTF-8 in this record", kind="invalid UTF-8")
    if len(record) != len(header):
        return RecordError(
            None, f"expected {len(header)} fields, got {len(record)}", kind="bad value"
        )
    big = next((i for i, cell in enumerate(record) if len(cell) > FIELD_LIMIT // 4
                and len(cell.encode("utf-8", "surrogateescape")) > FIELD_LIMIT), None)  # fmt: skip
    if big is not None:
        field = next((f for f, at in index.items() if at == big), None)
        size = len(record[big].encode("utf-8", "surrogateescape"))
        return RecordError(
            field,
            f"column {header[big]!r} holds {size:,} bytes, over the {FIELD_LIMIT >> 10} KB "
            "limit for one field",
            kind="bad value",
        )

    def cell(field: str) -> str | None:
        at = index.get(field)
        value = record[at].strip() if at is not None else ""
        return value or None

    try:
        post_id = read_id(cell("id"), "id")
        if post_id is None:
            raise RecordError("id", "missing")
        created = cell("created_at")
        if created is None:
            raise RecordError("created_at", "missing")
        created_at = parse_time(created, "created_at", time_of_day=cell("created_time"))
        text = unescape(record[index["text"]])
        values: dict[str, Any] = {}
        for field in _INTS:
            raw = cell(field)
            if raw is None:
                values[field] = None
                continue
            try:
                values[field] = int(float(raw.replace(",", "")))
            except (ValueError, OverflowError):  # OverflowError: "1e400" is infinite
                raise RecordError(field, f"expected a whole number, got {raw[:20]!r}") from None
        for field in _IDS:
            try:
                values[field] = read_id(cell(field), field)
            except RecordError:
                values[field] = None  # a rounded link is unknown, not a wrong link
    except RecordError as exc:
        return exc
    handle = cell("author_handle")
    handle = handle.lstrip("@") or None if handle else None
    name = cell("author_name")
    author_id = cell("author_id")
    if author_id is not None and handle is None and not author_id.isdigit():
        handle = author_id.lstrip("@")  # twcs: a brand's author_id is its handle
    if author_id is None:
        author_id = (handle.casefold() if handle else None) or name or UNKNOWN_AUTHOR + post_id
    location = cell("author_location")
    region = cell("region")
    if region is not None and not _REGION_CODE.match(region):
        location = location or region  # a country's name: the gazetteer reads it
        region = None
    lang = cell("lang")
    raw_record = {header[i]: value for i, value in enumerate(record)}
    return {
        "platform": normalise_platform(cell("platform"), table),
        "id": post_id,
        "created_at": created_at,
        "text": text,
        "author_id": author_id,
        "author_handle": handle,
        "author_name": unescape(name) if name else None,
        "author_location": unescape(location) if location else None,
        "lang": lang if lang and _LANG.match(lang) else None,
        "urls": _urls(cell("urls")),
        "place": cell("place"),
        "region": region.upper() if region else None,
        "raw": orjson.dumps(raw_record).decode(),
        **values,
    }


_REGION_CODE = re.compile(r"^[A-Za-z]{2}(-[A-Za-z0-9]{1,3})?$")
_LANG = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$")


def _urls(value: str | None) -> list[str]:
    """Links as a JSON list (twarc2), or separated by spaces or commas."""
    if not value:
        return []
    if value.startswith("["):
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list):
            return [u for u in parsed if isinstance(u, str) and u]
    return value.replace(",", " ").split()


# -- help for a run that quarantined much ------------------------------------------------------
def suggest_mapping(
    path: str | Path,
    fields: Iterable[str | None],
    *,
    mapping: Mapping[str, str] | None = None,
    sample: int = 200,
    table: ColumnTable | None = None,
) -> dict[str, str]:
    """``--map`` flags (field -> column) that would fix a CSV ingest whose records were
    quarantined for ``fields`` (the quarantine's ``field`` column, most common first).

    For each field it looks for another column whose values in the first ``sample`` records
    read as that field (times for ``created_at``, whole numbers for counts, distinct values
    for ``id``...), preferring names like the field's own. Fields it cannot place are left out.
    """
    table = table or load_columns()
    path = Path(path)
    mapping = dict(mapping or {})
    with open_binary(path) as binary, _widened_field_limit():
        text = _text(binary)
        head = [line for line in (text.readline() for _ in range(HEADER_SEARCH)) if line]
        delimiter = "\t" if path.suffix.lower() == ".tsv" else _delimiter(head)
        reader = csv.reader(_chain(head, text), delimiter=delimiter)
        records = [r for r in _first(reader, sample + HEADER_SEARCH) if any(c.strip() for c in r)]
    if not records:
        return {}
    header = records[0]
    for at, record in enumerate(records[:HEADER_SEARCH]):
        try:
            if not _resolve(record, {}, table, file=str(path))[1]:
                header = record
                records = records[at:]
                break
        except InputError:
            break
    try:
        current, missing = _resolve(header, mapping, table, file=str(path))
    except InputError:
        current, missing = _resolve(header, {}, table, file=str(path))
    body = [r for r in records[1:] if len(r) == len(header)][:sample]
    blamed = [f for f in fields if f is not None and f in table.fields]
    wanted = list(dict.fromkeys([*missing, *blamed]))
    used = set(current.values())
    out: dict[str, str] = {}
    for field in wanted:
        best: tuple[float, int] | None = None
        for at, column in enumerate(header):
            if at == current.get(field) or (at in used and at not in _free(current, field)):
                continue
            values = [r[at].strip() for r in body]
            fit = _fit(field, values)
            if fit < 0.8:
                continue
            like = max(
                (difflib.SequenceMatcher(None, fold(column), n).ratio()
                 for n in table.fields[field]), default=0.0,
            )  # fmt: skip
            score = fit + like
            if best is None or score > best[0]:
                best = (score, at)
        if best is not None:
            out[field] = header[best[1]]
            used.add(best[1])
    return out


def _free(current: Mapping[str, int], field: str) -> set[int]:
    """Columns taken only by optional fields that are not ``field``: a suggestion may move them."""
    return {at for f, at in current.items() if f != field and f not in ("id", "created_at", "text")}


def _first(reader: Any, count: int) -> list[list[str]]:
    out: list[list[str]] = []
    for _ in range(count):
        try:
            out.append(next(reader))
        except StopIteration:
            break
        except csv.Error:
            continue
    return out


def _fit(field: str, values: list[str]) -> float:
    """The share of ``values`` that read as ``field`` (0 when there are none)."""
    present = [v for v in values if v]
    if not present:
        return 0.0
    if field in ("created_at", "created_time"):
        return sum(_reads(parse_time, v, field) for v in present) / len(values)
    if field in _INTS:
        return sum(v.replace(",", "").replace(".", "", 1).isdigit() for v in present) / len(values)
    if field == "id" or field in _IDS:
        ok = sum(_is_id(v, field) for v in present)
        if field == "id":
            return ok / len(values) if len(set(present)) == len(present) else 0.0
        return ok / len(present)
    if field == "text":
        words = sum(len(v.split()) >= 2 and not _reads(parse_time, v, field) for v in present)
        return words / len(values)
    return len(present) / len(values)


def _is_id(value: str, field: str) -> bool:
    """An id has no spaces and is no time."""
    return (
        not any(c.isspace() for c in value)
        and _reads(read_id, value, field)
        and not _reads(parse_time, value, field)
    )


def _reads(parse: Any, value: str, field: str) -> bool:
    try:
        parse(value, field)
    except RecordError:
        return False
    return True


def map_flags(reasons: Sequence[Mapping[str, Any]], path: str) -> str | None:
    """The ``--map`` flags that would read the columns a CSV ingest quarantined records for
    (``reasons``: the quarantine's commonest, with their ``field``), as advice; None if no
    column reads as those fields."""
    found = suggest_mapping(path, [r.get("field") for r in reasons])
    if not found:
        return None
    flags = " ".join(f"--map {field}={column}" for field, column in found.items())
    return f"Name the columns that hold them: {flags}"
