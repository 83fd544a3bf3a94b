"""One conformance test over every streaming estimator (river's check_estimator, in small):
``clone`` gives the same parameters and nothing learned, a pickle carries on exactly, the
same data gives the same output, and ``reset`` forgets."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from uproar.detect.baseline import SeasonalBaseline
from uproar.detect.cusum import NBCusum
from uproar.detect.detector import Detector
from uproar.detect.statistics import Dispersion

from .conftest import T0
from .test_detector import bins, run

MINUTE = timedelta(minutes=1)


def _counts(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).poisson(3.0, size=(n, 2)).astype(float)


def _feed_baseline(b: SeasonalBaseline, seed: int, start: int = 0) -> Any:
    b.grow(2)
    for k, x in enumerate(_counts(300, seed)):
        b.learn(T0 + (start + k) * MINUTE, x, np.array([True, True]))
    return b.expected(T0 + (start + 300) * MINUTE).tolist()


def _feed_dispersion(d: Dispersion, seed: int, start: int = 0) -> Any:
    d.grow(2)
    for x in _counts(300, seed):
        d.update(x, np.full(2, 3.0), np.array([True, True]))
    return d.alpha().tolist()


def _feed_cusum(c: NBCusum, seed: int, start: int = 0) -> Any:
    c.grow(2)
    out = []
    for x in _counts(300, seed):
        a, b, need = c.terms(np.full(2, 3.0), np.full(2, 0.1), np.full(2, 15.0),
                             np.full(2, 0.05), np.array([True, True]))  # fmt: skip
        c.update(x, a, b, np.array([False, False]))
        out.append(need.tolist())
    return out


def _feed_detector(d: Detector, seed: int, start: int = 0) -> Any:
    data = bins({"a": 2.0, "b": 1.0}, 400, seed=seed, surges={"a": (300, 20, 12.0)})
    if start:
        # carry on from where an earlier feed stopped, one ordinary day of minutes later
        data = [type(b)(b.start + start * MINUTE, b.counts) for b in data]
    run(d, data)
    return [(i.brand, i.start, i.detected_at, i.peak, i.end, i.posts) for i in d.incidents()]


@dataclass(frozen=True)
class Case:
    make: Callable[[], Any]
    feed: Callable[[Any, int, int], Any]


CASES = {
    "SeasonalBaseline": Case(lambda: SeasonalBaseline(step=MINUTE), _feed_baseline),
    "Dispersion": Case(lambda: Dispersion(half_life=120.0), _feed_dispersion),
    "NBCusum": Case(lambda: NBCusum(ratio=2.0, limit=13.0, span=5), _feed_cusum),
    "Detector": Case(
        lambda: Detector(brands=["a", "b"], peers={"a": ["b"]}, warmup=60, settled=120),
        _feed_detector,
    ),
}


def _params(est: Any) -> dict[str, Any]:
    import inspect

    names = [n for n in inspect.signature(type(est).__init__).parameters if n != "self"]
    return {n: getattr(est, n) for n in names}


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> Case:
    return CASES[request.param]


def test_parameters_are_stored_under_their_own_names(case: Case) -> None:
    est = case.make()
    assert _params(est)  # every constructor argument is an attribute of the same name


def test_clone_has_the_same_parameters_and_nothing_learned(case: Case) -> None:
    trained = case.make()
    case.feed(trained, 1, 0)
    copy = trained.clone()
    assert type(copy) is type(trained)
    assert _params(copy) == _params(trained)
    assert case.feed(copy, 2, 0) == case.feed(case.make(), 2, 0)


def test_a_pickle_carries_on_exactly(case: Case) -> None:
    est = case.make()
    case.feed(est, 1, 0)
    copy = pickle.loads(pickle.dumps(est))
    assert case.feed(copy, 2, 400) == case.feed(est, 2, 400)


def test_the_same_data_gives_the_same_output(case: Case) -> None:
    assert case.feed(case.make(), 3, 0) == case.feed(case.make(), 3, 0)


def test_reset_forgets(case: Case) -> None:
    est = case.make()
    case.feed(est, 1, 0)
    est.reset()
    assert case.feed(est, 2, 0) == case.feed(case.make(), 2, 0)


def test_the_detector_finds_the_planted_spike() -> None:
    det = CASES["Detector"].make()
    found = CASES["Detector"].feed(det, 4, 0)
    assert [f[0] for f in found] == ["a"]
    assert T0 + 295 * MINUTE <= found[0][1] <= T0 + 305 * MINUTE
