"""A drill: an incident replayed into a fresh store on an accelerated clock.

    source = prepare_source("isp-2014", workdir=Path("drill.src"))   # or a store, an archive
    with Store(Path("drill.duckdb")) as store:
        drill = start_drill(store, source, now=wall, speed=10, team_size=2)
        advance(store, now=wall + timedelta(seconds=30))       # posts up to the drill's clock
        record_response(store, "1/2 We're sorry...", now=..., kind="update", author="sam")
        debrief = score(store, now=...)

Every call takes the wall-clock ``now`` (UTC): the drill's clock is the source time
``replay_from + speed x (wall seconds since the start, less pauses)``, so a dashboard, a
terminal and a test with a made-up clock all see the same drill. The state lives in the
drill store (``drill_state``), so separate processes can share one drill.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from uproar.config import Brand, load_brands
from uproar.drill.score import (
    KINDS,
    BestPlayFile,
    Debrief,
    PlayPost,
    load_best_play,
    play_from_spec,
    score_play,
)
from uproar.errors import InputError
from uproar.records import Finding, Incident
from uproar.respond.inbox import build_inbox
from uproar.respond.lint import Linter
from uproar.respond.lint.engine import detect_kind
from uproar.store import Store
from uproar.store import drill as q
from uproar.store.detect import load_incidents, save_incidents
from uproar.times import zone

# The dashboard moves the clock from every request thread and from its live feed at once:
# two releases of the same feed rows would conflict in DuckDB (a 500 page), so the clock's
# writes take turns within the process (re-entrant: a response advances the clock first).
_CLOCK_WRITES = threading.RLock()

STORE_SUFFIXES = (".duckdb", ".db")


@dataclass(frozen=True, slots=True)
class Source:
    """What a drill replays: a store, the brand the team plays and the incident."""

    label: str  # the scenario's name or the file it came from
    db: Path
    brand: Brand
    peers: tuple[str, ...]
    incident: str
    onset: datetime
    end: datetime | None
    scope: str
    rumours: tuple[Mapping[str, Any], ...]
    tz: str
    scenario: str | None = None  # a shipped scenario's name: its best play applies


@dataclass(frozen=True, slots=True)
class Clock:
    """Where a drill stands at a wall-clock moment."""

    drill_id: str
    now: datetime  # the drill's clock (source time)
    started: datetime
    replay_from: datetime
    replay_until: datetime
    speed: float
    paused: bool
    finished: bool
    released_until: datetime
    pending: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "drill": self.drill_id,
            "now": self.now,
            "replay_from": self.replay_from,
            "replay_until": self.replay_until,
            "speed": self.speed,
            "paused": self.paused,
            "finished": self.finished,
            "pending": self.pending,
        }


@dataclass(frozen=True, slots=True)
class Advance:
    clock: Clock
    released: int
    posts: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Response:
    """A team post as the drill recorded it, with what the linter said at once."""

    n: int
    kind: str
    at: datetime  # the drill's clock when it was posted
    text: str
    author: str | None
    reply_to: str | None
    findings: tuple[Finding, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "kind": self.kind,
            "at": self.at,
            "text": self.text,
            "author": self.author,
            "reply_to": self.reply_to,
            "findings": [
                {"rule": f.rule, "category": f.category, "severity": f.severity,
                 "message": f.message, "suggestion": f.suggestion}
                for f in self.findings
            ],
        }  # fmt: skip


# -- sources -------------------------------------------------------------------------------
def prepare_source(
    source: str | Path,
    *,
    workdir: Path,
    incident: str | None = None,
    brands: Path | None = None,
    seed: int | None = None,
    tz: str | None = None,
) -> Source:
    """A drill's source from a shipped scenario's name or a scenario TOML (simulated and
    ingested into ``workdir``), a store file (``.duckdb``), or an archive any ``uproar
    ingest`` format reads (with ``brands``). ``incident`` picks one by id; default: the
    scenario's first incident, or the store's largest."""
    text = str(source)
    path = Path(text)
    if path.suffix.lower() in STORE_SUFFIXES:
        if not path.exists():
            raise InputError(f"no store {path}", file=text)
        return _store_source(path, label=text, incident=incident, tz=tz)
    if path.suffix.lower() == ".toml" or not path.exists():
        return _scenario_source(text, workdir=workdir, incident=incident, seed=seed, tz=tz)
    if brands is None:
        raise InputError(
            f"{text}: an archive needs its brands file to be drilled (--brands FILE)",
            file=text,
            field="brands",
        )
    return _archive_source(path, brands, workdir=workdir, incident=incident, tz=tz)


def _scenario_source(
    name: str, *, workdir: Path, incident: str | None, seed: int | None, tz: str | None
) -> Source:
    from uproar.pipeline import ingest_enrichers
    from uproar.simulate import load_scenario, simulate
    from uproar.sources import ingest

    spec = load_scenario(name)
    if not spec.incidents:
        raise InputError(f"scenario {spec.name!r} plants no incident to drill", field="scenario")
    chosen = [i for i in spec.incidents if incident is None or i.id == incident][:1]
    if not chosen:
        known = ", ".join(i.id for i in spec.incidents)
        raise InputError(f"scenario {spec.name!r} has no incident {incident!r}; known: {known}")
    inc = chosen[0]
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "source.duckdb"
    if db.exists():
        db.unlink()
    archive = workdir / f"{spec.name}.jsonl"
    result = simulate(spec, archive, seed=spec.seed if seed is None else seed)
    brands = load_brands(result.brands_path)
    with Store(db) as store:
        store.save_brands(brands)
        ingest([archive], store, brands, enrichers=ingest_enrichers())
    archive.unlink()
    sim = spec.brand(inc.brand)
    rumours: list[Mapping[str, Any]] = [
        r for r in result.truth["rumours"] if r["brand"] == inc.brand
    ]
    # The brand's own post just before onset is what the incident reacts to (a gaffe).
    rumours += [
        {"brand": inc.brand, "kind": "reaction", "text": u.thread[0], "first_seen": u.at}
        for u in inc.updates
        if u.at < inc.onset
    ]
    return Source(
        label=spec.name,
        db=db,
        brand=brands[inc.brand],
        peers=brands[inc.brand].peers,
        incident=inc.id,
        onset=inc.onset,
        end=inc.end,
        scope=inc.scope,
        rumours=tuple(rumours),
        tz=tz or sim.timezone,
        scenario=spec.name,
    )


def _store_source(path: Path, *, label: str, incident: str | None, tz: str | None) -> Source:
    from uproar.detect.batch import detect_store

    with Store(path, read_only=True) as store:
        brands = store.load_brands()
        found = list(load_incidents(store))
        if not found:
            found = list(detect_store(store, brands=brands, save=False).incidents)
    if not found:
        raise InputError(f"{label}: no incident in this store to drill (run `uproar detect`)")
    if incident is not None:
        found = [i for i in found if i.id == incident]
        if not found:
            raise InputError(f"{label}: no incident {incident!r}", field="incident")
    inc: Incident = max(found, key=lambda i: (i.posts, i.start))
    brand = brands.get(inc.brand) or Brand(id=inc.brand, name=inc.brand)
    return Source(
        label=label,
        db=path,
        brand=brand,
        peers=brand.peers,
        incident=inc.id,
        onset=inc.start,
        end=inc.end,
        scope=inc.scope,
        rumours=tuple(inc.rumours),
        tz=tz or "UTC",
    )


def _archive_source(
    path: Path, brands_path: Path, *, workdir: Path, incident: str | None, tz: str | None
) -> Source:
    from uproar.pipeline import ingest_enrichers
    from uproar.sources import ingest

    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "source.duckdb"
    if db.exists():
        db.unlink()
    brands = load_brands(brands_path)
    with Store(db) as store:
        store.save_brands(brands)
        ingest([path], store, brands, enrichers=ingest_enrichers())
    return _store_source(db, label=str(path), incident=incident, tz=tz)


# -- the clock -----------------------------------------------------------------------------
def _state(store: Store) -> dict[str, Any]:
    state = q.load_drill_state(store)
    if state is None:
        raise InputError(
            f"{store.path} holds no drill; start one with `uproar drill SCENARIO`", field="db"
        )
    return state


def _drill_now(state: Mapping[str, Any], now: datetime) -> datetime:
    wall = now.astimezone(UTC)
    paused = state["paused_s"]
    if state["paused_wall"] is not None:
        paused += max(0.0, (wall - state["paused_wall"]).total_seconds())
    active = max(0.0, (wall - state["started_wall"]).total_seconds() - paused)
    moment: datetime = state["replay_from"] + timedelta(seconds=active * state["speed"])
    until: datetime = state["replay_until"]
    return min(moment, until)


def clock(store: Store, *, now: datetime) -> Clock:
    """Where the store's drill stands at wall-clock ``now``."""
    state = _state(store)
    at = _drill_now(state, now)
    return Clock(
        drill_id=state["id"],
        now=at,
        started=state["started_wall"],
        replay_from=state["replay_from"],
        replay_until=state["replay_until"],
        speed=state["speed"],
        paused=state["paused_wall"] is not None,
        finished=at >= state["replay_until"],
        released_until=state["released_until"],
        pending=q.pending_posts(store),
    )


