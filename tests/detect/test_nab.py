"""The NAB scorer port against hand-worked sweeps and the published scoreboard, and
``uproar eval nab`` on a few real series."""

from __future__ import annotations

import json
import math
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from uproar.cli.app import get_app
from uproar.detect.nab import (
    PROFILES,
    CostMatrix,
    NabCorpus,
    NabSeries,
    Scorer,
    evaluate_nab,
    load_corpus,
    published_scores,
    published_thresholds,
    scaled_sigmoid,
)
from uproar.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
SHARED_DATA = ROOT.parent / "shared" / "data"

NAB = SHARED_DATA / "nab"
STANDARD = CostMatrix(tpWeight=1.0, fnWeight=1.0, fpWeight=0.11)


@pytest.fixture(scope="module")
def corpus() -> NabCorpus:
    if not (NAB / "labels" / "combined_windows.json").exists():
        pytest.skip(f"NAB not found at {NAB} (evaluation data is not in the repo)")
    return load_corpus(NAB)


@pytest.fixture(scope="module")
def scorer(corpus: NabCorpus) -> Scorer:
    return Scorer(corpus)


def toy(rows: int, windows: list[tuple[int, int]]) -> NabCorpus:
    times = np.datetime64("2024-01-01T00:00", "us") + np.arange(rows) * np.timedelta64(5, "m")
    series = NabSeries(
        "toy/a.csv", times, np.zeros(rows), tuple((times[a], times[b]) for a, b in windows)
    )
    return NabCorpus(Path("."), (series,), {"standard": STANDARD})


def test_the_scaled_sigmoid_has_nabs_landmarks() -> None:
    assert scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert scaled_sigmoid(-0.5) == pytest.approx(0.84828, abs=1e-5)
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(3.5) == -1.0


def test_a_toy_file_scores_by_hand() -> None:
    # 100 rows: 15 probationary; one window on rows 40..49 (width 10)
    corpus = toy(100, [(40, 49)])
    scorer = Scorer(corpus)
    none = np.zeros(100, dtype=bool)
    assert scorer.score({"toy/a.csv": none}).files[0].score == -1.0  # a missed window
    first = none.copy()
    first[40] = True  # the window's first row: the best a detection can do
    assert scorer.score({"toy/a.csv": first}).files[0].score == pytest.approx(1.0)
    late = none.copy()
    late[45] = True  # position -(49 - 45 + 1) / 10 = -0.5
    assert scorer.score({"toy/a.csv": late}).normalised["all"] == pytest.approx(
        100 * (scaled_sigmoid(-0.5) / scaled_sigmoid(-1.0) + 1) / 2
    )
    early_fp = none.copy()
    early_fp[[20, 40]] = True  # a false positive before any window costs the full 0.11
    assert scorer.score({"toy/a.csv": early_fp}).files[0].score == pytest.approx(1 - 0.11)
    after = none.copy()
    after[[40, 52]] = True  # 3 rows past the right edge: 0.11 * scaledSigmoid(3 / 9)
    assert scorer.score({"toy/a.csv": after}).files[0].score == pytest.approx(
        1 + 0.11 * scaled_sigmoid(3 / 9)
    )
    probation = none.copy()
    probation[3] = True  # rows in the probationary period are never scored
    assert scorer.score({"toy/a.csv": probation}).files[0].score == -1.0


def test_a_missing_file_is_a_loud_error() -> None:
    with pytest.raises(InputError, match="no scores"):
        Scorer(toy(100, [(40, 49)])).score({})


def test_not_a_checkout_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a NAB checkout: data is missing"):
        load_corpus(tmp_path)
    (tmp_path / "data").mkdir()
    with pytest.raises(InputError, match=r"labels/combined_windows\.json is missing"):
        load_corpus(tmp_path)


@pytest.mark.slow
def test_published_detectors_score_as_published(corpus: NabCorpus, scorer: Scorer) -> None:
    """ARTime, contextOSE, numenta and twitterADVec: their flagged rows (written from the
    published results by scripts/nab_published_fixture.py) give back the published score."""
    fixture = json.loads((FIXTURES / "nab_published.json").read_text())
    for name, entry in fixture.items():
        flagged = {}
        for s in corpus.series:
            rows = np.zeros(len(s.values), dtype=bool)
            rows[entry["rows"][s.name]] = True
            flagged[s.name] = rows
        got = scorer.score(flagged).normalised["all"]
        assert got == pytest.approx(entry["published"], abs=1e-3), name


@pytest.mark.slow
def test_the_random_detector_is_reproduced_from_scratch(corpus: NabCorpus, scorer: Scorer) -> None:
    """NAB's random detector (random.seed(42) per file, random.uniform(0, 1) per row) at its
    published thresholds gives the published score on all three profiles."""
    thresholds = published_thresholds(NAB)["random"]
    published = published_scores(NAB)["random"]
    scores = {}
    for s in corpus.series:
        random.seed(42)
        scores[s.name] = np.array([random.uniform(0, 1) for _ in range(len(s.values))])
    for profile in PROFILES:
        got = scorer.score_scores(scores, thresholds[profile], profile=profile)
        assert got.normalised["all"] == pytest.approx(published[profile], abs=1e-6), profile
    null = scorer.score({s.name: np.zeros(len(s.values), dtype=bool) for s in corpus.series})
    assert null.normalised["all"] == 0.0


def few_series(tmp_path: Path, names: list[str]) -> Path:
    """A NAB checkout with only ``names`` (data, their windows, the profiles)."""
    windows = json.loads((NAB / "labels" / "combined_windows.json").read_text())
    (tmp_path / "labels").mkdir()
    (tmp_path / "config").mkdir()
    shutil.copy(NAB / "config" / "profiles.json", tmp_path / "config")
    (tmp_path / "labels" / "combined_windows.json").write_text(
        json.dumps({n: windows[n] for n in names})
    )
    for n in names:
        (tmp_path / "data" / n).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "data" / n).symlink_to(NAB / "data" / n)
    return tmp_path


@pytest.mark.slow
def test_eval_nab_on_a_few_real_series(corpus: NabCorpus, tmp_path: Path) -> None:
    names = [
        "realKnownCause/ambient_temperature_system_failure.csv",  # temperatures, fractions
        "artificialWithAnomaly/art_daily_flatmiddle.csv",  # negative values
        "realAdExchange/exchange-2_cpc_results.csv",  # times that do not advance
    ]
    root = few_series(tmp_path, names)
    run = evaluate_nab(root)
    assert set(run.families) == set(names) and run.families[names[1]] == "real"
    assert run.alerts >= 1 and math.isfinite(run.score.normalised["all"])
    assert run.score.normalised["all"] > 0  # better than never alerting
    result = CliRunner().invoke(get_app(), ["eval", "nab", str(root), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["normalised"]["all"] == pytest.approx(run.score.normalised["all"])
    assert out["alerts"] == run.alerts and out["profile"] == "standard"


def test_eval_nab_without_a_checkout_is_one_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(get_app(), ["eval", "nab", str(tmp_path)])
    assert result.exit_code != 0
