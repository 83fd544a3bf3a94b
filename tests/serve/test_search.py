"""Search: filters, paging, loud unknown values, and hostile post text rendered as text."""

from __future__ import annotations

import csv
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from uproar.config import load_brands
from uproar.serve.render import safe_href
from uproar.sources import ingest
from uproar.store import Store
from uproar.store.search import like_pattern, search_posts

from .conftest import FIXTURES, HOSTILE_LINK, ORDINARY, Clients, Dashboard


def api(dashboard: Dashboard, **params: object) -> httpx.Response:
    bearer = {"authorization": f"Bearer {dashboard.tokens['vic']}"}
    return httpx.get(f"{dashboard.url}/api/search", params=params, headers=bearer, timeout=30)


def test_hostile_post_text_author_and_links_render_as_text(
    dashboard: Dashboard, clients: Clients
) -> None:
    client, _ = clients.log_in(dashboard.url, "vic")
    page = client.get("/search", params={"q": "alert"})
    assert page.status_code == 200
    html = page.text
    # escaped, never live markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html  # the author
    assert "<img" not in html
    # javascript: stays text; the https link is a link
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert "https://example.org/status" in hrefs
    assert not any(h.lower().startswith("javascript") for h in hrefs)
    assert HOSTILE_LINK in html  # shown, as text
    assert 'rel="noopener noreferrer nofollow ugc"' in html


def test_every_word_must_occur_and_wildcards_are_literal(dashboard: Dashboard) -> None:
    every = api(dashboard, q="kiwinet").json()
    assert len(every["posts"]) == 50 and every["has_next"]
    both = api(dashboard, q='"100% offline" kiwinet').json()["posts"]
    assert len(both) == ORDINARY // 10
    assert all("100% offline" in p["text"] for p in both)
    # % and _ are letters here, not LIKE wildcards
    assert api(dashboard, q="%").json()["posts"] == both
    assert api(dashboard, q="_").json()["posts"] == []
    upper = api(dashboard, q="KIWINET BROADBAND").json()["posts"]
    expected = [p for p in every["posts"] if p["id"] != "h2"]
    assert upper[: len(expected)] == expected
    assert "h2" in {p["id"] for p in every["posts"]}  # it has no "broadband"


def test_results_are_paged_newest_first(dashboard: Dashboard) -> None:
    seen: list[str] = []
    page = 1
    while True:
        answer = api(dashboard, q="minutes", page=page).json()
        times = [p["created_at"] for p in answer["posts"]]
        assert times == sorted(times, reverse=True)
        seen += [p["id"] for p in answer["posts"]]
        if not answer["has_next"]:
            break
        page += 1
    assert page == 3 and len(seen) == len(set(seen)) == ORDINARY
    assert seen[0] == f"p{ORDINARY - 1}"


def test_filters(dashboard: Dashboard) -> None:
    def ids(**params: object) -> set[str]:
        answer = api(dashboard, **params)
        assert answer.status_code == 200, answer.text
        return {p["id"] for p in answer.json()["posts"]}

    assert ids(q="alert", brand="kiwinet") == {"h1"}  # h2 names no brand
    assert ids(q="alert") == {"h1", "h2"}
    assert ids(q="minutes", since="2014-09-06T11:55:00Z") == {f"p{i}" for i in range(115, 120)}
    assert ids(q="minutes", until="2014-09-06T10:02:00") == {"p0", "p1"}
    assert ids(q="alert", platform="csv") == {"h1", "h2"}
    negative = ids(q="minutes", sentiment="negative")
    assert negative and negative == ids(q="minutes", topic="no_connection", sentiment="negative")
    assert ids(q="minutes", sentiment="positive") == set()
    assert ids(q="minutes", intent="complaint") == set()  # no inbox saved in this store
    assert ids(q="minutes", brand="") == ids(q="minutes")  # an empty filter is "any"


def test_an_unknown_filter_value_is_a_loud_400_listing_the_known(dashboard: Dashboard) -> None:
    cases = {
        "brand": ("kiwinett", "known: kiwinet, tuinet, wekamobile"),
        "sentiment": ("angry", "known: negative, neutral, positive"),
        "platform": ("myspace", "known: csv"),
        "topic": ("no_such_topic", "no_connection"),
        "intent": ("wish", "complaint"),
    }
    for field, (value, listed) in cases.items():
        answer = api(dashboard, q="kiwinet", **{field: value})
        assert answer.status_code == 400, field
        body = answer.json()
        assert body["ok"] is False and body["status"] == 400
        assert f"unknown {field} '{value}'" in body["error"] and listed in body["error"], body
    for params, message in (
        ({"since": "yesterday"}, "since"),
        ({"since": "2014-09-07", "until": "2014-09-06"}, "is not before"),
        ({"q": " ".join("abcdefghij")}, "at most 8"),
    ):
        answer = api(dashboard, **params)
        assert answer.status_code == 400 and message in answer.json()["error"], params
    assert api(dashboard, page=0).status_code == 422
    assert api(dashboard, page=10_000).status_code == 422


