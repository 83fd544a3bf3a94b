"""Score the linter on the labelled drafts shipped in ``evalset.yaml``.

For each category: support (drafts labelled with it), recall (share of those with a
finding of that category at warning level or above) and precision (share of drafts with
such a finding that carry the label). For clean drafts: the share with no error-level
finding (the target is 95%) and the share with no finding at warning level or above.
Held-out drafts were kept aside while the rules were written and are scored apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from uproar.errors import InputError
from uproar.records import Finding
from uproar.respond.lint.engine import Linter
from uproar.respond.lint.rules import CATEGORIES, DRAFT_KINDS

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
    """The linter on real agent replies (TWCS): the share with an error-level finding."""

    replies: int
    with_error: int
    by_rule: tuple[tuple[str, int], ...]

    @property
    def error_share(self) -> float:
        return self.with_error / self.replies if self.replies else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "replies": self.replies,
            "with_error": self.with_error,
            "error_share": self.error_share,
            "by_rule": dict(self.by_rule),
        }


def score_real_replies(linter: Linter, texts: Sequence[str]) -> RealReplies:
    """Lint each real reply as a reply (target: at most 2% with an error)."""
    counts: dict[str, int] = {}
    with_error = 0
    for text in texts:
        errors = {f.rule for f in linter.lint(text, kind="reply") if f.severity == "error"}
        with_error += bool(errors)
        for rule in errors:
            counts[rule] = counts.get(rule, 0) + 1
    ranked = tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return RealReplies(replies=len(texts), with_error=with_error, by_rule=ranked)
