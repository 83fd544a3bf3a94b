"""Scenario files: what the simulator is asked to produce.

A scenario is one TOML file. Shipped ones live in ``uproar/simulate/scenarios/`` and can be
named without a path (``isp-2014``). Every time is ISO 8601 UTC (``"2014-09-06T08:00:00Z"``);
every duration is a number of minutes or a string such as ``"90m"``, ``"36h"``, ``"2d"``,
``"1h30m"``. The format, key by key::

    [scenario]
    name = "isp-2014"                 # default: the file's stem
    description = "..."
    start = "2014-09-04T00:00:00Z"    # required; the first minute simulated
    days = 5                          # required; length of the timeline (may be fractional)
    scale = 1.0                       # multiplies every rate; --scale multiplies it again
                                      # (floods and the brand's own posts are people:
                                      # they keep their sizes)
    seed = 2014                       # default seed when none is given
    dispersion = 25.0                 # gamma shape of the 10-minute volume noise (lower:
                                      # burstier); minute counts are Poisson on top of it
    retweet_share = 0.12              # share of mentions that are retweets (originals and
    reply_share = 0.10                #   replies/quotes otherwise); per brand overridable
    quote_share = 0.03
    geo_share = 0.08                  # share of posts carrying a geo place_id

    [brands.kiwinet]                  # the brands-file shape (uproar.config), plus:
    name = "KiwiNet"
    handles = ["@KiwiNet", "@KiwiNetHelp"]
    keywords = ["kiwinet"]            # name-style mentions use these (any casing)
    hashtags = ["#kiwinet"]
    regions = ["NZ"]                  # country codes (or NZ-WGN style subdivisions) of
                                      # the customers; see data/places.yaml
    peers = ["tuinet", "wekamobile"]
    industry = "isp"                  # vocabulary: isp | telco | airline
    timezone = "Pacific/Auckland"     # the daily rhythm follows local time
    mentions_per_hour = 120           # mean baseline mentions/hour across the week
    complaint_share = 0.3             # share of baseline mentions that complain
    support_handle = "@KiwiNetHelp"   # authors the brand's own posts (default: last handle)
    daily = [24 weights]              # optional: hour-of-day rhythm (local), default by
    weekly = [7 weights]              #   industry; weekly starts on Monday
    users = 4000                      # optional: size of the author population

    [[holidays]]                      # local dates whose volume is multiplied by factor
    date = "2014-09-08"
    factor = 0.6
    name = "..."                      # optional
    brands = ["kiwinet"]              # optional, default every brand

    [[noisy_days]]                    # extra variance, no incident
    date = "2014-09-05"
    variance = 4.0                    # divides the dispersion that day (burstier)
    brands = ["tuinet"]               # optional, default every brand

    [[incidents]]
    id = "kiwinet-malware"            # default: "<brand>-<n>"
    brand = "kiwinet"
    kind = "outage"                   # outage | crisis | news (a viral spike that is not
                                      # a complaint: topics are chatter, e.g. praise or
                                      # off_topic; no own posts; in the truth's "spikes",
                                      # not its incidents: detecting it is a false alarm)
    onset = "2014-09-06T07:40:00Z"
    duration = "40h"
    magnitude = 6.0                   # total volume = magnitude x the usual volume then
    onset_shape = "slow"              # sharp (minutes) | slow (a ramp of `ramp`)
    ramp = "90m"                      # default 3m when sharp, 60m when slow
    topics = ["slow", "no_connection", "security"]   # vocabulary topics of the texts
    regions = ["NZ"]                  # where the complaining authors live
    peers_hit = []                    # peers that suffer too -> scope "industry"
    peer_magnitude = 4.0              # default: magnitude
    own_posts = true                  # the brand posts status updates and replies
    replies_per_hour = 12             # brand replies to customers during the incident
    update_every = "4h"               # auto-generated updates when none are scripted

    [[incidents.updates]]             # scripted own posts (a numbered thread if several)
    at = "+35m"                       # offset from onset, or an absolute time
    thread = ["1/2 We're aware ...", "2/2 ..."]
    author = "@KiwiNetHelp"           # optional, default support_handle

    [[rumours]]
    brand = "kiwinet"
    kind = "bait_link"                # bait_link | copypasta
    url = "http://celebleaks.example/x"   # bait_link: required; domain is derived
    onset = "2014-09-06T03:00:00Z"
    duration = "30h"
    peak_per_hour = 150
    doubling = "40m"                  # growth: rate doubles every `doubling` to the peak
    topic = "bait_celebrity"          # vocabulary topic for the texts (copypasta: text)
    text = "PLEASE READ ... {handle}"  # copypasta: the text that gets pasted around; may
                                      # use template slots, and gets " {brand}" appended
                                      # when it names the brand nowhere

    [[floods]]                        # one account posting many times: not an outage
    brand = "tuinet"
    onset = "2014-09-05T20:00:00Z"
    duration = "2h"
    posts = 80
    username = "furious_dave"         # optional
    topics = ["billing"]              # optional

Validation errors are :class:`~uproar.errors.ConfigError` naming the key
(``incidents[0].magnitude must be a number > 1``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from uproar.config import Brand, parse_brands, parse_toml
from uproar.errors import ConfigError

INDUSTRIES = ("isp", "telco", "airline")

IncidentKind = Literal["outage", "crisis", "news"]
OnsetShape = Literal["sharp", "slow"]
RumourKind = Literal["bait_link", "copypasta"]


@dataclass(frozen=True, slots=True)
class SimBrand:
    """A brand as the simulator sees it: the brands-file record plus its traffic model."""

    brand: Brand
    industry: str
    timezone: str
    mentions_per_hour: float
    complaint_share: float
    support_handle: str
    daily: tuple[float, ...] | None
    weekly: tuple[float, ...] | None
    users: int | None
    retweet_share: float
    reply_share: float
    quote_share: float

    @property
    def id(self) -> str:
        return self.brand.id


@dataclass(frozen=True, slots=True)
class Holiday:
    date: date
    factor: float
    name: str
    brands: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NoisyDay:
    date: date
    variance: float
    brands: tuple[str, ...]


class _Window:
    """A span of simulated time from ``onset``; the dataclasses below declare the fields."""

    __slots__ = ()
    onset: datetime
    duration: timedelta

    @property
    def end(self) -> datetime:
        return self.onset + self.duration


@dataclass(frozen=True, slots=True)
class Update:
    """A scripted own post (or a numbered thread) by the brand."""

    at: datetime
    thread: tuple[str, ...]
    author: str


@dataclass(frozen=True, slots=True)
class IncidentSpec(_Window):
    id: str
    brand: str
    kind: IncidentKind
    onset: datetime
    duration: timedelta
    magnitude: float
    onset_shape: OnsetShape
    ramp: timedelta
    topics: tuple[str, ...]
    regions: tuple[str, ...]
    peers_hit: tuple[str, ...]
    peer_magnitude: float
    own_posts: bool
    replies_per_hour: float
    update_every: timedelta
    updates: tuple[Update, ...]

    @property
    def scope(self) -> Literal["brand", "industry"]:
        return "industry" if self.peers_hit else "brand"


@dataclass(frozen=True, slots=True)
class RumourSpec(_Window):
    brand: str
    kind: RumourKind
    url: str | None
    domain: str | None
    onset: datetime
    duration: timedelta
    peak_per_hour: float
    doubling: timedelta
    topic: str
    text: str | None


@dataclass(frozen=True, slots=True)
class FloodSpec(_Window):
    brand: str
    onset: datetime
    duration: timedelta
    posts: int
    username: str | None
    topics: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated scenario. Build with :func:`load_scenario` or :func:`parse_scenario`."""

    name: str
    description: str
    start: datetime
    days: float
    scale: float
    seed: int
    dispersion: float
    geo_share: float
    brands: tuple[SimBrand, ...]
    holidays: tuple[Holiday, ...]
    noisy_days: tuple[NoisyDay, ...]
    incidents: tuple[IncidentSpec, ...]
    rumours: tuple[RumourSpec, ...]
    floods: tuple[FloodSpec, ...]
    source: str = "<scenario>"

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)

    @property
    def minutes(self) -> int:
        return round(self.days * 1440)

    def brand(self, brand_id: str) -> SimBrand:
        for b in self.brands:
            if b.id == brand_id:
                return b
        raise KeyError(brand_id)


