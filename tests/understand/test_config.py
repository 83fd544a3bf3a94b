"""Brand tuning from TOML takes effect without code changes; bad config names the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from uproar.errors import ConfigError, ModelError
from uproar.understand import Classifier, load_config, parse_config

BRAND_TOML = """
[brands.acme]
name = "Acme"
handles = ["@acme"]

[understand]
example_similarity = 0.5

[understand.topics.router_lights]
name = "Router lights"
keywords = ["flashing orange", "orange light"]

[understand.topics.billing]
keywords = ["hub rental"]

[understand.keywords]
complaint = ["no bueno"]
urgency = ["stairlift"]
not_complaint = ["planned maintenance"]

[[understand.examples]]
text = "the acme status page is lying again"
complaint = true
sentiment = "negative"
topics = ["outage_question"]
"""


@pytest.fixture
def tuned(tmp_path: Path) -> Classifier:
    path = tmp_path / "brand.toml"
    path.write_text(BRAND_TOML, encoding="utf-8")
    return Classifier("fast", path)


def test_new_topic_and_extra_keywords(tuned: Classifier, fast: Classifier) -> None:
    text = "@acme my hub is flashing orange and the hub rental went up"
    (default,) = fast.classify([text])
    (labels,) = tuned.classify([text])
    assert "router_lights" not in default.topics and "billing" not in default.topics
    assert {"router_lights", "billing"} <= set(labels.topics)


def test_keyword_rules(tuned: Classifier, fast: Classifier) -> None:
    assert not fast.classify(["acme wifi today: no bueno"])[0].complaint
    assert tuned.classify(["acme wifi today: no bueno"])[0].complaint
    assert tuned.classify(["my stairlift phone line is off"])[0].urgency
    assert not tuned.classify(["internet down tonight for planned maintenance"])[0].complaint


def test_labelled_examples_apply_to_similar_posts(tuned: Classifier) -> None:
    (near,) = tuned.classify(["acme status page is lying AGAIN!"])
    assert near.complaint and near.sentiment == "negative" and near.topics == ("outage_question",)
    (far,) = tuned.classify(["lovely weather in leeds today"])
    assert far.topics == () and not far.complaint


def test_mapping_config_and_defaults() -> None:
    cfg = parse_config({"understand": {"keywords": {"praise": ["cheers"]}}})
    assert "cheers" in cfg.taxonomy.praise
    assert parse_config({}).taxonomy.topic_ids == load_config_default_ids()


def load_config_default_ids() -> tuple[str, ...]:
    return parse_config({"understand": {}}).taxonomy.topic_ids


@pytest.mark.parametrize(
    ("doc", "key"),
    [
        ({"understand": {"bogus": 1}}, "understand.bogus"),
        ({"understand": {"keywords": {"complaint": "down"}}}, "understand.keywords.complaint"),
        ({"understand": {"keywords": {"moods": ["x"]}}}, "understand.keywords.moods"),
        (
            {"understand": {"examples": [{"text": "x", "sentiment": "angry"}]}},
            "understand.examples[0].sentiment",
        ),
        (
            {"understand": {"examples": [{"text": "x", "topics": ["nope"]}]}},
            "understand.examples[0].topics",
        ),
        ({"understand": {"examples": [{"complaint": True}]}}, "understand.examples[0]"),
        ({"understand": {"example_similarity": 2}}, "understand.example_similarity"),
    ],
)
def test_bad_config_names_the_key(doc: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(doc)
    assert err.value.context["key"] == key


def test_missing_file_and_unknown_model(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(ModelError):
        Classifier("huge")


def test_label_table_picks_up_an_edited_config_file(tmp_path: Path) -> None:
    import os

    import pyarrow as pa

    from uproar.understand import label_table

    posts = pa.table({"platform": ["x"], "id": ["1"], "text": ["my hub is flashing orange"]})
    path = tmp_path / "brand.toml"
    path.write_text('[understand.topics.router_lights]\nkeywords = ["flashing orange"]\n')
    assert label_table(posts, config=path).column("topics").to_pylist() == [["router_lights"]]
    path.write_text('[understand.topics.hub_lights]\nkeywords = ["flashing orange"]\n')
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert label_table(posts, config=path).column("topics").to_pylist() == [["hub_lights"]]


def test_industry_packs_choose_topics() -> None:
    from uproar.understand.taxonomy import for_industry

    airline = set(for_industry("airline").taxonomy.topic_ids)
    assert {"delay_cancellation", "baggage", "booking", "customer_service"} <= airline
    assert "no_connection" not in airline and "tv" not in airline
    general = set(for_industry(None).taxonomy.topic_ids)
    assert "customer_service" in general and "baggage" not in general
    for industry in ("telco", "bank", "retail", "online", "energy"):
        pack = set(for_industry(industry).taxonomy.topic_ids)
        # Every pack has the shared topics and its own; online's app topic is crash_bug.
        assert pack - general and general - {"app_website"} <= pack
    assert "app_website" not in set(for_industry("online").taxonomy.topic_ids)
    assert for_industry("isp") == for_industry("telco")


def test_industry_pack_with_a_brands_own_topic() -> None:
    doc = {
        "understand": {
            "industry": "airline",
            "topics": {"lounge": {"keywords": ["lounge"]}},
        }
    }
    clf = Classifier("fast", parse_config(doc))
    labels = clf.classify(["@SwiftAir the in-flight wifi is down and the lounge was shut"])[0]
    assert "lounge" in labels.topics and "onboard" in labels.topics
    assert "no_connection" not in labels.topics


def test_unknown_industry_lists_the_packs() -> None:
    with pytest.raises(ConfigError, match="airline, bank, energy") as err:
        parse_config({"understand": {"industry": "isp"}})
    assert err.value.context["key"] == "understand.industry"
