"""Where a post comes from: an ISO 3166-2 region (or ISO 3166-1 country) read from a
geotag's place name or an author's free-text profile location.

Only a few posts carry a geotag; most authors say where they live in their profile
("South Auckland 🇳🇿", "Welly, NZ"). The names are data (``data/gazetteer.toml``), matched
as whole words after folding case and accents, longest name first:

    resolver = RegionResolver(prefer=["NZ"])
    resolver.region(location="Palmy, Aotearoa")          # 'NZ-MWT'
    resolver.region(place="Perth", country="AU")         # 'AU-WA'
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import regex

from uproar.config import parse_toml, read_toml
from uproar.errors import ConfigError

_COUNTRY = regex.compile(r"^[A-Z]{2}$")
_REGION = regex.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
_WORD = regex.compile(r"[\p{L}\p{N}]+")
_FLAG = regex.compile(r"[\U0001F1E6-\U0001F1FF]{2}")
_CACHE_LIMIT = 200_000  # distinct (place, country, location) kept; a full cache starts again


def words(text: str) -> tuple[str, ...]:
    """Case- and accent-folded words; apostrophes join ("Hawke's" -> "hawkes")."""
    folded = unicodedata.normalize("NFKD", text.replace("'", "").replace("\u2019", ""))
    plain = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
    return tuple(_WORD.findall(plain))


@dataclass(frozen=True, slots=True)
class Gazetteer:
    """Place names (as word tuples) and the codes each may mean, in file order."""

    names: Mapping[tuple[str, ...], tuple[str, ...]]
    longest: int


def load_gazetteer(path: str | Path | None = None) -> Gazetteer:
    """The shipped gazetteer, or a user's copy at ``path``."""
    if path is None:
        source = "uproar/sources/data/gazetteer.toml"
        text = (resources.files("uproar.sources") / "data" / "gazetteer.toml").read_text("utf-8")
        return parse_gazetteer(parse_toml(text, source=source), source)
    return parse_gazetteer(read_toml(path, what="gazetteer"), str(path))


def parse_gazetteer(data: dict[str, Any], source: str) -> Gazetteer:
    names: dict[tuple[str, ...], list[str]] = {}
    for table, pattern in (("countries", _COUNTRY), ("regions", _REGION)):
        entries = data.get(table, {})
        if not isinstance(entries, dict):
            raise ConfigError(f"{source}: [{table}] must be a table", file=source, key=table)
        for code, aliases in entries.items():
            key = f"{table}.{code}"
            if not pattern.match(code):
                kind = "ISO 3166-1 alpha-2" if table == "countries" else "ISO 3166-2"
                raise ConfigError(f"{source}: {key} is not an {kind} code", file=source, key=key)
            if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
                raise ConfigError(f"{source}: {key} must be a list of names", file=source, key=key)
            for alias in aliases:
                folded = words(alias)
                if not folded:
                    raise ConfigError(f"{source}: {key} has an empty name", file=source, key=key)
                if code not in names.setdefault(folded, []):
                    names[folded].append(code)
    if not names:
        raise ConfigError(f"{source}: no place names", file=source)
    return Gazetteer(
        names={k: tuple(v) for k, v in names.items()}, longest=max(len(k) for k in names)
    )


def _country(code: str) -> str:
    return code.split("-", 1)[0]


class RegionResolver:
    """Resolves place names and profile locations to region codes. ``prefer`` lists the
    countries the brands serve: they settle names that exist in several countries."""

    def __init__(self, gazetteer: Gazetteer | None = None, *, prefer: Iterable[str] = ()) -> None:
        self.gazetteer = gazetteer or load_gazetteer()
        self.prefer = frozenset(_country(c.upper()) for c in prefer)
        # Posts repeat their authors' places and locations: one entry per distinct triple.
        self._posts: dict[tuple[str | None, str | None, str | None], str | None] = {}

    def region(
        self,
        *,
        place: str | None = None,
        country: str | None = None,
        location: str | None = None,
    ) -> str | None:
        """A post's region: the geotag's place first (where it was posted), else the
        author's profile location if it lies in the geotag's country; else the geotag's
        country, else whatever country the profile names."""
        key = (place, country, location)
        if key in self._posts:
            return self._posts[key]
        if len(self._posts) >= _CACHE_LIMIT:
            self._posts.clear()
        found = self._posts[key] = self._region(place, country, location)
        return found

    def _region(self, place: str | None, country: str | None, location: str | None) -> str | None:
        at_place = self.resolve(place, country=country)
        if at_place is not None and "-" in at_place:
            return at_place
        home = self.resolve(location, country=country)
        if home is not None and "-" in home and (country is None or _country(home) == country):
            return home
        return country or at_place or home

    def resolve(self, text: str | None, *, country: str | None = None) -> str | None:
        """The most specific code ``text`` names (its first region, else its first
        country), or ``country`` when it names none. ``country`` also settles ambiguity."""
        if not text:
            return country
        flags = [
            "".join(chr(ord(c) - 0x1F1E6 + ord("A")) for c in flag) for flag in _FLAG.findall(text)
        ]
        matches = self._matches(words(text))
        named = [c for codes in matches for c in codes if "-" not in c]
        context = {*flags, *named, *([country] if country else [])}
        context |= {_country(codes[0]) for codes in matches if len(codes) == 1}
        for codes in matches:
            regional = [c for c in codes if "-" in c]
            if regional:
                return (
                    next((c for c in regional if _country(c) in context), None)
                    or next((c for c in regional if _country(c) in self.prefer), None)
                    or regional[0]
                )
        return next(iter(flags + named), country)

    def _matches(self, tokens: tuple[str, ...]) -> list[tuple[str, ...]]:
        """Gazetteer entries in text order, the longest name at each position."""
        names, longest = self.gazetteer.names, self.gazetteer.longest
        out: list[tuple[str, ...]] = []
        i = 0
        while i < len(tokens):
            for n in range(min(longest, len(tokens) - i), 0, -1):
                codes = names.get(tokens[i : i + n])
                if codes is not None:
                    out.append(codes)
                    i += n
                    break
            else:
                i += 1
        return out