def wall_time(store: Store, drill_at: datetime) -> datetime:
    """The wall-clock time at which a running drill's clock reaches ``drill_at`` (no
    further pauses): what a scripted team waits for."""
    state = _state(store)
    active = (drill_at - state["replay_from"]).total_seconds() / state["speed"]
    wall: datetime = state["started_wall"] + timedelta(seconds=active + state["paused_s"])
    return wall


def parse_speed(value: str | float) -> float:
    """``"10x"``, ``"10"`` or 10.0: source seconds per wall-clock second."""
    text = str(value).strip().lower().removesuffix("x").strip()
    try:
        speed = float(text)
    except ValueError:
        raise InputError(
            f"--speed expects a factor like 10x, got {value!r}", field="speed"
        ) from None
    if not speed > 0 or speed != speed or speed == float("inf"):
        raise InputError(f"--speed must be above 0, got {value!r}", field="speed")
    return speed


def start_drill(
    store: Store,
    source: Source,
    *,
    now: datetime,
    speed: float = 10.0,
    team_size: int = 1,
    lead_in: timedelta = timedelta(minutes=30),
    span: timedelta | None = timedelta(hours=3),
    history: timedelta = timedelta(days=2),
) -> Clock:
    """Start a drill in ``store`` (a fresh store): the source's posts from ``history``
    before the replay are released at once (the baseline the dashboard compares with),
    the rest wait for the clock. The replay runs from ``lead_in`` before onset to ``span``
    after it (None: to the incident's end)."""
    if team_size < 1:
        raise InputError(f"--team-size must be 1 or more, got {team_size}", field="team_size")
    if not speed > 0:
        raise InputError(f"speed must be above 0, got {speed}", field="speed")
    zone(source.tz)  # a bad zone fails now, not at the debrief
    start = source.onset - lead_in
    end = (
        source.onset + span
        if span is not None
        else (source.end or source.onset + timedelta(days=1))
    )
    if source.end is not None and span is not None:
        end = min(end, source.end)
    brands = (source.brand.id, *source.peers)
    with Store(source.db, read_only=True) as src:
        known = src.load_brands()
        scope: dict[str, Any] = {"brand": source.brand.id, "brands": brands, "onset": source.onset}
        released = q.replay_posts(src, since=start - history, until=start, **scope)
        feed = q.replay_posts(src, since=start, until=end, **scope)
        recorded = q.brand_own_posts(src, brand=source.brand.id, since=source.onset, until=end)
    if feed[0].num_rows == 0:
        raise InputError(
            f"{source.label}: no posts about {source.brand.id} to replay between "
            f"{start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC"
        )
    store.save_brands(known or {source.brand.id: source.brand})
    wall = now.astimezone(UTC)
    q.create_drill(
        store,
        {
            "id": f"drill-{source.incident}-{wall:%Y%m%dT%H%M%S}",
            "source": source.label if source.scenario else str(source.db),
            "brand": source.brand.id,
            "incident": source.incident,
            "onset": source.onset,
            "incident_end": source.end,
            "scope": source.scope,
            "rumours": list(source.rumours),
            "recorded": recorded,
            "replay_from": start,
            "replay_until": end,
            "speed": float(speed),
            "started_wall": wall,
            "released_until": start,
            "team_size": team_size,
            "tz": source.tz,
        },
        released=released,
        feed=feed,
    )
    return clock(store, now=now)


