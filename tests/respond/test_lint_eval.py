"""The labelled eval set meets the issue's bar: its shape, and the linter's scores on it."""

from __future__ import annotations

from collections import Counter

from uproar.respond.lint import Linter
from uproar.respond.lint.evaluate import evaluate, load_evalset

MAIN = ("blame", "defensive", "flippant", "jargon", "vague", "overpromise")


def test_evalset_shape() -> None:
    drafts = load_evalset()
    assert len(drafts) >= 150
    assert len({d.id for d in drafts}) == len(drafts)
    counts = Counter(label for d in drafts for label in d.labels)
    assert all(counts[c] >= 15 for c in MAIN), counts
    clean = [d for d in drafts if not d.labels]
    assert sum(1 for d in clean if d.kind == "update") >= 40
    assert any(d.held_out for d in drafts) and any(not d.held_out for d in drafts)


def test_linter_meets_the_targets_on_the_whole_set() -> None:
    everything = evaluate(Linter(), load_evalset())[0]
    assert everything.split == "all"
    recall = {c.category: c.recall for c in everything.categories}
    assert all(recall[c] >= 0.9 for c in MAIN), recall
    assert everything.clean_no_error >= 0.95
