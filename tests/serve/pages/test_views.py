"""The page views over a real store built from the simulator (no web code involved)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from uproar.errors import InputError, UnknownNameError
from uproar.serve.views import composer_view, decide, inbox_view, incident_view, now_view
from uproar.store import Store
from uproar.store.detect import load_incidents
from uproar.store.pages import decisions, pulse

from .conftest import HOSTILE, Served

pytestmark = pytest.mark.slow  # the session's store takes a simulated incident to build


def test_now_shows_every_brand_against_its_usual_range(served_store: Served) -> None:
    with Store(served_store.db, read_only=True) as store:
        incident = next(i for i in load_incidents(store) if i.id == served_store.incident)
        view = now_view(store, incident.peak + timedelta(minutes=30))
    assert [b.id for b in view.brands] == ["kiwinet", "tuinet", "wekamobile"]
    kiwi = view.brands[0]
    # an hour into the 2014 outage KiwiNet is far above its usual range; its peers are not
    assert kiwi.high is not None and kiwi.mentions > kiwi.high
    assert kiwi.state == "above usual" and kiwi.complaints > 0 and kiwi.open_incidents == 1
    # people comparing providers raise a peer's mentions a little, not its complaints
    assert view.brands[1].state == "usual"
    (card,) = view.open_incidents
    assert card.id == served_store.incident and card.verdict == "us"
    assert card.verdict_text.startswith("It's us: only KiwiNet surged")
    assert [p.brand for p in card.peers] == ["tuinet", "wekamobile"]
    assert not any(p.surged for p in card.peers)
    # the bait link of the 2014 case, shown as a domain (never a link)
    assert any(r.bait_link and "leaked" in r.label for r in view.rumours)
    assert view.chart["facet"]["row"]["field"] == "brand"
    assert sum(n for _, n, _ in kiwi.series) > 0


def test_now_at_the_end_of_the_archive_has_nothing_open(served_store: Served) -> None:
    with Store(served_store.db, read_only=True) as store:
        view = now_view(store)
    assert view.now == datetime(2014, 9, 8, 11, 59, 31, tzinfo=UTC)
    assert view.open_incidents == ()


def test_now_refuses_an_empty_store() -> None:
    with Store(":memory:") as store, pytest.raises(InputError, match="no posts yet"):
        now_view(store)


def test_incident_view_has_the_chapter(served_store: Served) -> None:
    with Store(served_store.db, read_only=True) as store:
        view = incident_view(store, served_store.incident)
    assert view.card.id == served_store.incident
    assert view.timeline[0].what == "Complaints begin (onset)"
    assert set(view.charts) == {"volume", "sentiment", "topics", "regions"}
    assert len(view.samples) == 5 and all(s.text for s in view.samples)
    assert "supplied" in view.terms
    hostile = [p for p in view.updates if p.text == HOSTILE]
    assert hostile, "the brand's own posts include the hostile one, verbatim"
    assert view.measures["updates"] == len(view.updates)
    assert any(f.rule == "Uproar.BlameCustomer" for p in view.updates for f in p.findings)


def test_unknown_incident_names_the_known_ones(served_store: Served) -> None:
    with (
        Store(served_store.db, read_only=True) as store,
        pytest.raises(UnknownNameError, match=served_store.incident),
    ):
        incident_view(store, "kiwinet-nope")


def test_inbox_decisions_are_recorded(served_copy: Served) -> None:
    at = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)
    with Store(served_copy.db) as store:
        view = inbox_view(store, "kiwinet", incident=served_copy.incident)
        first = view.inbox.clusters[0]
        assert view.pending == len(view.inbox.clusters) and first.draft.text
        decision = decide(
            store,
            brand="kiwinet",
            drafted_at=view.drafted_at,
            cluster=first.id,
            action="approve",
            by="alice",
            at=at,
            text=first.draft.text + " Thanks for your patience.",
            incident=served_copy.incident,
        )
        assert decision.edited and decision.by == "alice"
        again = inbox_view(store, "kiwinet", incident=served_copy.incident)
        assert again.decisions[first.id] == decision
        assert again.pending == view.pending - 1
        assert decisions(store, brand="kiwinet") == [decision]
        with pytest.raises(InputError, match="no saved draft"):
            decide(store, brand="kiwinet", drafted_at=at, cluster=1, action="approve",
                   by="alice", at=at)  # fmt: skip
        # the brand's own inbox is another inbox: the incident's decision is not its
        whole = inbox_view(store, "kiwinet", now=view.drafted_at)
        assert whole.drafted_at == view.drafted_at and whole.decisions == {}
        with pytest.raises(InputError, match="action must be"):
            decide(store, brand="kiwinet", drafted_at=view.drafted_at, cluster=1,
                   action="post", by="alice", at=at)  # fmt: skip


def test_inbox_unknown_brand(served_store: Served) -> None:
    with (
        Store(served_store.db, read_only=True) as store,
        pytest.raises(UnknownNameError, match="known: kiwinet, tuinet, wekamobile"),
    ):
        inbox_view(store, "kiwinett")


def test_pulse_moves_with_incidents(served_copy: Served) -> None:
    with Store(served_copy.db) as store:
        before = pulse(store)
        # the 40-hour modem outage is one incident, its flare the next evening a phase
        assert before.posts > 20_000 and len(before.incidents) == 1
        store.connection.execute("UPDATE incidents SET severity = 'critical' WHERE id = ?",
                                 [served_copy.incident])  # fmt: skip
        after = pulse(store)
    assert after != before and after.posts == before.posts


def test_composer_view_locates_the_blame() -> None:
    text = "Update: 🙏 Most of these modems were not supplied by us"
    view = composer_view(text, kind="update")
    blame = next(s for s in view.spans if s.rule == "Uproar.BlameCustomer")
    assert text[blame.start : blame.end] == "not supplied by us"
    # the emoji is one code point and two UTF-16 units
    assert (blame.start16, blame.end16) == (blame.start + 1, blame.end + 1)
    assert any(s.whole for s in view.spans)  # the missing facts are about the whole draft
    assert {c.platform for c in view.counts} == {"x", "mastodon", "bluesky", "facebook"}
    assert all(c.fits for c in view.counts)
    assert all(len(t.posts) == 1 for t in view.threads)


def test_composer_view_splits_a_long_update_into_threads() -> None:
    text = " ".join(f"Sentence number {n} about the outage in Wellington." for n in range(30))
    view = composer_view(text, kind="update")
    counts = {c.platform: c for c in view.counts}
    assert not counts["x"].fits and counts["facebook"].fits
    threads = {t.platform: t for t in view.threads}
    assert len(threads["x"].posts) > 1 and len(threads["facebook"].posts) == 1
    assert all(n <= 280 for _, n in threads["x"].posts)
    assert threads["x"].posts[0][0].endswith(f"1/{len(threads['x'].posts)}")


def test_composer_refuses_a_huge_draft() -> None:
    with pytest.raises(InputError, match="checks up to"):
        composer_view("a" * 20_001)


def _stored_peers(db: object, incident: str, peers: str | None, scope: str) -> None:
    with Store(str(db)) as store:
        store.connection.execute(
            "UPDATE incidents SET peers = $peers, scope = $scope WHERE id = $id",
            {"peers": peers, "scope": scope, "id": incident},
        )


def test_now_shows_the_peers_the_detector_stored_with_the_incident(served_copy: Served) -> None:
    """The verdict and the surged peers come from the incident as stored (its scope and its
    ``peers`` column), not from the peers' complaints counted again."""
    surged = '[{"brand": "tuinet", "signal": 42.0, "expected": 7.5, "excess": 34.5}]'
    _stored_peers(served_copy.db, served_copy.incident, surged, "industry")
    with Store(served_copy.db, read_only=True) as store:
        incident = next(i for i in load_incidents(store) if i.id == served_copy.incident)
        (card,) = now_view(store, incident.peak + timedelta(minutes=30)).open_incidents
    assert card.verdict == "everyone"
    assert card.verdict_text.startswith("It's everyone: TuiNet surged too")
    tui, weka = card.peers
    assert (tui.brand, tui.surged, tui.signal, tui.expected) == ("tuinet", True, 42.0, 7.5)
    assert (weka.brand, weka.surged, weka.signal) == ("wekamobile", False, None)
    assert {p.source for p in card.peers} == {"detector"}


