"""Write tests/fixtures/nab_published.json from a clone of github.com/numenta/NAB.

For a few published detectors, the rows each flags at its published standard-profile
threshold (``config/thresholds.json``), and its published score
(``results/final_results.json``). ``tests/detect/test_nab.py`` scores these rows with
Uproar's port of NAB's scorer and checks it gets the published score back, without the
294 MB of published results in the repository. NAB: MIT licence, Copyright Numenta Inc.

    python scripts/nab_published_fixture.py ~/NAB
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from uproar.detect.nab import load_corpus, published_scores, published_thresholds, read_published

DETECTORS = ("ARTime", "contextOSE", "numenta", "twitterADVec")
OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "nab_published.json"


def main(root: Path) -> None:
    corpus = load_corpus(root)
    thresholds = published_thresholds(root)
    board = published_scores(root)
    out: dict[str, object] = {}
    for name in DETECTORS:
        threshold = thresholds[name]["standard"]
        scores = read_published(root / "results", name, corpus)
        out[name] = {
            "threshold": threshold,
            "published": board[name]["standard"],
            "rows": {f: np.nonzero(v >= threshold)[0].tolist() for f, v in sorted(scores.items())},
        }
    OUT.write_text(json.dumps(out, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
