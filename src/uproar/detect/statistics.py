"""Tail probabilities of an overdispersed count model (negative binomial, NB2).

Social mention counts are burstier than Poisson: the variance grows with the square of the
mean (``var = mu + alpha * mu**2``; Cameron & Trivedi, *Regression Analysis of Count Data*,
2nd ed., ch. 3). ``alpha`` is estimated from the data by ``Dispersion`` (moments of the
residuals, with the counts winsorised so past incidents do not inflate it).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

FloatArray = npt.NDArray[np.float64]

# Below this, NB2 is Poisson to within float precision; it also keeps 1/alpha finite.
MIN_ALPHA = 1e-4
# Means are floored so a bin that has never seen a post still has a defined tail.
MIN_MEAN = 1e-3


def _np(mu: FloatArray | float, alpha: FloatArray | float) -> tuple[FloatArray, FloatArray]:
    mu_a = np.maximum(np.asarray(mu, dtype=float), MIN_MEAN)
    a = np.maximum(np.asarray(alpha, dtype=float), MIN_ALPHA)
    n = 1.0 / a
    return n, n / (n + mu_a)


def nb_sf(k: FloatArray | float, mu: FloatArray | float, alpha: FloatArray | float) -> FloatArray:
    """P(X >= k) for X ~ NB2(mean ``mu``, dispersion ``alpha``); 1 where k <= 0."""
    n, p = _np(mu, alpha)
    k_a = np.asarray(k, dtype=float)
    # P(X >= k) = I_{1-p}(k, n), the regularised incomplete beta (valid for real k > 0)
    out = special.betainc(np.maximum(k_a, 1.0), n, 1.0 - p)
    return np.where(k_a <= 0, 1.0, out)


def nb_threshold(
    mu: FloatArray | float, alpha: FloatArray | float, level: FloatArray | float
) -> FloatArray:
    """The smallest count ``k`` with P(X >= k) <= ``level``: the alarm threshold.

    Starts from the continuous inverse of the CDF and steps to the exact integer.
    """
    n, p = _np(mu, alpha)
    lvl = np.broadcast_to(np.asarray(level, dtype=float), n.shape)
    guess = special.nbdtrik(1.0 - lvl, n, p)
    k = np.maximum(np.ceil(np.nan_to_num(guess, nan=0.0)), 0.0) + 1.0
    for _ in range(64):  # a few steps at most; the bound only guards the loop
        up = nb_sf(k, mu, alpha) > lvl
        if not up.any():
            break
        k = np.where(up, k + 1.0, k)
    for _ in range(64):
        down = (k > 0) & (nb_sf(k - 1.0, mu, alpha) <= lvl)
        if not down.any():
            break
        k = np.where(down, k - 1.0, k)
    out: FloatArray = k
    return out


def winsor_ceiling(mu: FloatArray, alpha: FloatArray) -> FloatArray:
    """A count above which a bin is clipped before it teaches the baseline (about 4 sd)."""
    var = mu + alpha * mu * mu
    return mu + 4.0 * np.sqrt(var) + 2.0


class Dispersion:
    """Running NB2 ``alpha`` per series, by the ratio of exponentially weighted moments.

    ``alpha = E[(x - mu)^2 - mu] / E[mu^2]`` (method of moments), with ``prior`` weighted
    as ``prior_weight`` observations so a cold start is neither Poisson nor wild.
    """

    def __init__(
        self,
        *,
        prior: float = 0.1,
        prior_weight: float = 60.0,
        half_life: float = 1440.0,
        ceiling: float = 2.0,
        floor: float = 0.05,
    ) -> None:
        self.prior = prior
        self.prior_weight = prior_weight
        self.half_life = half_life
        self.ceiling = ceiling
        self.floor = floor
        self._decay = 0.5 ** (1.0 / half_life)
        self.reset()

    def clone(self) -> Dispersion:
        """A new estimator with the same parameters and nothing learned."""
        return Dispersion(
            prior=self.prior,
            prior_weight=self.prior_weight,
            half_life=self.half_life,
            ceiling=self.ceiling,
            floor=self.floor,
        )

    def reset(self) -> None:
        """Forget what was learned, and every series (parameters stay)."""
        self.num: FloatArray = np.zeros(0)
        self.den: FloatArray = np.zeros(0)
        self.weight: FloatArray = np.zeros(0)

    def forget(self, i: int) -> None:
        """Forget what series ``i`` learned."""
        self.num[i] = self.den[i] = self.weight[i] = 0.0

    def grow(self, n: int) -> None:
        extra = n - self.num.shape[0]
        if extra > 0:
            self.num = np.concatenate([self.num, np.zeros(extra)])
            self.den = np.concatenate([self.den, np.zeros(extra)])
            self.weight = np.concatenate([self.weight, np.zeros(extra)])

    def alpha(self) -> FloatArray:
        w0 = self.prior_weight
        mean_den = np.where(self.weight > 0, self.den / np.maximum(self.weight, 1e-12), 1.0)
        num = self.num + w0 * self.prior * mean_den
        den = self.den + w0 * mean_den
        # The floor: rare bursts (a complaint reposted, a thread) are under-represented in a
        # day of moments, and a near-Poisson fit would alarm on the first one.
        return np.clip(num / np.maximum(den, 1e-12), max(self.floor, MIN_ALPHA), self.ceiling)

    def update(self, x: FloatArray, mu: FloatArray, mask: npt.NDArray[np.bool_]) -> None:
        """Learn from counts ``x`` (already winsorised) against means ``mu`` where ``mask``."""
        d = self._decay
        resid = (x - mu) ** 2 - mu
        self.num = np.where(mask, self.num * d + resid, self.num)
        self.den = np.where(mask, self.den * d + mu * mu, self.den)
        self.weight = np.where(mask, self.weight * d + 1.0, self.weight)
