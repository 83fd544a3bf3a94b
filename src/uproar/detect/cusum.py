"""A one-sided CUSUM of the negative binomial log-likelihood ratio, per series.

It looks for a sustained rise to ``ratio`` times the baseline and alarms when its summed
log-likelihood ratio reaches ``limit`` (Page 1954, *Continuous inspection schemes*; Lucas
1985 for counts). On a slow ramp it gathers evidence from every bin since the excess began,
where a fixed window forgets; sharp onsets are met first by the detector's short windows.

The defaults were chosen on the whole evaluation suite (``eval/scenarios/README.md``,
"Choosing the levels"): ratios 1.5 and 3 did worse than 2; the limit was 11 while the
seasonal cells learned from every ordinary-looking bin, and 13 once they stopped learning
when the 15-bin window looks raised (with the detector's ``level`` at 3e-6).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
NEVER = 1 << 40  # "no count in this bin can take the CUSUM to its limit"

CUSUM_RATIO = 2.0
CUSUM_LIMIT = 13.0
# The window whose learned dispersion discounts the CUSUM for bursts that neighbouring bins
# share (see ``NBCusum.terms``). Without the discount the CUSUM's chance alarms grew with
# volume: at the suite's scale 3 it raised 5 of the 7 false alarms (10-minute bursts of
# 1.5-2x at 2-7 signal posts a minute, each minute counted as independent evidence). With
# the 5-bin window they are gone and scale 1 is unchanged but for the slow ramps (1-2
# minutes later); the 15-bin window's dispersion sits on its floor (0.05, above what
# 15-minute sums show), which over-discounts: the 60-90 minute ramps came 4-10 minutes later.
CUSUM_SPAN = 5


class NBCusum:
    """Page's CUSUM over NB2 counts for many series at once (one value per series)."""

    def __init__(
        self,
        *,
        ratio: float = CUSUM_RATIO,
        limit: float = CUSUM_LIMIT,
        span: int = CUSUM_SPAN,
    ) -> None:
        if ratio <= 1:
            raise ValueError(f"cusum_ratio must be above 1, got {ratio}")
        if limit <= 0:
            raise ValueError(f"cusum_limit must be positive (inf turns it off), got {limit}")
        if span < 1:
            raise ValueError(f"cusum_span must be a positive bin count, got {span}")
        self.ratio = ratio
        self.limit = limit
        self.span = span
        self.reset()

    def clone(self) -> NBCusum:
        """A new CUSUM with the same parameters and no evidence."""
        return NBCusum(ratio=self.ratio, limit=self.limit, span=self.span)

    def reset(self) -> None:
        """Forget the evidence and every series (parameters stay)."""
        self.value: FloatArray = np.zeros(0)

    def grow(self, n: int) -> None:
        """Make room for ``n`` series (new ones start with no evidence)."""
        extra = n - len(self.value)
        if extra > 0:
            self.value = np.concatenate([self.value, np.zeros(extra)])

    def terms(
        self,
        mu_t: FloatArray,
        alpha: FloatArray,
        span_mu: FloatArray,
        span_alpha: FloatArray,
        armed: npt.NDArray[np.bool_],
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Per series: the weight per signal post ``a``, the drift per bin ``b``, and the
        count in this bin that takes the CUSUM to ``limit`` (``NEVER`` where not ``armed``).

        The log-likelihood ratio of one bin's count under NB2 with mean ``ratio * mu``
        against mean ``mu`` (same ``alpha``) is ``a * x - b``; the CUSUM sums it, floored
        at 0. ``span_mu`` and ``span_alpha`` are the expected sum and dispersion of the
        ``span`` window, which discount it for bursts that span several bins.
        """
        r = self.ratio
        m = np.maximum(mu_t, 1e-3)
        al = np.maximum(alpha, 1e-4)
        a = np.log(r * (1.0 + al * m) / (1.0 + al * r * m))
        b = np.log((1.0 + al * r * m) / (1.0 + al * m)) / al
        # Neighbouring bins share their bursts (a busy ten minutes is busy in each of its
        # minutes), so the LLRs of consecutive bins are not independent evidence. The
        # learned dispersion of the ``span`` window says how much: the variance of its sum
        # over the sum of its bins' variances (the variance inflation factor; 1 for
        # independent bins). Each bin's LLR counts 1/vif of its face value. The factor
        # grows with the mean (``alpha * mu`` against Poisson's 1), so without it a busier
        # brand -- or the same brand at a larger scale -- raised more chance alarms.
        vif = np.maximum((1.0 + span_alpha * span_mu) / (1.0 + al * m), 1.0)
        a, b = a / vif, b / vif
        if not math.isfinite(self.limit):
            return a, b, np.full(len(m), float(NEVER))
        gap = self.limit - self.value + b
        need = np.maximum(np.ceil(gap / np.maximum(a, 1e-12)), 1.0)
        need = np.where(armed & (a > 0), need, float(NEVER))
        out: FloatArray = np.minimum(need, float(NEVER))
        return a, b, out

    def update(
        self, x: FloatArray, a: FloatArray, b: FloatArray, restart: npt.NDArray[np.bool_]
    ) -> None:
        """Take in one bin's counts ``x``; series in ``restart`` go back to 0, so each
        alarm needs fresh evidence."""
        self.value = np.where(restart, 0.0, np.maximum(self.value + a * x - b, 0.0))
