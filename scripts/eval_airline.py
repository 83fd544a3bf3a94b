"""Detection on real mentions: the Twitter US Airline Sentiment set (Feb 2015).

    python scripts/eval_airline.py PATH/TO/Tweets.csv [--json]

Ingests the set into a fresh in-memory store, runs ``detect_store`` as a user would, and
prints what it found against what a reader of the hourly counts sees (issue 13): the
expected surges and reaction, and what an incident list must never hold. See
``uproar.eval.airline``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from uproar.eval.airline import evaluate_airline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="Tweets.csv (Crowdflower / Kaggle)")
    parser.add_argument("--json", action="store_true", help="print the whole report as JSON")
    args = parser.parse_args()
    report = evaluate_airline(args.path).as_dict()
    if args.json:
        print(json.dumps(report, default=str, indent=1))
        return
    print(f"posts {report['posts']}, unreadable rows {report['unreadable_rows']}")
    for key, value in report["checks"].items():
        if isinstance(value, dict):
            for k, v in value.items():
                print(f"  {k}: {'found' if v else 'MISSED'}")
        else:
            print(f"{key}: {value}")
    for i in report["incidents"]:
        end = f"{i['end']:%Y-%m-%d %H:%M}" if i["end"] else "open"
        terms = ", ".join(i["terms"][:6])
        print(
            f"{i['brand']:10} {i['start']:%Y-%m-%d %H:%M} .. {end}: {i['posts']} posts, "
            f"{i['authors']} authors, {i['scope']}, terms {terms}"
        )
    for r in report["reactions"]:
        print(f"reaction: {r['brand']} to {r['reacts_to']!r}, {r['authors']} authors")


if __name__ == "__main__":
    main()
