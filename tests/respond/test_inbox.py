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

from uproar.errors import ConfigError, InputError
from uproar.respond.inbox import (
    INTENTS,
    Inbox,
    ReplyTemplate,
    build_inbox,
    load_inbox_settings,
    load_reply_templates,
    normalise,
    review_reasons,
    save_inbox,
)
from uproar.respond.lint import Linter
from uproar.respond.platforms import fits
from uproar.respond.thread import Facts, fill_facts, load_facts
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
            "When will it be back? I run a business from home and need it urgently",
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
    return build_inbox(store, brand="kiwinet", linter=linter, **kw)


def test_clusters_collapse_repeated_questions(db: Store, linter: Linter) -> None:
    inbox = inbox_for(db, linter)
    by_label = {normalise(c.label): c for c in inbox.clusters}
    down = next(c for c in inbox.clusters if "down in auckland" in normalise(c.label))
    modem = next(c for c in inbox.clusters if "restart my modem" in normalise(c.label))
    assert down.count == 5 and down.authors == 5 and down.unanswered == 3
    assert modem.count == 3 and modem.unanswered == 3  # the 99th-minute reply is after now
    assert down.intent == "status" and modem.intent == "what_to_do"
    angry = next(c for c in inbox.clusters if "ridiculous" in c.label)
    assert angry.count == 4
    assert "lovely service" not in " ".join(by_label)  # praise needs no reply
    assert inbox.mentions == 14 and inbox.needing_reply == 13
    assert inbox.clusters_total == len(inbox.clusters) == 4


def test_ranking_signals(db: Store, linter: Linter) -> None:
    inbox = inbox_for(db, linter)
    mentions = {m.id: m for c in inbox.clusters for m in c.mentions}
    boss = mentions["u1"]
    assert boss.signals["question"] == boss.signals["urgency"] == 1.0
    assert boss.signals["reach"] > 0.8
    # The lone urgent, far-reaching question outranks every single mention.
    assert boss.score == max(m.score for m in mentions.values())
    assert mentions["r0"].signals["repeat"] == 1.0 and mentions["r0"].signals["anger"] > 0
    assert mentions["d0"].signals["unanswered"] == 0.0 and mentions["d2"].signals["unanswered"] == 1
    assert mentions["d2"].score > mentions["d0"].score  # same text, not yet answered
    scores = [c.score for c in inbox.clusters]
    assert scores == sorted(scores, reverse=True)
    # The five people asking one thing rise above a single, similar question.
    assert inbox.clusters[0].count == 5


def test_labels_override_the_fallback(db: Store, linter: Linter) -> None:
    db.save_labels(
        pa.Table.from_pylist(
            [
                {
                    "platform": "x",
                    "id": "thanks",
                    "complaint": True,
                    "sentiment": "negative",
                    "question": True,
                    "urgency": False,
                },
            ]
        )
    )
    inbox = inbox_for(db, linter)
    thanks = next(m for c in inbox.clusters for m in c.mentions if m.id == "thanks")
    assert thanks.signals["question"] == 1.0 and thanks.signals["anger"] == 1.0
    assert inbox.needing_reply == 14


def test_every_draft_lints_clean_and_fits(db: Store, linter: Linter, facts: Facts) -> None:
    for with_facts in (facts, None):
        inbox = inbox_for(db, linter, facts=with_facts)
        for cluster in inbox.clusters:
            draft = cluster.draft
            assert not linter.has_errors(linter.lint(draft.text, kind="reply")), draft.text
            assert fits(draft.text, draft.platform)
            assert draft.source == "template" and draft.note is None
    status = next(c for c in inbox_for(db, linter, facts=facts).clusters if c.intent == "status")
    assert "not working at all for a lot of you" in status.draft.text


def test_response_times(db: Store, linter: Linter) -> None:
    inbox = inbox_for(db, linter)
    r = inbox.response
    assert (r.mentions, r.answered, r.unanswered) == (13, 3, 10)
    # d0 answered after 8 min, d1 after 30 min, r1 after 8 min.
    assert r.median_first_reply_s == 480.0
    assert r.p90_first_reply_s == pytest.approx(480 + 0.8 * 1320)
    assert r.oldest_unanswered_s == (60 - 3) * 60.0  # d2, posted at minute 3
    assert inbox.author_first_reply_s["x:down0"] == 480.0
    # angry's first post was at minute 21; the first reply to any of theirs came at 30.
    assert inbox.author_first_reply_s["x:angry"] == 540.0
    assert inbox.author_first_reply_s["x:modem0"] is None
    down = next(c for c in inbox.clusters if c.count == 5)
    assert down.first_reply_s == 480.0  # first mention at minute 1, first reply at 9
    assert down.median_reply_s == (480.0 + 1800.0) / 2


def test_guard_holds_links_and_media_to_complaints(db: Store, linter: Linter) -> None:
    media = ReplyTemplate("complaint", "We're really sorry about this.", media=("sorry.gif",))
    link = ReplyTemplate(
        "status", "Sorry, it's not just you. Live updates: https://status.kiwinet.co.nz"
    )
    replies = dict(load_reply_templates())
    replies["complaint"] = (media,)
    replies["status"] = (link,)
    inbox = inbox_for(db, linter, replies=replies)
    angry = next(c for c in inbox.clusters if c.intent == "complaint")
    assert angry.draft.needs_review and "media (sorry.gif)" in angry.draft.review_reasons[0]
    down = next(c for c in inbox.clusters if c.intent == "status")
    assert down.draft.needs_review
    assert "link (https://status.kiwinet.co.nz)" in down.draft.review_reasons[0]
    # The same link to someone who only asked a question is fine.
    assert review_reasons("See https://status.kiwinet.co.nz", to_complaint=False) == ()
    assert review_reasons("We're sorry.", media=(), to_complaint=True) == ()
    assert review_reasons("sorry", media=("x.png",), to_complaint=True)


