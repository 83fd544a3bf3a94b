"""Score the linter on the labelled drafts shipped in ``evalset.yaml``.

For each category: support (drafts labelled with it), recall (share of those with a
finding of that category at warning level or above) and precision (share of drafts with
such a finding that carry the label). For clean drafts: the share with no error-level
finding (the target is 95%) and the share with no finding at warning level or above.
Held-out drafts were kept aside while the rules were written and are scored apart.

The paraphrase families of ``scorer/drafts.yaml`` (one meaning said ten ways, in many
registers) were written after the blame, defensive and flippant rules and never used to
tune them; batch 1 was read while the dismissive rules were written, batch 2 was written
after every rule. :func:`score_families` gives each tone category's recall on them (a draft
counts as caught by any blame, defensive, flippant or dismissive finding at warning level or
above) and the share of the clean families' drafts flagged; :func:`family_reports` scores
all families and batch 2 (held out from every rule) apart.

The learned tone scorer is scored by :func:`score_scorer`: its held-out recall comes from a
nested GroupKFold by family (``tone_train.cross_validate``: each fold's scorer is trained and
calibrated without that fold's families), never from the shipped model, which saw every
family. On the real TWCS agent replies, the shipped linter (rules and scorer) is measured
for error-level findings on all of them and for scorer findings on the half it never
trained on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import yaml

from uproar.errors import InputError
from uproar.records import Finding
from uproar.respond.lint.engine import Linter
from uproar.respond.lint.rules import CATEGORIES, DRAFT_KINDS
from uproar.respond.lint.tone import RULE_ID as SCORER_ID
from uproar.respond.lint.tone import twcs_half
from uproar.respond.twcs import TwcsRow

if TYPE_CHECKING:
    from uproar.respond.lint.tone_train import HeldOut

COUNTED = ("warning", "error")


@dataclass(frozen=True, slots=True)
class Draft:
    id: str
    kind: str
    labels: tuple[str, ...]
    text: str
    held_out: bool = False


@dataclass(frozen=True, slots=True)
class CategoryScore:
    category: str
    support: int
    recall: float
    precision: float


@dataclass(frozen=True, slots=True)
class EvalReport:
    split: str
    drafts: int
    categories: tuple[CategoryScore, ...]
    clean: int
    clean_no_error: float
    clean_no_warning: float
    misses: tuple[tuple[str, str], ...]  # (draft id, category) for labelled but not found
    false_alarms: tuple[tuple[str, str, str], ...]  # (draft id, rule, severity)

    def as_dict(self) -> dict[str, Any]:
        return {
            "split": self.split,
            "drafts": self.drafts,
            "categories": [asdict(c) for c in self.categories],
            "clean": self.clean,
            "clean_no_error": self.clean_no_error,
            "clean_no_warning": self.clean_no_warning,
            "misses": [list(m) for m in self.misses],
            "false_alarms": [list(f) for f in self.false_alarms],
        }


def load_evalset(path: str | Path | None = None) -> list[Draft]:
    """The shipped eval set, or another file in the same YAML shape."""
    if path is None:
        source = "evalset.yaml"
        text = (resources.files("uproar.respond.lint") / "evalset.yaml").read_text("utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read eval set: {exc}", file=source) from exc
    data = yaml.safe_load(text)
    if not isinstance(data, list):
        raise InputError("eval set must be a YAML list of drafts", file=source)
    drafts = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise InputError("each draft needs id, kind, labels and text", file=source, line=i + 1)
        labels = tuple(item.get("labels") or ())
        bad = [lab for lab in labels if lab not in CATEGORIES]
        if bad or item.get("kind") not in DRAFT_KINDS:
            raise InputError(
                f"draft {item.get('id')}: unknown label {bad} or kind {item.get('kind')!r}",
                file=source,
                field="labels",
            )
        drafts.append(
            Draft(
                id=str(item["id"]),
                kind=item["kind"],
                labels=labels,
                text=item["text"],
                held_out=bool(item.get("held_out", False)),
            )
        )
    return drafts


def score(linter: Linter, drafts: Sequence[Draft], *, split: str = "all") -> EvalReport:
    return _score(_lint_all(linter, drafts), split)


def _lint_all(linter: Linter, drafts: Sequence[Draft]) -> list[tuple[Draft, list[Finding]]]:
    return [(d, linter.lint(d.text, kind=d.kind)) for d in drafts]


def _score(results: Sequence[tuple[Draft, list[Finding]]], split: str) -> EvalReport:
    drafts = [d for d, _ in results]
    labelled = sorted({lab for d in drafts for lab in d.labels}, key=CATEGORIES.index)
    categories = []
    misses: list[tuple[str, str]] = []
    for cat in labelled:
        support = sum(1 for d, _ in results if cat in d.labels)
        flagged = [
            (d, any(f.category == cat and f.severity in COUNTED for f in fs)) for d, fs in results
        ]
        tp = sum(1 for d, hit in flagged if hit and cat in d.labels)
        predicted = sum(1 for _, hit in flagged if hit)
        misses.extend((d.id, cat) for d, hit in flagged if cat in d.labels and not hit)
        categories.append(
            CategoryScore(
                category=cat,
                support=support,
                recall=tp / support if support else 0.0,
                precision=tp / predicted if predicted else 0.0,
            )
        )
    clean = [(d, fs) for d, fs in results if not d.labels]
    false_alarms = [
        (d.id, f.rule, f.severity) for d, fs in clean for f in fs if f.severity in COUNTED
    ]
    n_clean = len(clean)
    return EvalReport(
        split=split,
        drafts=len(drafts),
        categories=tuple(categories),
        clean=n_clean,
        clean_no_error=(
            sum(1 for _, fs in clean if not Linter.has_errors(fs)) / n_clean if n_clean else 0.0
        ),
        clean_no_warning=(
            sum(1 for _, fs in clean if not any(f.severity in COUNTED for f in fs)) / n_clean
            if n_clean
            else 0.0
        ),
        misses=tuple(misses),
        false_alarms=tuple(false_alarms),
    )


def evaluate(linter: Linter, drafts: Sequence[Draft]) -> list[EvalReport]:
    """Scores on all drafts, the tuning split and the held-out split (each draft linted once)."""
    results = _lint_all(linter, drafts)
    dev = [r for r in results if not r[0].held_out]
    held = [r for r in results if r[0].held_out]
    reports = [_score(results, "all"), _score(dev, "dev")]
    if held:
        reports.append(_score(held, "held-out"))
    return reports


@dataclass(frozen=True, slots=True)
class RealReplies:
    """The linter on real agent replies (TWCS): the share with an error-level finding, and
    the replies with a tone-scorer finding (all, and those of the half it never trained on)."""

    replies: int
    with_error: int
    by_rule: tuple[tuple[str, int], ...]
    with_scorer: int = 0
    unseen: int = 0  # replies in the half the scorer never trained on
    unseen_with_scorer: int = 0

    @property
    def error_share(self) -> float:
        return self.with_error / self.replies if self.replies else 0.0

    @property
    def scorer_share(self) -> float:
        return self.with_scorer / self.replies if self.replies else 0.0

    @property
    def unseen_scorer_share(self) -> float:
        return self.unseen_with_scorer / self.unseen if self.unseen else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "replies": self.replies,
            "with_error": self.with_error,
            "error_share": self.error_share,
            "by_rule": dict(self.by_rule),
            "with_scorer": self.with_scorer,
            "scorer_share": self.scorer_share,
            "unseen": self.unseen,
            "unseen_with_scorer": self.unseen_with_scorer,
            "unseen_scorer_share": self.unseen_scorer_share,
        }


def score_real_replies(
    linter: Linter, texts: Sequence[str], *, unseen: Sequence[bool] | None = None
) -> RealReplies:
    """Lint each real reply as a reply (target: at most 2% with an error). ``unseen``
    marks the replies the scorer never trained on (``tone.twcs_half``)."""
    counts: dict[str, int] = {}
    with_error = with_scorer = unseen_with_scorer = 0
    marks = unseen if unseen is not None else [False] * len(texts)
    for text, fresh in zip(texts, marks, strict=True):
        found = linter.lint(text, kind="reply")
        errors = {f.rule for f in found if f.severity == "error"}
        with_error += bool(errors)
        for rule in errors:
            counts[rule] = counts.get(rule, 0) + 1
        scored = any(f.rule == SCORER_ID for f in found)
        with_scorer += scored
        unseen_with_scorer += scored and fresh
    ranked = tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return RealReplies(
        replies=len(texts),
        with_error=with_error,
        by_rule=ranked,
        with_scorer=with_scorer,
        unseen=sum(marks),
        unseen_with_scorer=unseen_with_scorer,
    )


def score_twcs(linter: Linter, replies: Sequence[TwcsRow]) -> RealReplies:
    """:func:`score_real_replies` on TWCS rows, marking the half the scorer never saw."""
    return score_real_replies(
        linter,
        [r.text for r in replies],
        unseen=[twcs_half(r.id) == "test" for r in replies],
    )


# The tone categories the paraphrase families are labelled with; a draft is caught by a
# finding in any of them at warning level or above.
FAMILY_LABELS: tuple[str, ...] = ("blame", "defensive", "flippant", "dismissive", "clean")
TONE_FINDINGS: frozenset[str] = frozenset(FAMILY_LABELS) - {"clean"}


class Family(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    family: str
    label: str
    drafts: list[str]
    # 1: written after the rules of 2026-12-06 04:06 and read while the Dismissive and
    # Brushoff rules were written; 2: written after every rule, held out from all of them.
    batch: int = 1


def load_families(path: str | Path | None = None) -> list[Family]:
    """The shipped paraphrase families (``scorer/drafts.yaml``), or a file in that shape."""
    if path is None:
        source = "scorer/drafts.yaml"
        raw = (resources.files("uproar.respond.lint") / "scorer" / "drafts.yaml").read_bytes()
    else:
        source = str(path)
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read families: {exc}", file=source) from exc
    try:
        families = msgspec.yaml.decode(raw, type=list[Family])
    except msgspec.ValidationError as exc:
        raise InputError(f"bad paraphrase family: {exc}", file=source) from exc
    for f in families:
        if f.label not in FAMILY_LABELS:
            raise InputError(
                f"family {f.family}: unknown label {f.label!r} "
                f"(expected one of {', '.join(FAMILY_LABELS)})",
                file=source,
                field="label",
            )
    return families


@dataclass(frozen=True, slots=True)
class FamilyScore:
    label: str
    families: int
    drafts: int
    recall: float  # share caught (for "clean": share flagged)


@dataclass(frozen=True, slots=True)
class FamilyReport:
    """The linter on paraphrase families."""

    split: str
    families: int
    drafts: int
    labels: tuple[FamilyScore, ...]
    overall_recall: float
    clean_flagged: float  # clean drafts with a tone finding at warning or above
    clean_error: float  # clean drafts with any error-level finding
    missed: tuple[tuple[str, str], ...]  # (family, draft) not caught

    def as_dict(self) -> dict[str, Any]:
        return {
            "split": self.split,
            "families": self.families,
            "drafts": self.drafts,
            "labels": [asdict(s) for s in self.labels],
            "overall_recall": self.overall_recall,
            "clean_flagged": self.clean_flagged,
            "clean_error": self.clean_error,
            "missed": [list(m) for m in self.missed],
        }


def score_families(
    linter: Linter, families: Sequence[Family], *, split: str = "all"
) -> FamilyReport:
    """Recall per tone label and overall, and the clean drafts flagged, each draft linted
    as the linter would guess its kind."""
    caught: dict[str, list[bool]] = {lab: [] for lab in FAMILY_LABELS}
    errors: list[bool] = []
    missed: list[tuple[str, str]] = []
    for f in families:
        for text in f.drafts:
            found = linter.lint(text)
            hit = any(x.category in TONE_FINDINGS and x.severity in COUNTED for x in found)
            caught[f.label].append(hit)
            if f.label == "clean":
                errors.append(Linter.has_errors(found))
            elif not hit:
                missed.append((f.family, text))
    bad = [hit for lab in FAMILY_LABELS if lab != "clean" for hit in caught[lab]]
    scores = tuple(
        FamilyScore(
            label=lab,
            families=sum(1 for f in families if f.label == lab),
            drafts=len(caught[lab]),
            recall=sum(caught[lab]) / len(caught[lab]) if caught[lab] else 0.0,
        )
        for lab in FAMILY_LABELS
        if caught[lab]
    )
    clean = caught["clean"]
    return FamilyReport(
        split=split,
        families=len(families),
        drafts=sum(len(f.drafts) for f in families),
        labels=scores,
        overall_recall=sum(bad) / len(bad) if bad else 0.0,
        clean_flagged=sum(clean) / len(clean) if clean else 0.0,
        clean_error=sum(errors) / len(errors) if errors else 0.0,
        missed=tuple(missed),
    )


def family_reports(linter: Linter, families: Sequence[Family]) -> list[FamilyReport]:
    """All families, then batch 2: the families written after every rule."""
    held = [f for f in families if f.batch >= 2]
    reports = [score_families(linter, families)]
    if held:
        reports.append(score_families(linter, held, split="held out from every rule"))
    return reports


def score_scorer(rules: Linter, families: Sequence[Family], replies: Sequence[TwcsRow]) -> HeldOut:
    """The tone scorer's held-out figures: nested GroupKFold by family over ``families``,
    each fold's scorer trained on the other families and the TWCS training half. ``rules``
    is a linter without the scorer (its tone findings count as caught, as in the linter)."""
    from uproar.respond.lint.tone_train import clean_extra, cross_validate, labelled_drafts

    return cross_validate(labelled_drafts(rules, families), clean_extra(rules, replies))
