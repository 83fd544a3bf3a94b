"""Topic packs per industry: real phrasings, one taxonomy for labels and inbox, a brand's
industry choosing its pack, and the labelled set the packs are scored on."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

from uproar.config import INDUSTRIES, Brand
from uproar.pipeline import ClassifyLabeller
from uproar.respond.answer import load_pack
from uproar.understand import Classifier
from uproar.understand.evaluate import (
    TOPIC_SPLITS,
    TopicPackScore,
    binary_score,
    read_topic_labels,
    topic_scores,
    topics_macro_f1,
    topics_micro_f1,
)
from uproar.understand.taxonomy import default_taxonomy, for_industry, industries, parse_config


def topics(industry: str | None, text: str) -> set[str]:
    return set(Classifier("fast", for_industry(industry)).classify([text])[0].topics)


def test_airline_pack_reads_airline_posts() -> None:
    assert "tv" not in topics("airline", "Freezing on a runway for an hour @SwiftAir")
    assert "tv" not in topics(None, "Freezing on a runway for an hour @SwiftAir")
    wifi = topics("airline", "@SwiftAir the in-flight wifi isn't working, 3 hours to go")
    assert "onboard" in wifi and "no_connection" not in wifi
    assert {"delay_cancellation", "baggage"} <= topics(
        "airline", "@SwiftAir flight cancelled, rebooked for tomorrow and now you lost my bag"
    )
    assert "booking" in topics("airline", "@SwiftAir can I change my seat on my booking?")


def test_telco_pack_reads_plain_outage_wording() -> None:
    found = topics("telco", "anyone else's wifi dead in Wellington?")
    assert {"no_connection", "outage_question"} <= found
    assert "no_connection" in topics("telco", "my wifi is dead")
    assert "no_connection" in topics("isp", "internet keeps dropping out every few minutes")
    assert "slow" in topics("telco", "@acme getting 2 mbps on a 100 plan, buffering all night")
    assert "tv" in topics("telco", "@acme my cable box lost all the channels")


def test_other_packs_read_their_own_posts() -> None:
    assert "money" in topics("bank", "@AcmeBank my card was declined twice today")
    assert "delivery" in topics("retail", "@AcmeShop my parcel never arrived, where is my order")
    assert "crash_bug" in topics("online", "@AcmeApp the app keeps crashing since the update")
    assert "app_website" not in topics("online", "@AcmeApp the app keeps crashing")
    assert "power_outage" in topics("energy", "@AcmePower no power on our street since 6pm")
    assert "meter" in topics("energy", "@AcmePower my smart meter reading looks wrong")


def test_a_general_pack_for_a_brand_without_industry() -> None:
    general = set(for_industry(None).taxonomy.topic_ids)
    assert {"billing", "account", "security", "customer_service", "app_website"} == general
    assert topics(None, "@acme my internet is down and my bill is wrong") == {"billing"}


def test_the_inbox_answers_by_the_same_packs() -> None:
    for industry in (None, *INDUSTRIES):
        pack = load_pack(industry)
        assert {t.id for t in pack.topics} == set(for_industry(industry).taxonomy.topic_ids)
        assert pack.topics[0].id == "security"  # its answer matters most
    airline = load_pack("airline")
    assert airline.topic_of(("no_connection", "onboard", "customer_service")) == "onboard"
    assert airline.topic_of(("customer_service",)) == "customer_service"
    assert airline.topic_of(("tv",)) is None


def test_a_users_topic_works_in_labels_and_inbox() -> None:
    doc = {
        "understand": {
            "industry": "telco",
            "topics": {"router_lights": {"keywords": ["flashing orange"]}},
        }
    }
    config = parse_config(doc)
    labels = Classifier("fast", config).classify(["@acme my hub is flashing orange again"])[0]
    assert "router_lights" in labels.topics
    pack = load_pack("telco", understand=config)
    assert pack.topic_of(labels.topics) == "router_lights"


def test_a_brands_industry_chooses_its_pack_at_ingest() -> None:
    brands = {
        "swift": Brand("swift", "SwiftAir", industry="airline"),
        "acme": Brand("acme", "Acme"),
    }
    labeller = ClassifyLabeller("fast").for_brands(brands)
    assert labeller.industries == (("swift", "airline"),)
    text = "the in-flight wifi is down again, is it down for anyone else?"
    posts = pa.table(
        {
            "platform": ["x", "x"],
            "id": ["1", "2"],
            "text": [text, text],
            "brands": [["swift"], ["acme"]],
        }
    )
    rows = labeller.label(posts).column("topics").to_pylist()
    assert "onboard" in rows[0] and "no_connection" not in rows[0]
    assert {"onboard", "no_connection"} <= set(rows[1])  # no industry: every pack's topics


def test_labelled_set_has_a_test_part_per_industry() -> None:
    rows = read_topic_labels()
    assert {r["split"] for r in rows} == set(TOPIC_SPLITS)
    assert {r["industry"] for r in rows} == set(industries(default_taxonomy()))
    per = Counter((r["industry"], r["split"]) for r in rows)
    for industry in {r["industry"] for r in rows}:
        assert per[(industry, "test")] >= 50, industry
    # The shared data has no more bank (70) or energy (50) posts than the test part holds.
    for industry in ("airline", "online", "retail", "telco"):
        assert per[(industry, "test")] >= 100, industry
    assert sum(n for (_, split), n in per.items() if split == "dev") >= 850
    keys = [(r["source"], r["tweet_id"]) for r in rows]
    assert len(keys) == len(set(keys))  # no post in both parts
    for r in rows:  # labels name only the topics of the post's industry pack
        assert set(r["topics"]) <= set(for_industry(r["industry"]).taxonomy.topic_ids), r


@pytest.mark.slow
def test_topic_packs_on_real_posts(shared_data: Path) -> None:
    scores = topic_scores(shared_data)
    assert {(s.industry, s.split) for s in scores} >= {(i, "test") for i in ("airline", "bank")}
    # The target is 0.75 on the test part; measured 0.656 on its 520 posts (dev 0.825
    # on 868): these floors keep what was reached and say so, they do not claim the target.
    assert topics_macro_f1(scores, "test") >= 0.64
    assert topics_macro_f1(scores, "dev") >= 0.81


def test_micro_f1_pools_every_pack_and_topic() -> None:
    import numpy as np

    y = np.array([True] * 9 + [False])
    common = binary_score("billing", y, y)  # 9 right
    rare = binary_score("security", np.array([True] + [False] * 9), np.zeros(10, dtype=bool))
    scores = [
        TopicPackScore("bank", "test", 10, [common, rare]),
        TopicPackScore("bank", "dev", 10, [rare]),
    ]
    assert topics_macro_f1(scores, "test") == 0.5  # the one missed post is half the figure
    assert topics_micro_f1(scores, "test") == 2 * 9 / (2 * 9 + 1)
    assert topics_micro_f1(scores, "dev") == 0.0


def test_keep_pack_topics_is_columnar_and_keeps_nulls() -> None:
    from uproar.understand.taxonomy import keep_pack_topics

    found = pa.chunked_array(
        [[["onboard", "no_connection"], None], [["onboard", "no_connection", "billing"], []]]
    )
    mentioned = pa.chunked_array([[["swift"], ["swift"]], [["swift", "acme"], ["nobody"]]])
    kept = keep_pack_topics(found, mentioned, {"swift": "airline", "acme": "telco"})
    assert kept.to_pylist() == [
        ["onboard"],
        None,
        ["onboard", "no_connection", "billing"],  # two brands: both packs
        [],
    ]


def test_a_pack_never_changes_a_complaint_label(shared_data: Path) -> None:
    """The complaint heads read their own frozen topic phrases: whichever pack a brand's
    industry chooses, every post keeps its complaint label, while its topics follow the
    pack."""
    import csv

    with (shared_data / "complaints" / "complaints-data.csv").open(encoding="utf-8") as fh:
        texts = [row[1] for row in csv.reader(fh)][:600]
    texts += [
        "been with @KiwiNet three years, no complaints",
        "@KiwiNet what's the cancellation fee if I move house?",
    ]
    labels = {
        industry: Classifier("fast", for_industry(industry)).classify(texts)
        for industry in (None, *INDUSTRIES)
    }
    complaints = {k: [lab.complaint for lab in v] for k, v in labels.items()}
    assert len({tuple(v) for v in complaints.values()}) == 1
    assert complaints[None][-2:] == [False, False]
    topic_sets = {k: tuple(lab.topics for lab in v) for k, v in labels.items()}
    assert len(set(topic_sets.values())) > 1
