"""The Numenta Anomaly Benchmark (NAB): its corpus, its scorer, and a run of ``detect --series``.

The scorer is a port of NAB's own ``nab/sweeper.py``, ``nab/scorer.py`` and the
normalisation in ``nab/runner.py`` (github.com/numenta/NAB, commit ea702d7, MIT licence,
Copyright 2014-2015 Numenta Inc.). It keeps their rules exactly:

- the first ``min(floor(0.15 n), 750)`` rows of each file are probationary and never scored;
- a detection inside a labelled window scores the scaled sigmoid of its position,
  ``2 sigmoid(-5 x) - 1`` over ``2 sigmoid(5) - 1`` for ``x = -(right - i + 1) / width``,
  times ``tpWeight``; only a window's best detection counts, and a window with none costs
  ``fnWeight``;
- a detection outside windows costs ``fpWeight`` times the same sigmoid of its distance
  past the previous window's right edge (``-1`` before the first window or 3 widths on);
- a row is a detection when its anomaly score is ``>= threshold``;
- a corpus score is normalised as ``100 (S - S_null) / (perfect - S_null)``, with
  ``perfect`` the number of windows times ``tpWeight`` and ``S_null`` the score of the
  detector that never fires.

The one departure is speed: the per-row sweep scores depend only on the labels, so they
are computed once per file (the same loop as NAB's ``calcSweepScore``) and a detector's
detections are then scored with array sums. ``tests/detect/test_nab.py`` checks the
port against the published scoreboard.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import msgspec
import numpy as np
import numpy.typing as npt

from uproar.errors import InputError

F64 = npt.NDArray[np.float64]
PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
PROBATION_PERCENT = 0.15  # NAB's probationaryPercent (nab/runner.py)
_OUTSIDE = -1  # window id of a row outside every window
_PROBATION = -2  # window id of a probationary row


class CostMatrix(msgspec.Struct, frozen=True):
    """One NAB profile's weights (``config/profiles.json``)."""

    tpWeight: float  # NAB's own key names
    fnWeight: float
    fpWeight: float
    tnWeight: float = 1.0


class _Profile(msgspec.Struct, frozen=True):
    CostMatrix: CostMatrix


@dataclass(frozen=True, slots=True, eq=False)
class NabSeries:
    """One data file; ``name`` is its path under ``data/`` (``realTweets/KO.csv``)."""

    name: str
    timestamps: npt.NDArray[np.datetime64]
    values: F64
    windows: tuple[tuple[np.datetime64, np.datetime64], ...]

    @property
    def category(self) -> str:
        return self.name.split("/", 1)[0]


@dataclass(frozen=True, slots=True)
class NabCorpus:
    """The data files, their windows and the scoring profiles of a NAB checkout."""

    root: Path
    series: tuple[NabSeries, ...]
    profiles: Mapping[str, CostMatrix]

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(sorted({s.category for s in self.series}))

    def select(self, categories: Iterable[str]) -> NabCorpus:
        """The files of the named categories (a loud error for an unknown one)."""
        wanted = set(categories)
        unknown = wanted - set(self.categories)
        if unknown:
            raise InputError(
                f"unknown NAB categories {sorted(unknown)}; the corpus has {list(self.categories)}",
                file=str(self.root),
            )
        return NabCorpus(
            self.root, tuple(s for s in self.series if s.category in wanted), self.profiles
        )


def _time(text: str, *, file: str, line: int | None = None) -> np.datetime64:
    try:
        return np.datetime64(datetime.fromisoformat(text.strip()), "us")
    except ValueError as exc:
        raise InputError(f"bad timestamp {text!r}", file=file, line=line) from exc


def read_nab_csv(path: Path) -> tuple[npt.NDArray[np.datetime64], F64]:
    """A NAB data file (``timestamp,value``), rows in file order as NAB scores them."""
    times: list[np.datetime64] = []
    values: list[float] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:2]] != ["timestamp", "value"]:
            raise InputError("expected a timestamp,value header", file=str(path), line=1)
        for line, row in enumerate(reader, start=2):
            if len(row) < 2:
                raise InputError("expected 2 columns", file=str(path), line=line)
            times.append(_time(row[0], file=str(path), line=line))
            try:
                values.append(float(row[1]))
            except ValueError as exc:
                raise InputError(
                    f"bad value {row[1]!r}", file=str(path), line=line, field="value"
                ) from exc
    return np.array(times, dtype="datetime64[us]"), np.array(values, dtype=np.float64)


