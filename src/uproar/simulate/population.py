"""Who posts and from where: places and the author population of each brand.

Places come from ``data/places.yaml`` (X v2 place objects plus an ISO 3166-2 region code
and a population weight); names from ``data/people.yaml``. Users are drawn once per run
from the seeded generator; their X v2 user objects are built lazily, only for users who
appear in the output.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
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


USER_CACHE = 50_000  # user objects kept between pages


class Population:
    """Every author in one run: brand accounts first, then each brand's customers."""

    def __init__(self, places: list[Place], rng: np.random.Generator) -> None:
        self.places = places
        self.rng = rng
        people = load_data("people.yaml")
        self._first: list[str] = people["first_names"]
        self._last: list[str] = people["last_names"]
        self._words: list[str] = people["handle_words"]
        self._bios: list[str] = people.get("odd_locations", [])
        self.user_ids: list[str] = []
        self.usernames: list[str] = []
        self.names: list[str] = []
        self.home: list[int] = []  # place index
        # Profile fields, one list per field (columnar: cheap for hundreds of thousands).
        self._followers: list[int] = []
        self._following: list[int] = []
        self._tweets: list[int] = []
        self._listed: list[int] = []
        self._created: list[str] = []
        self._verified: list[bool] = []
        self._location: list[str] = []
        self._taken: set[str] = set()
        self._cache: dict[int, dict[str, Any]] = {}
        self._next_id = 0
        self.by_username: dict[str, int] = {}

    # -- accounts ----------------------------------------------------------------------
    def add_account(self, username: str, display: str, *, verified: bool, home: int) -> int:
        """A named account: a brand's handle (verified) or a scenario's flooding customer."""
        idx = len(self.user_ids)
        self.user_ids.append(str(int(self._fresh_ids(1)[0])))
        self.usernames.append(username)
        self.names.append(display)
        self.home.append(home)
        self._taken.add(username.lower())
        self.by_username[username.lower()] = idx
        place = self.places[home]
        if verified:
            followers = int(self.rng.integers(20_000, 200_000))
            stats = (followers, 900, 40_000, 400, "2009-03-02T01:02:03.000Z", True, place.country)
        else:
            stats = (180, 240, 5_200, 1, "2012-06-11T08:30:00.000Z", False, place.name)
        self._append_stats(*stats)
        return idx

    def _append_stats(
        self,
        followers: int,
        following: int,
        tweets: int,
        listed: int,
        created: str,
        verified: bool,
        location: str,
    ) -> None:
        self._followers.append(followers)
        self._following.append(following)
        self._tweets.append(tweets)
        self._listed.append(listed)
        self._created.append(created)
        self._verified.append(verified)
        self._location.append(location)

    def add_customers(self, count: int, place_idx: list[int]) -> npt.NDArray[np.int64]:
        """Create ``count`` customers living in the given places; returns their indices."""
        rng = self.rng
        weights = np.array([self.places[i].weight for i in place_idx], dtype=float)
        homes = rng.choice(np.array(place_idx), size=count, p=weights / weights.sum()).tolist()
        start = len(self.user_ids)
        ids = self._fresh_ids(count).tolist()
        first, last, words = self._first, self._last, self._words
        f = rng.integers(0, len(first), count).tolist()
        f2 = rng.integers(0, len(first), count).tolist()
        la = rng.integers(0, len(last), count).tolist()
        w = rng.integers(0, len(words), count).tolist()
        w2 = rng.integers(0, len(words), count).tolist()
        num = rng.integers(1, 100, count).tolist()
        style = rng.random(count).tolist()
        lower = (rng.random(count) < 0.5).tolist()
        display = rng.random(count).tolist()
        emoji = rng.integers(0, len(_NAME_EMOJI), count).tolist()
        # Profiles: heavy-tailed follower counts, as on any social network.
        followers = rng.lognormal(4.6, 1.4, count).astype(np.int64)
        following = rng.lognormal(5.2, 0.9, count).astype(np.int64).tolist()
        tweets = rng.lognormal(7.0, 1.5, count).astype(np.int64).tolist()
        listed = (followers // rng.integers(40, 400, count)).tolist()
        created_s = rng.integers(1_200_000_000, 1_390_000_000, count).astype("datetime64[s]")
        created = np.char.add(np.datetime_as_string(created_s, unit="s"), ".000Z").tolist()
        loc_roll = rng.random(count).tolist()
        loc_pick = rng.random(count).tolist()
        taken = self._taken
        for k in range(count):
            s = style[k]
            if s < 0.3:
                name = first[f[k]] + last[la[k]]
            elif s < 0.45:
                name = f"{first[f[k]]}_{last[la[k]]}"
            elif s < 0.6:
                name = f"{first[f[k]]}{num[k]}"
            elif s < 0.75:
                name = words[w[k]] + first[f[k]]
            elif s < 0.87:
                name = first[f[k]][0] + last[la[k]]
            else:
                name = f"{words[w[k]]}_{words[w2[k]]}"
            if lower[k]:
                name = name.lower()
            name = name[:15].replace("'", "")
            key = name.lower()
            if key in taken:
                n = 1
                base = name
                while key in taken:
                    n += 1
                    suffix = str(n)
                    name = base[: 15 - len(suffix)] + suffix
                    key = name.lower()
            taken.add(key)
            d = display[k]
            if d < 0.55:
                shown = f"{first[f2[k]]} {last[la[k]]}"
            elif d < 0.75:
                shown = first[f[k]]
            elif d < 0.9:
                shown = name
            else:
                shown = f"{first[f[k]]} {_NAME_EMOJI[emoji[k]]}"
            place = self.places[homes[k]]
            roll = loc_roll[k]
            if roll < 0.6:
                options = (place.full_name, place.name, *place.aliases)
                location = options[int(loc_pick[k] * len(options))]
            elif roll < 0.85 or not self._bios:
                location = ""
            else:
                location = self._bios[int(loc_pick[k] * len(self._bios))]
            self.user_ids.append(str(ids[k]))
            self.usernames.append(name)
            self.names.append(shown)
            self.home.append(homes[k])
            self.by_username[key] = start + k
            self._append_stats(
                int(followers[k]), following[k], tweets[k], listed[k], created[k], False, location
            )
        return np.arange(start, start + count, dtype=np.int64)

    def _fresh_ids(self, count: int) -> npt.NDArray[np.int64]:
        """Unique, increasing numeric user ids (X user ids of 2009-2014 had 8-10 digits)."""
        gaps = self.rng.integers(1, 2_000, size=count, dtype=np.int64)
        ids = 14_000_000 + self._next_id + np.cumsum(gaps)
        self._next_id = int(ids[-1]) - 14_000_000 if count else self._next_id
        return ids

    # -- X v2 user objects ---------------------------------------------------------------
    def user(self, idx: int) -> dict[str, Any]:
        """The X API v2 user object. Recent ones are cached; the cache is cleared when it
        grows past ``USER_CACHE`` entries, so memory stays bounded at any size."""
        cached = self._cache.get(idx)
        if cached is not None:
            return cached
        if len(self._cache) >= USER_CACHE:
            self._cache.clear()
        obj = {
            "id": self.user_ids[idx],
            "name": self.names[idx],
            "username": self.usernames[idx],
            "created_at": self._created[idx],
            "location": self._location[idx],
            "public_metrics": {
                "followers_count": self._followers[idx],
                "following_count": self._following[idx],
                "tweet_count": self._tweets[idx],
                "listed_count": self._listed[idx],
            },
            "verified": self._verified[idx],
        }
        self._cache[idx] = obj
        return obj


_NAME_EMOJI = ("🌿", "🏉", "☕", "🎧", "✈️", "🐑", "🌊", "🌸", "⚽", "🎮")
