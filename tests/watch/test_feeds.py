"""RSS 2.0 and Atom polling against a real local server: conditional GETs, one post per
guid across polls and restarts, validators saved with the entries, bad feeds quarantined."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

from uproar.config import Brand
from uproar.sources.commit import Item
from uproar.store import Store
from uproar.watch.config import parse_watch
from uproar.watch.feeds import FeedSource, _retry_after
from uproar.watch.runner import WatchRun, run_watch
from uproar.watch.streams import Source

from .servers import feed_server

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>Wellington Post - Technology</title>
  <link>https://news.example.nz/technology</link>
  <description>Technology news</description>
  <language>en-nz</language>
  <lastBuildDate>Sat, 06 Sep 2014 09:40:00 +1200</lastBuildDate>
  {items}
</channel>
</rss>"""
ITEM_1 = """<item>
    <title>KiwiNet customers hit by nationwide broadband outage</title>
    <link>https://news.example.nz/technology/kiwinet-outage</link>
    <guid isPermaLink="false">wp-post-1001</guid>
    <pubDate>Sat, 06 Sep 2014 09:15:00 +1200</pubDate>
    <dc:creator>Anna Reporter</dc:creator>
    <comments>https://news.example.nz/technology/kiwinet-outage#comments</comments>
    <description><![CDATA[<p>Thousands of <b>@KiwiNet</b> customers lost their connection
      &amp; the phone lines are jammed.</p><script>alert(1)</script>]]></description>
  </item>"""
ITEM_2 = """<item>
    <title>KiwiNet says fix is under way</title>
    <link>https://news.example.nz/technology/kiwinet-fix</link>
    <pubDate>Sat, 06 Sep 2014 10:05:00 +1200</pubDate>
    <description>The company expects service back by noon.</description>
  </item>"""
ITEM_3 = """<item>
    <title>KiwiNet outage: what we know</title>
    <link>https://news.example.nz/technology/kiwinet-explainer</link>
    <guid>https://news.example.nz/?p=1003</guid>
    <pubDate>Sat, 06 Sep 2014 11:30:00 +1200</pubDate>
    <description>An explainer.</description>
  </item>"""
ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Comments on: KiwiNet customers hit by nationwide broadband outage</title>
  <link href="https://news.example.nz/technology/kiwinet-outage"/>
  <id>tag:news.example.nz,2014:comments-1001</id>
  <updated>2014-09-05T22:00:00Z</updated>
  <entry>
    <title>By: Sam</title>
    <id>tag:news.example.nz,2014:comment-55</id>
    <link href="https://news.example.nz/technology/kiwinet-outage#comment-55"/>
    <published>2014-09-05T21:31:00Z</published>
    <author><name>Sam</name></author>
    <content type="html">&lt;p&gt;Third time this month @KiwiNet, switching to TuiNet&lt;/p&gt;
    </content>
  </entry>
  <entry>
    <title>By: Priya</title>
    <id>tag:news.example.nz,2014:comment-56</id>
    <link href="https://news.example.nz/technology/kiwinet-outage#comment-56"/>
    <updated>2014-09-05T21:40:00Z</updated>
    <author><name>Priya</name></author>
    <summary>Still down in Karori.</summary>
  </entry>
