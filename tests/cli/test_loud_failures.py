"""Issue 10 §1: every mistake is loud. Each test here failed on the code before (an empty
store, an empty table or a traceback, with exit status 0 or 1) and names its bullet."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from uproar.cli.app import get_app
from uproar.store import Store

ROOT = Path(__file__).resolve().parents[2]


def run(runner: CliRunner, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(get_app(), list(args), env=env)
    return result.exit_code, result.output


def cli(
    *args: str, env: dict[str, str] | None = None, stdin: int | None = None
) -> subprocess.CompletedProcess[str]:
    """The real console entry point in a child process (what a user's shell runs)."""
    return subprocess.run(
        [sys.executable, "-m", "uproar.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
        timeout=120,
    )


def one_line_error(stderr: str) -> str:
    """The error printed: exactly one line, and no traceback."""
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    return lines[0]


@pytest.fixture
def db(runner: CliRunner, fixtures: Path, tmp_path: Path) -> str:
    """A store with the fixture posts and brands (kiwinet, tuinet, wekamobile)."""
    path = str(tmp_path / "u.duckdb")
    code, out = run(
        runner,
        "ingest",
        str(fixtures / "x_v2_page.jsonl"),
        str(fixtures / "posts.csv"),
        "--db",
        path,
        "--brands",
        str(fixtures / "brands.toml"),
        "--no-classify",
    )
    assert code == 0, out
    return path


# -- §1 Missing store ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "command",
    [
        ["detect"],
        ["stats"],
        ["posts"],
        ["inbox", "--brand", "kiwinet"],
        ["signal", "--brand", "kiwinet"],
    ],
)
def test_reading_a_missing_store_is_an_error_and_creates_nothing(
    runner: CliRunner, tmp_path: Path, command: list[str]
) -> None:
    """`detect --db does-not-exist.duckdb` printed "0 incident(s)" (rc 0) and created the
    file; stats, posts and inbox printed empty tables."""
    missing = tmp_path / "does-not-exist.duckdb"
    code, out = run(runner, *command, "--db", str(missing))
    assert code == 2
    assert "no such store" in out and "uproar ingest" in out and str(missing) in out
    assert not missing.exists()


def test_a_failed_ingest_leaves_no_empty_store(runner: CliRunner, tmp_path: Path) -> None:
    """`uproar ingest nope.jsonl --db e1.duckdb` failed but left an empty e1.duckdb."""
    store = tmp_path / "e1.duckdb"
    code, out = run(runner, "ingest", str(tmp_path / "nope.jsonl"), "--db", str(store))
    assert code == 2 and "no such file" in out
    assert not store.exists() and not Path(f"{store}.wal").exists()


def test_a_failed_ingest_keeps_a_store_that_was_there(
    runner: CliRunner, db: str, tmp_path: Path
) -> None:
    code, _ = run(runner, "ingest", str(tmp_path / "nope.jsonl"), "--db", db)
    assert code == 2
    with Store(db, read_only=True) as store:
        assert store.count_posts() == 7


def test_a_bad_brands_file_leaves_no_empty_store(
    runner: CliRunner, fixtures: Path, tmp_path: Path
) -> None:
    brands = tmp_path / "brands.toml"
    brands.write_text('[brands.k]\nhandels = ["@K"]\n')
    store = tmp_path / "new.duckdb"
    posts = str(fixtures / "x_v2_page.jsonl")
    code, out = run(runner, "ingest", posts, "--db", str(store), "--brands", str(brands))
    assert code == 2 and "handels" in out
    assert not store.exists()


# -- §1 Brands file typos ---------------------------------------------------------------
def test_a_brands_key_typo_is_an_error_with_did_you_mean(
    runner: CliRunner, fixtures: Path, tmp_path: Path
) -> None:
    """`handels = [...]` passed with rc 0, and KiwiNet then matched a tenth of its posts."""
    brands = tmp_path / "brands.toml"
    brands.write_text((fixtures / "brands.toml").read_text().replace("handles", "handels", 1))
    code, out = run(
        runner, "ingest", str(fixtures / "x_v2_page.jsonl"), "--db", str(tmp_path / "u.duckdb"),
        "--brands", str(brands),
    )  # fmt: skip
    assert code == 2
    assert "brands.kiwinet: unknown key 'handels'; did you mean 'handles'?" in out
    assert str(brands) in out


def test_a_region_that_is_no_iso_code_is_an_error(
    runner: CliRunner, fixtures: Path, tmp_path: Path
) -> None:
    """`regions = ["New Zealand"]` was accepted."""
    brands = tmp_path / "brands.toml"
    brands.write_text((fixtures / "brands.toml").read_text().replace('"NZ"', '"New Zealand"', 1))
    code, out = run(
        runner, "ingest", str(fixtures / "x_v2_page.jsonl"), "--db", str(tmp_path / "u.duckdb"),
        "--brands", str(brands),
    )  # fmt: skip
    assert code == 2
    assert "brands.kiwinet.regions: 'New Zealand' is not an ISO 3166 code" in out
    assert "did you mean 'NZ'?" in out


def test_the_readme_brands_example_loads_verbatim_and_peers_are_explained(
    tmp_path: Path,
) -> None:
    """Copied verbatim, the README's example failed (`peers names unknown brand 'tuinet'`)."""
    from uproar.config import load_brands

    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```toml\n(\[brands\..*?)```", readme, re.S)
    assert block is not None
    example = tmp_path / "brands.toml"
    example.write_text(block.group(1))
    brands = load_brands(example)
    for brand in brands.values():
        assert set(brand.peers) <= set(brands)
    assert "peers" in readme[block.end() : block.end() + 1500]  # the README says what peers are

    lone = tmp_path / "lone.toml"
    lone.write_text('[brands.kiwinet]\nkeywords = ["kiwinet"]\npeers = ["tuinet"]\n')
    from uproar.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        load_brands(lone)
    assert "Peers are brands too" in caught.value.message
    assert "add a [brands.tuinet] table" in caught.value.message


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('keywords = [" "]', "keywords"),
        ('handles = ["@ "]', "handles"),
        ('keywords = [""]', "keywords"),
    ],
)
def test_blank_keywords_and_handles_are_refused(tmp_path: Path, line: str, key: str) -> None:
    """Issue 11: a keyword " " was accepted and matched unrelated posts."""
    from uproar.config import load_brands
    from uproar.errors import ConfigError

    brands = tmp_path / "brands.toml"
    brands.write_text(f"[brands.k]\n{line}\n")
    with pytest.raises(ConfigError) as caught:
        load_brands(brands)
    assert caught.value.context["key"] == f"brands.k.{key}"