# --------------------------------------------------------------------------- loading

_SCENARIO_PACKAGE = "uproar.simulate.scenarios"


def shipped_scenarios() -> list[str]:
    """Names of the scenarios that ship with Uproar, sorted."""
    root = resources.files(_SCENARIO_PACKAGE)
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".toml"))


def load_scenario(path_or_name: str | Path) -> Scenario:
    """Read a scenario file, or a shipped scenario by name (``"isp-2014"``)."""
    text: str
    source = str(path_or_name)
    path = Path(path_or_name)
    if path.is_file():
        text = path.read_text(encoding="utf-8")
    elif source in shipped_scenarios():
        text = resources.files(_SCENARIO_PACKAGE).joinpath(f"{source}.toml").read_text("utf-8")
        source = f"{source}.toml"
    else:
        shipped = ", ".join(shipped_scenarios())
        raise ConfigError(
            f"{source}: no such scenario file, and not a shipped scenario ({shipped})",
            file=source,
        )
    data = parse_toml(text, source=source)
    return parse_scenario(data, source=source, default_name=Path(source).stem)


class _Reader:
    """Typed access to one table, with errors that name the full key."""

    def __init__(self, data: Mapping[str, Any], prefix: str, source: str) -> None:
        self.data, self.prefix, self.source = data, prefix, source

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def fail(self, name: str, expected: str) -> ConfigError:
        key = self.key(name)
        got = self.data.get(name)
        return ConfigError(
            f"{self.source}: {key} must be {expected} (got {got!r})", file=self.source, key=key
        )

    def has(self, name: str) -> bool:
        return name in self.data

    def str_(self, name: str, default: str | None = None) -> str:
        value = self.data.get(name, default)
        if not isinstance(value, str) or not value:
            raise self.fail(name, "a non-empty string")
        return value

    def opt_str(self, name: str) -> str | None:
        return self.str_(name) if name in self.data else None

    def num(
        self, name: str, default: float | None = None, *, low: float = 0.0, strict: bool = False
    ) -> float:
        value = self.data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(name, "a number")
        if value < low or (strict and value == low):
            raise self.fail(name, f"a number {'>' if strict else '>='} {low:g}")
        return float(value)

    def share(self, name: str, default: float) -> float:
        value = self.num(name, default)
        if value > 1:
            raise self.fail(name, "a share between 0 and 1")
        return value

    def bool_(self, name: str, default: bool) -> bool:
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            raise self.fail(name, "true or false")
        return value

    def strs(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.data.get(name, list(default))
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(name, "a list of non-empty strings")
        return tuple(value)

    def floats(self, name: str, length: int) -> tuple[float, ...] | None:
        if name not in self.data:
            return None
        value = self.data[name]
        if (
            not isinstance(value, list)
            or len(value) != length
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
            or any(v < 0 for v in value)
            or sum(value) <= 0
        ):
            raise self.fail(name, f"a list of {length} non-negative numbers")
        return tuple(float(v) for v in value)

    def time(self, name: str) -> datetime:
        value = self.data.get(name)
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise self.fail(name, "an ISO 8601 time like 2014-09-06T08:00:00Z") from None
        else:
            raise self.fail(name, "an ISO 8601 time like 2014-09-06T08:00:00Z")
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)

    def date_(self, name: str) -> date:
        value = self.data.get(name)
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise self.fail(name, "a date like 2014-09-08")

    def duration(self, name: str, default: str | float | None = None) -> timedelta:
        value = self.data.get(name, default)
        minutes = parse_minutes(value)
        if minutes is None or minutes <= 0:
            raise self.fail(name, 'a positive duration like "90m", "36h", "2d" or minutes')
        return timedelta(minutes=minutes)

    def tables(self, name: str) -> list[_Reader]:
        value = self.data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self.fail(name, "an array of tables ([[" + self.key(name) + "]])")
        return [_Reader(v, f"{self.key(name)}[{i}]", self.source) for i, v in enumerate(value)]

    def table(self, name: str) -> _Reader:
        value = self.data.get(name, {})
        if not isinstance(value, Mapping):
            raise self.fail(name, "a table")
        return _Reader(value, self.key(name), self.source)

    def unknown(self, allowed: set[str]) -> None:
        for name in self.data:
            if name not in allowed:
                raise ConfigError(
                    f"{self.source}: unknown key {self.key(name)} (expected one of "
                    f"{', '.join(sorted(allowed))})",
                    file=self.source,
                    key=self.key(name),
                )