def pause(store: Store, *, now: datetime) -> Clock:
    with _CLOCK_WRITES:
        state = _state(store)
        if state["paused_wall"] is None:
            q.set_clock(
                store, state["id"], paused_wall=now.astimezone(UTC), paused_s=state["paused_s"]
            )
        return clock(store, now=now)


def resume(store: Store, *, now: datetime) -> Clock:
    with _CLOCK_WRITES:
        state = _state(store)
        if state["paused_wall"] is not None:
            waited = max(0.0, (now.astimezone(UTC) - state["paused_wall"]).total_seconds())
            q.set_clock(store, state["id"], paused_wall=None, paused_s=state["paused_s"] + waited)
        return clock(store, now=now)


def advance(store: Store, *, now: datetime, show: int = 50) -> Advance:
    """Release the posts the drill's clock has reached by wall-clock ``now``; the first
    ``show`` of them come back, to show the team."""
    with _CLOCK_WRITES:
        state = _state(store)
        at = _drill_now(state, now)
        before = state["released_until"]
        if at <= before:
            return Advance(clock(store, now=now), 0)
        released = q.release(store, state["id"], at)
        if at >= state["onset"]:  # the incident is on every page (Now, Incidents) from its onset
            drill_incident(store, now=now)
        posts = q.released_posts(store, since=before, until=at, limit=show)
        return Advance(clock(store, now=now), released, posts)


