"""``uproar drill``: replay an incident at an accelerated clock, let the team answer it, and
score the team in a drill report."""

from __future__ import annotations

import json as jsonlib
import select
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from uproar.cli.app import app
from uproar.cli.common import JsonOption
from uproar.cli.output import clean, console, emit_json, stdout
from uproar.drill import (
    DrillDebrief,
    advance,
    clock,
    parse_speed,
    pause,
    prepare_source,
    record_response,
    resume,
    score,
    start_drill,
    wall_time,
    write_drill_report,
)
from uproar.drill.score import when
from uproar.errors import InputError
from uproar.simulate import shipped_scenarios
from uproar.simulate.scenario import parse_minutes
from uproar.store import Store
from uproar.times import local_time, zone


@app.command(
    "drill",
    epilog=f"""Examples:

  uproar drill isp-2014 --speed 10x --team-size 2           # live, in this terminal

  uproar drill isp-2014 --speed 60x --responses team.jsonl --out drill.html

  uproar drill incident.duckdb --incident kiwinet-20140905T0650 --start-only

  uproar drill --db drill.duckdb --debrief --out drill.pdf

Shipped scenarios: {", ".join(shipped_scenarios())}. Live, type an update and press
Enter; `/reply ID text` answers a mention, `/resolved text` closes, `/pause`, `/resume`,
`/end`. A responses file is JSON Lines: {{"at": "+20m", "kind": "update", "text": "...",
"reply_to": "x:123" or "latest", "author": "sam"}} (at: after onset, or ISO 8601 UTC).
""",
)
def drill_command(
    scenario: str | None = typer.Argument(
        None,
        help="A shipped scenario's name, a scenario TOML, a store (.duckdb) or an archive.",
    ),
    speed: str = typer.Option("10x", "--speed", help="How much faster than real time: 10x."),
    team_size: int = typer.Option(
        1, "--team-size", help="People answering (sets the reply target)."
    ),
    db: Path = typer.Option(Path("drill.duckdb"), "--db", help="The drill's own store (new)."),
    incident: str | None = typer.Option(None, "--incident", help="Which incident to replay."),
    brands: Path | None = typer.Option(None, "--brands", help="Brands file, for an archive."),
    responses: str | None = typer.Option(
        None, "--responses", help="A scripted team: JSON Lines file, or - for stdin."
    ),
    span: str = typer.Option("3h", "--span", help="How long after onset to replay, or 'all'."),
    lead_in: str = typer.Option("30m", "--lead-in", help="How long before onset it starts."),
    seed: int | None = typer.Option(None, "--seed", help="Seed for a simulated scenario."),
    tz: str | None = typer.Option(None, "--tz", help="Time zone times are written in."),
    out: Path = typer.Option(
        Path("drill-report.html"), "--out", help="The drill report: .html or .pdf."
    ),
    replace: bool = typer.Option(False, "--replace", help="Replace an existing --db."),
    start_only: bool = typer.Option(
        False, "--start-only", help="Start the drill and exit (the dashboard drives it)."
    ),
    debrief: bool = typer.Option(False, "--debrief", help="Score the drill in --db and report."),
    json: bool = JsonOption,
) -> None:
    """Replay a recorded or simulated incident at an accelerated clock into a fresh drill
    store, so a team can practise: posts appear on their real schedule, the team's updates
    and replies are linted and timed, and a drill report scores the team (first
    acknowledgement, update cadence against promised times, facts per update, linter
    findings, questions answered, rumours addressed) beside the brand's real play and the
    best play."""
    factor = parse_speed(speed)
    if out.suffix.lower() not in (".html", ".pdf"):
        raise InputError("the drill report's file must end in .html or .pdf", field="out")
    if debrief:
        if not db.exists():
            raise InputError(
                f"no drill store {db}; start one with `uproar drill SCENARIO`", field="db"
            )
        with Store(db) as store:
            now = datetime.now(UTC)
            _finish(store, now, out, json)
        return
    if scenario is None:
        raise InputError("name a scenario, a store or an archive to drill (or give --debrief)")
    if db.exists():
        if not replace:
            raise InputError(
                f"{db} exists; give a new --db, or --replace to start over", field="db"
            )
        db.unlink()
    workdir = db.with_name(db.name + ".source")
    if workdir.exists() and replace:
        shutil.rmtree(workdir)
    span_delta = None if span.lower() == "all" else timedelta(minutes=_minutes(span, "--span"))
    with console.status("preparing the incident", spinner="dots"):
        source = prepare_source(
            scenario, workdir=workdir, incident=incident, brands=brands, seed=seed, tz=tz
        )
    with Store(db, create=True) as store:
        started = datetime.now(UTC)
        state = start_drill(
            store,
            source,
            now=started,
            speed=factor,
            team_size=team_size,
            lead_in=timedelta(minutes=_minutes(lead_in, "--lead-in")),
            span=span_delta,
        )
        if start_only:
            if json:
                emit_json({"ok": True, "db": str(db), **state.to_dict()})
            else:
                stdout.print(
                    f"drill {state.drill_id} started in {db}: {source.incident}, "
                    f"{factor:g}x, replaying to {state.replay_until:%Y-%m-%d %H:%M} UTC"
                )
            return
        if responses is not None:
            end = _scripted(store, responses, source.onset, started)
        else:
            end = _live(store, source.tz)
        _finish(store, end, out, json)