_DURATION = re.compile(
    r"^\s*(?:(\d+(?:\.\d+)?)d)?\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*$"
)


def parse_minutes(value: object) -> float | None:
    """``"1h30m"`` -> 90.0; numbers are minutes; ``None`` when unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str) or not value.strip():
        return None
    match = _DURATION.match(value)
    if not match or not any(match.groups()):
        return None
    d, h, m = (float(g) if g else 0.0 for g in match.groups())
    return d * 1440 + h * 60 + m


_SCENARIO_KEYS = {
    "name",
    "description",
    "start",
    "days",
    "scale",
    "seed",
    "dispersion",
    "retweet_share",
    "reply_share",
    "quote_share",
    "geo_share",
}
_BRAND_SIM_KEYS = {
    "timezone",
    "mentions_per_hour",
    "complaint_share",
    "support_handle",
    "daily",
    "weekly",
    "users",
    "retweet_share",
    "reply_share",
    "quote_share",
}
_BRAND_KEYS = {
    "name", "handles", "keywords", "hashtags", "regions", "peers", "industry"
} | _BRAND_SIM_KEYS  # fmt: skip
_INCIDENT_KEYS = {
    "id",
    "brand",
    "kind",
    "onset",
    "duration",
    "magnitude",
    "onset_shape",
    "ramp",
    "topics",
    "regions",
    "peers_hit",
    "peer_magnitude",
    "own_posts",
    "replies_per_hour",
    "update_every",
    "updates",
}
_RUMOUR_KEYS = {
    "brand",
    "kind",
    "url",
    "onset",
    "duration",
    "peak_per_hour",
    "doubling",
    "topic",
    "text",
}
_FLOOD_KEYS = {"brand", "onset", "duration", "posts", "username", "topics"}


def parse_scenario(
    data: Mapping[str, Any], *, source: str = "<scenario>", default_name: str = "scenario"
) -> Scenario:
    """Validate a parsed scenario document; errors name the offending key."""
    top = _Reader(data, "", source)
    top.unknown({"scenario", "brands", "holidays", "noisy_days", "incidents", "rumours", "floods"})
    if "scenario" not in data:
        raise ConfigError(f"{source}: missing the [scenario] table", file=source, key="scenario")
    sc = top.table("scenario")
    sc.unknown(_SCENARIO_KEYS)
    start = sc.time("start")
    days = sc.num("days", low=0, strict=True)
    defaults = {
        "retweet_share": sc.share("retweet_share", 0.12),
        "reply_share": sc.share("reply_share", 0.10),
        "quote_share": sc.share("quote_share", 0.03),
    }

    # Brands: the brands-file keys are validated by uproar.config, the rest here.
    raw_brands = data.get("brands")
    if not isinstance(raw_brands, Mapping) or not raw_brands:
        raise ConfigError(f"{source}: expected [brands.<id>] tables", file=source, key="brands")
    brand_records = parse_brands(
        {"brands": raw_brands}, source=source, extra_keys=_BRAND_SIM_KEYS
    )
    brands: list[SimBrand] = []
    for brand_id, record in brand_records.items():
        br = top.table("brands").table(brand_id)
        br.unknown(_BRAND_KEYS)
        industry = br.str_("industry", "isp")
        if industry not in INDUSTRIES:
            raise br.fail("industry", "one of " + ", ".join(INDUSTRIES))
        tz = br.str_("timezone", "UTC")
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise br.fail("timezone", "an IANA time zone like Pacific/Auckland") from None
        if not record.handles:
            raise br.fail("handles", "a non-empty list (the brand's own posts need a handle)")
        support = br.str_("support_handle", record.handles[-1])
        if support not in record.handles:
            raise br.fail("support_handle", "one of the brand's handles")
        users = None
        if br.has("users"):
            users = int(br.num("users", low=10))
        brands.append(
            SimBrand(
                brand=Brand(
                    id=record.id,
                    name=record.name,
                    handles=record.handles,
                    keywords=record.keywords,
                    hashtags=record.hashtags,
                    regions=record.regions or ("NZ",),
                    peers=record.peers,
                ),
                industry=industry,
                timezone=tz,
                mentions_per_hour=br.num("mentions_per_hour", 30.0, low=0),
                complaint_share=br.share("complaint_share", 0.25),
                support_handle=support,
                daily=br.floats("daily", 24),
                weekly=br.floats("weekly", 7),
                users=users,
                **{k: br.share(k, v) for k, v in defaults.items()},
            )
        )
    brand_ids = {b.id for b in brands}

    def brand_ref(r: _Reader, name: str = "brand") -> str:
        value = r.str_(name)
        if value not in brand_ids:
            raise r.fail(name, "the id of a brand in [brands]")
        return value

    def brand_list(r: _Reader, name: str) -> tuple[str, ...]:
        values = r.strs(name, tuple(sorted(brand_ids)))
        for v in values:
            if v not in brand_ids:
                raise r.fail(name, "a list of brand ids from [brands]")
        return values

    holidays = []
    for h in top.tables("holidays"):
        h.unknown({"date", "factor", "name", "brands"})
        holidays.append(
            Holiday(
                date=h.date_("date"),
                factor=h.num("factor", 0.7, low=0),
                name=h.str_("name", "holiday"),
                brands=brand_list(h, "brands"),
            )
        )
    noisy = []
    for n in top.tables("noisy_days"):
        n.unknown({"date", "variance", "brands"})
        noisy.append(
            NoisyDay(
                date=n.date_("date"),
                variance=n.num("variance", 4.0, low=1),
                brands=brand_list(n, "brands"),
            )
        )

    incidents = []
    seen_ids: set[str] = set()
    for i, inc in enumerate(top.tables("incidents")):
        inc.unknown(_INCIDENT_KEYS)
        brand_id = brand_ref(inc)
        sim_brand = next(b for b in brands if b.id == brand_id)
        kind = inc.str_("kind", "outage")
        if kind not in ("outage", "crisis", "news"):
            raise inc.fail("kind", '"outage", "crisis" or "news"')
        shape = inc.str_("onset_shape", "sharp")
        if shape not in ("sharp", "slow"):
            raise inc.fail("onset_shape", '"sharp" or "slow"')
        magnitude = inc.num("magnitude", low=1, strict=True)
        peers_hit = inc.strs("peers_hit")
        for p in peers_hit:
            if p not in brand_ids or p == brand_id:
                raise inc.fail("peers_hit", "a list of other brands' ids")
        topics = inc.strs("topics", ("no_connection",))
        if not topics:
            raise inc.fail("topics", "a non-empty list of vocabulary topics")
        if kind == "news" and peers_hit:
            raise inc.fail("peers_hit", "empty for news (a spike of one brand's chatter)")
        inc_id = inc.str_("id", f"{brand_id}-{i + 1}")
        if inc_id in seen_ids:
            raise inc.fail("id", "unique across incidents")
        seen_ids.add(inc_id)
        onset = inc.time("onset")
        updates = []
        for u in inc.tables("updates"):
            u.unknown({"at", "thread", "author"})
            at_raw = u.data.get("at")
            if isinstance(at_raw, str) and at_raw.startswith("+"):
                offset = parse_minutes(at_raw[1:])
                if offset is None:
                    raise u.fail("at", 'an offset like "+35m" or an ISO 8601 time')
                at = onset + timedelta(minutes=offset)
            else:
                at = u.time("at")
            thread = u.strs("thread")
            if not thread:
                raise u.fail("thread", "a non-empty list of post texts")
            author = u.str_("author", sim_brand.support_handle)
            if author not in sim_brand.brand.handles:
                raise u.fail("author", "one of the brand's handles")
            updates.append(Update(at=at, thread=thread, author=author))
        incidents.append(
            IncidentSpec(
                id=inc_id,
                brand=brand_id,
                kind=kind,  # type: ignore[arg-type]
                onset=onset,
                duration=inc.duration("duration"),
                magnitude=magnitude,
                onset_shape=shape,  # type: ignore[arg-type]
                ramp=inc.duration("ramp", "3m" if shape == "sharp" else "60m"),
                topics=topics,
                regions=inc.strs("regions", sim_brand.brand.regions),
                peers_hit=peers_hit,
                peer_magnitude=inc.num("peer_magnitude", magnitude, low=1, strict=True),
                own_posts=inc.bool_("own_posts", kind != "news"),
                replies_per_hour=inc.num("replies_per_hour", 10.0),
                update_every=inc.duration("update_every", "4h"),
                updates=tuple(sorted(updates, key=lambda u: u.at)),
            )
        )

    rumours = []
    for r in top.tables("rumours"):
        r.unknown(_RUMOUR_KEYS)
        kind = r.str_("kind", "bait_link")
        if kind not in ("bait_link", "copypasta"):
            raise r.fail("kind", '"bait_link" or "copypasta"')
        url = domain = text = None
        if kind == "bait_link":
            url = r.str_("url")
            match = re.match(r"^https?://([^/\s:]+)", url)
            if not match:
                raise r.fail("url", "an http(s) URL")
            domain = match.group(1).lower()
        else:
            text = r.str_("text")
        rumours.append(
            RumourSpec(
                brand=brand_ref(r),
                kind=kind,  # type: ignore[arg-type]
                url=url,
                domain=domain,
                onset=r.time("onset"),
                duration=r.duration("duration"),
                peak_per_hour=r.num("peak_per_hour", 60.0, low=0, strict=True),
                doubling=r.duration("doubling", "45m"),
                topic=r.str_("topic", "bait_celebrity" if kind == "bait_link" else "copypasta"),
                text=text,
            )
        )

    floods = []
    for f in top.tables("floods"):
        f.unknown(_FLOOD_KEYS)
        posts = f.num("posts", low=1)
        if posts != int(posts):
            raise f.fail("posts", "a whole number")
        floods.append(
            FloodSpec(
                brand=brand_ref(f),
                onset=f.time("onset"),
                duration=f.duration("duration"),
                posts=int(posts),
                username=f.opt_str("username"),
                topics=f.strs("topics", ("no_connection", "customer_service", "billing")),
            )
        )

    seed = sc.num("seed", 0)
    if seed != int(seed):
        raise sc.fail("seed", "a whole number")
    return Scenario(
        name=sc.str_("name", default_name),
        description=sc.str_("description", default_name),
        start=start,
        days=days,
        scale=sc.num("scale", 1.0, low=0, strict=True),
        seed=int(seed),
        dispersion=sc.num("dispersion", 25.0, low=0, strict=True),
        geo_share=sc.share("geo_share", 0.08),
        brands=tuple(brands),
        holidays=tuple(holidays),
        noisy_days=tuple(noisy),
        incidents=tuple(incidents),
        rumours=tuple(rumours),
        floods=tuple(floods),
        source=source,
    )
