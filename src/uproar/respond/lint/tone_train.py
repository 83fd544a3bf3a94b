"""Train the tone scorer and measure it on paraphrase families it never saw.

A paraphrase family (``scorer/drafts.yaml``) is one meaning said ten ways, so a scorer
measured on drafts from families it was trained on would be measured on its own answers.
Everything here splits by family (scikit-learn's ``GroupKFold``):

* :func:`calibrate` sets each tone category's threshold from out-of-fold scores of an inner
  GroupKFold over the training families: the highest threshold at which rules-or-scorer
  still catch :data:`~uproar.respond.lint.tone.RECALL_AIM` of that category's drafts;
* :func:`train` calibrates and then fits on every training draft (what the shipped model is);
* :func:`cross_validate` repeats :func:`train` once per outer fold, without that fold's
  families, and scores the fold's drafts: held-out recall per category, and the share of
  clean drafts flagged.

The training half of the real TWCS agent replies (:func:`~uproar.respond.lint.tone.twcs_half`)
joins every fold as clean sentences: real replies as brands send them, so the scorer learns
what ordinary support prose looks like. The other half is never trained on. So do the tone
rules' ``good`` examples, the inbox packs' replies, the example threads and the drill's best
plays: the project's own text, which must pass the linter without a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import regex

from uproar.respond.lint.engine import Linter
from uproar.respond.lint.tone import (
    CLEAN,
    RECALL_AIM,
    THRESHOLD_GRID,
    TONE_CLASSES,
    C,
    ToneScorer,
    TrainingSet,
    fit,
    fit_model,
    twcs_half,
)

if TYPE_CHECKING:
    from uproar.respond.lint.evaluate import Family
    from uproar.respond.twcs import TwcsRow

OUTER_FOLDS = 6
INNER_FOLDS = 5


@dataclass(frozen=True, slots=True)
class LabelledDraft:
    """A draft of a paraphrase family, split into the sentences the scorer reads."""

    family: str
    label: str
    text: str
    sentences: tuple[str, ...]
    rules_hit: bool  # a rule already finds a tone category at warning level or above


def labelled_drafts(rules: Linter, families: Sequence[Family]) -> list[LabelledDraft]:
    """The families' drafts as the scorer reads them (masked, split into sentences), each
    with whether ``rules`` (a linter without the scorer) already flag its tone."""
    out = []
    for f in families:
        for text in f.drafts:
            hit = any(
                x.category in TONE_CLASSES and x.severity in ("warning", "error")
                for x in rules.lint(text)
            )
            sentences = tuple(rules.sentences(text))
            masked = " ".join(rules.mask(text).split())
            out.append(LabelledDraft(f.family, f.label, masked, sentences, hit))
    return out


def twcs_training(rules: Linter, replies: Sequence[TwcsRow]) -> TrainingSet:
    """The training half of the real agent replies, one clean sentence each."""
    sentences = [s for r in replies if twcs_half(r.id) == "train" for s in rules.sentences(r.text)]
    return TrainingSet(
        sentences=tuple(sentences),
        labels=(CLEAN,) * len(sentences),
        groups=("twcs",) * len(sentences),
    )


def rule_examples(rules: Linter) -> TrainingSet:
    """The ``good`` examples of the tone rules, one clean sentence each: look-alikes their
    authors wrote to show what the rule must let pass (a firm no, an apology, a cause)."""
    sentences = [
        s
        for rule in rules.rules
        if rule.category in TONE_CLASSES
        for example in rule.good
        for s in rules.sentences(example)
    ]
    return TrainingSet(
        sentences=tuple(sentences),
        labels=(CLEAN,) * len(sentences),
        groups=("rules",) * len(sentences),
    )


def shipped_text(rules: Linter) -> TrainingSet:
    """The inbox packs' reply templates (placeholders dropped), the example threads' posts
    and the drill's best plays, one clean sentence each: the project's own text, which the
    linter must pass without a warning."""
    from uproar.config import INDUSTRIES
    from uproar.drill.score import load_best_play
    from uproar.respond.answer import load_pack
    from uproar.respond.thread import compose_thread, example_facts

    texts = {r.text for ind in (None, *INDUSTRIES) for r in load_pack(ind).replies}
    for name, previous in (("kiwinet-update1", 0), ("kiwinet-update2", 3)):
        for platform in ("x", "mastodon", "bluesky", "facebook"):
            thread = compose_thread(example_facts(name), platform, previous=previous, linter=rules)
            texts.update(post.text for post in thread.posts)
    texts.update(play.text for plays in load_best_play().plays.values() for play in plays)
    sentences = sorted(
        {s for t in texts for s in rules.sentences(_PLACEHOLDER.sub("", t)) if len(s) > 3}
    )
    return TrainingSet(
        sentences=tuple(sentences),
        labels=(CLEAN,) * len(sentences),
        groups=("shipped",) * len(sentences),
    )


_PLACEHOLDER = regex.compile(r"\{[^{}]*\}")


def clean_extra(rules: Linter, replies: Sequence[TwcsRow]) -> TrainingSet:
    """Every fold's extra clean sentences: the TWCS training half, the tone rules' ``good``
    examples and the project's shipped replies and example threads."""
    parts = (twcs_training(rules, replies), rule_examples(rules), shipped_text(rules))
    return TrainingSet(
        sentences=tuple(s for p in parts for s in p.sentences),
        labels=tuple(x for p in parts for x in p.labels),
        groups=tuple(g for p in parts for g in p.groups),
    )


