"""Respond commands: ``thread`` writes the status thread, ``inbox`` ranks who needs a reply."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from uproar.cli.app import app, eval_app
from uproar.cli.common import (
    DbOption,
    JsonOption,
    SinceOption,
    UntilOption,
    choice,
    open_store,
    settings,
    time_arg,
    window,
)
from uproar.cli.output import emit_json, stdout
from uproar.respond.inbox import Inbox, build_inbox, save_inbox
from uproar.respond.inbox_eval import InboxEval, evaluate_inbox
from uproar.respond.lint import load_linter
from uproar.respond.llm import ChatClient, ModelDrafter
from uproar.respond.platforms import PLATFORMS
from uproar.respond.thread import compose_thread, load_facts
from uproar.respond.twcs import read_twcs

ProfileOption = typer.Option(
    None, "--profile", help="Brand voice profile (TOML; env UPROAR_PROFILE)."
)


@app.command(
    epilog="""Examples:

  uproar thread kiwinet-update1.toml --platform x

  uproar thread facts.toml --platform x --tz Pacific/Auckland

  uproar thread kiwinet-update2.toml --platform mastodon --previous 3 --json

  uproar thread facts.toml --platform bluesky --profile acme-voice.toml
"""
)
def thread(
    facts: Path = typer.Argument(..., help="Incident facts (TOML): brand, what, who, do, ..."),
    platform: str = choice(
        "x", "--platform", "-p", choices=tuple(PLATFORMS), help="Where it is posted."
    ),
    previous: int | None = typer.Option(
        None, "--previous", help="Posts already in the thread (numbering continues after them)."
    ),
    tz: str | None = typer.Option(
        None,
        "--tz",
        help="Time zone for a next_update given as an ISO date-time (e.g. Pacific/Auckland).",
    ),
    profile: Path | None = ProfileOption,
    json: bool = JsonOption,
) -> None:
    """Write a numbered status thread that fits the platform's exact length rules.

    Every post passes the voice linter; --json prints {"platform", "posts": [{"text",
    "length"}]} with each length as the platform counts it.
    """
    result = compose_thread(
        load_facts(facts, tz=tz),
        platform,
        linter=load_linter(settings(profile=profile).profile),
        previous=previous,
    )
    if json:
        emit_json(result.to_dict())
        return
    table = Table(title=f"{platform} thread", show_header=True, show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("post")
    table.add_column("length", justify="right")
    for post in result.posts:
        notes = "".join(f"\n[dim]{f.severity}: {escape(f.message)}[/]" for f in post.findings)
        table.add_row(str(post.number), escape(post.text) + notes, f"{post.length}/{result.limit}")
    stdout.print(table)


@app.command(
    epilog="""Examples:

  uproar inbox --db incident.duckdb --incident kiwinet-20140906T0812 --facts update.toml

  uproar inbox --db incident.duckdb --brand kiwinet --since 2014-11-05T06:00 --json

  uproar inbox --db incident.duckdb --brand kiwinet --llm-url http://127.0.0.1:8080

  uproar inbox --db incident.duckdb --incident kiwinet-20140906T0812 --save