# -- §1 Unknown names and impossible windows -----------------------------------------------
@pytest.mark.parametrize(
    "command",
    [["posts"], ["signal"], ["inbox"]],
)
def test_an_unknown_brand_lists_the_known_ones(
    runner: CliRunner, db: str, command: list[str]
) -> None:
    """`--brand kiwinett` on inbox, posts and signal returned nothing, rc 0."""
    code, out = run(runner, *command, "--brand", "kiwinett", "--db", db)
    assert code == 2
    assert "unknown brand 'kiwinett'" in out
    assert "kiwinet, tuinet, wekamobile" in out and "did you mean 'kiwinet'?" in out


def test_an_unknown_incident_lists_the_known_ones(runner: CliRunner, db: str) -> None:
    code, out = run(runner, "inbox", "--incident", "inc-kiwinet-0001", "--db", db)
    assert code == 2 and "unknown incident 'inc-kiwinet-0001'" in out and "uproar detect" in out
    with Store(db) as store:
        store.connection.execute(
            """INSERT INTO incidents (id, brand, start, detected_at, peak, severity, scope,
               posts, authors) VALUES ('kiwinet-20140906T0800', 'kiwinet',
               '2014-09-06 08:00', '2014-09-06 08:20', '2014-09-06 09:00', 'high', 'brand', 9, 9)"""
        )
    code, out = run(runner, "inbox", "--incident", "kiwinet-20140906", "--db", db)
    assert code == 2 and "known: kiwinet-20140906T0800" in out


