"""Every archive format, from fixtures written after each platform's documentation."""

from __future__ import annotations

import gzip
import shutil
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from uproar.config import Brand
from uproar.errors import FormatError
from uproar.sources import detect_format, ingest
from uproar.store import Store


def by_id(store: Store) -> dict[str, object]:
    return {p.id: p for p in store.posts()}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("x_v2_page.jsonl", "x-v2"),
        ("twarc2_flat.jsonl", "x-v2"),
        ("x_v1.jsonl", "x-v1"),
        ("mastodon_statuses.json", "mastodon"),
        ("mastodon_stream.jsonl", "mastodon"),
        ("jetstream.jsonl", "bluesky"),
        ("posts.csv", "csv"),
    ],
)
def test_format_is_detected(fixtures: Path, name: str, expected: str) -> None:
    assert detect_format(fixtures / name) == expected


def test_undetectable_format_names_the_file(tmp_path: Path) -> None:
    odd = tmp_path / "odd.jsonl"
    odd.write_text('{"hello": "world"}\n' * 3)
    with pytest.raises(FormatError, match=r"odd\.jsonl"):
        detect_format(odd)


def test_x_v2_page_with_expansions(fixtures: Path, store: Store, brands: dict[str, Brand]) -> None:
    result = ingest([fixtures / "x_v2_page.jsonl"], store, brands)
    assert result.as_dict()["stored"] == 4
    posts = by_id(store)
    first = posts["508170146223599616"]
    assert first.created_at == datetime(2014, 9, 6, 8, 15, 2, tzinfo=UTC)
    assert first.text.startswith("@KiwiNet internet is impossibly slow tonight & nothing")
    assert first.author_handle == "mara_k" and first.author_followers == 312
    assert first.urls == ("https://status.example.nz/outage",)
    assert (first.place, first.region) == ("Auckland, New Zealand", "NZ-AUK")
    assert (first.like_count, first.repost_count, first.reply_count) == (7, 3, 1)
    assert first.brands == ("kiwinet",)
    reply = posts["508170199999999999"]
    assert reply.reply_to_id == "508170146223599616"
    assert reply.own_brand == "kiwinet"  # written by @KiwiNetHelp
    assert posts["508170200000000001"].reposted_id == "508170146223599616"
    single = posts["508170300000000000"]
    assert single.brands == ("kiwinet", "tuinet")
    raw = orjson.loads(first.raw)
    assert raw["data"]["id"] == first.id and raw["includes"]["users"][0]["username"] == "mara_k"


def test_twarc2_flattened_tweet(fixtures: Path, store: Store, brands: dict[str, Brand]) -> None:
    ingest([fixtures / "twarc2_flat.jsonl"], store, brands, format="twarc")
    (post,) = store.posts()
    assert post.author_handle == "ngaio_b" and post.author_followers == 88
    assert post.brands == ("kiwinet",)  # "kiwinet broadband" keyword


def test_x_v1_full_text_retweets_and_notices(
    fixtures: Path, store: Store, brands: dict[str, Brand]
) -> None:
    result = ingest([fixtures / "x_v1.jsonl"], store, brands)
    assert (result.stored, result.skipped, result.quarantined) == (3, 1, 0)
    posts = by_id(store)
    assert posts["508170500000000000"].text.endswith("nothing works <sigh>")
    # "Wellington City, New Zealand": the geotag's place names the region, not just NZ.
    assert posts["508170500000000000"].region == "NZ-WGN"
    assert posts["508170500000000000"].author_location == "Wellington"
    retweet = posts["508170500000000001"]
    assert retweet.reposted_id == "508170500000000000"
    assert retweet.text == (
        "RT @hemi_p: @KiwiNet my modem lights are flashing orange and nothing works <sigh>"
    )
    extended = posts["508170500000000002"]
    assert extended.text.endswith("(all of them!!)")
    assert extended.urls == ("http://celeb-leaks.example/pics",)


def test_mastodon_html_is_plain_text(
    fixtures: Path, store: Store, brands: dict[str, Brand]
) -> None:
    ingest([fixtures / "mastodon_statuses.json", fixtures / "mastodon_stream.jsonl"], store, brands)
    posts = by_id(store)
    first = posts["112001"]
    assert "<" not in first.text and "&amp;" not in first.text
    assert first.text.startswith("@KiwiNet is it just me or is everything crawling? & no email")
    assert "\n" in first.text  # paragraphs become lines
    assert first.urls == ("https://status.kiwinet.example/",)  # mention/hashtag links left out
    assert posts["112002"].reposted_id == "112001"
    assert posts["112002"].text == "RT @aroha: is #kiwinet down?"
    assert posts["112003"].text == "@KiwiNet still no internet in Hamilton\nday two..."


