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
from dataclasses import dataclass, field
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
    # "City, ST": a postal abbreviation (upper case) -> the region codes it may mean, in order
    abbreviations: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # A region's own name (the first listed: "ontario", "michigan") -> the regions so named
    own_names: Mapping[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)


def load_gazetteer(path: str | Path | None = None) -> Gazetteer:
    """The shipped gazetteer, or a user's copy at ``path``."""
    if path is None:
        source = "uproar/sources/data/gazetteer.toml"
        text = (resources.files("uproar.sources") / "data" / "gazetteer.toml").read_text("utf-8")
        return parse_gazetteer(parse_toml(text, source=source), source)
    return parse_gazetteer(read_toml(path, what="gazetteer"), str(path))


def parse_gazetteer(data: dict[str, Any], source: str) -> Gazetteer:
    names: dict[tuple[str, ...], list[str]] = {}
    own_names: dict[tuple[str, ...], list[str]] = {}
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
            if table == "regions" and aliases:
                own_names.setdefault(words(aliases[0]), []).append(code)
    if not names:
        raise ConfigError(f"{source}: no place names", file=source)
    regions = {code for codes in names.values() for code in codes if "-" in code}
    return Gazetteer(
        names={k: tuple(v) for k, v in names.items()},
        longest=max(len(k) for k in names),
        abbreviations=_abbreviations(data.get("abbreviations", {}), regions, source),
        own_names={k: tuple(v) for k, v in own_names.items()},
    )


def _abbreviations(entries: Any, regions: set[str], source: str) -> dict[str, tuple[str, ...]]:
    """[abbreviations]: country -> postal abbreviations, each a region listed in [regions]."""
    if not isinstance(entries, dict):
        raise ConfigError(f"{source}: [abbreviations] must be a table", file=source)
    out: dict[str, list[str]] = {}
    for country, abbreviations in entries.items():
        key = f"abbreviations.{country}"
        if not _COUNTRY.match(country):
            raise ConfigError(f"{source}: {key}: not an ISO 3166-1 code", file=source, key=key)
        if not isinstance(abbreviations, list) or not all(
            isinstance(a, str) and a.isalnum() for a in abbreviations
        ):
            raise ConfigError(f"{source}: {key} must be a list of codes", file=source, key=key)
        for abbreviation in abbreviations:
            code = f"{country}-{abbreviation.upper()}"
            if code not in regions:
                raise ConfigError(
                    f"{source}: {key}: {abbreviation} needs a region {code} in [regions]",
                    file=source,
                    key=key,
                )
            out.setdefault(abbreviation.upper(), []).append(code)
    return {k: tuple(v) for k, v in out.items()}


def _country(code: str) -> str:
    return code.split("-", 1)[0]


class RegionResolver:
    """Resolves place names and profile locations to region codes. ``prefer`` lists the
    countries the brands serve: they settle names that exist in several countries."""

    def __init__(self, gazetteer: Gazetteer | None = None, *, prefer: Iterable[str] = ()) -> None:
        self.gazetteer = gazetteer or load_gazetteer()
        self.prefer = frozenset(_country(c.upper()) for c in prefer)
        self._federal = frozenset(
            _country(c) for codes in self.gazetteer.abbreviations.values() for c in codes
        )
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
        """The most specific code ``text`` names, or ``country`` when it names none.

        Countries the text names (a name, a flag, or ``country``) rule out places elsewhere:
        "London, Canada" is CA, not GB-LND. A state's abbreviation at the end ("London, ON")
        or a region's own name as the last part ("London, Ontario") outranks a bare city
        name. Otherwise the first place named wins; a name found in several countries takes
        one the text's other names share ("Perth, WA" is AU-WA), else one the brands serve,
        else the first listed.
        """
        if not text:
            return country
        flags = [
            "".join(chr(ord(c) - 0x1F1E6 + ord("A")) for c in flag) for flag in _FLAG.findall(text)
        ]
        matches = self._matches(words(text))
        named = [c for codes in matches for c in codes if "-" not in c]
        places = [p for p in (tuple(c for c in codes if "-" in c) for codes in matches) if p]
        explicit = {*flags, *named, *([country] if country else [])}
        state = self._abbreviation(text)
        if state:
            among = {_country(c) for codes in places for c in codes}
            if len(state[0]) == 2 and state[0] in among:
                explicit.add(state[0])  # "Toronto, CA", "Berlin, DE": a country's own code
                state = None
        if explicit:
            places = [p for p in (tuple(c for c in codes if _country(c) in explicit)
                                  for codes in places) if p]  # fmt: skip
        states = [c for c in state[1] if not explicit or _country(c) in explicit] if state else []
        if states:
            # the state outranks a bare city; the cities settle which country's state it is
            among = {_country(c) for codes in places for c in codes}
            return (
                next((c for c in states if _country(c) in among), None)
                or next((c for c in states if _country(c) in self.prefer), None)
                or states[0]
            )
        if not places:
            return next(iter(flags + named), country)
        region = self._region_named_last(text, explicit)
        if region:
            # "London, Ontario": the region named last outranks a bare city elsewhere;
            # "Birmingham, England": a city inside it is the more specific answer
            inside = {_country(c) for c in region}
            return next(c for codes in places for c in codes if _country(c) in inside)
        context = explicit | {_country(codes[0]) for codes in places if len(codes) == 1}
        codes = places[0]
        return (
            next((c for c in codes if _country(c) in context), None)
            or next((c for c in codes if _country(c) in self.prefer), None)
            or codes[0]
        )

    def _region_named_last(self, text: str, explicit: set[str]) -> tuple[str, ...]:
        """The states or provinces whose own name ("ontario", not "toronto") is the last of
        two or more comma-separated parts (a country part may follow); empty if none.

        Only a country with [abbreviations] (its states) counts: elsewhere a region's own name
        is often its city's ("Chicago, Mumbai" lists two cities, not a city in a state)."""
        parts = self._parts(text)
        if len(parts) < 2:
            return ()
        codes = self.gazetteer.own_names.get(words(parts[-1]), ())
        return tuple(
            c
            for c in codes
            if _country(c) in self._federal and (not explicit or _country(c) in explicit)
        )

    def _parts(self, text: str) -> list[str]:
        """Comma-separated parts of a location, without trailing country names."""
        parts = [p.strip() for p in text.split(",")]
        while len(parts) > 1 and (not parts[-1] or self._is_country(parts[-1])):
            parts.pop()
        return parts

    def _abbreviation(self, text: str) -> tuple[str, tuple[str, ...]] | None:
        """(abbreviation, its region codes) when ``text`` ends "City, ST" (a country name or
        a ZIP code may follow) or "City ST" with ST in capitals; else None."""
        table = self.gazetteer.abbreviations
        if not table:
            return None
        parts = self._parts(text)
        last = parts[-1].split()
        if len(parts) > 1 and last:
            code = last[0].rstrip(".").upper()
            if code in table and all(t.replace("-", "").isdigit() for t in last[1:]):
                return code, table[code]
            return None
        if len(last) >= 2 and last[-1] in table and any(ch.islower() for ch in parts[-1]):
            return last[-1], table[last[-1]]
        return None

    def _is_country(self, part: str) -> bool:
        codes = self.gazetteer.names.get(words(part))
        return codes is not None and all("-" not in c for c in codes)

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