@pytest.mark.parametrize("command", [["detect"], ["posts"], ["signal", "--brand", "kiwinet"]])
def test_an_impossible_window_is_an_error(runner: CliRunner, db: str, command: list[str]) -> None:
    """`detect --since 2014-09-07 --until 2014-09-05` printed 0 incidents, rc 0."""
    code, out = run(runner, *command, "--db", db, "--since", "2014-09-07", "--until", "2014-09-05")
    assert code == 2
    assert "--since 2014-09-07T00:00:00Z is not before --until 2014-09-05T00:00:00Z" in out


# -- §1 A run that stores nothing -----------------------------------------------------------
def test_an_ingest_that_quarantines_everything_exits_non_zero(
    runner: CliRunner, fixtures: Path, tmp_path: Path
) -> None:
    """`uproar ingest isp.jsonl --format mastodon` stored 0, quarantined all, and exited 0."""
    db = str(tmp_path / "u.duckdb")
    args = ["ingest", str(fixtures / "x_v2_page.jsonl"), "--format", "mastodon", "--db", db]
    code, out = run(runner, *args, "--no-classify")
    assert code == 2
    assert "nothing stored" in out and "quarantined" in out
    assert "--format auto" in out  # the fix
    code, out = run(runner, *args, "--no-classify", "--json")
    error = orjson.loads(out)
    assert error["ok"] is False and error["status"] == 2
    assert error["stored"] == 0 and error["quarantined"] == error["read"] > 0
    with Store(db, read_only=True) as store:  # the bad records are kept, not dropped
        assert store.stats()["quarantine"]


def test_an_ingest_over_the_quarantine_threshold_warns_with_reasons(
    runner: CliRunner, fixtures: Path, tmp_path: Path
) -> None:
    args = [
        "ingest", str(fixtures / "x_v2_page.jsonl"), str(fixtures / "bad.jsonl"),
        "--db", str(tmp_path / "u.duckdb"), "--no-classify",
    ]  # fmt: skip
    code, out = run(runner, *args)
    assert code == 0
    assert "warning: 7 of 13 record(s) (54%) were quarantined (commonest:" in out
    code, out = run(runner, *args[:-1], "--json")
    assert "54%" in orjson.loads(out)["warning"]


def test_a_csv_that_quarantines_everything_names_the_map_flags(
    runner: CliRunner, tmp_path: Path
) -> None:
    """A CSV whose recognised time column holds no times (the real ones are in a column
    named otherwise): every row is quarantined, the run fails, and the message names the
    ``--map`` flag that reads it."""
    archive = tmp_path / "export.csv"
    archive.write_text(
        "id,date,text,Zeitpunkt\n"
        + "".join(f"{i},yesterday,KiwiNet down {i},2014-09-06 10:0{i}:00\n" for i in range(5))
    )
    code, out = run(runner, "ingest", str(archive), "--db", str(tmp_path / "u.duckdb"))
    assert code == 2 and "nothing stored" in out
    assert "--map created_at=Zeitpunkt" in out


def test_the_quarantine_verdict_is_quiet_below_the_threshold() -> None:
    from uproar import quarantine

    reasons = [{"kind": "missing field", "field": "author_id", "count": 1, "example": "x"}]
    ok = quarantine.verdict(
        read=100, stored=99, duplicates=0, quarantined=1, reasons=reasons, files={"a.csv": "csv"}
    )
    assert ok.level == "ok"