def test_bluesky_jetstream(fixtures: Path, store: Store, brands: dict[str, Brand]) -> None:
    result = ingest([fixtures / "jetstream.jsonl"], store, brands)
    assert (result.stored, result.skipped) == (3, 3)  # a like, an identity event, a delete
    posts = by_id(store)
    uri = "at://did:plc:eygmaihciaxprqvxpfvl6flk/app.bsky.feed.post/3l3qo2vutsw2b"
    assert posts[uri].urls == ("https://status.kiwinet.example",)
    reply = posts["at://did:plc:abc/app.bsky.feed.post/3l3qo2vutsw2c"]
    assert reply.reply_to_id == uri and reply.conversation_id == uri
    assert reply.brands == ("kiwinet",)


def test_csv_with_aliases_epoch_and_multiline(
    fixtures: Path, store: Store, brands: dict[str, Brand]
) -> None:
    result = ingest([fixtures / "posts.csv"], store, brands)
    assert result.stored == 3
    posts = by_id(store)
    assert posts["c1"].author_handle == "jo_b" and posts["c1"].author_followers == 77
    assert posts["c2"].created_at == datetime.fromtimestamp(1410000000, UTC)
    assert posts["c2"].urls == ("https://example.org/a", "https://example.org/b")
    assert posts["c3"].text == "tuinet is fine for me, multi-line\ncomment here"
    assert posts["c3"].region == "AU"


def test_csv_mapping_names_columns(tmp_path: Path, store: Store, brands: dict[str, Brand]) -> None:
    export = tmp_path / "export.csv"
    export.write_text("Ref,Posted,Message,Who\nm1,2014-09-06T10:00:00Z,@KiwiNet down?,kim\n")
    ingest(
        [export],
        store,
        brands,
        csv_mapping={
            "id": "Ref",
            "created_at": "Posted",
            "text": "Message",
            "author_handle": "Who",
        },
    )
    (post,) = store.posts()
    assert (post.id, post.author_id, post.brands) == ("m1", "kim", ("kiwinet",))


def test_gzip_is_read_transparently(
    fixtures: Path, tmp_path: Path, store: Store, brands: dict[str, Brand]
) -> None:
    packed = tmp_path / "page.jsonl.gz"
    with (fixtures / "x_v2_page.jsonl").open("rb") as src, gzip.open(packed, "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert ingest([packed], store, brands).stored == 4


def test_bluesky_pre_2024_jetstream_spelling(
    fixtures: Path, store: Store, brands: dict[str, Brand]
) -> None:
    ingest([fixtures / "jetstream.jsonl"], store, brands)
    old = by_id(store)["at://did:plc:old/app.bsky.feed.post/3l2old"]
    assert old.text == "old jetstream format, #kiwinet still down"


def test_decoded_objects_from_a_live_source(store: Store, brands: dict[str, Brand]) -> None:
    from uproar.sources import Ingestor

    events = [
        {"event": "update", "payload": orjson.dumps({
            "id": "9", "created_at": "2014-09-06T09:20:00Z", "content": "<p>@KiwiNet down?</p>",
            "account": {"id": "1", "acct": "kim"}}).decode()},
        {"event": "update", "payload": "{not json"},
        {"event": "notification", "payload": "{}"},
    ]  # fmt: skip
    result = Ingestor(store, brands).ingest_objects(
        events, format="mastodon", source="wss://mastodon.example/api/v1/streaming"
    )
    assert (result.stored, result.quarantined, result.skipped) == (1, 1, 1)
    (post,) = store.posts()
    assert post.text == "@KiwiNet down?" and post.brands == ("kiwinet",)


def test_what_is_kept_as_json_does_not_depend_on_the_recursion_limit() -> None:
    """A library that raises the interpreter's recursion limit (some do, for the whole
    process) must not turn a record quarantined as too deep into a stored one."""
    import sys

    from uproar.sources.fields import MAX_JSON_DEPTH, RecordError, to_json

    deep: object = "x"
    for _ in range(MAX_JSON_DEPTH + 100):
        deep = [deep]
    shallow: object = "x"
    for _ in range(300):  # past orjson's 255 levels: the standard library writes it
        shallow = [shallow]
    before = sys.getrecursionlimit()
    try:
        for limit in (before, 20_000):
            sys.setrecursionlimit(limit)
            with pytest.raises(RecordError, match="nested too deep"):
                to_json({"entities": deep})
            assert to_json(shallow) == "[" * 300 + '"x"' + "]" * 300
    finally:
        sys.setrecursionlimit(before)
