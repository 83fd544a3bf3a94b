"""Understand commands: ``classify`` texts or posts, and ``eval classify``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from uproar.cli.app import app, eval_app
from uproar.cli.common import JsonOption, choice, settings
from uproar.cli.engine import EngineOption, MasterOption
from uproar.cli.engine import engine as engine_session
from uproar.cli.output import emit_json, stdout, to_json
from uproar.errors import InputError
from uproar.records import Labels
from uproar.understand import Classifier, labels_dict
from uproar.understand.evaluate import (
    TOPIC_SPLITS,
    ClassifyEval,
    evaluate,
    find_data,
    topics_macro_f1,
    topics_micro_f1,
)
from uproar.understand.io import Batch, read_batches
from uproar.understand.taxonomy import SENTIMENTS

ModelOption = choice(
    None,
    "--model",
    choices=("fast", "accurate"),
    help="fast (default) or accurate (fine-tuned MiniLM); env UPROAR_MODEL.",
)
ConfigOption = typer.Option(
    None,
    "--config",
    help="TOML file whose `understand` table adds topics, keyword rules and examples.",
)


@app.command(
    epilog="""Examples:

  echo "great job @acme, third outage this week" | uproar classify -

  uproar classify posts.jsonl --model accurate --json > labels.jsonl

  uproar classify posts.jsonl --engine spark --master 'local[4]' --json > labels.jsonl

  uproar classify tweets.txt --config brand.toml
"""
)
def classify(
    file: str = typer.Argument(
        "-", help="Text file (one text per line) or JSONL of posts; - is stdin."
    ),
    json: bool = JsonOption,
    model: str | None = ModelOption,
    config: Path | None = ConfigOption,
    engine: str = EngineOption,
    master: str | None = MasterOption,
) -> None:
    """Label each input line: complaint, sentiment, topics, question, urgency, language,
    sarcasm (and sentiment_scores). Writes one JSON object per input line, in input order
    (a table instead when printing to a terminal without --json). JSONL input is detected
    by a leading '{'; its `text` field is classified."""
    if file == "-" and sys.stdin.isatty():
        raise InputError(
            "classify reads texts from stdin, which is a terminal here: pipe them in "
            "(echo 'modem down again' | uproar classify -) or name a file "
            "(uproar classify posts.jsonl)"
        )
    chosen = settings(model=model).model
    as_json = json or not sys.stdout.isatty()
    if file == "-":
        handle: Any = sys.stdin
    else:
        try:
            handle = open(file, encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror}", file=file) from exc
    try:
        batches = read_batches(handle, source=file if file != "-" else "<stdin>")
        with engine_session(engine, master) as spark:
            for batch, labelled in _labelled(batches, spark, chosen, config):
                rows = [labels_dict(labels) for labels in labelled]
                _emit(batch.texts, rows, as_json)
    finally:
        if handle is not sys.stdin:
            handle.close()


def _labelled(
    batches: Iterator[Batch], spark: Any, model: str, config: Path | None
) -> Iterator[tuple[Batch, list[Labels]]]:
    """Each batch with its labels: here, or on Spark (the same Classifier in each task)."""
    if spark is None:
        clf = Classifier(model, config)
        for batch in batches:
            yield batch, clf.classify(batch.texts, counts=batch.counts)
        return
    from uproar.spark.classify import spark_classify

    read: list[Batch] = []

    def kept() -> Iterator[Batch]:
        for batch in batches:
            read.append(batch)
            yield batch

    for labelled in spark_classify(spark, kept(), model=model, config=config):
        yield read.pop(0), labelled


def _emit(texts: list[str], rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        sys.stdout.write("".join(to_json(r) + "\n" for r in rows))
        sys.stdout.flush()
    else:
        _render_labels(texts, rows)


def _render_labels(texts: list[str], rows: list[dict[str, Any]]) -> None:
    table = Table("text", "complaint", "sentiment", "topics", "question", "urgency", "lang")
    for text, row in zip(texts, rows, strict=True):
        table.add_row(
            text[:60],  # Rich Table cells are plain text here: markup in posts is not interpreted
            "yes" if row["complaint"] else "",
            row["sentiment"] + (" (sarcasm)" if row["sarcasm"] else ""),
            ", ".join(row["topics"]),
            "yes" if row["question"] else "",
            "yes" if row["urgency"] else "",
            row["language"] or "",
        )
    stdout.print(table, markup=False)


@eval_app.command(
    "classify",
    epilog="""Examples:

  uproar eval classify

  uproar eval classify --limit 2000 --model fast      # quick, for CI

  uproar eval classify --complaints      # + complaint heads: 10-fold CV, per industry

  uproar eval classify --topics          # + per-topic F1 of each industry's pack

  uproar eval classify --data ../shared/data --json
""",
)
def eval_classify(
    data: Path | None = typer.Option(
        None,
        "--data",
        help="Folder holding tweeteval/ and complaints/ (env UPROAR_DATA; default: "
        "../shared/data beside the repository root).",
    ),
    limit: int | None = typer.Option(None, "--limit", help="Use only the first N test tweets."),
    model: str = choice("all", "--model", choices=("fast", "accurate", "all"), help="Models."),
    no_vader: bool = typer.Option(False, "--no-vader", help="Skip the VADER baseline."),
    complaints: bool = typer.Option(
        False,
        "--complaints",
        help="Also cross-validate the complaint heads on the ACL 2019 complaints set "
        "(stratified 10-fold, seed 0, and leave-one-industry-out; a few minutes).",
    ),
    topics: bool = typer.Option(
        False,
        "--topics",
        help="Also score each industry's topic pack (per-topic F1) on labelled real posts.",
    ),
    json: bool = JsonOption,
) -> None:
    """Sentiment macro-recall and macro-F1 on TweetEval sentiment test for each model and
    VADER in one run; complaint, question, urgency and per-topic precision/recall/F1 with
    confusion matrices on Uproar's labelled set; language accuracy on labelled short posts."""
    models = ("fast", "accurate") if model == "all" else (model,)
    report = evaluate(
        find_data(data),
        models=models,
        limit=limit,
        vader=not no_vader,
        complaints=complaints,
        topics=topics,
    )
    if json:
        emit_json(report)
        return
    _render_eval(report)


