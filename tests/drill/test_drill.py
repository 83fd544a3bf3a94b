"""Drills: an incident replayed on an accelerated clock, a scripted team, the debrief."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from uproar.cli.app import get_app
from uproar.drill import (
    PlayPost,
    Source,
    advance,
    clock,
    load_best_play,
    parse_speed,
    pause,
    prepare_source,
    record_response,
    resume,
    score,
    score_play,
    start_drill,
)
from uproar.drill.promises import promised_next
from uproar.drill.score import play_from_spec
from uproar.errors import InputError
from uproar.respond.lint import Linter
from uproar.store import Store
from uproar.times import zone

HERE = Path(__file__).parent
MINI = HERE / "mini-outage.toml"
WALL = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)  # the wall clock the drills start at
NZ = zone("Pacific/Auckland")
GOOD = (
    "We're sorry: broadband is down for customers in Wellington. Please restart your modem "
    "and don't click the prize link going round, it's a scam. Next update at 7.30pm."
)
BLAMING = "Most of these modems were not supplied by us, so please check yours."


# -- promises and speed (fast) -------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("Next update at 9pm.", 60),  # 8pm NZST posted -> 9pm
        ("We'll post again in 30 minutes.", 30),
        ("More news by 8.45pm tonight", 45),
        ("We'll update you within the next hour", 60),
        ("Next update in half an hour", 30),
        ("Next update at 7pm", 23 * 60),  # already past today: tomorrow's
        ("Our engineers are at 3 sites", None),  # no am/pm: a count, not a time
        ("We're looking into it.", None),
    ],
)
def test_promised_next_update(text: str, minutes: int | None) -> None:
    posted = datetime(2014, 9, 5, 8, 0, tzinfo=UTC)  # 8pm in Auckland
    expected = None if minutes is None else posted + timedelta(minutes=minutes)
    assert promised_next(text, posted, NZ) == expected


def test_speed_factors() -> None:
    assert parse_speed("10x") == 10.0
    assert parse_speed("2.5") == 2.5
    for bad in ("0x", "-3", "fast", "nan"):
        with pytest.raises(InputError, match="speed"):
            parse_speed(bad)


@pytest.mark.parametrize(
    ("scenario", "onset", "rumour"),
    [
        ("isp-2014", datetime(2014, 9, 5, 7, 30, tzinfo=UTC), {"kind": "bait_link",
         "domain": "celebz-leaked-pics.example.com"}),
        ("telco-gaffe", datetime(2014, 11, 11, 20, 15, tzinfo=UTC), {"kind": "reaction"}),
    ],
)  # fmt: skip
def test_best_play_scores_full_marks_on_what_it_controls(
    scenario: str, onset: datetime, rumour: dict[str, str]
) -> None:
    """The shipped best plays (for the outage, numbered threads in the manner of the 2014
    #RPT updates; for the gaffe, an apology within minutes) keep every promise, state every
    fact, answer the rumour or backlash and have no linter finding."""
    best = load_best_play()
    debrief = score_play(
        play_from_spec(best.plays[scenario], onset),
        name="best",
        onset=onset,
        until=onset + timedelta(hours=3),
        tz=NZ,
        linter=Linter(),
        rumours=[rumour],
        best=best,
    )
    by_key = {m.key: m.score for m in debrief.measures}
    assert by_key["first_ack_min"] == 100
    assert by_key["promises_kept"] == 100
    assert by_key["update_gap"] == 100
    assert by_key["facts_per_update"] == 100
    assert by_key["lint"] == 100, [p.findings for p in debrief.posts if p.findings]
    assert by_key["rumours_addressed"] == 100
    assert by_key["answered_share"] is None  # no inbox: not measured, not counted
    assert debrief.score == 100


def test_a_blaming_post_scores_down_and_names_its_category() -> None:
    onset = datetime(2014, 9, 5, 7, 30, tzinfo=UTC)
    posts = [
        PlayPost(onset + timedelta(minutes=10), "update", GOOD),
        PlayPost(onset + timedelta(minutes=50), "update", BLAMING),
    ]
    debrief = score_play(
        posts, name="team", onset=onset, until=onset + timedelta(hours=1), tz=NZ, linter=Linter()
    )
    good, blaming = debrief.posts
    assert good.score == 100 and good.categories == ()
    assert blaming.score < good.score
    assert "blame" in blaming.categories
    assert debrief.categories["blame"] == 1
    assert "blame" in debrief.measure("lint").shown


# -- a drill over a simulated store (slow: simulates and ingests) ---------------------------
@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Source:
    return prepare_source(str(MINI), workdir=tmp_path_factory.mktemp("drill-src"))


@pytest.fixture
def drill_store(tmp_path: Path, source: Source) -> Iterator[Store]:
    with Store(tmp_path / "drill.duckdb") as store:
        start_drill(store, source, now=WALL, speed=60)
        yield store


@pytest.mark.slow
def test_posts_appear_on_their_real_schedule(drill_store: Store, source: Source) -> None:
    start = clock(drill_store, now=WALL)
    assert start.now == source.onset - timedelta(minutes=30)
    history = drill_store.count_posts()
    step = advance(drill_store, now=WALL + timedelta(seconds=60))  # 60x: one hour later
    assert step.clock.now == start.now + timedelta(hours=1)
    assert step.released > 0
    assert drill_store.count_posts() == history + step.released
    newest = drill_store.connection.execute("SELECT max(created_at) FROM posts").fetchone()
    assert newest is not None and newest[0] <= step.clock.now.replace(tzinfo=None)
    # The brand's own posts are never replayed: the team plays the brand.
    own = drill_store.connection.execute(
        "SELECT count(*) FROM posts WHERE own_brand = 'acme'"
    ).fetchone()
    assert own == (0,)
    # Released posts bring their labels with them.
    unlabelled = drill_store.connection.execute(
        "SELECT count(*) FROM posts p ANTI JOIN labels l USING (platform, id)"
    ).fetchone()
    assert unlabelled == (0,)


@pytest.mark.slow
def test_pause_stops_the_clock_and_resume_carries_on(drill_store: Store) -> None:
    t1 = WALL + timedelta(seconds=30)
    before = clock(drill_store, now=t1).now
    pause(drill_store, now=t1)
    paused = clock(drill_store, now=t1 + timedelta(minutes=10))
    assert paused.paused and paused.now == before
    assert advance(drill_store, now=t1 + timedelta(minutes=10)).clock.now == before
    resume(drill_store, now=t1 + timedelta(minutes=10))
    later = clock(drill_store, now=t1 + timedelta(minutes=10, seconds=5))
    assert not later.paused and later.now == before + timedelta(minutes=5)  # 5 s at 60x


@pytest.mark.slow
def test_request_threads_move_the_clock_at_once(drill_store: Store) -> None:
    """The dashboard advances the drill from each request and from its live feed, on their
    own cursors and at the same moment: every release lands once, none fails."""
    history = drill_store.count_posts()
    start = threading.Barrier(4)
    failures: list[BaseException] = []

    def visit(seconds: int) -> None:
        view = drill_store.for_thread()
        try:
            start.wait()
            for step in range(5):
                advance(view, now=WALL + timedelta(seconds=seconds + step * 7))
        except BaseException as exc:  # reported by the assertion below
            failures.append(exc)
        finally:
            view.close_thread()

    threads = [threading.Thread(target=visit, args=(s,)) for s in (10, 11, 12, 13)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    released = drill_store.count_posts() - history
    step = advance(drill_store, now=WALL + timedelta(seconds=41))  # the furthest any reached
    assert step.released == 0 and released > 0
    left = drill_store.connection.execute(
        "SELECT count(*) FROM drill_feed WHERE created_at <= ?",
        [step.clock.now.replace(tzinfo=None)],
    ).fetchone()
    assert left == (0,)


@pytest.mark.slow
def test_a_reply_answers_its_mention_in_the_inbox(drill_store: Store, source: Source) -> None:
    step = advance(drill_store, now=WALL + timedelta(seconds=45), show=10_000)
    mention = next(
        p
        for p in reversed(step.posts)
        if "acme" in (p["brands"] or [])
        and "?" in p["text"]
        and p["reposted_id"] is None
        and p["created_at"] > source.onset
    )
    response = record_response(
        drill_store,
        "Sorry about this, we're on it. Please restart your modem.",
        now=WALL + timedelta(seconds=50),
        reply_to=f"{mention['platform']}:{mention['id']}",
        author="sam",
    )
    assert response.kind == "reply"
    debrief = score(drill_store, now=WALL + timedelta(seconds=120))
    assert debrief.team.measure("answered_share").value is not None
    assert debrief.team.measure("median_answer_min").value is not None
    with pytest.raises(InputError, match="has appeared"):
        record_response(drill_store, "hi", now=WALL + timedelta(seconds=60), reply_to="x:nope")


@pytest.mark.slow
def test_a_second_drill_in_the_same_store_is_refused(drill_store: Store, source: Source) -> None:
    with pytest.raises(InputError, match="already holds a drill"):
        start_drill(drill_store, replace(source), now=WALL)


@pytest.mark.slow
def test_scripted_team_end_to_end(tmp_path: Path) -> None:
    """`uproar drill` with a scripted team of two: a good update and a blaming one. The
    drill report scores the blaming post down and names its category."""
    team = tmp_path / "team.jsonl"
    team.write_text(
        "\n".join(
            json.dumps(item)
            for item in (
                {"at": "+10m", "kind": "update", "text": GOOD, "author": "sam"},
                {
                    "at": "+40m",
                    "text": "Sorry for the wait, we're on it.",
                    "reply_to": "latest",
                    "author": "kim",
                },
                {"at": "+75m", "kind": "update", "text": BLAMING, "author": "kim"},
            )
        )
        + "\n"
    )
    out = tmp_path / "drill.html"
    result = CliRunner().invoke(
        get_app(),
        [
            "drill", str(MINI), "--speed", "600x", "--team-size", "2", "--span", "2h",
            "--db", str(tmp_path / "drill.duckdb"), "--responses", str(team),
            "--out", str(out), "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ok"] and data["out"] == str(out) and data["team_size"] == 2
    posts = data["team"]["posts"]
    assert [p["kind"] for p in posts] == ["update", "reply", "update"]
    assert posts[0]["score"] == 100 and posts[0]["categories"] == []
    assert posts[2]["score"] < posts[0]["score"] and "blame" in posts[2]["categories"]
    measures = {m["key"]: m for m in data["team"]["measures"]}
    assert measures["first_ack_min"]["value"] == 10
    assert measures["rumours_addressed"]["score"] == 100  # "it's a scam"
    assert measures["answered_share"]["value"] > 0
    html = out.read_text()
    assert "Drill debrief" in html and "<script" not in html
    assert "blame: Don&#39;t put the fault on the customer" in html


@pytest.mark.slow
def test_cli_mistakes_are_loud(tmp_path: Path) -> None:
    runner = CliRunner()
    db = tmp_path / "drill.duckdb"
    db.write_bytes(b"")
    taken = runner.invoke(get_app(), ["drill", str(MINI), "--db", str(db)])
    assert taken.exit_code == 2 and "--replace" in taken.output
    nothing = runner.invoke(get_app(), ["drill", "--db", str(tmp_path / "x.duckdb")])
    assert nothing.exit_code == 2 and "name a scenario" in nothing.output
    missing = runner.invoke(get_app(), ["drill", "--debrief", "--db", str(tmp_path / "x.duckdb")])
    assert missing.exit_code == 2 and "no drill store" in missing.output
    speed = runner.invoke(get_app(), ["drill", str(MINI), "--speed", "0x", "--db", str(db)])
    assert speed.exit_code == 2 and "speed" in speed.output


@pytest.mark.slow
def test_live_drill_shows_posts_as_they_appear_and_scores_a_silent_team(tmp_path: Path) -> None:
    """Live (no responses file), at a speed that replays the hour in a blink: the posts
    scroll past, the replay ends, and a team that said nothing is scored for it."""
    result = CliRunner().invoke(
        get_app(),
        [
            "drill", str(MINI), "--speed", "100000x", "--span", "1h",
            "--db", str(tmp_path / "drill.duckdb"), "--out", str(tmp_path / "drill.html"),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "The drill is live" in result.output and "reached its end" in result.output
    assert "@" in result.output  # posts, with their authors
    assert "Time to first acknowledgement: never (0)" in result.output
    assert (tmp_path / "drill.html").is_file()


@pytest.mark.slow
def test_start_only_then_debrief(tmp_path: Path) -> None:
    """`--start-only` leaves the drill to the dashboard (the library calls); `--debrief`
    scores whatever the team posted into the store meanwhile."""
    runner = CliRunner()
    db = tmp_path / "drill.duckdb"
    started = runner.invoke(
        get_app(),
        ["drill", str(MINI), "--speed", "100000x", "--db", str(db), "--start-only", "--json"],
    )
    assert started.exit_code == 0, started.output
    state = json.loads(started.output)
    assert state["ok"] and state["speed"] == 100000 and not state["paused"]
    with Store(db) as store:  # what the dashboard's Composer would do
        record_response(store, GOOD, now=datetime.now(UTC), kind="update", author="sam")
    out = tmp_path / "debrief.html"
    scored = runner.invoke(
        get_app(), ["drill", "--debrief", "--db", str(db), "--out", str(out), "--json"]
    )
    assert scored.exit_code == 0, scored.output
    debrief = json.loads(scored.output)
    assert [p["author"] for p in debrief["team"]["posts"]] == ["sam"]
    assert out.is_file()
