"""CSV exports as people have them: vendors' column names, spreadsheets' encodings and ids."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from uproar.cli.app import get_app
from uproar.config import Brand, parse_brands
from uproar.errors import ConfigError, InputError
from uproar.records import Post
from uproar.sources import ingest
from uproar.sources.csv_format import (
    FIELD_LIMIT,
    UNKNOWN_AUTHOR,
    fold,
    load_columns,
    mapping_help,
    normalise_platform,
    parse_time,
    read_id,
    suggest_mapping,
)
from uproar.sources.fields import RecordError
from uproar.store import Store

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
TWCS = SHARED_DATA / "twcs" / "twcs_head.csv"
needs_twcs = pytest.mark.skipif(not TWCS.exists(), reason=f"shared data not found at {TWCS}")


def by_id(store: Store) -> dict[str, Post]:
    return {p.id: p for p in store.posts(limit=100_000)}


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# -- the fields one may map ------------------------------------------------------------------
def test_unknown_map_field_names_the_valid_ones(tmp_path: Path, store: Store) -> None:
    export = write(tmp_path, "e.csv", "id,Posted,Message,Author\n1,2014-09-06T10:00:00Z,hi,kim\n")
    with pytest.raises(InputError) as caught:
        ingest([export], store, {}, csv_mapping={"author": "Author"})
    message = str(caught.value)
    suggested = message.split("did you mean ")[1].split("?")[0].split(", ")
    assert sorted(suggested) == ["author_handle", "author_id", "author_name"]
    for field in load_columns().fields:
        assert field in message


def test_unknown_map_column_names_the_header(tmp_path: Path, store: Store) -> None:
    export = write(tmp_path, "e.csv", "id,Posted,Message\n1,2014-09-06T10:00:00Z,hi\n")
    with pytest.raises(InputError, match=r"no column 'Postd'.*did you mean Posted.*'Message'"):
        ingest([export], store, {}, csv_mapping={"created_at": "Postd"})


def test_help_lists_every_field_with_column_names() -> None:
    text = mapping_help()
    table = load_columns()
    for field in table.fields:
        assert f"{field}" in text and table.names[field][0] in text
    assert "Full Text" in table.names["text"] or "full_text" in table.names["text"]


def test_column_names_belong_to_one_field(tmp_path: Path) -> None:
    bad = write(
        tmp_path,
        "cols.toml",
        '[fields.id]\nhelp = "x"\ncolumns = ["Tweet Id"]\n'
        '[fields.text]\nhelp = "y"\ncolumns = ["tweet_id"]\n[platforms]\n',
    )
    with pytest.raises(ConfigError, match="listed for both id and text"):
        load_columns(bad)
    assert fold("Tweet Id") == fold("tweet_id") == fold("TweetID") == "tweetid"


# -- issue 10's CSV failures -----------------------------------------------------------------
def test_mapping_only_time_and_text_stores_every_row(tmp_path: Path, store: Store) -> None:
    export = write(
        tmp_path,
        "e.csv",
        "Ref,Posted,Message\nm1,2014-09-06T10:00:00Z,down again\nm2,2014-09-06T10:01:00Z,same\n",
    )
    result = ingest(
        [export], store, {}, csv_mapping={"id": "Ref", "created_at": "Posted", "text": "Message"}
    )
    assert (result.stored, result.quarantined) == (2, 0)
    # each post is its own unknown author, so two never merge into one "flood" author
    assert {p.author_id for p in store.posts()} == {UNKNOWN_AUTHOR + "m1", UNKNOWN_AUTHOR + "m2"}


def test_html_entities_are_decoded(tmp_path: Path, store: Store) -> None:
    export = write(
        tmp_path,
        "e.csv",
        "id,date,text,author\n1,2014-09-06T10:00:00Z,AT&amp;T &lt;3 &gt; &quot;ok&quot;,@a\n",
    )
    ingest([export], store, {})
    assert store.posts()[0].text == 'AT&T <3 > "ok"'


def test_float_ids_link_replies_to_their_posts(tmp_path: Path, store: Store) -> None:
    export = write(
        tmp_path,
        "e.csv",
        ",tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
        "0,1,KiwiNetHelp,False,Tue Oct 31 22:10:47 +0000 2017,@115712 sorry!,,3.0\n"
        "1,3,115712,True,Tue Oct 31 22:08:00 +0000 2017,@KiwiNetHelp down,1,\n",
    )
    ingest([export], store, brands())
    posts = by_id(store)
    assert posts["1"].reply_to_id == "3" and "3" in posts
    # the agent's author_id is its handle: the brand's own post is recognised as such
    assert (posts["1"].author_handle, posts["1"].own_brand) == ("KiwiNetHelp", "kiwinet")


def test_platform_names_are_normalised(tmp_path: Path, store: Store) -> None:
    export = write(
        tmp_path,
        "e.csv",
        "id,date,text,author,Network\n"
        "1,2024-09-06T10:00:00Z,a,x1,Twitter\n2,2024-09-06T10:00:00Z,b,x2,X (formerly Twitter)\n"
        "3,2024-09-06T10:00:00Z,c,x3,Facebook\n4,2024-09-06T10:00:00Z,d,x4,Bluesky\n"
        "5,2024-09-06T10:00:00Z,e,x5,\n",
    )
    ingest([export], store, {})  # 2024: a Bluesky post from before 2022 is quarantined
    assert {p.id: p.platform for p in store.posts()} == {
        "1": "x", "2": "x", "3": "facebook", "4": "bluesky", "5": "csv",
    }  # fmt: skip
    assert (
        normalise_platform("  TWITTER ") == "x" and normalise_platform("Some Forum") == "some forum"
    )


def test_author_id_from_the_handle(tmp_path: Path, store: Store) -> None:
    export = write(
        tmp_path,
        "e.csv",
        "id,date,text,Author\n1,2014-09-06T10:00:00Z,a,@Jo_B\n2,2014-09-06T10:05:00Z,b,jo_b\n",
    )
    ingest([export], store, {})
    posts = by_id(store)
    assert posts["1"].author_handle == "Jo_B"
    assert posts["1"].author_id == posts["2"].author_id == "jo_b"  # one author, as on X


# -- issue 11's spreadsheets -----------------------------------------------------------------
ROWS = "id,created_at,text,username\n1,2014-09-06T10:00:00Z,@KiwiNet café down,kim\n"


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("utf-8-sig", ROWS),
        ("utf-16", ROWS),  # Python writes a BOM, as Excel does
        ("utf-16", ROWS.replace(",", "\t")),  # Excel's "Unicode Text"
        ("utf-16-le", ROWS),  # no BOM
        ("utf-8", ROWS.replace(",", ";")),  # European Excel
    ],
)
def test_excel_encodings_are_read(tmp_path: Path, store: Store, encoding: str, text: str) -> None:
    export = write(tmp_path, "excel.csv", text, encoding)
    assert ingest([export], store, brands()).stored == 1
    (post,) = store.posts()
    assert (post.id, post.text, post.author_handle, post.brands) == (
        "1", "@KiwiNet café down", "kim", ("kiwinet",),
    )  # fmt: skip


def test_a_field_over_128_kb_is_quarantined(tmp_path: Path, store: Store) -> None:
    huge = "x" * (FIELD_LIMIT + 1)
    export = write(
        tmp_path,
        "e.csv",
        f"id,created_at,text,username\n1,2014-09-06T10:00:00Z,{huge},a\n"
        "2,2014-09-06T10:00:00Z,fine,b\n",
    )
    result = ingest([export], store, {})
    assert (result.stored, result.quarantined) == (1, 1)
    field, reason = store.connection.execute("SELECT field, reason FROM quarantine").fetchone()
    assert field == "text" and "over the 128 KB limit" in reason


def test_a_spreadsheet_rounded_id_is_refused_not_guessed(tmp_path: Path, store: Store) -> None:
    export = write(
        tmp_path,
        "e.csv",
        "tweet_id,text,tweet_created,name\n5.70306E+17,a,2/24/2015 11:35,x\n"
        "570301130888122368,b,2/24/2015 11:15,y\n",
    )
    result = ingest([export], store, {})
    assert (result.stored, result.quarantined) == (1, 1)
    assert "rounded by a spreadsheet" in result.errors[0]
    assert store.posts()[0].created_at == datetime(2015, 2, 24, 11, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3.0", "3"),
        ("570306133677760513", "570306133677760513"),
        ("5.70306133677760513E+17", "570306133677760513"),
        ("https://twitter.com/jo/status/123456?s=20", "123456"),
        ("at://did:plc:x/app.bsky.feed.post/3l3", "at://did:plc:x/app.bsky.feed.post/3l3"),
        ("", None),
    ],
)
def test_read_id(value: str, expected: str | None) -> None:
    assert read_id(value, "id") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2015-02-24 11:35:52 -0800", datetime(2015, 2, 24, 19, 35, 52)),
        ("2023-01-05 13:45:12.0", datetime(2023, 1, 5, 13, 45, 12)),
        ("2023-01-05 13:45:12 UTC", datetime(2023, 1, 5, 13, 45, 12)),
        ("Tue Oct 31 22:10:47 +0000 2017", datetime(2017, 10, 31, 22, 10, 47)),
        ("1410000000000", datetime(2014, 9, 6, 10, 40)),
        ("2/24/2015 11:35", datetime(2015, 2, 24, 11, 35)),
        ("24-02-2015 11:35", datetime(2015, 2, 24, 11, 35)),
        ("Jan 05, 2023", datetime(2023, 1, 5)),
    ],
)
def test_parse_time(value: str, expected: datetime) -> None:
    assert parse_time(value, "created_at") == expected


def test_bad_times_are_record_errors() -> None:
    for value in ("not a time", "99999999999999999999", "31/31/2015"):
        with pytest.raises(RecordError):
            parse_time(value, "created_at")


# -- the exports people have -----------------------------------------------------------------
def test_twarc2_csv(tmp_path: Path, store: Store) -> None:
    export = write(
        tmp_path,
        "twarc.csv",
        "id,conversation_id,referenced_tweets.replied_to.id,author_id,created_at,text,lang,"
        "public_metrics.like_count,public_metrics.retweet_count,entities.urls,author.username,"
        "author.name,author.location,author.public_metrics.followers_count,geo.country_code\n"
        "20,10,10,99,2014-09-06T10:00:00.000Z,@KiwiNet down &amp; out,en,3,1,"
        '"[""https://status.kiwinet.example""]",jo,Jo B,"Wellington, NZ",42,\n',
    )
    ingest([export], store, brands())
    post = store.posts()[0]
    assert (post.id, post.reply_to_id, post.conversation_id, post.author_id) == (
        "20",
        "10",
        "10",
        "99",
    )
    assert (post.author_handle, post.author_name, post.author_followers) == ("jo", "Jo B", 42)
    assert (post.like_count, post.repost_count, post.urls) == (
        3,
        1,
        ("https://status.kiwinet.example",),
    )
    assert (post.text, post.lang, post.region, post.platform) == (
        "@KiwiNet down & out",
        "en",
        "NZ-WGN",
        "csv",
    )


def test_brandwatch_export_with_report_lines_above_the_header(tmp_path: Path, store: Store) -> None:
    export = write(
        tmp_path,
        "brandwatch.csv",
        "Report:,Mentions\nBrand:,KiwiNet\nFrom:,2014-09-01\n\n"
        "Query Id,Query Name,Date,Title,Url,Page Type,Language,Country Code,Author,Full Name,"
        "Full Text,Twitter Author ID,Twitter Followers,Twitter Retweets,Twitter Reply to\n"
        "1,kiwi,2014-09-06 10:00:00.0,t,http://twitter.com/jo/statuses/555,twitter,en,NZ,jo,Jo B,"
        "@KiwiNet is down,77,120,2,http://twitter.com/kiwinet/statuses/444\n",
    )
    result = ingest([export], store, brands())
    assert result.stored == 1
    post = store.posts()[0]
    assert (post.id, post.platform, post.author_id, post.author_handle) == ("555", "x", "77", "jo")
    assert (post.text, post.author_followers, post.repost_count, post.reply_to_id) == (
        "@KiwiNet is down", 120, 2, "444",
    )  # fmt: skip
    assert post.region == "NZ" and post.created_at == datetime(2014, 9, 6, 10, tzinfo=UTC)


def test_meltwater_utf16_tab_export_with_date_and_time(tmp_path: Path, store: Store) -> None:
    header = ["Date", "Time", "Document ID", "URL", "Hit Sentence", "Source Domain",
              "Author Handle", "Country", "Language", "Tweet Id", "Twitter Id",
              "Twitter Followers", "Likes"]  # fmt: skip
    row = ["06-Sep-2014", "10:30 AM", "d1", "http://twitter.com/jo/status/777",
           "@KiwiNet outage in Wellington", "twitter.com", "@jo", "New Zealand", "English",
           "777", "88", "1,204", "5"]  # fmt: skip
    text = "\t".join(header) + "\n" + "\t".join(row) + "\n"
    export = write(tmp_path, "meltwater.csv", text, "utf-16")
    ingest([export], store, brands())
    post = store.posts()[0]
    assert (post.id, post.created_at, post.platform) == (
        "777",
        datetime(2014, 9, 6, 10, 30, tzinfo=UTC),
        "x",
    )
    assert (post.author_id, post.author_handle, post.author_followers) == ("88", "jo", 1204)
    assert post.region == "NZ" and post.lang is None and post.like_count == 5


def test_sprout_social_export(tmp_path: Path, store: Store) -> None:
    export = write(
        tmp_path,
        "sprout.csv",
        "Date,Network,Message Type,Profile,From,Message,Link,Likes,Comments,Shares,Post ID\n"
        '09/06/2014 10:00 am,Twitter,Mention,KiwiNet,@kim,"@KiwiNet fibre down, again",'
        "https://twitter.com/kim/status/901,0,1,2,901\n",
    )
    ingest([export], store, brands())
    post = store.posts()[0]
    assert (post.id, post.platform, post.author_handle, post.created_at) == (
        "901", "x", "kim", datetime(2014, 9, 6, 10, tzinfo=UTC),
    )  # fmt: skip
    assert (post.like_count, post.reply_count, post.repost_count) == (0, 1, 2)


def test_talkwalker_export(tmp_path: Path, store: Store) -> None:
    export = write(
        tmp_path,
        "talkwalker.csv",
        "url,indexed,published,title,content,lang,source_type,extra_author_attributes.id,"
        "extra_author_attributes.name,extra_author_attributes.short_name,"
        "extra_author_attributes.world_data.country_code,"
        "article_extended_attributes.twitter_followers,article_extended_attributes.twitter_likes\n"
        "https://twitter.com/jo/status/31,1410000100000,1410000000000,,@KiwiNet down,en,"
        "SOCIALMEDIA_TWITTER,88,Jo B,jo,nz,10,4\n",
    )
    ingest([export], store, brands())
    post = store.posts()[0]
    assert (post.id, post.created_at, post.author_handle, post.region) == (
        "31", datetime(2014, 9, 6, 10, 40, tzinfo=UTC), "jo", "NZ",
    )  # fmt: skip
    assert (post.author_followers, post.like_count, post.platform) == (10, 4, "x")


# -- suggestions for a run that quarantined much ---------------------------------------------
def test_suggest_mapping_for_quarantined_fields(tmp_path: Path, store: Store) -> None:
    rows = "".join(
        f"{i},draft,2014-09-06T10:{i:02d}:00Z,@KiwiNet down {i},u{i}\n" for i in range(30)
    )
    export = write(tmp_path, "e.csv", "id,date,Posted,text,user\n" + rows)
    result = ingest([export], store, {})
    assert result.quarantined == 30  # "date" holds a status, not a time
    fields = [f for (f,) in store.connection.execute("SELECT field FROM quarantine").fetchall()]
    assert suggest_mapping(export, fields) == {"created_at": "Posted"}
    fixed = ingest([export], store, {}, csv_mapping=suggest_mapping(export, fields))
    assert fixed.stored == 30


def test_suggest_mapping_for_missing_required_columns(tmp_path: Path) -> None:
    export = write(
        tmp_path, "e.csv", "Ref,When,Said\n" + "".join(
            f"r{i},2014-09-06 10:{i:02d},the line is down again {i}\n" for i in range(10)
        )
    )  # fmt: skip
    assert suggest_mapping(export, []) == {"id": "Ref", "created_at": "When", "text": "Said"}


# -- real rows, read in place ----------------------------------------------------------------
@needs_twcs
def test_real_twcs_rows_link_and_decode(store: Store) -> None:
    result = ingest([TWCS], store, {})
    # one record is broken across lines in the source: its two pieces are quarantined
    assert (result.read, result.stored, result.quarantined) == (5001, 4999, 2)
    cur = store.connection
    replies, linked = cur.execute(
        "SELECT count(p.reply_to_id), count(q.id) FROM posts p "
        "LEFT JOIN posts q ON p.reply_to_id = q.id"
    ).fetchone()
    assert (replies, linked) == (3694, 3687)  # was (0, 0): no column read, and "3.0" != "3"
    (encoded,) = cur.execute(
        "SELECT count(*) FROM posts WHERE regexp_matches(text, '&(amp|lt|gt|quot);')"
    ).fetchone()
    assert encoded == 0
    (amp,) = cur.execute("SELECT count(*) FROM posts WHERE text LIKE '%&%'").fetchone()
    assert amp > 100
    (agents,) = cur.execute("SELECT count(author_handle) FROM posts").fetchone()
    assert agents == 2222  # the brands' agents: author_id is their handle


def brands() -> dict[str, Brand]:
    return parse_brands(
        {"brands": {"kiwinet": {"name": "KiwiNet", "keywords": ["kiwinet"],
                                "handles": ["@KiwiNet", "@KiwiNetHelp"]}}},
        source="test",
    )  # fmt: skip


def test_readme_and_help_list_every_mappable_field(runner: CliRunner) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    table = load_columns()
    result = runner.invoke(get_app(), ["ingest", "--help"], env={"COLUMNS": "200"})
    for field in table.fields:
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{field}`"))
        assert all(f"`{name}`" in row for name in table.names[field])
        assert f"{field}" in result.output
    assert "Hit Sentence" in result.output and "Full Text" in result.output