def test_an_industry_incident_stored_without_peers_counts_their_complaints(
    served_copy: Served,
) -> None:
    _stored_peers(served_copy.db, served_copy.incident, None, "industry")  # an older store
    with Store(served_copy.db, read_only=True) as store:
        incident = next(i for i in load_incidents(store) if i.id == served_copy.incident)
        (card,) = now_view(store, incident.peak + timedelta(minutes=30)).open_incidents
    assert [p.source for p in card.peers] == ["complaints", "complaints"]
    assert all(p.signal is not None and p.expected is not None for p in card.peers)


def test_watch_lag_is_read_beside_the_store_and_says_when_the_watch_stopped(
    served_copy: Served,
) -> None:
    from uproar.serve.views.now import WATCH_STALE, watch_lag
    from uproar.store.watch import save_status
    from uproar.watch.runner import write_status

    now = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    status = {"at": (now - timedelta(seconds=5)).isoformat(), "running_s": 60.0, "stored": 1200,
              "pending": 3, "lag_stored_s": {"count": 1200, "p50": 0.38, "p99": 2.02},
              "lag_detected_s": {"count": 1100, "p50": 3.6, "p99": 6.5},
              "error": None}  # fmt: skip
    with Store(served_copy.db) as store:
        assert watch_lag(store, now=now) is None  # no watch ever ran here
        save_status(store, "watch", status, now=now)  # the table, without the file
        from_table = watch_lag(store, now=now)
        write_status(Path(f"{served_copy.db}.watch.json"), {**status, "stored": 1300})
        from_file = watch_lag(store, now=now)
        stale = watch_lag(store, now=now + WATCH_STALE + timedelta(seconds=10))
    assert from_table is not None and from_table.stored == 1200 and from_table.running
    assert from_file is not None and from_file.stored == 1300
    assert (from_file.stored_p50, from_file.stored_p99) == (0.38, 2.02)
    assert (from_file.detected_p50, from_file.detected_p99) == (3.6, 6.5)
    assert stale is not None and not stale.running
