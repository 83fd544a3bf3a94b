"""Transitions between incident snapshots: a pure function, checked on every history."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from uproar.alerts import SEVERITIES, Snapshot, transitions
from uproar.alerts.config import severity_rank
from uproar.alerts.events import carry

from .conftest import T0, incident

END = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)

snapshots = st.builds(
    Snapshot,
    id=st.just("inc"),
    brand=st.just("kiwinet"),
    severity=st.sampled_from(SEVERITIES),
    scope=st.sampled_from(["brand", "industry"]),
    peers=st.lists(st.sampled_from(["spark", "vodafone", "2degrees"]), unique=True).map(
        lambda p: tuple(sorted(p))
    ),
    regions=st.lists(st.sampled_from(["NZ-AUK", "NZ-WGN", "NZ-CAN"]), unique=True).map(
        lambda r: tuple(sorted(r))
    ),
    open=st.booleans(),
    phase=st.just(1),  # the incidents table keeps no phases: the worst case
    end=st.just(None),
).map(lambda s: s if s.open else Snapshot(**{**_fields(s), "end": END}))


def _fields(s: Snapshot) -> dict[str, object]:
    return {f: getattr(s, f) for f in Snapshot.__slots__}


def fold(history: list[Snapshot]) -> tuple[list[tuple[str, str]], Snapshot | None]:
    state: Snapshot | None = None
    events: list[tuple[str, str]] = []
    for snap in history:
        events += [(e.kind, e.revision) for e in transitions(state, snap)]
        state = carry(state, snap)
    return events, state


@given(snapshots)
def test_the_same_snapshot_twice_is_no_event(snap: Snapshot) -> None:
    assert transitions(snap, snap) == []
    first = transitions(None, snap)
    assert [e.kind for e in first] == (["opened"] if snap.open else ["resolved"])


@given(snapshots)
def test_a_snapshot_survives_the_store(snap: Snapshot) -> None:
    assert Snapshot.from_json(snap.as_json()) == snap


@given(st.lists(snapshots, min_size=1, max_size=12))
def test_openings_and_resolves_alternate_and_never_repeat(history: list[Snapshot]) -> None:
    events, _ = fold(history)
    life = [e for e in events if e[0] in ("opened", "resolved")]
    kinds = [k for k, _ in life]
    assert all(a != b for a, b in itertools.pairwise(kinds))
    assert len(set(life)) == len(life)  # each (kind, revision) once: the store's key holds
    # a resolve names the phase it ends; an opening the phase it starts
    phases = [int(r.removeprefix("phase")) for _, r in life]
    assert phases == sorted(phases)


@given(st.lists(snapshots, min_size=1, max_size=12))
def test_escalations_only_go_up(history: list[Snapshot]) -> None:
    state: Snapshot | None = None
    for snap in history:
        for e in transitions(state, snap):
            if e.kind == "escalated":
                assert state is not None
                assert severity_rank(e.revision) > severity_rank(state.severity)
                assert e.revision == snap.severity
        state = carry(state, snap)


@given(st.lists(snapshots, min_size=2, max_size=12), st.integers(min_value=1, max_value=11))
def test_a_restart_from_the_stored_state_finds_the_same_events(
    history: list[Snapshot], cut: int
) -> None:
    cut = min(cut, len(history) - 1)
    whole, _ = fold(history)
    before, state = fold(history[:cut])
    assert state is not None
    stored = Snapshot.from_json(state.as_json())  # what alert_state keeps across kill -9
    after: list[tuple[str, str]] = []
    for snap in history[cut:]:
        after += [(e.kind, e.revision) for e in transitions(stored, snap)]
        stored = carry(stored, snap)
    assert before + after == whole


def test_incident_records_become_snapshots() -> None:
    snap = Snapshot.of(
        incident(
            scope="industry",
            peers=({"brand": "vodafone", "excess": 3.0}, {"brand": "spark", "excess": 9.0}),
            regions=("NZ-WGN", "NZ-AUK", "NZ-WGN"),
            phases=({"start": T0}, {"start": T0}),
        )
    )
    assert (snap.peers, snap.regions, snap.phase, snap.open) == (
        ("spark", "vodafone"), ("NZ-AUK", "NZ-WGN"), 2, True,
    )  # fmt: skip
    events = transitions(None, snap)
    assert [(e.kind, e.revision) for e in events] == [("opened", "phase2")]