def record_response(
    store: Store,
    text: str,
    *,
    now: datetime,
    kind: str | None = None,
    reply_to: str | None = None,
    author: str | None = None,
    linter: Linter | None = None,
) -> Response:
    """Record a team post at the drill's clock: linted at once, kept in
    ``drill_responses`` and posted as the brand's own post (a reply answers its mention in
    the inbox). ``kind``: update, reply or resolved (default: reply when it answers a
    mention, else as the linter guesses)."""
    with _CLOCK_WRITES:
        if not text.strip():
            raise InputError("a response needs some text", field="text")
        state = _state(store)
        advance(store, now=now)  # what the team could see is in the store before its answer
        at = _drill_now(state, now)
        target: tuple[str, str] | None = None
        if reply_to is not None:
            target = q.find_post(store, reply_to)
            if target is None:
                raise InputError(
                    f"no post {reply_to!r} has appeared in the drill yet", field="reply_to"
                )
        if kind is None:
            kind = "reply" if target is not None else detect_kind(text)
            if kind == "reply" and target is None:
                kind = "update"
        if kind not in KINDS:
            raise InputError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}", field="kind")
        findings = tuple((linter or Linter()).lint(text, kind=kind))
        n = q.next_response_number(store, state["id"])
        brand = store.load_brands().get(state["brand"])
        handle = brand.handles[0].lstrip("@") if brand and brand.handles else state["brand"]
        platform = target[0] if target else "x"
        post_id = f"drill-{n}"
        q.record_response(
            store,
            {
                "drill_id": state["id"],
                "n": n,
                "kind": kind,
                "drill_at": at,
                "wall_at": now.astimezone(UTC),
                "author": author,
                "text": text,
                "reply_to": f"{target[0]}:{target[1]}" if target else None,
                "platform": platform,
                "post_id": post_id,
                "findings": json.dumps([_finding(f) for f in findings]),
            },
            {
                "platform": platform,
                "id": post_id,
                "created_at": at,
                "text": text,
                "author_id": f"drill:{state['brand']}",
                "author_handle": handle,
                "author_name": brand.name if brand else state["brand"],
                "reply_to_id": target[1] if target else None,
                "conversation_id": target[1] if target else post_id,
                "brands": [state["brand"]],
                "own_brand": state["brand"],
                "ingested_at": now.astimezone(UTC),
            },
        )
        return Response(
            n, kind, at, text, author, f"{target[0]}:{target[1]}" if target else None, findings
        )


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "line": f.line, "start": f.start, "end": f.end, "rule": f.rule, "category": f.category,
        "severity": f.severity, "message": f.message, "suggestion": f.suggestion,
    }  # fmt: skip