"""
)
def inbox(
    db: Path | None = DbOption,
    incident: str | None = typer.Option(
        None,
        "--incident",
        metavar="ID",
        help="Incident id, as in `uproar detect`'s id column (its brand and window come "
        "from the store).",
    ),
    brand: str | None = typer.Option(None, "--brand", help="Brand id, without --incident."),
    since: str | None = SinceOption,
    until: str | None = UntilOption,
    now: str | None = typer.Option(
        None, "--now", help="Replies up to this time count as sent (default: window end)."
    ),
    facts: Path | None = typer.Option(
        None, "--facts", help="Status facts (TOML) the drafted replies may quote."
    ),
    limit: int = typer.Option(10, "--limit", help="Clusters to show.", show_default=True),
    industry: str | None = typer.Option(
        None,
        "--industry",
        help="Industry pack: telco|airline|bank|retail|online|energy (default: the brand's "
        "`industry` in the brands file).",
    ),
    profile: Path | None = ProfileOption,
    llm_url: str | None = typer.Option(
        None, "--llm-url", help="OpenAI-compatible endpoint for model drafts (env UPROAR_LLM_URL)."
    ),
    llm_model: str = typer.Option(
        "default", "--llm-model", help="Model name sent to the endpoint.", show_default=True
    ),
    save: bool = typer.Option(
        False, "--save", help="Keep the drafts in the store (reply_drafts) for review."
    ),
    json: bool = JsonOption,
) -> None:
    """Rank mentions that need a reply, group repeated questions, draft a checked reply each.

    Drafts with media or links in reply to a complaint are marked for a second person's review.
    """
    linter = load_linter(settings(profile=profile).profile)
    url = settings(llm_url=llm_url).llm_url
    client = ChatClient(url, model=llm_model) if url else None
    start, end = window(since, until)
    try:
        with open_store(db, read_only=not save) as store:
            if incident is not None:
                store.require_incident(incident)
            if brand is not None:
                store.require_brand(brand)
            result = build_inbox(
                store,
                incident=incident,
                brand=brand,
                since=start,
                until=end,
                now=time_arg(now, "--now"),
                facts=load_facts(facts) if facts else None,
                limit=limit,
                linter=linter,
                industry=industry,
                drafter=ModelDrafter(client, linter) if client else None,
            )
            saved = save_inbox(store, result) if save else None
    finally:
        if client is not None:
            client.close()
    if json:
        emit_json({**result.to_dict(), **({"saved": saved} if saved is not None else {})})
        return
    _render_inbox(result)
    if saved is not None:
        stdout.print(f"saved {saved} drafts to reply_drafts")


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    minutes, seconds = divmod(int(value), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


def _render_inbox(result: Inbox) -> None:
    r = result.response
    stdout.print(
        f"[bold]{escape(result.brand)}[/]: {result.mentions:,} mentions, "
        f"{result.needing_reply:,} need a reply in {result.clusters_total:,} clusters; "
        f"answered {r.answered:,}/{r.mentions:,}, "
        f"median first reply {_seconds(r.median_first_reply_s)}, "
        f"p90 {_seconds(r.p90_first_reply_s)}, oldest waiting {_seconds(r.oldest_unanswered_s)}"
    )
    table = Table(show_header=True, show_lines=True)
    for column in ("#", "people", "asking", "draft reply", "first reply"):
        table.add_column(column, justify="right" if column in ("#", "people") else "left")
    for c in result.clusters:
        draft = escape(c.draft.text)
        if c.draft.needs_review:
            draft += "\n[bold yellow]hold for review:[/] " + escape(
                "; ".join(c.draft.review_reasons)
            )
        for f in c.draft.findings:
            draft += f"\n[dim]{f.severity}: {escape(f.message)}[/]"
        if c.draft.note:
            draft += f"\n[dim]{escape(c.draft.note)}[/]"
        table.add_row(
            str(c.id),
            f"{c.count:,}\n({c.unanswered:,} waiting)",
            f"[bold]{c.intent}[/]"
            + (f" · {escape(c.topic)}" if c.topic else "")
            + f"\n{escape(c.label)}",
            draft,
            _seconds(c.first_reply_s),
        )
    stdout.print(table)


@eval_app.command(
    name="inbox",
    epilog="""Examples:

  uproar eval inbox

  uproar eval inbox --json --twcs ../shared/data/twcs/twcs_head.csv
""",
)
def eval_inbox(
    twcs: Path | None = typer.Option(
        None,
        "--twcs",
        help="TWCS sample CSV (default ../shared/data/twcs/twcs_head.csv; env UPROAR_TWCS).",
    ),
    profile: Path | None = ProfileOption,
    json: bool = JsonOption,
) -> None:
    """Score the inbox on 340 real customer messages labelled with intent and theme
    (TWCS): intent and theme accuracy, cluster purity, the share of drafts sendable
    unedited, how many clusters the airlines' posts form, and the safety checks."""
    result = evaluate_inbox(read_twcs(twcs), load_linter(settings(profile=profile).profile))
    if json:
        emit_json(result.as_dict())
        return
    _render_eval(result)


def _render_eval(e: InboxEval) -> None:
    stdout.print(
        f"inbox eval on {e.messages} labelled real customer messages (TWCS): "
        f"intent accuracy {e.intent_accuracy:.1%}, theme accuracy {e.theme_accuracy:.1%}, "
        f"cluster purity {e.cluster_purity:.1%} ({e.clusters} clusters for "
        f"{e.labelled_groups} labelled brand-themes; pairs: precision "
        f"{e.cluster_precision:.1%}, recall {e.cluster_recall:.1%}; ARI {e.cluster_ari:.3f}), "
        "sendable unedited "
        f"{e.sendable_share:.1%}; airline posts needing a reply: {e.airline_posts} in "
        f"{e.airline_clusters} clusters"
    )
    table = Table(title="safety checks", show_header=True)
    for column in ("check", "passed", "cases"):
        table.add_column(column, justify="left" if column == "check" else "right")
    for name, (passed, cases) in e.checks.items():
        mark = "" if passed == cases else "[red]"
        table.add_row(name, f"{mark}{passed}", str(cases))
    stdout.print(table)
