"""Train the linter's tone scorer: ``src/uproar/respond/lint/scorer/tone.{npz,json}``.

    python scripts/train_tone.py              # writes the shipped files
    python scripts/train_tone.py --out /tmp/t # somewhere else

Reads the paraphrase families (``scorer/drafts.yaml``) and the training half of the real
TWCS agent replies (``../shared/data/twcs/``, or ``--twcs``/``UPROAR_TWCS``) and the tone
rules' ``good`` examples as clean sentences, calibrates each
category's threshold by GroupKFold over families and fits on everything
(``uproar.respond.lint.tone_train``). Deterministic: lbfgs on fixed data and fixed folds,
no random state, so the same inputs write the same weights. Needs no extra packages.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from uproar.respond.lint.engine import Linter
from uproar.respond.lint.evaluate import load_families
from uproar.respond.lint.tone import RECALL_AIM, C, twcs_half
from uproar.respond.lint.tone_train import INNER_FOLDS, clean_extra, labelled_drafts, train
from uproar.respond.twcs import read_twcs

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "uproar" / "respond" / "lint" / "scorer"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--twcs", type=Path, default=None)
    p.add_argument("--c", type=float, default=C)
    args = p.parse_args()
    rules = Linter(scorer=False)
    families = load_families()
    drafts = labelled_drafts(rules, families)
    replies = read_twcs(args.twcs).agent_replies
    extra = clean_extra(rules, replies)
    meta = {
        "script": "scripts/train_tone.py",
        "drafts": len(drafts),
        "families": len(families),
        "twcs_replies": sum(twcs_half(r.id) == "train" for r in replies),
        "twcs_sentences": extra.groups.count("twcs"),
        "rule_examples": extra.groups.count("rules"),
        "inner_folds": INNER_FOLDS,
        "recall_aim": RECALL_AIM,
    }
    scorer = train(drafts, extra, c=args.c, meta=meta)
    args.out.mkdir(parents=True, exist_ok=True)
    for path in scorer.save(args.out):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    print(f"thresholds: {scorer.thresholds}; features {scorer.features.width:,}")


if __name__ == "__main__":
    main()
