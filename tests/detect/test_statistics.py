"""The count model on known inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from uproar.detect.statistics import Dispersion, nb_sf, nb_threshold


def test_nb_tail_matches_a_hand_computation() -> None:
    # NB2 with mean 2, alpha 0.5 -> n = 2, p = n / (n + mu) = 0.5
    # P(X=0) = p^n = 0.25; P(X=1) = n p^n (1-p) = 0.25; so P(X >= 2) = 0.5
    assert float(nb_sf(2, 2.0, 0.5)) == pytest.approx(0.5, rel=1e-12)
    # P(X=2) = n(n+1)/2 p^n (1-p)^2 = 3 * 0.25 * 0.25 = 0.1875
    assert float(nb_sf(3, 2.0, 0.5)) == pytest.approx(0.5 - 0.1875, rel=1e-12)
    assert float(nb_sf(0, 2.0, 0.5)) == 1.0


def test_nb_tail_tends_to_poisson_as_dispersion_vanishes() -> None:
    mu, k = 3.0, 8
    poisson = 1 - sum(math.exp(-mu) * mu**j / math.factorial(j) for j in range(k))
    assert float(nb_sf(k, mu, 1e-4)) == pytest.approx(poisson, rel=5e-3)


def test_overdispersion_fattens_the_tail() -> None:
    assert float(nb_sf(20, 5.0, 0.5)) > 100 * float(nb_sf(20, 5.0, 1e-4))


def test_threshold_is_the_smallest_count_beyond_the_level() -> None:
    mu = np.array([0.2, 3.0, 50.0])
    alpha = np.array([0.1, 0.05, 0.02])
    k = nb_threshold(mu, alpha, 1e-6)
    assert np.all(nb_sf(k, mu, alpha) <= 1e-6)
    assert np.all(nb_sf(k - 1, mu, alpha) > 1e-6)


def test_dispersion_recovers_alpha_from_negative_binomial_counts() -> None:
    rng = np.random.default_rng(7)
    alpha, mu = 0.2, 10.0
    n = 1 / alpha
    d = Dispersion(half_life=1e9, prior_weight=1.0)
    d.grow(1)
    draws = rng.negative_binomial(n, n / (n + mu), size=20_000).astype(float)
    for x in draws:
        d.update(np.array([x]), np.array([mu]), np.array([True]))
    assert float(d.alpha()[0]) == pytest.approx(alpha, rel=0.15)
