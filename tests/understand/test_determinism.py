"""Same input, same labels: across calls, fresh classifiers and batch neighbours."""

from __future__ import annotations

import random

from uproar.understand import Classifier

TEXTS = [
    "great job @acme, third outage this week",
    "@acme internet down in Leeds since 6am",
    "love the new app",
    "is anyone else's wifi dropping?",
    "@skylink lost my bag in Dublin 😡",
    "",
    "happy friday",
]


def test_repeatable(fast: Classifier, accurate: Classifier) -> None:
    for clf in (fast, accurate):
        assert clf.classify(TEXTS) == clf.classify(TEXTS)
    assert Classifier("fast").classify(TEXTS) == fast.classify(TEXTS)


def test_labels_do_not_depend_on_batch_neighbours(fast: Classifier, accurate: Classifier) -> None:
    rng = random.Random(0)
    filler = [
        f"filler post {i} about nothing in particular {'x' * rng.randint(0, 60)}"
        for i in range(150)
    ]
    mixed = filler[:70] + TEXTS + filler[70:]
    # The fast path is exactly per-post.
    assert fast.classify(mixed)[70 : 70 + len(TEXTS)] == [fast.classify([t])[0] for t in TEXTS]
    # So is the accurate path: each post runs alone through the int8 model, so neighbours
    # cannot move its activation scales.
    alone = [accurate.classify([t])[0] for t in TEXTS]
    assert accurate.classify(mixed)[70 : 70 + len(TEXTS)] == alone
