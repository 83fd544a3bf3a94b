"""Lint commands: ``lint`` checks a draft's voice; ``eval lint`` scores the linter.

Exit codes follow Vale: 0 no error-level findings, 1 error-level findings, 2 the linter
itself failed (a bad rule file or profile, unreadable input), with one line naming it (the
app's one error handler prints it; JSON under ``--format json``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.table import Table

from uproar.cli.app import app, eval_app
from uproar.cli.common import JsonOption, choice, settings
from uproar.cli.output import emit_json, stdout
from uproar.errors import InputError
from uproar.respond.lint import Linter, load_linter
from uproar.respond.lint.evaluate import (
    EvalReport,
    FamilyReport,
    RealReplies,
    evaluate,
    family_reports,
    load_evalset,
    load_families,
    score_scorer,
    score_twcs,
)
from uproar.respond.lint.printers import as_dicts, as_text
from uproar.respond.lint.tone_train import HeldOut
from uproar.respond.twcs import read_twcs

ProfileOption = typer.Option(
    None,
    "--profile",
    help="Brand profile TOML (styles, banned/preferred terms, tone); env UPROAR_PROFILE.",
)


def _linter(profile: Path | None) -> Linter:
    return load_linter(settings(profile=profile).profile)


def _read(source: str) -> str:
    if source == "-":
        data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
    else:
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read draft: {exc.strerror or exc}", file=source) from exc
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("draft is not UTF-8 text", file=source) from exc


@app.command(
    name="lint",
    epilog="""Examples:

  uproar lint draft.txt

  echo "Your modem caused this lol" | uproar lint - --kind reply

  echo "Service is back to normal for everyone in Auckland." | uproar lint - --kind resolved

  uproar lint replies.txt --each-line --format json --profile acme.toml
""",
)
def lint_command(
    source: str = typer.Argument("-", metavar="[FILE|-]", help="The draft; '-' reads stdin."),
    profile: Path | None = ProfileOption,
    format: str = choice(
        "text", "--format", choices=("text", "json"), json_value="json", help="Output."
    ),
    each_line: bool = typer.Option(
        False, "--each-line", help="Lint every line as a separate draft."
    ),
    kind: str | None = choice(
        None,
        "--kind",
        choices=("reply", "update", "resolved"),
        help="reply (to one person) | update (a broadcast: what, who, what to do, next "
        "update) | resolved (what happened, that it is fixed); guessed when not given.",
    ),
) -> None:
    """Check a draft against the brand voice: blame, defensiveness, flippancy, jargon,
    vagueness, overpromising, missing apology, shouting, tone and readability.

    Exits 0 when clean (warnings allowed), 1 on error-level findings, 2 when the linter
    itself fails. JSON findings carry 1-based line and 1-based inclusive start/end columns.
    """
    linter = _linter(profile)
    text = _read(source)
    findings = linter.lint_lines(text, kind=kind) if each_line else linter.lint(text, kind=kind)
    if format == "json":
        emit_json(as_dicts(findings))
    else:
        stdout.print(as_text(findings, source="stdin" if source == "-" else source), soft_wrap=True)
    raise typer.Exit(1 if Linter.has_errors(findings) else 0)


@eval_app.command(
    name="lint",
    epilog="""Examples:

  uproar eval lint

  uproar eval lint --json

  uproar eval lint --profile acme.toml --evalset my_drafts.yaml
