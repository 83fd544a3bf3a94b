"""How often the known-onset latency floor fires where nothing was planted.

The floor (``uproar.eval.detect.latency_floor``) is an oracle: told an incident's onset, it
tests the count since then at every post. Told a moment where nothing happened, it should
stay silent; how often it does not is the false-alarm rate its speed is bought with. This
script simulates the detection suite (the same scenarios and seeds as
``uproar eval detect suite --seeds N``), and for every brand, every ``--every`` hours from
the second day, away from that brand's true incidents, asks both floors -- Poisson, and
the NB floor with the simulator's own noise -- whether they fire within their horizon.

    python scripts/floor_false_alarms.py [--seeds 4] [--every 6] [--jobs 2]

Measured (four seeds, every 6 hours): the Poisson floor fired at 64 of 2,904 moments (one
in 45: about 1.8 alarms per brand-week were it a detector testing each 2-hour span), the
NB floor at 50.
"""

from __future__ import annotations

import argparse
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path

from uproar.eval.detect import (
    FLOOR_HORIZON,
    TrueEvent,
    _t,
    latency_floor,
    noise_shape,
    scenario_files,
    simulated_store,
    truth_events,
)
from uproar.simulate.scenario import load_scenario

# a moment this close to a true incident of the brand (before its onset, after its end)
# is not "nothing happened"
CLEAR = timedelta(hours=1)


def quiet_moments(path: Path, seed_offset: int, every: timedelta) -> tuple[int, int, int]:
    """(moments tested, Poisson floor fired, NB floor fired) for one scenario draw."""
    scenario = load_scenario(path)
    zones = {b.id: b.timezone for b in scenario.brands}
    tested = poisson = nb = 0
    with simulated_store(scenario, seed=scenario.seed + seed_offset) as (sim, _brands, store):
        start, end = _t(sim.truth["start"]), _t(sim.truth["end"])
        events = truth_events(sim.truth, zones)
        t = start + timedelta(days=1, minutes=17)
        while t + FLOOR_HORIZON <= end:
            for brand in sorted(zones):
                near = any(
                    e.brand == brand and e.onset - FLOOR_HORIZON - CLEAR <= t <= e.end + CLEAR
                    for e in events
                )
                if near:
                    continue
                moment = TrueEvent(brand=brand, onset=t, end=t, scope="brand", primary=True, id="")
                tested += 1
                poisson += latency_floor(store, moment, events, data_start=start) is not None
                shape = noise_shape(scenario, moment, zones[brand])
                nb += (
                    latency_floor(store, moment, events, data_start=start, dispersion=shape)
                    is not None
                )
            t += every
    return tested, poisson, nb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--every", type=float, default=6.0, help="hours between moments")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    runs = [
        (f, k, timedelta(hours=args.every))
        for f in scenario_files("suite")
        for k in range(args.seeds)
    ]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.jobs, mp_context=ctx) as pool:
        results = list(pool.map(quiet_moments, *zip(*runs, strict=True)))
    tested = sum(r[0] for r in results)
    poisson = sum(r[1] for r in results)
    nb = sum(r[2] for r in results)
    spans_per_week = 7 * 24 / (FLOOR_HORIZON.total_seconds() / 3600)
    print(f"{len(runs)} suite runs, {tested} moments with nothing planted")
    for name, fired in (("Poisson floor", poisson), ("NB floor", nb)):
        rate = fired / tested if tested else 0.0
        print(
            f"{name}: fired at {fired} ({rate:.1%}); as a detector testing every "
            f"{FLOOR_HORIZON.total_seconds() / 3600:.0f}-hour span, "
            f"{rate * spans_per_week:.2f} alarms per brand-week"
        )


if __name__ == "__main__":
    main()