def load_corpus(root: str | Path) -> NabCorpus:
    """Read a NAB checkout: ``data/*/*.csv``, ``labels/combined_windows.json`` and
    ``config/profiles.json``. A missing piece is a loud error naming it."""
    root = Path(root)
    windows_path = root / "labels" / "combined_windows.json"
    profiles_path = root / "config" / "profiles.json"
    for needed in (root / "data", windows_path, profiles_path):
        if not needed.exists():
            raise InputError(
                f"not a NAB checkout: {needed.relative_to(root)} is missing "
                "(hint: pass the folder holding data/, labels/ and config/, "
                "e.g. ../shared/data/nab or a clone of github.com/numenta/NAB)",
                file=str(root),
            )
    labels = msgspec.json.decode(windows_path.read_bytes(), type=dict[str, list[list[str]]])
    profiles = msgspec.json.decode(profiles_path.read_bytes(), type=dict[str, _Profile])
    series = []
    for name in sorted(labels):
        path = root / "data" / name
        if not path.exists():
            raise InputError(f"labelled file {name} is missing", file=str(root / "data"))
        times, values = read_nab_csv(path)
        wins = tuple(
            (_time(a, file=str(windows_path)), _time(b, file=str(windows_path)))
            for a, b in labels[name]
        )
        series.append(NabSeries(name, times, values, wins))
    return NabCorpus(root, tuple(series), {k: v.CostMatrix for k, v in profiles.items()})


# --- the sweep (nab/sweeper.py) ----------------------------------------------------------


def scaled_sigmoid(relative_position: float) -> float:
    """NAB's ``scaledSigmoid``: 0.98661 at a window's left edge, 0 at its right edge,
    falling to -1 for false positives 3 window widths or more past it."""
    if relative_position > 3.0:
        return -1.0
    return 2 / (1 + math.exp(5 * relative_position)) - 1.0


def probationary_length(rows: int, percent: float = PROBATION_PERCENT) -> float:
    return min(math.floor(percent * rows), percent * 5000)


@dataclass(frozen=True, slots=True, eq=False)
class Sweep:
    """Per row of one file: the unweighted sweep score as a true positive (inside a window)
    or as a false positive (outside), and the window id (``-1`` outside, ``-2``
    probationary). Weights are applied when scoring, so one sweep serves every profile."""

    tp_score: F64
    fp_score: F64
    window: npt.NDArray[np.int64]
    windows: int  # windows with at least one scorable row


def sweep(series: NabSeries, probation: float = PROBATION_PERCENT) -> Sweep:
    """NAB's ``calcSweepScore`` for one file, unweighted (see ``Sweep``)."""
    # int64 microseconds: the same equality tests as NAB's datetimes, fifty times faster
    timestamps: list[int] = series.timestamps.astype(np.int64).tolist()
    n = len(timestamps)
    limits = [(int(a.astype(np.int64)), int(b.astype(np.int64))) for a, b in series.windows]
    max_tp = scaled_sigmoid(-1.0)
    prob_len = probationary_length(n, probation)
    tp = np.zeros(n)
    fp = np.zeros(n)
    window = np.full(n, _OUTSIDE, dtype=np.int64)
    cur: tuple[int, int] | None = None
    cur_id = _OUTSIDE
    cur_right = cur_width = 0.0
    prev_right: int | None = None
    prev_width = 0.0
    next_id = 0
    for i, t in enumerate(timestamps):
        if limits and t == limits[0][0]:
            cur = limits.pop(0)
            cur_id, next_id = next_id, next_id + 1
            cur_right = timestamps.index(cur[1])
            cur_width = float(cur_right - timestamps.index(cur[0]) + 1)
        if cur is not None:
            tp[i] = scaled_sigmoid(-(cur_right - i + 1) / cur_width) / max_tp
        elif prev_right is None:
            fp[i] = -1.0
        else:
            fp[i] = scaled_sigmoid(abs(prev_right - i) / float(prev_width - 1))
        window[i] = (cur_id if cur is not None else _OUTSIDE) if i >= prob_len else _PROBATION
        if cur is not None and t == cur[1]:
            prev_right, prev_width = i, cur_width
            cur, cur_id = None, _OUTSIDE
    scorable = window[window >= 0]
    return Sweep(tp, fp, window, len(np.unique(scorable)))


@dataclass(frozen=True, slots=True)
class FileScore:
    """One file's raw NAB score and row counts at a threshold (a row of NAB's scores CSV)."""

    name: str
    score: float
    tp: int
    tn: int
    fp: int
    fn: int
    windows: int
    detections: int  # rows flagged, probationary rows included