def test_the_search_page_keeps_filters_across_pages(dashboard: Dashboard, clients: Clients) -> None:
    client, _ = clients.log_in(dashboard.url, "vic")
    html = client.get("/search", params={"q": "minutes", "sentiment": "negative"}).text
    assert '<option value="negative" selected>' in html
    assert 'href="/search?q=minutes&amp;sentiment=negative&amp;page=2"' in html
    error = client.get("/search", params={"q": "x", "brand": "nope"})
    assert error.status_code == 400 and "unknown brand" in error.text


def test_settings_show_brands_peers_and_channels_without_their_secrets(
    dashboard: Dashboard, clients: Clients
) -> None:
    client, _ = clients.log_in(dashboard.url, "vic")
    html = client.get("/settings").text
    assert "KiwiNet" in html and "tuinet, wekamobile" in html
    assert "ops-slack" in html and ">slack<" in html and ">high<" in html
    assert "SECRETTOKEN" not in html


@given(st.text(max_size=40))
def test_only_http_and_https_urls_become_links(text: str) -> None:
    href = safe_href(text)
    if href is not None:
        assert href == text
        assert text.lower().startswith(("http://", "https://"))
        assert not any(c.isspace() or ord(c) < 32 for c in text)


def test_dangerous_schemes_never_become_links() -> None:
    for url in (
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "https:/no-host",
        "//evil.example",
        "http://a b",
    ):
        assert safe_href(url) is None, url
    assert safe_href("https://example.org/a?b=c") == "https://example.org/a?b=c"


ASCII = st.characters(min_codepoint=32, max_codepoint=126)  # where ILIKE and lower() agree


@settings(deadline=None, max_examples=60)
@given(st.text(ASCII, max_size=20), st.text(ASCII, max_size=5))
def test_like_patterns_match_their_text_literally(term: str, other: str) -> None:
    pattern = like_pattern(term)
    with duckdb.connect() as con:
        row = con.execute(
            "SELECT $t ILIKE $p ESCAPE '\\', $o ILIKE $p ESCAPE '\\'",
            {"t": f"{other}{term}{other}", "o": other, "p": pattern},
        ).fetchone()
    assert row is not None and row[0] is True
    # a pattern finds only what holds the term (wildcards in it are letters)
    assert row[1] is (term.lower() in other.lower())


def test_windowed_search_matches_one_plain_query(tmp_path: Path) -> None:
    """Posts spread unevenly over ten days: the window-by-window search returns exactly what
    one ORDER BY ... LIMIT ... OFFSET over the whole table returns, page after page."""
    posts = tmp_path / "posts.csv"
    rng = random.Random(15)
    start = datetime(2014, 9, 1)
    with posts.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["id", "created_at", "text", "username"])
        for i in range(600):
            # bursts and gaps: most posts in a few hours, some days empty
            at = start + timedelta(seconds=int(rng.choice([3, 3, 3, 9]) * 86400 * rng.random()))
            word = rng.choice(["outage", "refund", "thanks"])
            out.writerow([f"w{i}", f"{at:%Y-%m-%d %H:%M:%S}", f"KiwiNet {word} {i}", f"u{i}"])
    brands = load_brands(FIXTURES / "brands.toml")
    with Store(":memory:") as store:
        store.save_brands(brands)
        ingest([posts], store, brands)
        store.connection.execute(
            """INSERT INTO labels (platform, id, complaint, sentiment, topics)
               SELECT platform, id, TRUE,
                      CASE WHEN text LIKE '%thanks%' THEN 'positive' ELSE 'negative' END,
                      CASE WHEN text LIKE '%refund%' THEN ['billing'] ELSE [] END
               FROM posts"""
        )

        def plain(where: str, limit: int, offset: int) -> list[str]:
            rows = store.connection.execute(
                f"""SELECT p.id FROM posts p LEFT JOIN labels l USING (platform, id)
                    WHERE {where} ORDER BY p.created_at DESC, p.platform, p.id
                    LIMIT {limit} OFFSET {offset}"""
            ).fetchall()
            return [r[0] for r in rows]

        cases: list[tuple[dict[str, Any], str]] = [
            ({}, "TRUE"),
            ({"terms": ("outage",)}, "p.text ILIKE '%outage%'"),
            ({"sentiment": "positive"}, "l.sentiment = 'positive'"),
            ({"topic": "billing", "terms": ("kiwinet",)}, "list_contains(l.topics, 'billing')"),
            (
                {
                    "since": datetime(2014, 9, 2, tzinfo=UTC),
                    "until": datetime(2014, 9, 5, tzinfo=UTC),
                },
                "p.created_at >= '2014-09-02' AND p.created_at < '2014-09-05'",
            ),
        ]
        for kwargs, where in cases:
            for limit, offset in ((7, 0), (50, 0), (50, 50), (33, 120), (10, 595)):
                found = [r["id"] for r in search_posts(store, limit=limit, offset=offset, **kwargs)]
                assert found == plain(where, limit, offset), (kwargs, limit, offset)