</feed>"""


def rss(*items: str) -> bytes:
    return RSS.replace("{items}", "\n".join(items)).encode()


def run(store: Store, brands: dict[str, Brand], sources: list[Source], seconds: float) -> WatchRun:
    config = parse_watch(
        {"rss": [{"url": "http://127.0.0.1:9/unused"}], "detect": {"every": 0.2}},
        source="watch.toml",
        base=Path("."),
        env={},
    )
    return asyncio.run(run_watch(config, store, brands, sources=sources, max_seconds=seconds))


def posts(store: Store) -> list[dict[str, Any]]:
    rows = store.connection.execute(
        "SELECT platform, id, created_at, text, author_id, author_name, urls, brands,"
        " conversation_id FROM posts ORDER BY created_at"
    )
    names = [d[0] for d in rows.description]
    return [dict(zip(names, r, strict=True)) for r in rows.fetchall()]


def test_feeds_poll_conditionally_and_store_each_entry_once(
    tmp_path: Path, brands: dict[str, Brand]
) -> None:
    with feed_server() as server:
        modified = "Sat, 06 Sep 2014 00:00:00 GMT"
        server.documents["/rss"] = ("application/rss+xml", rss(ITEM_1, ITEM_2), '"v1"', modified)
        server.documents["/atom"] = ("application/atom+xml", ATOM.encode(), None, modified)
        with Store(tmp_path / "feeds.duckdb") as store:
            sources: list[Source] = [
                FeedSource(server.url("/rss"), every=0.2),
                FeedSource(server.url("/atom"), every=0.2, platform="comments"),
            ]
            run(store, brands, sources, seconds=3.0)
            got = posts(store)
            assert [p["id"] for p in got] == [
                "wp-post-1001",
                "tag:news.example.nz,2014:comment-55",
                "tag:news.example.nz,2014:comment-56",
                "https://news.example.nz/technology/kiwinet-fix",  # no guid: its link
            ]
            article = got[0]
            assert article["platform"] == "news" and got[1]["platform"] == "comments"
            assert article["created_at"] == datetime(2014, 9, 5, 21, 15)  # +1200 to UTC
            assert article["text"].startswith("KiwiNet customers hit by nationwide broadband")
            assert "Thousands of @KiwiNet customers lost their connection" in article["text"]
            assert "<b>" not in article["text"] and "&amp;" not in article["text"]
            assert article["author_name"] == "Anna Reporter"
            assert article["urls"] == ["https://news.example.nz/technology/kiwinet-outage"]
            assert article["conversation_id"].endswith("kiwinet-outage#comments")
            assert article["brands"] == ["kiwinet"]
            assert sorted(got[1]["brands"]) == ["kiwinet", "tuinet"]
            assert got[2]["created_at"] == datetime(2014, 9, 5, 21, 40)  # only <updated>
            assert "Still down in Karori." in got[2]["text"]
            # after the first answer, every poll was conditional and answered 304
            rss_requests = [r for r in server.requests if r[0] == "/rss"]
            assert len(rss_requests) >= 2
            assert rss_requests[0] == ("/rss", None, None, 200)
            assert all(r[1] == '"v1"' and r[3] == 304 for r in rss_requests[1:])
            atom_requests = [r for r in server.requests if r[0] == "/atom"]
            assert all(r[2] == modified and r[3] == 304 for r in atom_requests[1:])

            # the feed changes (one new item, the two old ones still listed); a restarted
            # watch sends the saved ETag, gets the new feed, and stores only the new item
            server.documents["/rss"] = (
                "application/rss+xml", rss(ITEM_3, ITEM_1, ITEM_2), '"v2"', modified
            )  # fmt: skip
            server.requests.clear()
            result = run(store, brands, [FeedSource(server.url("/rss"), every=0.2)], seconds=3.0)
            assert server.requests[0] == ("/rss", '"v1"', modified, 200)
            assert all(r[1] == '"v2"' and r[3] == 304 for r in server.requests[1:])
            assert result.status["stored"] == 1 and result.status["duplicates"] == 2
            ids = [p["id"] for p in posts(store)]
            assert len(ids) == len(set(ids)) == 5
            saved = store.connection.execute(
                "SELECT url, etag, last_modified FROM feed_state ORDER BY url"
            ).fetchall()
            assert (server.url("/rss"), '"v2"', modified) in saved


def test_a_feed_that_cannot_be_read_is_quarantined_not_dropped(
    tmp_path: Path, brands: dict[str, Brand]
) -> None:
    with feed_server() as server:
        server.documents["/bad"] = ("text/html", b"<html><body>502 Bad Gateway", None, None)
        server.documents["/gone"] = ("text/plain", b"", None, None)
        with Store(tmp_path / "bad.duckdb") as store:
            source = FeedSource(server.url("/bad"), every=5)
            missing = FeedSource(server.url("/missing"), every=5)
            run(store, brands, [source, missing], seconds=2.0)
            rows = store.connection.execute(
                "SELECT source_file, kind, reason, content FROM quarantine"
            ).fetchall()
            assert len(rows) == 1
            where, kind, reason, content = rows[0]
            assert where.startswith(server.url("/bad") + "#") and kind == "bad value"
            assert "not a readable RSS or Atom feed" in reason
            assert bytes(content) == b"<html><body>502 Bad Gateway"
            assert store.count_posts() == 0


def test_retry_after_reads_seconds_and_dates() -> None:
    assert _retry_after("120") == 120.0
    assert _retry_after(None) == 0.0
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert _retry_after("soon") == 0.0


def test_an_undated_entry_takes_the_time_it_was_fetched() -> None:
    from uproar.sources import rss as rss_format

    record = {
        "feed": {"url": "https://n.example/rss", "platform": "news"},
        "entry": {"link": "https://n.example/a", "title": "Breaking"},
        "fetched_at": "2026-01-05T10:00:00+00:00",
    }
    (row,) = list(rss_format.records(record))
    assert isinstance(row, dict)
    assert row["created_at"] == datetime(2026, 1, 5, 10, 0) and row["id"] == "https://n.example/a"
    assert row["author_id"] == "n.example"
    bad: list[Item] = []
    (error,) = list(rss_format.records({"feed": {}, "entry": {"title": "x"}}))
    assert not isinstance(error, dict) and "guid" in str(error)
    assert bad == []