def responses(store: Store) -> list[PlayPost]:
    """The team's posts so far, as a play."""
    state = _state(store)
    return [
        PlayPost(
            at=r["drill_at"],
            kind=r["kind"],
            text=r["text"],
            reply_to=r["reply_to"],
            author=r["author"],
        )
        for r in q.load_responses(store, state["id"])
    ]


# -- the debrief ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DrillDebrief:
    """The team's debrief, beside the brand's real play and the best play where known."""

    drill_id: str
    brand: str
    incident: str
    source: str
    team_size: int
    tz: str
    team: Debrief
    compared: tuple[Debrief, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "drill": self.drill_id,
            "brand": self.brand,
            "incident": self.incident,
            "source": self.source,
            "team_size": self.team_size,
            "score": round(self.team.score, 1),
            "team": self.team.to_dict(),
            "compared": [
                {
                    "name": d.name,
                    "score": round(d.score, 1),
                    "measures": [m.to_dict() for m in d.measures],
                }
                for d in self.compared
            ],
        }


def score(
    store: Store,
    *,
    now: datetime,
    linter: Linter | None = None,
    best: BestPlayFile | None = None,
    clusters: int = 30,
) -> DrillDebrief:
    """Score the drill as it stands at wall-clock ``now`` (its end, once finished): the
    team's play, the brand's real one from the source, and the scenario's best play."""
    advance(store, now=now)
    state = _state(store)
    linter = linter or Linter()
    best = best or load_best_play()
    until = _drill_now(state, now)
    onset = state["onset"]
    tz = zone(state["tz"])
    common: dict[str, Any] = {
        "onset": onset,
        "until": until,
        "tz": tz,
        "linter": linter,
        "rumours": state["rumours"],
        "team_size": state["team_size"],
        "best": best,
    }
    inbox = (
        build_inbox(
            store,
            brand=state["brand"],
            since=onset,
            until=until,
            now=until,
            limit=clusters,
            linter=linter,
        )
        if until > onset
        else None
    )
    team = score_play(responses(store), name="Your team", inbox=inbox, **common)
    compared = []
    recorded = [
        PlayPost(
            at=datetime.fromisoformat(r["created_at"]).astimezone(UTC)
            if isinstance(r["created_at"], str)
            else r["created_at"],
            kind="reply" if r["reply_to_id"] else "update",
            text=r["text"],
        )
        for r in state["recorded"]
    ]
    if recorded:
        compared.append(score_play(recorded, name="The brand in real life", **common))
    play = best.plays.get(_scenario_name(state["source"]))
    if play:
        compared.append(score_play(play_from_spec(play, onset), name="Best play", **common))
    return DrillDebrief(
        drill_id=state["id"],
        brand=state["brand"],
        incident=state["incident"],
        source=state["source"],
        team_size=state["team_size"],
        tz=state["tz"],
        team=team,
        compared=tuple(compared),
    )


def _scenario_name(source: str) -> str:
    return Path(source).stem if source.endswith(".toml") else source


def drill_incident(store: Store, *, now: datetime) -> Incident:
    """The drilled incident as the drill store saw it by ``now`` (kept in ``incidents`` so
    the report's machinery reads it)."""
    state = _state(store)
    until = _drill_now(state, now)
    end = (
        state["incident_end"] if state["incident_end"] and state["incident_end"] <= until else None
    )
    brand = state["brand"]
    peak = q.peak_minute(store, brand=brand, since=state["onset"], until=until) or state["onset"]
    posts, authors = q.incident_counts(store, brand=brand, since=state["onset"], until=end or until)
    incident = Incident(
        id=state["incident"],
        brand=brand,
        start=state["onset"],
        detected_at=state["onset"],
        peak=peak,
        end=end,
        severity="drill",
        scope="industry" if state["scope"] == "industry" else "brand",
        posts=posts,
        authors=authors,
        rumours=tuple(state["rumours"]),
    )
    save_incidents(store, [incident])
    return incident


def known_plays(best: BestPlayFile | None = None) -> Sequence[str]:
    return sorted((best or load_best_play()).plays)
