"""What changed about an incident between two looks at it: the events worth an alert.

``Snapshot`` is the part of an incident that alerts care about; ``transitions(before,
after)`` is a pure function from two snapshots of one incident to its events:

* ``opened``   -- first seen open, or open again after it had resolved (a re-opening);
* ``escalated`` -- severity went up (severities never go down: they follow the peak);
* ``scope``    -- "us or everyone" changed (brand <-> industry), or the set of peers that
  surged, or a new region joined;
* ``resolved`` -- it was open and now has an end.

Each event has a ``revision``: a string fixed by the snapshot it describes (the severity
reached, the scope reached, the phase that opened or ended). The same transition seen
again, by this process or by one restarted after ``kill -9``, has the same revision, so
the store's unique key (incident, event, channel, revision) makes sending idempotent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from uproar.alerts.config import severity_rank
from uproar.records import Incident

EventKind = Literal["opened", "escalated", "scope", "resolved"]
EVENT_KINDS: tuple[EventKind, ...] = ("opened", "escalated", "scope", "resolved")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One incident as alerts see it. ``phase`` counts openings (1 for the first, 2 after
    one re-opening): the detector keeps a re-opened incident's id."""

    id: str
    brand: str
    severity: str
    scope: str  # brand | industry
    peers: tuple[str, ...]  # the peers that surged, sorted
    regions: tuple[str, ...]  # sorted
    open: bool
    phase: int = 1
    end: datetime | None = None

    @classmethod
    def of(cls, incident: Incident) -> Snapshot:
        return cls(
            id=incident.id,
            brand=incident.brand,
            severity=incident.severity,
            scope=incident.scope,
            peers=tuple(sorted({str(p.get("brand", "")) for p in incident.peers} - {""})),
            regions=tuple(sorted(set(incident.regions))),
            open=incident.end is None,
            phase=max(1, len(incident.phases)),
            end=incident.end,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "brand": self.brand,
            "severity": self.severity,
            "scope": self.scope,
            "peers": list(self.peers),
            "regions": list(self.regions),
            "open": self.open,
            "phase": self.phase,
            "end": self.end.isoformat() if self.end else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Snapshot:
        end = data.get("end")
        return cls(
            id=str(data["id"]),
            brand=str(data["brand"]),
            severity=str(data["severity"]),
            scope=str(data["scope"]),
            peers=tuple(data.get("peers") or ()),
            regions=tuple(data.get("regions") or ()),
            open=bool(data["open"]),
            phase=int(data.get("phase") or 1),
            end=datetime.fromisoformat(end) if end else None,
        )

    @property
    def scope_key(self) -> str:
        """The scope as one comparable string: ``industry:peer1+peer2@NZ-AUK,NZ-WGN``."""
        return f"{self.scope}:{'+'.join(self.peers)}@{','.join(self.regions)}"


@dataclass(frozen=True, slots=True)
class Event:
    """One transition of one incident. ``before`` is None when it is first seen."""

    kind: EventKind
    incident: str
    revision: str
    after: Snapshot
    before: Snapshot | None = None

    @property
    def severity(self) -> str:
        return self.after.severity

    @property
    def to_critical(self) -> bool:
        """An escalation (or opening) that reached critical: it skips the rate limit."""
        return self.kind in ("opened", "escalated") and self.after.severity == "critical"


def transitions(before: Snapshot | None, after: Snapshot) -> list[Event]:
    """The events between two snapshots of one incident, in the order to announce them.

    An incident first seen already resolved yields only ``resolved`` (one message that
    says when it started and ended, not an "opened" straight after it is over)."""
    if before is not None and before.id != after.id:
        raise ValueError(f"snapshots of two incidents: {before.id!r} and {after.id!r}")
    after = carry(before, after)
    events: list[Event] = []

    def add(kind: EventKind, revision: str) -> None:
        events.append(Event(kind, after.id, revision, after, before))

    if before is None:
        if after.open:
            add("opened", f"phase{after.phase}")
        else:
            add("resolved", f"phase{after.phase}")
        return events
    if after.phase > before.phase and after.open:
        add("opened", f"phase{after.phase}")
    if severity_rank(after.severity) > severity_rank(before.severity):
        add("escalated", after.severity)
    if _scope_grew(before, after):
        add("scope", f"phase{after.phase}:{after.scope_key}")
    if not after.open and (before.open or after.phase > before.phase):
        add("resolved", f"phase{after.phase}")
    return events


def carry(before: Snapshot | None, after: Snapshot) -> Snapshot:
    """``after`` with its phase counted on from ``before``: an incident that was resolved
    and is open again is in a new phase even when its source does not count phases (the
    incidents table keeps none), and the phase never goes back."""
    if before is None:
        return after
    phase = max(after.phase, before.phase)
    if after.open and not before.open and after.phase <= before.phase:
        phase = before.phase + 1
    return after if phase == after.phase else replace(after, phase=phase)


def _scope_grew(before: Snapshot, after: Snapshot) -> bool:
    """Scope changed in a way worth telling: brand <-> industry, a different set of surged
    peers, or a region that was not affected before (regions leaving is not news)."""
    if after.scope != before.scope or after.peers != before.peers:
        return True
    return bool(set(after.regions) - set(before.regions))
