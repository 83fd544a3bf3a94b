"""What a run planted, and the files written beside its posts.

``<stem>.truth.json`` lists the incidents, rumours and floods with their windows (ISO 8601
UTC); ``<stem>.brands.toml`` holds the scenario's brands in the brands-file shape of
:mod:`uproar.config`, ready for ``uproar ingest --brands``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from uproar.config import INDUSTRIES
from uproar.simulate.population import Place, places_in
from uproar.simulate.scenario import Scenario


def output_paths(out: Path) -> tuple[Path, Path]:
    """The truth and brands files written beside ``out`` (``x.jsonl.gz`` -> ``x.truth.json``)."""
    name = out.name
    for suffix in (".gz", ".jsonl", ".json"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return out.with_name(f"{name}.truth.json"), out.with_name(f"{name}.brands.toml")


def iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_truth(
    sc: Scenario,
    *,
    seed: int,
    scale: float,
    posts: int,
    own_posts: int,
    flood_posts: list[int],
    flood_authors: list[tuple[str, str]],
    places: list[Place],
) -> dict[str, Any]:
    """The ground truth of one run (the shape documented in README.md)."""
    incidents = []
    spikes = []
    for inc in sc.incidents:
        if inc.kind == "news":  # not an incident: a spike of chatter (see scenario.py)
            spikes.append(
                {
                    "id": inc.id,
                    "brand": inc.brand,
                    "onset": iso(inc.onset),
                    "end": iso(inc.end),
                    "magnitude": inc.magnitude,
                    "topics": list(inc.topics),
                }
            )
            continue
        names = sorted({places[i].full_name for i in places_in(places, inc.regions)})
        incidents.append(
            {
                "id": inc.id,
                "brand": inc.brand,
                "onset": iso(inc.onset),
                "end": iso(inc.end),
                "kind": inc.kind,
                "onset_shape": inc.onset_shape,
                "magnitude": inc.magnitude,
                "topics": list(inc.topics),
                "regions": list(inc.regions),
                "places": names,
                "scope": inc.scope,
                "peers_hit": list(inc.peers_hit),
                # the brand's scripted own posts (a gaffe, the updates, the apology)
                "updates": [
                    {"at": iso(u.at), "author": u.author, "thread": list(u.thread)}
                    for u in inc.updates
                ],
            }
        )
    rumours = [
        {
            "brand": r.brand,
            "kind": r.kind,
            "url": r.url,
            "domain": r.domain,
            "onset": iso(r.onset),
            "end": iso(r.end),
        }
        for r in sc.rumours
    ]
    floods = [
        {
            "brand": f.brand,
            "author_id": flood_authors[i][0],
            "username": flood_authors[i][1],
            "onset": iso(f.onset),
            "end": iso(f.end),
            "posts": flood_posts[i],
        }
        for i, f in enumerate(sc.floods)
    ]
    return {
        "scenario": sc.name,
        "seed": seed,
        "scale": scale,
        "start": iso(sc.start),
        "end": iso(sc.end),
        "posts": posts,
        "brands": [b.id for b in sc.brands],
        "incidents": incidents,
        "rumours": rumours,
        "floods": floods,
        "spikes": spikes,
        "holidays": sorted({h.date.isoformat() for h in sc.holidays}),
        "noisy_days": sorted({n.date.isoformat() for n in sc.noisy_days}),
        "own_posts": own_posts,
    }


def brands_toml(scenario: Scenario) -> str:
    """The scenario's brands in the brands-file shape of :mod:`uproar.config`."""

    def s(value: str) -> str:
        return orjson.dumps(value).decode()

    def arr(values: tuple[str, ...]) -> str:
        return "[" + ", ".join(s(v) for v in values) + "]"

    lines = [f"# Brands of scenario {scenario.name!s}, written by `uproar simulate`.", ""]
    for b in scenario.brands:
        br = b.brand
        lines += [
            f"[brands.{br.id}]",
            f"name = {s(br.name)}",
            f"handles = {arr(br.handles)}",
            f"keywords = {arr(br.keywords)}",
            f"hashtags = {arr(br.hashtags)}",
            f"regions = {arr(br.regions)}",
            f"peers = {arr(br.peers)}",
            # Its industry chooses its topic pack (labels) and reply pack (inbox).
            *([f"industry = {s(b.industry)}"] if b.industry in INDUSTRIES else []),
            "",
        ]
    return "\n".join(lines)