""",
)
def eval_lint(
    profile: Path | None = ProfileOption,
    evalset: Path | None = typer.Option(
        None, "--evalset", help="Labelled drafts YAML (default: the shipped set)."
    ),
    json: bool = JsonOption,
    twcs: Path | None = typer.Option(
        None,
        "--twcs",
        help="TWCS sample CSV (default ../shared/data/twcs/twcs_head.csv; env UPROAR_TWCS).",
    ),
) -> None:
    """Score the linter on labelled drafts: per-category support, recall and precision,
    and the share of clean drafts with no error-level finding (all, tuning, held-out);
    on the paraphrase families it was not written against (tone recall per label, clean
    drafts flagged); then on the real agent replies of the TWCS sample: the share with an
    error.

    The families are scored twice: by the rules alone, and by rules or the learned tone
    scorer, each fold's scorer trained without that fold's families (nested GroupKFold, a
    minute or two).

    Targets: recall >= 0.9 per category; >= 95% of clean drafts free of errors; on the
    held-out families, recall >= 0.85 for each of blame, defensive, flippant and dismissive
    and >= 0.9 overall; at most 2% of real agent replies with an error.
    """
    linter = _linter(profile)
    rules = Linter(linter.profile, scorer=False)
    reports = evaluate(linter, load_evalset(evalset))
    paraphrases = load_families()
    families = family_reports(rules, paraphrases)
    replies = read_twcs(twcs).agent_replies
    held = score_scorer(rules, paraphrases, replies)
    real = score_twcs(linter, replies)
    if json:
        emit_json(
            {
                "evalset": [r.as_dict() for r in reports],
                "families": [f.as_dict() for f in families],
                "scorer": held.as_dict(),
                "twcs": real.as_dict(),
            }
        )
        return
    for report in reports:
        stdout.print(_table(report))
    for family in families:
        stdout.print(_family_table(family))
    stdout.print(_scorer_table(held))
    stdout.print(_real_line(real))


def _scorer_table(held: HeldOut) -> Table:
    table = Table(
        title=(
            f"lint eval: rules or tone scorer, families held out whole ({held.folds}-fold "
            f"GroupKFold, {held.families} families, {held.drafts} drafts)"
        ),
        caption=(
            f"overall recall {held.overall_recall:.3f} (target 0.9; rules alone "
            f"{held.rules_overall:.3f}); clean drafts the scorer flags {held.clean_flagged:.1%}"
            " (warnings)"
        ),
    )
    for column in ("category", "rules alone", "rules or scorer (target 0.85)"):
        table.add_column(column, justify="left" if column == "category" else "right")
    for cat, recall in held.recall.items():
        shown = f"{recall:.3f}" if recall >= 0.85 else f"[red]{recall:.3f}[/]"
        table.add_row(cat, f"{held.rules_recall[cat]:.3f}", shown)
    return table


def _real_line(real: RealReplies) -> str:
    top = ", ".join(f"{rule} {n}" for rule, n in real.by_rule[:5])
    return (
        f"real agent replies (TWCS): {real.with_error} of {real.replies} "
        f"({real.error_share:.1%}) get an error-level finding (target <= 2%); {top}; "
        f"a tone-scorer finding (warning): {real.scorer_share:.1%} of all, "
        f"{real.unseen_with_scorer} of {real.unseen} ({real.unseen_scorer_share:.1%}) "
        "in the half it never trained on"
    )


def _family_table(report: FamilyReport) -> Table:
    table = Table(
        title=(
            f"lint eval: paraphrase families, {report.split} "
            f"({report.families} families, {report.drafts} drafts)"
        ),
        caption=(
            f"overall tone recall {report.overall_recall:.3f} (target 0.9); clean drafts "
            f"with a tone finding {report.clean_flagged:.1%}, with any error-level finding "
            f"{report.clean_error:.1%} (one-sentence updates miss facts)"
        ),
    )
    for column in ("label", "families", "drafts", "recall (target 0.85)"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for s in report.labels:
        if s.label == "clean":
            continue
        recall = f"{s.recall:.3f}" if s.recall >= 0.85 else f"[red]{s.recall:.3f}[/]"
        table.add_row(s.label, str(s.families), str(s.drafts), recall)
    return table


def _table(report: EvalReport) -> Table:
    table = Table(
        title=f"lint eval: {report.split} ({report.drafts} drafts)",
        caption=(
            f"clean drafts: {report.clean}, no error-level finding {report.clean_no_error:.1%}"
            f" (target 95%), no warning either {report.clean_no_warning:.1%}"
        ),
    )
    for column in ("category", "support", "recall", "precision"):
        table.add_column(column, justify="left" if column == "category" else "right")
    for c in report.categories:
        recall = f"{c.recall:.3f}" if c.recall >= 0.9 else f"[red]{c.recall:.3f}[/]"
        table.add_row(c.category, str(c.support), recall, f"{c.precision:.3f}")
    return table