def score_file(
    series: NabSeries, swept: Sweep, detected: npt.NDArray[np.bool_], cost: CostMatrix
) -> FileScore:
    """NAB's ``scoreDataSet`` at a threshold, given the rows it flags."""
    if len(detected) != len(swept.window):
        raise InputError(f"{len(detected)} scores for {len(swept.window)} rows", file=series.name)
    win = swept.window
    inside = win >= 0
    outside = win == _OUTSIDE
    hits = detected & inside
    best = np.full(int(win.max()) + 1 if inside.any() else 0, -np.inf)
    np.maximum.at(best, win[hits], swept.tp_score[hits] * cost.tpWeight)
    present = np.zeros(len(best), dtype=bool)
    present[win[inside]] = True
    window_part = np.where(np.isfinite(best), best, -cost.fnWeight)[present].sum()
    fp_part = (swept.fp_score[detected & outside] * cost.fpWeight).sum()
    return FileScore(
        name=series.name,
        score=float(window_part + fp_part),
        tp=int(hits.sum()),
        tn=int((outside & ~detected).sum()),
        fp=int((outside & detected).sum()),
        fn=int((inside & ~detected).sum()),
        windows=len(series.windows),
        detections=int(detected.sum()),
    )


@dataclass(frozen=True, slots=True)
class NabScore:
    """A detector's NAB scores: per file (raw), and normalised per category and overall."""

    profile: str
    threshold: float
    files: tuple[FileScore, ...]
    normalised: Mapping[str, float]  # "all" and each category
    detections: Mapping[str, int] = field(default_factory=dict)  # scorable rows flagged

    def as_dict(self) -> dict[str, object]:
        return {
            "profile": self.profile,
            "threshold": self.threshold,
            "normalised": dict(self.normalised),
            "detections": dict(self.detections),
            "files": [
                {
                    "file": f.name,
                    "score": f.score,
                    "tp": f.tp,
                    "fp": f.fp,
                    "fn": f.fn,
                    "tn": f.tn,
                    "windows": f.windows,
                    "detections": f.detections,
                }
                for f in self.files
            ],
        }


class Scorer:
    """Scores detectors on one corpus; the sweeps are computed once and reused."""

    def __init__(self, corpus: NabCorpus, *, probation: float = PROBATION_PERCENT) -> None:
        self.corpus = corpus
        self.probation = probation
        self._sweeps = {s.name: sweep(s, probation) for s in corpus.series}

    def score(
        self,
        detections: Mapping[str, npt.NDArray[np.bool_]],
        *,
        profile: str = "standard",
    ) -> NabScore:
        """Score the rows each file flags (every file of the corpus must be present)."""
        return self.score_scores(
            {k: v.astype(np.float64) for k, v in detections.items()}, 0.5, profile=profile
        )

    def score_scores(
        self, scores: Mapping[str, F64], threshold: float, *, profile: str = "standard"
    ) -> NabScore:
        """Score anomaly scores in [0, 1] at ``threshold`` (a row is a detection at ``>=``)."""
        if profile not in self.corpus.profiles:
            raise InputError(
                f"unknown profile {profile!r}; expected one of {sorted(self.corpus.profiles)}"
            )
        cost = self.corpus.profiles[profile]
        missing = [s.name for s in self.corpus.series if s.name not in scores]
        if missing:
            raise InputError(f"no scores for {len(missing)} file(s), e.g. {missing[0]}")
        files = []
        nulls = []
        for s in self.corpus.series:
            swept = self._sweeps[s.name]
            flagged = np.asarray(scores[s.name], dtype=np.float64) >= threshold
            files.append(score_file(s, swept, flagged, cost))
            nulls.append(score_file(s, swept, np.zeros_like(flagged), cost))
        normalised: dict[str, float] = {}
        detections: dict[str, int] = {}
        groups: dict[str, list[int]] = {"all": list(range(len(files)))}
        for i, s in enumerate(self.corpus.series):
            groups.setdefault(s.category, []).append(i)
        for group, idx in groups.items():
            raw = sum(files[i].score for i in idx)
            base = sum(nulls[i].score for i in idx)
            perfect = sum(files[i].windows for i in idx) * cost.tpWeight
            normalised[group] = 100 * (raw - base) / (perfect - base) if perfect != base else 0.0
            detections[group] = sum(files[i].tp + files[i].fp for i in idx)
        return NabScore(profile, threshold, tuple(files), normalised, detections)


# --- published results ---------------------------------------------------------------------