def test_saved_drafts_wait_for_review(db: Store, linter: Linter) -> None:
    link = ReplyTemplate(
        "status", "Sorry, it's not just you. Updates: https://status.kiwinet.co.nz"
    )
    replies = {**load_reply_templates(), "status": (link,)}
    inbox = inbox_for(db, linter, replies=replies)
    assert save_inbox(db, inbox) == len(inbox.clusters)
    assert save_inbox(db, inbox) == len(inbox.clusters)  # saving again replaces
    (held,) = held_drafts(db, brand="kiwinet")
    assert held["intent"] == "status" and held["needs_review"]
    assert held["cluster"] == 1 and len(held["post_ids"]) == 5
    assert "link" in held["review_reasons"][0]
    count = db.connection.execute("SELECT count(*) FROM reply_drafts").fetchall()[0][0]
    assert count == len(inbox.clusters)


def test_incident_window_from_the_store(db: Store, linter: Linter) -> None:
    db.connection.execute(
        """INSERT INTO incidents (id, brand, start, detected_at, peak, "end", severity, scope,
                                  posts, authors)
           VALUES ($id, 'kiwinet', $start, $start, $start, $end, 'high', 'brand', 10, 10)""",
        {
            "id": "inc-1",
            "start": (T0 + timedelta(minutes=10)).replace(tzinfo=None),
            "end": (T0 + timedelta(minutes=20)).replace(tzinfo=None),
        },
    )
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


def test_settings_and_templates_are_data() -> None:
    settings = load_inbox_settings()
    assert settings.weights["question"] > 0 and 0 < settings.similarity < 1
    replies = load_reply_templates()
    assert all(not r[-1].uses and not r[-1].topics for r in replies.values())


def test_every_shipped_reply_lints_clean_and_fits(linter: Linter, facts: Facts) -> None:
    known = {k for k in ("what", "who", "do", "doing", "next_update", "link") if getattr(facts, k)}
    for intent, templates in load_reply_templates().items():
        for template in templates:
            assert set(template.uses) <= known, (intent, template.text)
            text = fill_facts(template.text, facts)
            assert linter.lint(text, kind="reply") == [], text  # not even a warning
            assert fits(text, "x"), text


def label(store: Store, ids: list[str], topics: list[list[str]]) -> None:
    rows = [
        {"platform": "x", "id": i, "complaint": True, "sentiment": "negative", "topics": t}
        for i, t in zip(ids, topics, strict=True)
    ]
    store.save_labels(pa.Table.from_pylist(rows))


def test_replies_follow_the_cluster_topic(db: Store, linter: Linter, facts: Facts) -> None:
    angry = [f"r{i}" for i in range(4)]

    def complaint_cluster() -> Any:
        inbox = inbox_for(db, linter, facts=facts)
        return next(c for c in inbox.clusters if c.intent == "complaint")

    generic = complaint_cluster()
    assert generic.topic is None and "password" not in generic.draft.text
    label(db, angry, [["security"]] * 4)
    scam = complaint_cluster()
    assert scam.topic == "security" and scam.to_dict()["topic"] == "security"
    assert "never ask for your password" in scam.draft.text and facts.doing in scam.draft.text
    label(db, angry, [["billing", "security"], ["billing"], ["billing"], []])
    billing = complaint_cluster()
    assert billing.topic == "billing" and "account name" in billing.draft.text
    # Labelled with both, a cluster takes the topic particular to it, not the one the
    # whole inbox shares.
    label(db, [f"d{i}" for i in range(5)], [["no_connection"]] * 5)
    label(db, angry, [["no_connection", "security"]] * 4)
    assert complaint_cluster().topic == "security"
    # One member in four is under a third of the cluster: the general reply again.
    label(db, angry, [["baggage"], [], [], []])
    assert complaint_cluster().topic is None
    assert complaint_cluster().draft.text == generic.draft.text
    for cluster in (scam, billing):
        assert not linter.has_errors(linter.lint(cluster.draft.text, kind="reply"))


def test_a_topic_reply_cannot_be_the_last(tmp_path: Path) -> None:
    path = tmp_path / "replies.toml"
    lines = [f'[[{i}]]\ntext = "Sorry, we are on it."\n' for i in INTENTS]
    lines.append('[[other]]\ntopics = ["billing"]\ntext = "Sorry about the bill."\n')
    path.write_text("\n".join(lines))
    with pytest.raises(ConfigError, match="last 'other' reply must need no facts and no topic"):
        load_reply_templates(path)
    # A topic given as a bare string would read as its letters: refused, naming the key.
    path.write_text("\n".join(lines[:-1]).replace("[[other]]\n", '[[other]]\ntopics = "billing"\n'))
    with pytest.raises(ConfigError, match=r"other\[0\]\.topics must be a list of strings"):
        load_reply_templates(path)
    path.write_text("\n".join(lines[:-1]).replace('text = "Sorry, we are on it."', "", 1))
    with pytest.raises(ConfigError, match=r"eta\[0\] needs a `text` string"):
        load_reply_templates(path)


def test_normalise() -> None:
    assert normalise("Is it DOWN?? https://t.co/x @KiwiNet #outage 42") == "is it down?? outage 0"


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
        "--facts",
        str(FACTS_FILE),
    ]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["clusters"][0]["count"] == 5
    assert data["response"]["median_first_reply_s"] == 480.0
    assert {"text", "needs_review", "findings"} <= set(data["clusters"][0]["draft"])
    human = CliRunner().invoke(app, [*args, "--save"])
    assert human.exit_code == 0 and "need a reply" in human.stdout
    assert "saved 4 drafts" in human.stdout