def _training(drafts: Sequence[LabelledDraft], extra: TrainingSet) -> TrainingSet:
    return TrainingSet(
        sentences=tuple(d.text for d in drafts) + extra.sentences,
        labels=tuple(d.label for d in drafts) + extra.labels,
        groups=tuple(d.family for d in drafts) + extra.groups,
    )


def _draft_scores(
    model: Callable[[Sequence[str]], np.ndarray], drafts: Sequence[LabelledDraft]
) -> np.ndarray:
    """Per draft, the highest sentence score."""
    sentences = [s for d in drafts for s in d.sentences]
    scores = model(sentences) if sentences else np.zeros(0)
    out = np.zeros(len(drafts))
    at = 0
    for i, d in enumerate(drafts):
        n = len(d.sentences)
        out[i] = scores[at : at + n].max() if n else 0.0
        at += n
    return out


def _scores_fn(data: TrainingSet, c: float) -> Callable[[Sequence[str]], np.ndarray]:
    features, clf = fit_model(data, c=c)
    clean = list(clf.classes_).index(CLEAN)

    def score(sentences: Sequence[str]) -> np.ndarray:
        out: np.ndarray = 1.0 - clf.predict_proba(features.matrix(sentences))[:, clean]
        return out

    return score


def _folds(families: Sequence[str], k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import GroupKFold

    index = np.arange(len(families))
    k = min(k, len(set(families)))
    return [(a, b) for a, b in GroupKFold(n_splits=k).split(index, groups=list(families))]


def calibrate(
    drafts: Sequence[LabelledDraft], extra: TrainingSet, *, c: float = C
) -> dict[str, float]:
    """Each tone category's threshold, from an inner GroupKFold over ``drafts``' families."""
    oof = np.zeros(len(drafts))
    for train, test in _folds([d.family for d in drafts], INNER_FOLDS):
        model = _scores_fn(_training([drafts[i] for i in train], extra), c)
        oof[test] = _draft_scores(model, [drafts[i] for i in test])
    labels = np.array([d.label for d in drafts])
    rules = np.array([d.rules_hit for d in drafts])
    thresholds: dict[str, float] = {}
    for cat in TONE_CLASSES:
        mine = labels == cat
        best = THRESHOLD_GRID[0]
        for t in THRESHOLD_GRID:
            if (rules[mine] | (oof[mine] >= t)).mean() >= RECALL_AIM:
                best = t
        thresholds[cat] = best
    return thresholds


def train(
    drafts: Sequence[LabelledDraft],
    extra: TrainingSet,
    *,
    c: float = C,
    meta: Mapping[str, Any] | None = None,
) -> ToneScorer:
    """Thresholds by :func:`calibrate`, then a scorer fitted on every draft and ``extra``."""
    thresholds = calibrate(drafts, extra, c=c)
    return fit(_training(drafts, extra), thresholds, c=c, meta=meta)


@dataclass(frozen=True, slots=True)
class HeldOut:
    """Rules-or-scorer on paraphrase families held out whole (each fold's scorer trained,
    and its thresholds calibrated, without that fold's families)."""

    folds: int
    families: int
    drafts: int
    recall: Mapping[str, float]  # per tone category: rules or scorer
    rules_recall: Mapping[str, float]  # per tone category: rules alone
    overall_recall: float
    rules_overall: float
    clean_flagged: float  # clean drafts the scorer flags (its findings are warnings)
    missed: tuple[tuple[str, str], ...]  # (family, draft)
    false_alarms: tuple[tuple[str, str], ...]  # (family, draft) clean but flagged

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["missed"] = [list(m) for m in self.missed]
        out["false_alarms"] = [list(m) for m in self.false_alarms]
        return out


def cross_validate(
    drafts: Sequence[LabelledDraft], extra: TrainingSet, *, c: float = C, folds: int = OUTER_FOLDS
) -> HeldOut:
    """Nested GroupKFold by family: :func:`train` without each fold, scored on that fold."""
    flagged = np.zeros(len(drafts), dtype=bool)
    for train_idx, test_idx in _folds([d.family for d in drafts], folds):
        train_drafts = [drafts[i] for i in train_idx]
        scorer = train(train_drafts, extra, c=c)
        for i in test_idx:
            flagged[i] = any(scorer.verdict(s).flagged for s in drafts[i].sentences)
    labels = np.array([d.label for d in drafts])
    rules = np.array([d.rules_hit for d in drafts])
    caught = rules | flagged
    bad = labels != CLEAN
    clean = ~bad
    return HeldOut(
        folds=folds,
        families=len({d.family for d in drafts}),
        drafts=len(drafts),
        recall={c_: float(caught[labels == c_].mean()) for c_ in TONE_CLASSES},
        rules_recall={c_: float(rules[labels == c_].mean()) for c_ in TONE_CLASSES},
        overall_recall=float(caught[bad].mean()),
        rules_overall=float(rules[bad].mean()),
        clean_flagged=float(flagged[clean].mean()) if clean.any() else 0.0,
        missed=tuple(
            (d.family, d.text)
            for d, hit in zip(drafts, caught, strict=True)
            if d.label != CLEAN and not hit
        ),
        false_alarms=tuple(
            (d.family, d.text)
            for d, hit in zip(drafts, flagged, strict=True)
            if d.label == CLEAN and hit
        ),
    )
