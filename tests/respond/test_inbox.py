"""The reply inbox on a real DuckDB store: ranking, clusters, drafts, response times, guard."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from uproar.errors import InputError
from uproar.respond.inbox import (
    Inbox,
    build_inbox,
    load_inbox_settings,
    review_reasons,
    save_inbox,
)
from uproar.respond.lint import Linter, Profile
from uproar.respond.platforms import fits
from uproar.respond.thread import Facts, load_facts
from uproar.store import Store
from uproar.store.respond import held_drafts

T0 = datetime(2014, 11, 5, 8, 0, tzinfo=UTC)
FACTS_FILE = resources.files("uproar.respond") / "examples" / "kiwinet-update1.toml"


def post(
    pid: str,
    text: str,
    author: str,
    minute: float,
    *,
    followers: int = 100,
    likes: int = 0,
    reply_to: str | None = None,
    own: str | None = None,
    platform: str = "x",
    brands: tuple[str, ...] = ("kiwinet",),
) -> dict[str, Any]:
    at = (T0 + timedelta(minutes=minute)).replace(tzinfo=None)
    return {
        "platform": platform,
        "id": pid,
        "created_at": at,
        "text": text,
        "author_id": author,
        "author_handle": author,
        "author_followers": followers,
        "reply_to_id": reply_to,
        "brands": list(brands),
        "own_brand": own,
        "like_count": likes,
        "repost_count": 0,
        "ingested_at": at,
    }


def brand_reply(
    pid: str, to: str, minute: float, text: str = "Sorry, we're on it."
) -> dict[str, Any]:
    return post(pid, text, "kiwinet", minute, reply_to=to, own="kiwinet")


DOWN = [
    "Is the internet down in Auckland?",
    "is the internet down in auckland??",
    "Is the internet down in Auckland? @KiwiNet",
    "is the internet down in Auckland right now?",
    "Is the internet down in Auckland?? https://t.co/abc",
]
MODEM = [
    "Do I need to restart my modem?",
    "do i need to restart my modem??",
    "Do I need to restart my modem? @KiwiNet",
]


def scenario() -> list[dict[str, Any]]:
    rows = [post(f"d{i}", t, f"down{i}", 1 + i) for i, t in enumerate(DOWN)]
    rows += [post(f"m{i}", t, f"modem{i}", 10 + i) for i, t in enumerate(MODEM)]
    rows += [
        # urgent, widely followed, a question: should top the ranking on its own
        post(
            "u1",
            "When will it be back? I work from home and need it urgently",
            "boss",
            20,
            followers=250_000,
            likes=300,
        ),
        # a repeat complainer (four posts)
        *[
            post(f"r{i}", f"Still no internet, this is ridiculous ({i})", "angry", 21 + i)
            for i in range(4)
        ],
        post("thanks", "Thanks KiwiNet, lovely service today", "fan", 30),
        post("other", "Unrelated post about another brand", "x1", 31, brands=("acme",)),
        # outside the incident window
        post("early", "Is the internet down in Auckland?", "early", -120),
        # the brand's own replies
        brand_reply("b1", "d0", 9),  # 8 minutes after d0
        brand_reply("b2", "d1", 32),  # 30 minutes after d1
        brand_reply("b3", "r1", 30),  # angry's second post, 8 minutes later
        brand_reply("b4", "m0", 99, text="a reply after 'now' does not count"),
    ]
    return rows


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "inbox.duckdb") as store:
        store.insert_posts(pa.Table.from_pylist(scenario()))
        yield store


@pytest.fixture(scope="module")
def facts() -> Facts:
    return load_facts(Path(str(FACTS_FILE)))


@pytest.fixture(scope="module")
def linter() -> Linter:
    return Linter()


def inbox_for(store: Store, linter: Linter, **kw: Any) -> Inbox:
    kw.setdefault("since", T0)
    kw.setdefault("now", T0 + timedelta(minutes=60))
    kw.setdefault("industry", "telco")
    return build_inbox(store, brand="kiwinet", linter=linter, **kw)


def open_incident(store: Store, start: float, end: float | None, iid: str = "inc-1") -> None:
    store.connection.execute(
        """INSERT INTO incidents (id, brand, start, detected_at, peak, "end", severity, scope,
                                  posts, authors)
           VALUES ($id, 'kiwinet', $start, $start, $start, $end, 'high', 'brand', 10, 10)""",
        {
            "id": iid,
            "start": (T0 + timedelta(minutes=start)).replace(tzinfo=None),
            "end": None if end is None else (T0 + timedelta(minutes=end)).replace(tzinfo=None),
        },
    )


def test_clusters_by_intent_and_theme(db: Store, linter: Linter) -> None:
    inbox = inbox_for(db, linter)
    by_ids = {frozenset(m.id for m in c.mentions): c for c in inbox.clusters}
    # "is the internet down", "do I need to restart my modem" and "still no internet" in
    # their own words: one theme (no_connection), people asking for help, one cluster.
    ids = {"d0", "d1", "d2", "d3", "d4", "m0", "m1", "m2", "r0", "r1", "r2", "r3"}
    down = by_ids[frozenset(ids)]
    assert (down.intent, down.topic) == ("question", "no_connection")
    assert (down.count, down.authors) == (12, 9)
    assert {m.intent for m in down.mentions} == {"question", "problem"}
    thanks = by_ids[frozenset({"thanks"})]
    assert thanks.intent == "thanks"
    assert inbox.mentions == 14 and inbox.needing_reply == 14
    assert inbox.clusters_total == len(inbox.clusters) == 3


def test_ranking_signals(db: Store, linter: Linter) -> None:
    inbox = inbox_for(db, linter)
    mentions = {m.id: m for c in inbox.clusters for m in c.mentions}
    boss = mentions["u1"]
    assert boss.signals["question"] == boss.signals["urgency"] == 1.0
    assert boss.signals["reach"] > 0.8
    assert mentions["r0"].signals["repeat"] == 1.0 and mentions["r0"].signals["anger"] > 0.5
    assert mentions["d0"].signals["unanswered"] == 0.0 and mentions["d2"].signals["unanswered"] == 1
    assert mentions["d2"].score > mentions["d0"].score  # same text, not yet answered
    scores = [c.score for c in inbox.clusters]
    assert scores == sorted(scores, reverse=True)
    assert inbox.clusters[0].count == 12


def test_no_known_problem_without_an_open_incident(db: Store, linter: Linter, facts: Facts) -> None:
    inbox = inbox_for(db, linter, facts=facts)
    for cluster in inbox.clusters:
        text = cluster.draft.text.lower()
        assert "not just you" not in text and "we know about" not in text, text
        assert facts.what not in text
    # The same posts while an incident is open: now the draft may say so, with the facts.
    open_incident(db, 0, None)
    during = inbox_for(db, linter, facts=facts)
    down = during.clusters[0]
    assert "not just you" in down.draft.text.lower()
    assert facts.doing in down.draft.text
    thanks = next(c for c in during.clusters if c.intent == "thanks")
    assert "not just you" not in thanks.draft.text.lower()


def test_incident_must_cover_the_post_time(db: Store, linter: Linter) -> None:
    open_incident(db, 200, None)  # opens after every post in the window
    inbox = inbox_for(db, linter)
    assert not any("not just you" in c.draft.text.lower() for c in inbox.clusters)


def test_thanks_get_thanks(db: Store, linter: Linter) -> None:
    open_incident(db, 0, None)
    thanks = next(c for c in inbox_for(db, linter).clusters if c.intent == "thanks")
    assert "thank" in thanks.draft.text.lower()
    assert "sorry" not in thanks.draft.text.lower() and "apolog" not in thanks.draft.text.lower()


def test_every_draft_lints_clean_and_fits(db: Store, linter: Linter, facts: Facts) -> None:
    for with_facts in (None, facts):
        inbox = inbox_for(db, linter, facts=with_facts)
        for cluster in inbox.clusters:
            draft = cluster.draft
            assert linter.lint(draft.text, kind="reply") == [], draft.text
            assert fits(draft.text, draft.platform)
            assert draft.source == "template" and draft.note is None


def test_response_times(db: Store, linter: Linter) -> None:
    inbox = inbox_for(db, linter)
    r = inbox.response
    assert (r.mentions, r.answered, r.unanswered) == (14, 3, 11)
    assert r.median_first_reply_s == 480.0
    assert r.oldest_unanswered_s == (60 - 3) * 60.0  # d2, posted at minute 3
    assert inbox.author_first_reply_s["x:down0"] == 480.0
    assert inbox.author_first_reply_s["x:angry"] == 540.0
    assert inbox.author_first_reply_s["x:modem0"] is None


def test_guard_holds_links_to_complaints(db: Store, linter: Linter) -> None:
    assert review_reasons("See https://status.kiwinet.co.nz", to_complaint=False) == ()
    assert review_reasons("We're sorry.", media=(), to_complaint=True) == ()
    assert review_reasons("sorry", media=("x.png",), to_complaint=True)
    reasons = review_reasons("See https://status.kiwinet.co.nz", to_complaint=True)
    assert "link (https://status.kiwinet.co.nz)" in reasons[0]


def test_saved_drafts_wait_for_review(db: Store, linter: Linter) -> None:
    inbox = inbox_for(db, linter)
    assert save_inbox(db, inbox) == len(inbox.clusters)
    assert save_inbox(db, inbox) == len(inbox.clusters)  # saving again replaces
    count = db.connection.execute("SELECT count(*) FROM reply_drafts").fetchall()[0][0]
    assert count == len(inbox.clusters)
    assert held_drafts(db, brand="kiwinet") == []


def test_name_and_signoff(db: Store) -> None:
    db.connection.execute("UPDATE posts SET author_name = 'Aroha Smith' WHERE id = 'u1'")
    voice = Linter(Profile(signoff="^KN"))
    inbox = inbox_for(db, voice)
    boss = next(c for c in inbox.clusters if c.count == 1 and c.mentions[0].id == "u1")
    assert boss.draft.text.startswith("Hi Aroha, ") and boss.draft.text.endswith(" ^KN")
    many = inbox.clusters[0]
    assert not many.draft.text.startswith("Hi ")  # a holding reply to many names no one
    assert voice.lint(boss.draft.text, kind="reply") == []


def test_incident_window_from_the_store(db: Store, linter: Linter) -> None:
    open_incident(db, 10, 20)
    inbox = build_inbox(db, incident="inc-1", linter=linter)
    assert inbox.brand == "kiwinet" and inbox.incident == "inc-1"
    ids = {m.id for c in inbox.clusters for m in c.mentions}
    assert ids == {"m0", "m1", "m2"}  # [10, 20) only
    assert inbox.now == T0 + timedelta(minutes=20)
    with pytest.raises(InputError, match="no incident 'nope'"):
        build_inbox(db, incident="nope", linter=linter)
    with pytest.raises(InputError, match="about 'kiwinet', not 'acme'"):
        build_inbox(db, incident="inc-1", brand="acme", linter=linter)


def test_needs_a_brand_or_incident(db: Store, linter: Linter) -> None:
    with pytest.raises(InputError, match="incident or a brand"):
        build_inbox(db, linter=linter)
    empty = build_inbox(db, brand="nobody", linter=linter)
    assert empty.clusters == () and empty.mentions == 0


def test_settings_are_data() -> None:
    settings = load_inbox_settings()
    assert settings.weights["question"] > 0 and 0 < settings.similarity < 1


def test_cli_inbox(tmp_path: Path) -> None:
    from uproar.cli import respond  # noqa: F401  (registers the commands)
    from uproar.cli.app import app

    path = tmp_path / "cli.duckdb"
    with Store(path) as store:
        store.insert_posts(pa.Table.from_pylist(scenario()))
    args = [
        "inbox",
        "--db",
        str(path),
        "--brand",
        "kiwinet",
        "--since",
        "2014-11-05T08:00",
        "--now",
        "2014-11-05T09:00",
        "--industry",
        "telco",
        "--facts",
        str(FACTS_FILE),
    ]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["clusters"][0]["count"] == 12
    assert data["response"]["median_first_reply_s"] == 480.0
    assert {"text", "needs_review", "findings"} <= set(data["clusters"][0]["draft"])
    human = CliRunner().invoke(app, [*args, "--save"])
    assert human.exit_code == 0 and "need a reply" in human.stdout
    assert "saved 3 drafts" in human.stdout


def test_an_answer_to_the_brand_is_information(db: Store, linter: Linter) -> None:
    db.insert_posts(
        pa.Table.from_pylist([post("a1", "Auckland, Ponsonby", "down0", 12, reply_to="b1")])
    )
    inbox = inbox_for(db, linter)
    answer = next(m for c in inbox.clusters for m in c.mentions if m.id == "a1")
    assert answer.intent == "information"
