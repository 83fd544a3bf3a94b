"""Topic discovery finds an unforeseen issue as its own cluster, named by its terms."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from uproar.understand import discover_topics


def incident(seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    lights = [
        "modem lights flashing orange",
        "router light flashing orange again",
        "orange flashing light on the modem",
    ]
    bills = [
        "charged twice on my bill",
        "double charged this month on the bill",
        "bill charged twice",
    ]
    leeds = ["no internet in leeds", "leeds internet down", "internet out across leeds"]
    out = []
    for group in (lights, bills, leeds):
        for i in range(10):
            out.append(f"@acme {rng.choice(group)} {rng.choice(['', '!!', '😡', 'pls'])} #{i}")
    rng.shuffle(out)
    return out


def test_planted_clusters_are_found_and_named() -> None:
    texts = incident()
    clusters = discover_topics(texts, seed=0)
    assert len(clusters) == 3
    names = [" ".join(c.terms) for c in clusters]
    assert any("orange" in n for n in names)
    assert any("charged" in n or "bill" in n for n in names)
    assert any("leeds" in n for n in names)
    assert sorted(i for c in clusters for i in c.members) == list(range(len(texts)))
    orange = next(c for c in clusters if "orange" in " ".join(c.terms))
    assert all("orange" in texts[i] for i in orange.members)


def test_seeded_and_fixed_k() -> None:
    texts = incident(1)
    assert discover_topics(texts, seed=3) == discover_topics(texts, seed=3)
    assert len(discover_topics(texts, k=2)) == 2


def test_degenerate_inputs() -> None:
    assert discover_topics([]) == []
    assert discover_topics(["", "   ", "the and"]) == []
    assert len(discover_topics(["same text here", "same text here", "same text here"])) <= 1


def test_posts_made_only_of_rare_words_do_not_break_clustering() -> None:
    common = [f"modem lights flashing orange again {i}" for i in range(15)]
    rare = [f"zzq{i} yyx{i}" for i in range(10)]  # every word below min_df
    clusters = discover_topics(common + rare + ["internet slow tonight"] * 5, seed=0)
    assert clusters and all(c.size > 0 for c in clusters)


def test_a_small_unforeseen_issue_stands_out_among_common_complaints() -> None:
    rng = random.Random(5)
    common = [
        f"@acme {rng.choice(['internet', 'broadband', 'connection'])} "
        f"{rng.choice(['so slow', 'down again', 'not working', 'dead'])} "
        f"{rng.choice(['tonight', 'today', 'in auckland', 'again', ''])}"
        for _ in range(200)
    ]
    lights = [
        f"@acme modem lights flashing orange {rng.choice(['??', 'help', ''])}" for _ in range(20)
    ]
    clusters = discover_topics(common + lights, seed=0)
    orange = [c for c in clusters if "orange" in " ".join(c.terms)]
    assert orange and orange[0].size >= 15
    assert all(i >= 200 for i in orange[0].members)  # only the lights posts


@pytest.mark.slow
def test_the_2014_incident_splits_into_several_real_topics(tmp_path: Path) -> None:
    from uproar.config import load_brands
    from uproar.simulate import load_scenario, simulate
    from uproar.sources import ingest
    from uproar.store import Store

    run = simulate(load_scenario("isp-2014"), tmp_path / "isp.jsonl", seed=11)
    onset = datetime.fromisoformat(run.truth["incidents"][0]["onset"])
    with Store() as store:
        ingest([run.out], store, load_brands(run.brands_path))
        texts = store.posts_arrow(
            columns=("text",), brand="kiwinet", since=onset, until=onset + timedelta(hours=8)
        ).column("text").to_pylist()
    clusters = discover_topics(texts, seed=0)
    sizeable = [c for c in clusters if c.size >= 0.02 * len(texts)]
    assert len(sizeable) >= 4, [(c.label, c.size) for c in clusters]
    assert max(c.size for c in clusters) < 0.8 * len(texts)