def _minutes(value: str, flag: str) -> float:
    minutes = parse_minutes(value)
    if minutes is None or minutes < 0:
        raise InputError(f"{flag} expects a span like 30m, 3h or 1h30m, got {value!r}", field=flag)
    return minutes


def _scripted(store: Store, source: str, onset: datetime, started: datetime) -> datetime:
    """Play a scripted team's responses on a virtual clock (no waiting): each at the wall
    time the drill's clock reaches its ``at``. Returns the wall time the drill ends at."""
    lines = sys.stdin.read().splitlines() if source == "-" else _read(Path(source))
    items: list[tuple[datetime, int, dict[str, Any]]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = jsonlib.loads(line)
        except ValueError:
            raise InputError("not JSON", file=source, line=number) from None
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise InputError(
                "expected an object with a text", file=source, line=number, field="text"
            )
        at = when(str(item.get("at", "+0m")), onset, where=f"{source}:{number}: at")
        items.append((at, number, item))
    for at, number, item in sorted(items, key=lambda i: (i[0], i[1])):
        wall = max(started, wall_time(store, at))
        reply_to = item.get("reply_to")
        if reply_to == "latest":
            advance(store, now=wall)
            reply_to = _latest_mention(store, wall)
        try:
            record_response(
                store,
                item["text"],
                now=wall,
                kind=item.get("kind"),
                reply_to=reply_to,
                author=item.get("author"),
            )
        except InputError as exc:
            raise InputError(exc.message, file=source, line=number) from None
    state = clock(store, now=started)
    return wall_time(store, state.replay_until)


def _latest_mention(store: Store, wall: datetime) -> str | None:
    from uproar.store.drill import latest_mention

    return latest_mention(store, until=clock(store, now=wall).now)


def _read(path: Path) -> list[str]:
    try:
        return path.read_text("utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=str(path)) from None


def _live(store: Store, tz_name: str) -> datetime:
    """Run the drill in this terminal in real time: new posts appear as the clock reaches
    them; lines typed are the team's posts. Returns the wall time it ended at."""
    tz = zone(tz_name)
    interactive = sys.stdin.isatty()
    stdout.print("The drill is live. Type an update and press Enter; /help lists commands.")
    while True:
        now = datetime.now(UTC)
        step = advance(store, now=now, show=8)
        for post in step.posts:
            who = post["author_handle"] or post["author_id"]
            # Post text is hostile: no control sequences, and no rich markup either.
            stdout.print(
                f"[dim]{local_time(post['created_at'], tz, day=False)}[/] "
                f"[bold]@{escape(clean(str(who)))}[/] {escape(clean(post['text']))} "
                f"[dim]({escape(post['platform'])}:{escape(post['id'])})[/]",
                highlight=False,
            )
        if step.released > len(step.posts):
            stdout.print(f"[dim]… and {step.released - len(step.posts)} more[/]")
        if step.clock.finished:
            stdout.print("The replay has reached its end.")
            return now
        line = _read_line(1.0) if interactive else None
        if line is None:
            continue
        text = line.strip()
        if not text:
            continue
        if text == "/end":
            return now
        if text == "/pause":
            pause(store, now=now)
            stdout.print("paused")
        elif text == "/resume":
            resume(store, now=now)
            stdout.print("resumed")
        elif text == "/help":
            stdout.print("/reply ID text · /resolved text · /pause · /resume · /end")
        else:
            kind, reply_to = "update", None
            if text.startswith("/reply "):
                _, reply_to, text = [*text.split(" ", 2), "", ""][:3]
                kind = "reply"
            elif text.startswith("/resolved "):
                kind, text = "resolved", text.removeprefix("/resolved ")
            try:
                response = record_response(store, text, now=now, kind=kind, reply_to=reply_to)
            except InputError as exc:
                stdout.print(f"[red]{escape(clean(exc.message))}[/]")
                continue
            verdict = "; ".join(f"{f.category}: {f.message}" for f in response.findings) or "clean"
            stdout.print(
                f"posted #{response.n} ({response.kind}) · linter: {escape(clean(verdict))}"
            )


def _read_line(timeout: float) -> str | None:
    ready, _, _ = select.select([sys.stdin], [], [], timeout)
    return sys.stdin.readline() if ready else None


def _finish(store: Store, now: datetime, out: Path, as_json: bool) -> None:
    with console.status("scoring the drill", spinner="dots"):
        result: DrillDebrief = score(store, now=now)
        path = write_drill_report(store, result, out, now=now)
    if as_json:
        emit_json({"ok": True, "out": str(path), **result.to_dict()})
        return
    stdout.print(f"Drill score: [bold]{result.team.score:.0f}[/] / 100")
    for m in result.team.measures:
        shown = "n/a" if m.score is None else f"{m.score:.0f}"
        stdout.print(f"  {m.label}: {escape(clean(m.shown))} ({shown})", highlight=False)
    for other in result.compared:
        stdout.print(f"  {other.name}: {other.score:.0f} / 100")
    stdout.print(f"drill report → [bold]{path}[/]")