# -- §1 Tracebacks instead of errors ---------------------------------------------------------
@pytest.mark.slow  # a child process per run: the real entry point, as a shell runs it
def test_a_bad_batch_size_flag_is_one_line(fixtures: Path, tmp_path: Path) -> None:
    """`--batch-size 0` gave a traceback."""
    done = cli("ingest", str(fixtures / "x_v2_page.jsonl"), "--db", str(tmp_path / "u.duckdb"),
               "--batch-size", "0")  # fmt: skip
    assert done.returncode == 2
    assert one_line_error(done.stderr) == (
        "error: --batch-size: expected a whole number above 0, got 0"
    )
    assert not (tmp_path / "u.duckdb").exists()


@pytest.mark.slow  # a child process per run: the real entry point, as a shell runs it
def test_a_bad_setting_from_the_environment_is_one_line(fixtures: Path, tmp_path: Path) -> None:
    """`UPROAR_BATCH_SIZE=abc` gave a traceback."""
    done = cli(
        "ingest", str(fixtures / "x_v2_page.jsonl"), "--db", str(tmp_path / "u.duckdb"),
        env={"UPROAR_BATCH_SIZE": "abc"},
    )  # fmt: skip
    assert done.returncode == 2
    line = one_line_error(done.stderr)
    assert line == "error: UPROAR_BATCH_SIZE: expected a whole number above 0, got 'abc'"
    as_json = cli("stats", "--json", env={"UPROAR_BATCH_SIZE": "abc"})
    assert orjson.loads(as_json.stdout) == {
        "ok": False,
        "error": "UPROAR_BATCH_SIZE: expected a whole number above 0, got 'abc'",
        "status": 2,
        "key": "batch_size",
    }


@pytest.mark.slow  # a child process per run: the real entry point, as a shell runs it
def test_a_damaged_store_is_one_line_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(b"not a database" * 500)
    done = cli("stats", "--db", str(bad))
    assert done.returncode == 2
    line = one_line_error(done.stderr)
    assert str(bad) in line and "not a store Uproar can read" in line


@pytest.mark.slow  # a child process per run: the real entry point, as a shell runs it
def test_usage_errors_are_one_line_and_json_under_json(fixtures: Path) -> None:
    done = cli("ingest", str(fixtures / "x_v2_page.jsonl"), "--bogus")
    assert done.returncode == 2
    assert "No such option: --bogus" in one_line_error(done.stderr)
    done = cli("ingest", str(fixtures / "x_v2_page.jsonl"), "--bogus", "--json")
    error = orjson.loads(done.stdout)
    assert error["ok"] is False and error["status"] == 2 and "--bogus" in error["error"]


@pytest.mark.slow  # a child process per run: the real entry point, as a shell runs it
def test_lint_errors_go_through_the_one_handler(tmp_path: Path) -> None:
    missing = str(tmp_path / "draft.txt")
    done = cli("lint", missing, "--format", "json")
    assert done.returncode == 2
    error = orjson.loads(done.stdout)
    assert error["ok"] is False and error["status"] == 2 and missing in error["error"]
    done = cli("lint", missing)
    assert missing in one_line_error(done.stderr)


# -- §1 Settings and discoverability ---------------------------------------------------------
@pytest.mark.slow  # a child process per run: the real entry point, as a shell runs it
def test_classify_honours_uproar_model(tmp_path: Path) -> None:
    """`uproar classify` ignored UPROAR_MODEL."""
    texts = tmp_path / "t.txt"
    texts.write_text("modem down again\n")
    done = cli("classify", str(texts), env={"UPROAR_MODEL": "huge"})
    assert done.returncode == 2
    assert "UPROAR_MODEL: expected 'fast' or 'accurate', got 'huge'" in one_line_error(done.stderr)


def test_version(runner: CliRunner) -> None:
    """There was no --version."""
    from uproar import __version__

    code, out = run(runner, "--version")
    assert code == 0 and out.strip() == f"uproar {__version__}"


