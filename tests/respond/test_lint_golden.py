"""Golden files: the default linter's findings on a few whole drafts, byte for byte.

Each ``golden/<name>.<kind>.txt`` draft has its findings in ``golden/<name>.json``. After an
intended rule change, regenerate with ``UPROAR_UPDATE_GOLDEN=1 pytest tests/respond`` and
review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from uproar.respond.lint import Linter
from uproar.respond.lint.printers import as_dicts

GOLDEN = Path(__file__).parent / "golden"
DRAFTS = sorted(GOLDEN.glob("*.txt"))
LINTER = Linter()


@pytest.mark.parametrize("draft", DRAFTS, ids=lambda p: p.stem)
def test_findings_match_golden(draft: Path) -> None:
    name, kind = draft.stem.rsplit(".", 1)
    findings = as_dicts(LINTER.lint(draft.read_text(encoding="utf-8"), kind=kind))
    expected_path = GOLDEN / f"{name}.json"
    rendered = json.dumps(findings, indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("UPROAR_UPDATE_GOLDEN"):
        expected_path.write_text(rendered, encoding="utf-8")
    assert rendered == expected_path.read_text(encoding="utf-8")


def test_golden_drafts_cover_good_and_bad() -> None:
    clean = [p for p in DRAFTS if not Linter.has_errors(LINTER.lint(p.read_text("utf-8")))]
    assert any("twitter" in p.name for p in clean)
    assert len(DRAFTS) - len(clean) >= 3
