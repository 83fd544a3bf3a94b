"""The shipped fast model meets its bar on the whole TweetEval sentiment test split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from uproar.understand import Classifier
from uproar.understand.evaluate import read_tweeteval_test, sentiment_score, vader_predict


@pytest.mark.slow
def test_fast_beats_vader_on_tweeteval_test(fast: Classifier, shared_data: Path) -> None:
    texts, y = read_tweeteval_test(shared_data)
    assert len(texts) == 12_284
    ours = sentiment_score("fast", y, fast.arrays(texts).sentiment.astype(np.int64), 1.0)
    vader = sentiment_score("vader", y, vader_predict(texts), 1.0)
    assert ours.macro_recall >= 0.60
    assert ours.macro_recall >= vader.macro_recall + 0.04


def test_scores_and_confusion() -> None:
    y = np.array([0, 0, 1, 1, 2, 2])
    s = sentiment_score("x", y, np.array([0, 1, 1, 1, 2, 0]), 1.0)
    assert s.confusion == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert s.macro_recall == pytest.approx((0.5 + 1 + 0.5) / 3)