def test_choices_take_any_case(runner: CliRunner, tmp_path: Path) -> None:
    """`--platform X` was refused because it is upper case."""
    facts = ROOT / "src/uproar/respond/examples/kiwinet-update1.toml"
    code, out = run(runner, "thread", str(facts), "--platform", "X", "--json")
    assert code == 0, out
    assert orjson.loads(out)["platform"] == "x"
    code, out = run(runner, "thread", str(facts), "--platform", "myspace")
    assert code == 2 and "'myspace' is not one of x, mastodon, bluesky, facebook" in out


def test_detect_shows_incident_ids_and_inbox_help_has_their_form(runner: CliRunner) -> None:
    """The detect table had no id column; `inbox --incident` help showed `inc-kiwinet-0001`."""
    from datetime import UTC, datetime

    from uproar.cli.detect import _render
    from uproar.cli.output import stdout
    from uproar.detect.batch import DetectResult
    from uproar.records import Incident

    start = datetime(2014, 9, 6, 8, 0, tzinfo=UTC)
    incident = Incident(
        id="kiwinet-20140906T0800", brand="kiwinet", start=start, detected_at=start,
        peak=start, end=None, severity="high", scope="brand", posts=9, authors=9,
    )  # fmt: skip
    with stdout.capture() as captured:
        _render(DetectResult(incidents=(incident,), rumours=(), clock=None, minutes=0, posts=0))
    assert "kiwinet-20140906T0800" in captured.get()
    _, out = run(runner, "inbox", "--help")
    examples = re.findall(r"--incident (\S+)", out)
    assert examples and all(re.fullmatch(r"[a-z0-9_-]+-\d{8}T\d{4}", e) for e in examples)


@pytest.mark.slow  # a child process per run: the real entry point, as a shell runs it
def test_classify_in_a_terminal_prints_a_hint_instead_of_waiting() -> None:
    """`classify` in a terminal with no input waited silently."""
    import pty

    parent, child = pty.openpty()
    try:
        done = cli("classify", stdin=child)
    finally:
        os.close(parent)
        os.close(child)
    assert done.returncode == 2
    assert "stdin, which is a terminal" in one_line_error(done.stderr)


# -- Issue 11: terminal output ----------------------------------------------------------------
def test_post_text_cannot_send_escape_sequences_to_the_terminal(
    runner: CliRunner, tmp_path: Path
) -> None:
    """`uproar posts` passed terminal escape codes from post text to the terminal."""
    hostile = tmp_path / "hostile.csv"
    hostile.write_text(
        "id,created_at,text,username\n"
        'h1,2014-09-06T10:00:00Z,"\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x1b[0m \x9b6n kiwinet",'
        "z\x1b[5m\n",
        encoding="utf-8",
    )
    db = str(tmp_path / "u.duckdb")
    code, out = run(runner, "ingest", str(hostile), "--db", db, "--no-classify")
    assert code == 0, out
    code, out = run(runner, "posts", "--db", db)
    assert code == 0
    assert "red" in out and "kiwinet" in out
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", out), repr(out)
    assert "pwned" not in out  # the whole title-setting sequence is gone, not just its ESC


def test_clean_keeps_ordinary_text() -> None:
    from uproar.cli.output import clean

    assert clean("Kia ora 🙂\tline\nnext") == "Kia ora 🙂\tline\nnext"
    assert clean("a\x1b[1;31mb\x1b[0mc\x07") == "abc"


@pytest.mark.parametrize(
    ("command", "creates"), [("listen", True), ("ingest", True), ("detect", False)]
)
def test_only_the_commands_that_write_posts_create_a_store(
    tmp_path: Path, command: str, creates: bool
) -> None:
    import typer

    from uproar.cli import clicklib
    from uproar.cli.common import open_store
    from uproar.errors import StoreMissingError

    path = tmp_path / f"{command}.duckdb"
    ctx = clicklib.Context(typer.main.get_command(get_app()))
    ctx.invoked_subcommand = command
    with ctx:
        if creates:
            open_store(path).close()
        else:
            with pytest.raises(StoreMissingError):
                open_store(path)
    assert path.exists() is creates