def _render_eval(r: ClassifyEval) -> None:
    t = Table(title="Sentiment, TweetEval test", title_justify="left")
    for col in ("system", "posts", "macro-recall", "macro-F1", "accuracy", "posts/s"):
        t.add_column(col, justify="right" if col != "system" else "left")
    for s in r.sentiment:
        t.add_row(
            s.system,
            str(s.posts),
            f"{s.macro_recall:.4f}",
            f"{s.macro_f1:.4f}",
            f"{s.accuracy:.4f}",
            f"{s.posts / s.seconds:,.0f}" if s.seconds else "-",
        )
    stdout.print(t)
    for s in r.sentiment:
        c = Table(
            title=f"{s.system}: confusion (rows truth, columns predicted)", title_justify="left"
        )
        c.add_column("")
        for name in SENTIMENTS:
            c.add_column(name, justify="right")
        for name, row in zip(SENTIMENTS, s.confusion, strict=True):
            c.add_row(name, *(str(v) for v in row))
        stdout.print(c)
    for model, scores in r.labels.items():
        b = Table(
            title=f"{model}: labels on the labelled set ({r.labelled_posts} posts)",
            title_justify="left",
        )
        for col in ("label", "precision", "recall", "F1", "support", "tn fp / fn tp"):
            b.add_column(col, justify="right" if col != "label" else "left")
        for bs in scores:
            (tn, fp), (fn, tp) = bs.confusion
            b.add_row(
                bs.name,
                f"{bs.precision:.2f}",
                f"{bs.recall:.2f}",
                f"{bs.f1:.2f}",
                str(bs.support),
                f"{tn} {fp} / {fn} {tp}",
            )
        stdout.print(b)
    if r.language is not None:
        lang = r.language
        stdout.print(
            f"Language: accuracy {lang.accuracy:.3f} on {lang.posts} labelled short posts; "
            f"{len(lang.english_as_other)} of {lang.english_sentences} complaints-set posts of "
            "five or more words labelled other than en",
            markup=False,
        )
        for text, truth, got in lang.errors:
            stdout.print(f"  {truth} -> {got}: {text[:70]}", markup=False)
        for text, got in lang.english_as_other:
            stdout.print(f"  en? -> {got}: {text[:70]}", markup=False)
    for cs in r.complaints:
        t = Table(
            title=f"{cs.model}: complaints (ACL 2019), macro F1; 10-fold: stratified, seed 0",
            title_justify="left",
        )
        for col in ("held out", "posts", "complaints", "macro-F1", "precision", "recall"):
            t.add_column(col, justify="right" if col != "held out" else "left")
        for f in [cs.cv, *cs.industries]:
            t.add_row(
                f.name,
                str(f.posts),
                str(f.complaints),
                f"{f.macro_f1:.3f}",
                f"{f.precision:.3f}",
                f"{f.recall:.3f}",
            )
        t.add_row("industry mean", "", "", f"{cs.industry_mean_f1:.3f}", "", "")
        stdout.print(t)
    _render_topics(r)


def _render_topics(r: ClassifyEval) -> None:
    """Per pack, each topic on the test part (the headline: labelled first, never tuned on)
    with its dev-part F1 beside it; then both macro figures."""
    for industry in sorted({p.industry for p in r.topics}):
        parts = {p.split: p for p in r.topics if p.industry == industry}
        test, dev = parts.get("test"), parts.get("dev")
        title = ", ".join(
            f"{p.split} {p.posts} posts, macro F1 {p.macro_f1:.3f}" for p in (test, dev) if p
        )
        t = Table(title=f"topics, {industry} pack: {title}", title_justify="left")
        for col in ("topic", "precision", "recall", "F1", "support", "dev F1", "dev support"):
            t.add_column(col, justify="right" if col != "topic" else "left")
        names = [s.name for p in (test, dev) if p for s in p.topics]
        for name in dict.fromkeys(names):
            a = next((s for s in test.topics if s.name == name), None) if test else None
            b = next((s for s in dev.topics if s.name == name), None) if dev else None
            t.add_row(
                name,
                f"{a.precision:.2f}" if a else "-",
                f"{a.recall:.2f}" if a else "-",
                f"{a.f1:.2f}" if a else "-",
                str(a.support) if a else "0",
                f"{b.f1:.2f}" if b else "-",
                str(b.support) if b else "0",
            )
        stdout.print(t)
    if r.topics:
        packs = len({p.industry for p in r.topics})
        posts = {s: sum(p.posts for p in r.topics if p.split == s) for s in TOPIC_SPLITS}
        stdout.print(
            f"topics: macro F1 {topics_macro_f1(r.topics, 'test'):.3f} on the test part "
            f"({posts['test']} posts, {packs} packs; labelled first, never tuned on); "
            f"dev part {topics_macro_f1(r.topics, 'dev'):.3f} ({posts['dev']} posts)",
            markup=False,
        )
        micro = {s: topics_micro_f1(r.topics, s) for s in TOPIC_SPLITS}
        stdout.print(
            f"topics: micro F1 (every post and topic pooled) {micro['test']:.3f} on the test "
            f"part, {micro['dev']:.3f} on the dev part",
            markup=False,
        )
