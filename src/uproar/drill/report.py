"""The drill report: the incident report of the drill store (the same machinery as
``uproar report``), with the debrief in front: the team's score measure by measure beside
the brand's real play and the best play, every post with its linter verdict, and the
questions left unanswered."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from uproar.drill.session import DrillDebrief, drill_incident
from uproar.report import Section, build_report, html_table, write_report
from uproar.respond.lint import Linter
from uproar.store import Store
from uproar.times import local_time, zone


def debrief_sections(debrief: DrillDebrief) -> list[Section]:
    """The debrief as report sections (escaped HTML)."""
    tz = zone(debrief.tz)
    plays = [debrief.team, *debrief.compared]
    rows = []
    for measure in debrief.team.measures:
        row = {"measure": measure.label, "target": measure.target}
        for play in plays:
            m = play.measure(measure.key)
            score = "n/a" if m.score is None else f"{m.score:.0f}"
            row[play.name] = f"{m.shown} — {score}"
        rows.append(row)
    rows.append(
        {
            "measure": "Overall score (0-100)",
            "target": "",
            **{p.name: f"{p.score:.0f}" for p in plays},
        }
    )
    scores = html_table(rows, ["measure", "target", *(p.name for p in plays)])
    posts = html_table(
        [
            {
                "#": p.n,
                "when": local_time(p.at, tz),
                "kind": p.kind,
                "by": p.author or "",
                "post": p.text,
                "score": f"{p.score:.0f}",
                "what the linter found": "; ".join(f"{f.category}: {f.message}" for f in p.findings)
                or "nothing",
            }
            for p in debrief.team.posts
        ],
        ["#", "when", "kind", "by", "post", "score", "what the linter found"],
    )
    threads = html_table(
        [
            {
                "update": t.number,
                "when": local_time(t.at, tz),
                "facts stated": ", ".join(t.facts) or "none",
                "facts missing": ", ".join(t.missing) or "none",
                "next update promised": local_time(t.promise, tz) if t.promise else "none",
                "kept": {True: "yes", False: "no", None: "—"}[t.kept],
            }
            for t in debrief.team.threads
        ],
        ["update", "when", "facts stated", "facts missing", "next update promised", "kept"],
    )
    unanswered = html_table(
        [
            {"cluster": u.label, "theme": u.topic or "other", "questions": u.questions,
             "unanswered": u.unanswered}
            for u in debrief.team.unanswered
        ],
        ["cluster", "theme", "questions", "unanswered"],
    )  # fmt: skip
    worst = min(debrief.team.posts, key=lambda p: p.score, default=None)
    intro = (
        f"Team of {debrief.team_size} on {debrief.incident} ({debrief.source}): "
        f"{debrief.team.score:.0f} out of 100."
    )
    if worst is not None and worst.categories:
        intro += f" Lowest-scored post: #{worst.n} ({', '.join(worst.categories)})."
    sections = [
        Section("Drill debrief", scores, intro=intro, first=True),
        Section("The team's posts", posts or "<p>The team posted nothing.</p>", first=True),
        Section("Updates: facts and promises", threads or "<p>No updates.</p>", first=True),
    ]
    if debrief.team.unanswered:
        sections.append(Section("Questions left unanswered, by cluster", unanswered, first=True))
    return sections


def write_drill_report(
    store: Store,
    debrief: DrillDebrief,
    out: Path,
    *,
    now: datetime,
    linter: Linter | None = None,
    themes: bool = False,
) -> Path:
    """Write the drill report (``.html`` or ``.pdf``) for the drill in ``store``."""
    incident = drill_incident(store, now=now)
    report = build_report(
        store,
        incident=incident.id,
        tz=zone(debrief.tz),
        linter=linter,
        themes=themes,
        title=f"Drill: {incident.id}",
    )
    return write_report(report, out, sections=debrief_sections(debrief))
