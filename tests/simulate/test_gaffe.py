"""The bad-reply gaffe scenario: the brand's own flippant post, and the backlash to it."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from uproar.config import load_brands
from uproar.detect.batch import detect_store
from uproar.respond.lint import Linter
from uproar.simulate import load_scenario, simulate
from uproar.sources import ingest
from uproar.store import Store

from .conftest import read_pages


def test_the_gaffe_is_planted_with_its_truth(tmp_path: Path) -> None:
    spec = load_scenario("telco-gaffe")
    result = simulate(spec, tmp_path / "g.jsonl", seed=spec.seed)
    (incident,) = result.truth["incidents"]
    assert incident["kind"] == "crisis" and incident["brand"] == "pukeko"
    gaffe, apology = incident["updates"]
    onset = datetime.fromisoformat(incident["onset"])
    assert datetime.fromisoformat(gaffe["at"]) < onset < datetime.fromisoformat(apology["at"])
    # The linter catches what went wrong with the gaffe, and passes the apology.
    linter = Linter()
    found = {f.category for f in linter.lint(gaffe["thread"][0], kind="reply")}
    assert "flippant" in found
    assert not any(linter.has_errors(linter.lint(text, kind="reply")) for text in apology["thread"])
    # Replies and quotes to the gaffe pile up until the apology (the backlash): more than
    # any other post of the brand's before it draws.
    tweets = [t for page in read_pages(result.out) for t in page["data"]]
    gaffe_id = next(t["id"] for t in tweets if t["text"] == gaffe["thread"][0])
    until = datetime.fromisoformat(apology["at"])
    counts = Counter(
        r["id"]
        for t in tweets
        if datetime.fromisoformat(t["created_at"].replace("Z", "+00:00")) < until
        for r in t.get("referenced_tweets", [])
        if r["type"] in ("replied_to", "quoted")
    )
    own = {
        t["id"]
        for t in tweets
        if t["author_id"] == next(a["author_id"] for a in tweets if a["id"] == gaffe_id)
    }
    assert counts[gaffe_id] >= 25
    assert counts[gaffe_id] == max(counts[i] for i in own)
    assert "bad_reply" in incident["topics"]


@pytest.mark.slow
def test_the_detector_finds_the_backlash_as_a_reaction(tmp_path: Path) -> None:
    spec = load_scenario("telco-gaffe")
    result = simulate(spec, tmp_path / "g.jsonl", seed=spec.seed)
    brands = load_brands(result.brands_path)
    with Store(tmp_path / "g.duckdb") as store:
        store.save_brands(brands)
        ingest([result.out], store, brands)
        found = detect_store(store, brands=brands, save=False)
        gaffe_text = result.truth["incidents"][0]["updates"][0]["thread"][0]
        row = store.connection.execute(
            "SELECT id FROM posts WHERE own_brand = 'pukeko' AND text = ?", [gaffe_text]
        ).fetchone()
    assert row is not None
    onset = datetime.fromisoformat(result.truth["incidents"][0]["onset"])
    (incident,) = [i for i in found.incidents if i.brand == "pukeko"]
    assert abs(incident.start - onset) < timedelta(minutes=45)
    reactions = [r for r in incident.rumours if r["kind"] == "reaction"]
    assert any(r["reacts_to"] == f"post {row[0]}" for r in reactions)