def read_published(results: str | Path, detector: str, corpus: NabCorpus) -> dict[str, F64]:
    """A published detector's per-row anomaly scores from a NAB checkout's
    ``results/<detector>/<category>/<detector>_<file>.csv``."""
    base = Path(results) / detector
    if not base.is_dir():
        raise InputError(
            f"no results for detector {detector!r} (hint: published results are in a clone of "
            "github.com/numenta/NAB, under results/<detector>/)",
            file=str(base),
        )
    out: dict[str, F64] = {}
    for s in corpus.series:
        category, name = s.name.split("/", 1)
        path = base / category / f"{detector}_{name}"
        try:
            with path.open(newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                out[s.name] = np.array([float(r["anomaly_score"]) for r in reader])
        except OSError as exc:
            raise InputError(f"cannot read results: {exc.strerror}", file=str(path)) from exc
    return out


def published_thresholds(root: str | Path) -> dict[str, dict[str, float]]:
    """``config/thresholds.json``: each detector's corpus-optimised threshold per profile."""
    path = Path(root) / "config" / "thresholds.json"
    raw = json.loads(path.read_text())
    return {d: {p: float(v["threshold"]) for p, v in by.items()} for d, by in raw.items()}


def published_scores(root: str | Path) -> dict[str, dict[str, float]]:
    """``results/final_results.json``: the published scoreboard, normalised, whole corpus."""
    path = Path(root) / "results" / "final_results.json"
    raw = json.loads(path.read_text())
    return {d: {p: float(v) for p, v in by.items()} for d, by in raw.items()}


def alerts_to_scores(rows: int, alerts: Sequence[int]) -> F64:
    """A detector that emits alerts, as NAB scores: 1 at each alerted row, 0 elsewhere
    (scored at threshold 0.5)."""
    scores = np.zeros(rows)
    scores[np.asarray(alerts, dtype=np.int64)] = 1.0
    return scores


# --- a run of ``detect --series`` over the corpus -------------------------------------------

# Done-means of issue 13, standard profile at the default sensitivity.
TARGETS: Mapping[str, float] = {"all": 75.0, "realTweets": 82.0}


@dataclass(frozen=True, slots=True)
class NabRun:
    """A detector's NAB score beside the published scoreboard (``final_results.json``;
    empty when the checkout has none). ``families``: the model each file chose."""

    detector: str
    score: NabScore
    alerts: int  # every alert raised, probationary rows included
    published: Mapping[str, Mapping[str, float]]
    families: Mapping[str, str] = field(default_factory=dict)
    whole: bool = True  # scored on every category (comparable with the published board)

    def passed(self) -> dict[str, bool]:
        return {
            k: self.score.normalised[k] >= v
            for k, v in TARGETS.items()
            if k in self.score.normalised
            and self.score.profile == "standard"
            and (k != "all" or self.whole)
        }

    def as_dict(self) -> dict[str, object]:
        return {
            "detector": self.detector,
            "alerts": self.alerts,
            "targets": dict(TARGETS),
            "passed": self.passed(),
            "published": {d: dict(p) for d, p in self.published.items()},
            "families": dict(self.families),
            **self.score.as_dict(),
        }


def evaluate_nab(
    root: str | Path,
    *,
    profile: str = "standard",
    categories: Iterable[str] = (),
    published: str | None = None,
    **detector_options: object,
) -> NabRun:
    """Score ``detect --series`` (its ``MetricDetector`` at ``detector_options``, one
    setting for every file, as NAB requires) on a NAB checkout; or, with ``published``,
    re-score that published detector's results (``results/<name>/``) at its published
    threshold, which checks this scorer against ``results/final_results.json``."""
    from uproar.detect.series import analyse  # the same call ``detect --series`` makes

    corpus = load_corpus(root)
    wanted = tuple(categories)
    if wanted:
        corpus = corpus.select(wanted)
    scorer = Scorer(corpus)
    board_path = Path(root) / "results" / "final_results.json"
    board = published_scores(root) if board_path.exists() else {}
    if published is not None:
        thresholds = published_thresholds(root)
        if published not in thresholds:
            raise InputError(
                f"no published threshold for {published!r}; "
                f"config/thresholds.json has {sorted(thresholds)}",
                file=str(Path(root) / "config" / "thresholds.json"),
            )
        threshold = thresholds[published][profile]
        raw = read_published(Path(root) / "results", published, corpus)
        result = scorer.score_scores(raw, threshold, profile=profile)
        alerts = sum(int((v >= threshold).sum()) for v in raw.values())
        return NabRun(published, result, alerts, board, whole=not wanted)
    flagged: dict[str, npt.NDArray[np.bool_]] = {}
    families: dict[str, str] = {}
    alerts = 0
    for s in corpus.series:
        analysis = analyse(s.values.tolist(), **detector_options)
        flagged[s.name] = alerts_to_scores(len(s.values), analysis.alerts) >= 0.5
        families[s.name] = analysis.family or "-"
        alerts += len(analysis.alerts)
    result = scorer.score(flagged, profile=profile)
    return NabRun("uproar", result, alerts, board, families, whole=not wanted)
