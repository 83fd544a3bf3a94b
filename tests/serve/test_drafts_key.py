"""Reply drafts are keyed by their inbox (the brand's, or one incident's) as well as the
moment and the cluster: a brand's inbox and an incident's inbox saved at the same moment
keep their own drafts, and older stores keyed without the incident are upgraded."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from uproar.store import Store
from uproar.store.pages import draft_posts, draft_text
from uproar.store.respond import save_drafts

AT = datetime(2014, 9, 6, 12, tzinfo=UTC)
OLD_TABLE = """
CREATE TABLE reply_drafts (
    brand VARCHAR NOT NULL, drafted_at TIMESTAMP NOT NULL, cluster INTEGER NOT NULL,
    incident VARCHAR, intent VARCHAR NOT NULL, platform VARCHAR NOT NULL,
    text VARCHAR NOT NULL, source VARCHAR NOT NULL, needs_review BOOLEAN NOT NULL,
    review_reasons VARCHAR[], findings JSON, post_ids VARCHAR[] NOT NULL,
    PRIMARY KEY (brand, drafted_at, cluster))
"""


def draft(text: str, post: str) -> dict[str, object]:
    return {"cluster": 1, "intent": "eta", "platform": "x", "text": text, "source": "template",
            "needs_review": False, "review_reasons": [], "findings": [],
            "post_ids": [post]}  # fmt: skip


def save_both(store: Store) -> None:
    save_drafts(store, brand="kiwinet", drafted_at=AT, incident=None,
                drafts=[draft("brand inbox reply", "x:1")])  # fmt: skip
    save_drafts(store, brand="kiwinet", drafted_at=AT, incident="kiwinet-1",
                drafts=[draft("incident inbox reply", "x:2")])  # fmt: skip


def texts(store: Store) -> tuple[str | None, str | None]:
    key = {"brand": "kiwinet", "drafted_at": AT, "cluster": 1}
    return draft_text(store, **key, incident=None), draft_text(store, **key, incident="kiwinet-1")


def test_the_brand_inbox_and_an_incident_inbox_saved_at_once_keep_their_drafts() -> None:
    with Store() as store:
        save_both(store)
        assert texts(store) == ("brand inbox reply", "incident inbox reply")
        key = {"brand": "kiwinet", "drafted_at": AT, "cluster": 1}
        assert draft_posts(store, **key, incident="kiwinet-1") == ["x:2"]
        # saving one inbox again replaces its drafts only
        save_drafts(store, brand="kiwinet", drafted_at=AT, incident=None,
                    drafts=[draft("brand inbox, again", "x:3")])  # fmt: skip
        assert texts(store) == ("brand inbox, again", "incident inbox reply")
        rows = store.connection.execute("SELECT count(*) FROM reply_drafts").fetchall()
        assert rows == [(2,)]


def test_a_store_keyed_without_the_incident_is_upgraded_keeping_its_drafts(
    tmp_path: Path,
) -> None:
    db = tmp_path / "old.duckdb"
    with Store(db) as store:  # made as an older Uproar made it
        store.connection.execute("DROP TABLE reply_drafts")
        store.connection.execute(OLD_TABLE)
        store.connection.execute(
            """INSERT INTO reply_drafts VALUES ('kiwinet', '2014-09-06 11:00', 1, NULL, 'eta',
               'x', 'kept from before', 'template', FALSE, [], '[]', ['x:0'])"""
        )
    with duckdb.connect(str(db)) as con:  # what the old store's key is
        pk = con.execute(
            """SELECT count(*) FROM duckdb_constraints()
               WHERE table_name = 'reply_drafts' AND constraint_type = 'PRIMARY KEY'"""
        ).fetchall()
    assert pk == [(1,)]
    with Store(db) as store:  # opened for writing: upgraded
        save_both(store)
        assert texts(store) == ("brand inbox reply", "incident inbox reply")
        old = store.connection.execute(
            "SELECT text FROM reply_drafts WHERE drafted_at = '2014-09-06 11:00'"
        ).fetchall()
        assert old == [("kept from before",)]
    with Store(db) as store:  # and opened again, nothing more to do
        assert texts(store) == ("brand inbox reply", "incident inbox reply")
