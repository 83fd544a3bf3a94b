"""Would skipping the encoder where the fast model is sure keep the accurate path's quality?

    python scripts/accurate_cascade.py        # reads ../shared/data, about 15 s on 2 cores

The accurate path runs the int8 MiniLM on every post, which caps it at about 274 posts/s on
2 cores (``bench/classify.py`` prints that ceiling). A cascade would take the fast model's
sentiment wherever its top probability is among the highest ``share`` of a sample and run
the encoder on the rest, so skipping half the posts would double the rate. This prints
TweetEval test macro-recall (3,000 posts drawn with seed 0) for the fast path, the accurate
path and the cascade at several shares.

Measured: fast 0.623, accurate 0.704; the cascade 0.696 skipping 30%, 0.684 skipping 50%,
0.676 skipping 60%. Issue 14 asks that sentiment keep at least its current figures, so no
cascade ships.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from uproar.understand import Classifier
from uproar.understand.evaluate import find_data, read_tweeteval_test

SAMPLE, SEED = 3_000, 0


def macro_recall(y: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean([np.mean(predicted[y == k] == k) for k in range(3)]))


def main() -> None:
    texts, labels = read_tweeteval_test(find_data())
    rows = np.random.default_rng(SEED).choice(len(texts), SAMPLE, replace=False)
    sample = pa.array([texts[i] for i in rows])
    y = np.asarray(labels)[rows]
    fast = np.asarray(Classifier("fast").arrays(sample).scores)
    accurate = np.asarray(Classifier("accurate", threads=2).arrays(sample).scores)
    print(f"fast {macro_recall(y, fast.argmax(1)):.3f}")
    print(f"accurate {macro_recall(y, accurate.argmax(1)):.3f}")
    sure = fast.max(axis=1)
    for share in (0.3, 0.4, 0.5, 0.6):
        skip = sure >= np.quantile(sure, 1 - share)
        cascade = np.where(skip, fast.argmax(1), accurate.argmax(1))
        print(f"cascade skipping {skip.mean():.0%}: {macro_recall(y, cascade):.3f}")


if __name__ == "__main__":
    main()
