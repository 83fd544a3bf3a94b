"""The simulator's output: X v2 shape, truth that matches the posts, determinism, variety."""

from __future__ import annotations

import gzip
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from uproar.config import load_brands
from uproar.simulate import SimulationResult, load_scenario, output_paths, simulate
from uproar.simulate.scenario import parse_scenario

from .conftest import read_pages

SMALL = """
[scenario]
start = "2014-09-01T00:00:00Z"
days = 0.5
dispersion = 40

[brands.acme]
name = "Acme"
handles = ["@Acme", "@AcmeHelp"]
keywords = ["acme"]
hashtags = ["#acme"]
peers = ["bolt"]
timezone = "Pacific/Auckland"
mentions_per_hour = 60

[brands.bolt]
name = "Bolt"
handles = ["@BoltNet"]
keywords = ["boltnet"]
peers = ["acme"]
timezone = "Pacific/Auckland"
mentions_per_hour = 30

[[incidents]]
brand = "acme"
onset = "2014-09-01T04:00:00Z"
duration = "3h"
magnitude = 6
topics = ["no_connection"]
peers_hit = ["bolt"]
"""


def when(t: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(t["created_at"].replace("Z", "+00:00"))


def test_paths_beside_the_output() -> None:
    assert output_paths(Path("out/isp.jsonl")) == (
        Path("out/isp.truth.json"),
        Path("out/isp.brands.toml"),
    )
    assert output_paths(Path("a/run.jsonl.gz"))[0] == Path("a/run.truth.json")
    assert output_paths(Path("x.json"))[1] == Path("x.brands.toml")


def test_same_seed_same_bytes_gzip(tmp_path: Path) -> None:
    sc = parse_scenario(__import__("tomllib").loads(SMALL))
    a = simulate(sc, tmp_path / "a" / "run.jsonl.gz", seed=5)
    b = simulate(sc, tmp_path / "b" / "run.jsonl.gz", seed=5)
    c = simulate(sc, tmp_path / "c" / "run.jsonl.gz", seed=6)
    assert a.out.read_bytes() == b.out.read_bytes()
    assert a.truth_path.read_bytes() == b.truth_path.read_bytes()
    assert a.out.read_bytes() != c.out.read_bytes()
    with gzip.open(a.out, "rb") as fh:
        lines = fh.read().splitlines()
    assert sum(len(orjson.loads(line)["data"]) for line in lines) == a.posts


def test_page_shape(isp_pages: list[dict[str, Any]], isp_run: SimulationResult) -> None:
    assert sum(p["meta"]["result_count"] for p in isp_pages) == isp_run.posts
    previous = 0
    for page in isp_pages:
        data = page["data"]
        assert 1 <= len(data) <= 100
        assert page["meta"]["result_count"] == len(data)
        ids = [int(t["id"]) for t in data]
        assert ids == sorted(ids) and ids[0] > previous  # ids increase with time
        previous = ids[-1]
        assert page["meta"]["oldest_id"] == data[0]["id"]
        assert page["meta"]["newest_id"] == data[-1]["id"]
        assert page["__twarc"]["version"]  # twarc2's page stamp
        users = {u["id"] for u in page["includes"]["users"]}
        places = {p["id"] for p in page["includes"].get("places", [])}
        refs = {t["id"] for t in page["includes"].get("tweets", [])}
        for t in data:
            assert t["author_id"] in users
            assert set(t) >= {
                "id",
                "text",
                "created_at",
                "author_id",
                "conversation_id",
                "lang",
                "public_metrics",
            }
            assert t["created_at"].endswith(".000Z")
            assert t["edit_history_tweet_ids"] == [t["id"]]
            if "geo" in t:
                assert t["geo"]["place_id"] in places
            for ref in t.get("referenced_tweets", []):
                assert ref["type"] in ("replied_to", "quoted", "retweeted")
                assert ref["id"] in refs
            if "in_reply_to_user_id" in t:
                assert t["in_reply_to_user_id"] in users
        for u in page["includes"]["users"]:
            assert set(u) == {
                "id",
                "name",
                "username",
                "created_at",
                "location",
                "public_metrics",
                "verified",
            }
        for p in page["includes"].get("places", []):
            assert set(p) == {"id", "full_name", "name", "country", "country_code", "place_type"}


def test_entity_offsets_point_at_the_text(isp_tweets: list[dict[str, Any]]) -> None:
    seen = Counter[str]()
    for t in isp_tweets:
        text = t["text"]
        ents = t.get("entities", {})
        for m in ents.get("mentions", []):
            assert text[m["start"] : m["end"]].lower() == "@" + m["username"].lower(), t
            seen["mention"] += 1
        for h in ents.get("hashtags", []):
            assert text[h["start"] : h["end"]] == "#" + h["tag"], t
            seen["hashtag"] += 1
        for u in ents.get("urls", []):
            assert text[u["start"] : u["end"]] == u["url"], t
            assert u["expanded_url"].startswith("http")
            seen["url"] += 1
    assert min(seen.values()) > 100


def test_retweets_replies_quotes(isp_tweets: list[dict[str, Any]]) -> None:
    kinds = Counter(r["type"] for t in isp_tweets for r in t.get("referenced_tweets", []))
    assert kinds["retweeted"] > 1000 and kinds["replied_to"] > 500 and kinds["quoted"] > 100
    for t in isp_tweets:
        refs = t.get("referenced_tweets", [])
        if refs and refs[0]["type"] == "retweeted":
            assert t["text"].startswith("RT @")
        if refs and refs[0]["type"] == "replied_to":
            assert t["conversation_id"] != t["id"]
            if t["in_reply_to_user_id"] != t["author_id"]:  # self-threads have no @prefix
                assert t["text"].startswith("@")


def test_incident_window_is_elevated_and_peers_are_not(
    isp_tweets: list[dict[str, Any]], isp_run: SimulationResult
) -> None:
    truth = isp_run.truth
    (inc,) = truth["incidents"]
    onset = datetime.fromisoformat(inc["onset"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(inc["end"].replace("Z", "+00:00"))
    brands = load_brands(isp_run.brands_path)

    def rate(brand_id: str, inside: bool) -> float:
        names = [h.lower() for h in brands[brand_id].handles]
        names += [k.lower() for k in brands[brand_id].keywords + brands[brand_id].hashtags]
        hits = [
            t
            for t in isp_tweets
            if (onset <= when(t) < end) == inside and any(n in t["text"].lower() for n in names)
        ]
        hours = (end - onset).total_seconds() / 3600
        return len(hits) / (hours if inside else 120 - hours)

    assert rate("kiwinet", True) > 3 * rate("kiwinet", False)
    for peer in ("tuinet", "wekamobile"):
        assert rate(peer, True) < 1.6 * rate(peer, False)


def test_every_customer_post_mentions_a_brand(
    isp_pages: list[dict[str, Any]], isp_run: SimulationResult
) -> None:
    brands = load_brands(isp_run.brands_path)
    names = [n.lower() for b in brands.values() for n in (*b.handles, *b.keywords, *b.hashtags)]
    own = {h.lstrip("@").lower() for b in brands.values() for h in b.handles}
    for page in isp_pages:
        authors = {u["id"]: u["username"].lower() for u in page["includes"]["users"]}
        for t in page["data"]:
            if authors[t["author_id"]] not in own:
                assert any(n in t["text"].lower() for n in names), t["text"]


def test_flood_comes_from_one_author(
    isp_tweets: list[dict[str, Any]], isp_run: SimulationResult
) -> None:
    (flood,) = isp_run.truth["floods"]
    mine = [t for t in isp_tweets if t["author_id"] == flood["author_id"]]
    assert len(mine) == flood["posts"] == 45
    onset, end = (datetime.fromisoformat(flood[k].replace("Z", "+00:00")) for k in ("onset", "end"))
    assert all(onset <= when(t) < end for t in mine)


def test_bait_link_spreads_in_its_window(
    isp_tweets: list[dict[str, Any]], isp_run: SimulationResult
) -> None:
    (rumour,) = isp_run.truth["rumours"]
    assert rumour["domain"] == "celebz-leaked-pics.example.com"
    carrying = [
        t
        for t in isp_tweets
        if any(u["expanded_url"] == rumour["url"] for u in t.get("entities", {}).get("urls", []))
    ]
    assert len(carrying) > 200
    onset, end = (
        datetime.fromisoformat(rumour[k].replace("Z", "+00:00")) for k in ("onset", "end")
    )
    assert all(onset <= when(t) < end + (end - onset) for t in carrying)


def test_brand_posts_its_own_numbered_updates(
    isp_pages: list[dict[str, Any]], isp_run: SimulationResult
) -> None:
    users = {u["id"]: u["username"] for p in isp_pages for u in p["includes"]["users"]}
    own = [
        t
        for p in isp_pages
        for t in p["data"]
        if users[t["author_id"]] in ("KiwiNet", "KiwiNetHelp")
    ]
    assert len(own) == isp_run.truth["own_posts"]
    texts = [t["text"] for t in own]
    assert any(x.startswith("1/4 ") for x in texts) and any(x.startswith("4/4 ") for x in texts)
    assert any("not supplied by us" in x for x in texts)
    # Threads: "2/4" replies to "1/4" from the same account.
    second = next(t for t in own if t["text"].startswith("2/4 "))
    assert second["referenced_tweets"][0]["type"] == "replied_to"
    assert second["in_reply_to_user_id"] == second["author_id"]
    replies = [t for t in own if t["text"].startswith("@")]
    assert len(replies) > 100


def test_texts_are_varied(isp_tweets: list[dict[str, Any]]) -> None:
    originals = [t["text"] for t in isp_tweets if not t["text"].startswith("RT @")]
    assert len(set(originals)) / len(originals) > 0.4
    langs = Counter(t["lang"] for t in isp_tweets)
    assert langs["en"] / len(isp_tweets) > 0.9 and len(langs) >= 3
    lower = sum(t["text"] == t["text"].lower() for t in isp_tweets)
    assert 0.1 < lower / len(isp_tweets) < 0.6
    assert sum("?" in t for t in originals) > 0.1 * len(originals)


def test_truth_file(isp_run: SimulationResult) -> None:
    truth = orjson.loads(isp_run.truth_path.read_bytes())
    assert truth == isp_run.truth
    assert truth["scenario"] == "isp-2014" and truth["seed"] == 11
    assert truth["posts"] == isp_run.posts and 10_000 < truth["posts"] < 60_000
    assert truth["brands"] == ["kiwinet", "tuinet", "wekamobile"]
    inc = truth["incidents"][0]
    assert set(inc) >= {
        "id",
        "brand",
        "onset",
        "end",
        "kind",
        "onset_shape",
        "magnitude",
        "topics",
        "regions",
        "scope",
        "peers_hit",
    }
    assert inc["onset"].endswith("Z") and inc["scope"] == "brand"


def test_industry_incident_hits_peers(tmp_path: Path) -> None:
    import tomllib

    result = simulate(parse_scenario(tomllib.loads(SMALL)), tmp_path / "s.jsonl", seed=3)
    assert result.truth["incidents"][0]["scope"] == "industry"
    tweets = [t for p in read_pages(result.out) for t in p["data"]]
    bolt_in = [t for t in tweets if "bolt" in t["text"].lower() and 4 <= when(t).hour < 7]
    bolt_out = [t for t in tweets if "bolt" in t["text"].lower() and not 4 <= when(t).hour < 8]
    assert len(bolt_in) / 3 > 2.5 * len(bolt_out) / 8


@pytest.mark.slow
def test_scale_multiplies_volume(tmp_path: Path) -> None:
    sc = load_scenario("isp-2014")
    small = simulate(sc, tmp_path / "a.jsonl", seed=1)
    big = simulate(sc, tmp_path / "b.jsonl", seed=1, scale=3)
    assert 2.3 < big.posts / small.posts < 3.2


def test_same_bytes_across_processes_and_hash_seeds(tmp_path: Path) -> None:
    """No set or dict ordering leaks into the output: two interpreters, two hash seeds."""
    import os
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from uproar.simulate import load_scenario, "
        "simulate; simulate(load_scenario('isp-2014'), Path(sys.argv[1]), seed=4, scale=0.1)"
    )
    outs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / hash_seed / "run.jsonl.gz"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", code, str(out)], check=True, env=env, timeout=120)
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def test_a_news_spike_is_chatter_in_the_truths_spikes_not_an_incident(tmp_path: Path) -> None:
    import tomllib

    from uproar.detect.signal import complaint_pattern

    news = SMALL.split("[[incidents]]")[0] + (
        '[[incidents]]\nbrand = "acme"\nkind = "news"\nonset = "2014-09-01T04:00:00Z"\n'
        'duration = "3h"\nmagnitude = 6\ntopics = ["off_topic", "praise"]\n'
    )
    result = simulate(parse_scenario(tomllib.loads(news)), tmp_path / "s.jsonl", seed=3)
    assert result.truth["incidents"] == []
    [spike] = result.truth["spikes"]
    assert spike["brand"] == "acme" and spike["onset"] == "2014-09-01T04:00:00Z"
    tweets = [t for p in read_pages(result.out) for t in p["data"]]
    acme = [t for t in tweets if "acme" in t["text"].lower() and "RT @" not in t["text"]]
    inside = [t for t in acme if 4 <= when(t).hour < 7]
    outside = [t for t in acme if not 4 <= when(t).hour < 8]
    assert len(inside) / 3 > 3 * len(outside) / 8  # it is a spike
    import re

    complaint = re.compile(complaint_pattern())
    def share(posts: list[dict[str, Any]]) -> float:
        return sum(bool(complaint.search(t["text"].lower())) for t in posts) / len(posts)

    # of chatter, not complaints: the share that complains falls during it
    assert share(inside) < 0.7 * share(outside), (share(inside), share(outside))
    # and no brand's status update answers it
    assert result.truth["own_posts"] == 0


def test_a_news_spike_hits_no_peer() -> None:
    import tomllib

    from uproar.errors import ConfigError

    bad = SMALL.replace('magnitude = 6\n', 'magnitude = 6\nkind = "news"\n')
    with pytest.raises(ConfigError, match="peers_hit"):
        parse_scenario(tomllib.loads(bad))
