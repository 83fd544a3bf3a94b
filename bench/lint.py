"""Benchmark the brand-voice linter: drafts linted per second on one core.

A live composer lints at every keystroke, so the target is >= 2,000 drafts/s on one core
for the rules alone, and >= 300 drafts/s with the learned tone scorer on (every sentence
scored, ``uproar.respond.lint.tone``).
The script generates its own seeded drafts (status updates and replies, clean and with
each kind of fault, 60-400 characters), checks that the prefiltered linter gives exactly
the findings of the naive one, and prints one line, e.g.::

    lint: 20000 drafts, 3,250 drafts/s (CPU, one core), 6.1x naive per-rule (530/s), ...
    lint + tone scorer: 20000 drafts, 1,100 drafts/s (CPU, one core), 0.34x rules alone, ...

Throughput is CPU time of this process (``time.process_time``), because the shared
machine's wall clock depends on its neighbours; the ratio to the naive baseline (every
token of every rule run over every sentence, no prefilter: ``Linter(prefilter=False)``)
is measured in the same run.

    python bench/lint.py                 # 20,000 drafts, well under a minute
    python bench/lint.py --drafts 200000 # the issue's full size
"""

from __future__ import annotations

import argparse
import random
import time

from uproar.respond.lint import Linter

SERVICES = [
    "Broadband",
    "Mobile data",
    "The app",
    "Card payments",
    "Online banking",
    "Email",
    "TV",
    "Our website",
    "Landline calls",
    "Deliveries",
    "Trains",
    "Checkout",
]
FAULTS = [
    "is down",
    "isn't working",
    "is very slow",
    "is failing",
    "keeps dropping",
    "is unavailable",
    "is running late",
]
PLACES = [
    "Leeds",
    "Bristol",
    "parts of Kent",
    "the North East",
    "Glasgow",
    "Cardiff (CF10)",
    "all of Wales",
    "London",
    "customers on iPhone",
    "homes in Hull",
]
DOS = [
    "Please leave your router on.",
    "You can still pay by cash or card.",
    "There's no need to restart anything.",
    "Use the website in the meantime.",
    "Your tickets are valid on buses.",
    "Try again in a few minutes.",
]
NEXTS = [
    "Next update at 3pm.",
    "We'll post again by 11:30.",
    "Next update here at 6pm.",
    "We'll update you at noon.",
]
SORRY = ["We're sorry.", "Sorry for the trouble.", "We're really sorry about this.", ""]
BAD = [
    "Your router caused this, not our network.",
    "As we already said, we're working on it.",
    "lol it's only the internet 😂",
    "A BGP issue upstream is causing packet loss.",
    "This will never happen again, guaranteed.",
    "We're aware of some issues. More info soon.",
    "It's fixed now and 100% stable.",
    "We are NOT ignoring you!!!",
    "Our supplier let us down badly today.",
    "For the record, other providers have outages too.",
]
REPLIES = [
    "Hi {n}, we're sorry.",
    "Thanks {n}, we know this is frustrating.",
    "{n}, engineers are on it now.",
    "Sorry {n}, that's not good enough from us.",
]
NAMES = ["Sam", "Priya", "Dave", "Jen", "Raj", "Claire"]


def make_drafts(n: int, *, seed: int) -> list[tuple[str, str]]:
    """``n`` (text, kind) pairs: about two thirds clean, one third with a fault."""
    rng = random.Random(seed)
    drafts: list[tuple[str, str]] = []
    for _ in range(n):
        if rng.random() < 0.6:
            parts = [
                f"{rng.choice(SERVICES)} {rng.choice(FAULTS)} in {rng.choice(PLACES)}.",
                rng.choice(SORRY),
                rng.choice(DOS),
                rng.choice(NEXTS),
            ]
            if rng.random() < 0.25:
                parts.insert(rng.randrange(len(parts)), rng.choice(BAD))
            drafts.append((" ".join(p for p in parts if p), "update"))
        else:
            parts = [rng.choice(REPLIES).format(n=rng.choice(NAMES))]
            if rng.random() < 0.5:
                parts.append(rng.choice(BAD))
            parts.append(rng.choice(DOS))
            drafts.append((" ".join(parts), "reply"))
    return drafts


def run(linter: Linter, drafts: list[tuple[str, str]]) -> tuple[float, int]:
    start = time.process_time()
    findings = 0
    for text, kind in drafts:
        findings += len(linter.lint(text, kind=kind))
    return time.process_time() - start, findings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--drafts", type=int, default=20_000, help="drafts to lint (20,000)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    drafts = make_drafts(args.drafts, seed=args.seed)
    fast, naive = Linter(scorer=False), Linter(prefilter=False, scorer=False)
    scored = Linter(scorer=True)
    # Same findings, draft by draft, on a sample: the prefilter must never lose one.
    for text, kind in drafts[:500]:
        assert fast.lint(text, kind=kind) == naive.lint(text, kind=kind), text
    fast_s, findings = run(fast, drafts)
    sample = drafts[: max(1, len(drafts) // 4)]
    naive_s, _ = run(naive, sample)
    rate = len(drafts) / fast_s
    naive_rate = len(sample) / naive_s
    print(
        f"lint: {len(drafts)} drafts, {rate:,.0f} drafts/s (CPU, one core), "
        f"{rate / naive_rate:.1f}x naive per-rule ({naive_rate:,.0f}/s), "
        f"{findings / len(drafts):.1f} findings/draft, target 2,000/s "
        f"{'met' if rate >= 2000 else 'MISSED'}"
    )
    scored_s, scored_findings = run(scored, drafts)
    scored_rate = len(drafts) / scored_s
    print(
        f"lint + tone scorer: {len(drafts)} drafts, {scored_rate:,.0f} drafts/s (CPU, one core), "
        f"{scored_rate / rate:.2f}x rules alone, "
        f"{(scored_findings - findings) / len(drafts):.2f} scorer findings/draft, "
        f"target 300/s {'met' if scored_rate >= 300 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
