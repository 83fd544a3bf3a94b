"""Who posts and from where: places and the author population of each brand.

Places come from ``data/places.yaml`` (X v2 place objects plus an ISO 3166-2 region code
and a population weight); names from ``data/people.yaml``. Users are drawn once per run
from the seeded generator; their X v2 user objects are built lazily, only for users who
appear in the output.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from uproar.simulate.vocab import load_data


@dataclass(frozen=True, slots=True)
class Place:
    id: str
    name: str
    full_name: str
    country: str
    country_code: str
    region: str
    weight: float
    aliases: tuple[str, ...]

    def as_x(self) -> dict[str, Any]:
        """The X API v2 place object."""
        return {
            "id": self.id,
            "full_name": self.full_name,
            "name": self.name,
            "country": self.country,
            "country_code": self.country_code,
            "place_type": "city",
        }


def all_places() -> list[Place]:
    data = load_data("places.yaml")
    places = []
    for p in data["places"]:
        full = f"{p['name']}, {p['country']}"
        places.append(
            Place(
                # X place ids are 16 hex digits; derive a stable one from the name.
                id=hashlib.blake2b(full.encode(), digest_size=8).hexdigest(),
                name=p["name"],
                full_name=full,
                country=p["country"],
                country_code=p["country_code"],
                region=p["region"],
                weight=float(p.get("weight", 1.0)),
                aliases=tuple(p.get("aliases", ())),
            )
        )
    return places


def places_in(places: list[Place], regions: tuple[str, ...]) -> list[int]:
    """Indices of places inside any of ``regions`` (country codes or subdivision codes)."""
    wanted = {r.upper() for r in regions}
    return [
        i
        for i, p in enumerate(places)
        if p.country_code.upper() in wanted or p.region.upper() in wanted
    ]


@dataclass(frozen=True, slots=True)
class Account:
    """A brand's own account."""

    user_id: str
    username: str
    name: str


class Population:
    """Every author in one run: brand accounts first, then each brand's customers."""

    def __init__(self, places: list[Place], rng: np.random.Generator, seed: int) -> None:
        self.places = places
        self.rng = rng
        self._py = random.Random(seed ^ 0x5EED)
        people = load_data("people.yaml")
        self._first: list[str] = people["first_names"]
        self._last: list[str] = people["last_names"]
        self._words: list[str] = people["handle_words"]
        self._bios: list[str] = people.get("odd_locations", [])
        self.user_ids: list[str] = []
        self.usernames: list[str] = []
        self.names: list[str] = []
        self.home: list[int] = []  # place index
        self._accounts: dict[str, Account] = {}
        self._taken: set[str] = set()
        self._dicts: dict[int, dict[str, Any]] = {}
        self._stats: dict[int, tuple[int, int, int, int, str, bool, str]] = {}
        self._next_id = 0
        self.by_username: dict[str, int] = {}

    # -- accounts ----------------------------------------------------------------------
    def add_account(self, username: str, display: str, *, verified: bool, home: int) -> int:
        idx = len(self.user_ids)
        uid = str(self._fresh_ids(1)[0])
        self.user_ids.append(uid)
        self.usernames.append(username)
        self.names.append(display)
        self.home.append(home)
        self._taken.add(username.lower())
        self.by_username[username.lower()] = idx
        followers = int(self.rng.integers(20_000, 200_000)) if verified else -1
        if verified:
            self._stats[idx] = (followers, 900, 40_000, 400, "2009-03-02T01:02:03.000Z", True, "")
        return idx

    def add_customers(self, count: int, place_idx: list[int]) -> npt.NDArray[np.int64]:
        """Create ``count`` customers living in the given places; returns their indices."""
        weights = np.array([self.places[i].weight for i in place_idx], dtype=float)
        homes = self.rng.choice(np.array(place_idx), size=count, p=weights / weights.sum())
        start = len(self.user_ids)
        ids = self._fresh_ids(count)
        py = self._py
        for k in range(count):
            username = self._username(py)
            self.user_ids.append(str(int(ids[k])))
            self.usernames.append(username)
            self.names.append(self._display(py, username))
            self.home.append(int(homes[k]))
            self.by_username[username.lower()] = start + k
        return np.arange(start, start + count, dtype=np.int64)

    def _fresh_ids(self, count: int) -> npt.NDArray[np.int64]:
        """Unique, increasing numeric user ids (X user ids of 2009-2014 had 8-10 digits)."""
        gaps = self.rng.integers(1, 2_000, size=count, dtype=np.int64)
        ids = 14_000_000 + self._next_id + np.cumsum(gaps)
        self._next_id = int(ids[-1]) - 14_000_000 if count else self._next_id
        return ids

    def _username(self, py: random.Random) -> str:
        first = py.choice(self._first)
        last = py.choice(self._last)
        word = py.choice(self._words)
        style = py.random()
        if style < 0.3:
            name = f"{first}{last}"
        elif style < 0.45:
            name = f"{first}_{last}"
        elif style < 0.6:
            name = f"{first}{py.randint(1, 99)}"
        elif style < 0.75:
            name = f"{word}{first}"
        elif style < 0.87:
            name = f"{first[0]}{last}"
        else:
            name = f"{word}_{py.choice(self._words)}"
        if py.random() < 0.5:
            name = name.lower()
        name = name[:15]
        base, n = name, 1
        while name.lower() in self._taken:
            n += 1
            suffix = str(n)
            name = base[: 15 - len(suffix)] + suffix
        self._taken.add(name.lower())
        return name

    def _display(self, py: random.Random, username: str) -> str:
        roll = py.random()
        if roll < 0.55:
            return f"{py.choice(self._first)} {py.choice(self._last)}"
        if roll < 0.75:
            return py.choice(self._first)
        if roll < 0.9:
            return username
        return f"{py.choice(self._first)} {py.choice(('🌿', '🏉', '☕', '🎧', '✈️', '🐑', '🌊'))}"

    # -- X v2 user objects ---------------------------------------------------------------
    def user(self, idx: int) -> dict[str, Any]:
        cached = self._dicts.get(idx)
        if cached is not None:
            return cached
        stats = self._stats.get(idx)
        if stats is None:
            py = random.Random(int(self.user_ids[idx]) * 7919)
            followers = int(py.lognormvariate(4.6, 1.4))
            following = int(py.lognormvariate(5.2, 0.9))
            tweets = int(py.lognormvariate(7.0, 1.5))
            listed = int(followers / py.randint(40, 400))
            ts = datetime.fromtimestamp(py.randint(1_200_000_000, 1_390_000_000), UTC)
            created = ts.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            place = self.places[self.home[idx]]
            roll = py.random()
            if roll < 0.6:
                location = py.choice((place.full_name, place.name, *place.aliases))
            elif roll < 0.8 or not self._bios:
                location = ""
            else:
                location = py.choice(self._bios)
            stats = (followers, following, tweets, listed, created, False, location)
            self._stats[idx] = stats
        followers, following, tweets, listed, created, verified, location = stats
        if not location and not verified:
            location = ""
        obj: dict[str, Any] = {
            "id": self.user_ids[idx],
            "name": self.names[idx],
            "username": self.usernames[idx],
            "created_at": created,
            "location": location,
            "public_metrics": {
                "followers_count": followers,
                "following_count": following,
                "tweet_count": tweets,
                "listed_count": listed,
            },
            "verified": verified,
        }
        if verified:
            obj["location"] = self.places[self.home[idx]].country
        self._dicts[idx] = obj
        return obj
