"""Us or everyone: does a peer's volume surge over the same window as the brand's incident?

When the brand's peers (``peers`` in the brands file) surge too, the cause is upstream or
regional (a cloud region, a carrier, a payment network): ``scope = "industry"``. The test
is the same negative binomial tail as the detector's, at a laxer level, because the
brand's own incident is already the evidence that something is going on.
"""

from __future__ import annotations

from uproar.detect.statistics import nb_sf

# Below this many extra posts a peer's "surge" is noise whatever its tail says.
MIN_PEER_EXCESS = 3.0


def peer_surged(x: float, mu: float, alpha: float, *, level: float, ratio: float) -> bool:
    """Whether a peer's count ``x`` over the incident's window is a surge over ``mu``."""
    if x < ratio * mu + MIN_PEER_EXCESS:
        return False
    return bool(nb_sf(x, mu, alpha) < level)
