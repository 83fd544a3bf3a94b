"""A stand-in for ``uproar watch`` in the kill -9 test: it replays a fixed incident history
one pass at a time through an ``Alerter`` and keeps its place in the store (as the watch
keeps its detector's state), so a restart resumes where the last saved pass was.

    python kill_worker.py DB WATCH_TOML PASSES
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta

from uproar.alerts import Alerter, load_alerts
from uproar.records import Incident
from uproar.store import Store
from uproar.store import detect as state

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
LIFE = (  # (passes after its start, severity, scope, peers, open)
    (0, "low", "brand", (), True),
    (2, "medium", "brand", (), True),
    (4, "medium", "industry", ("spark",), True),
    (6, "high", "industry", ("spark",), True),
    (8, "high", "industry", ("spark",), False),
)
INCIDENTS = 8


def incidents_at(step: int) -> list[Incident]:
    """The detector's view at pass ``step``: incident k starts at pass 3k."""
    out = []
    for k in range(INCIDENTS):
        age = step - 3 * k
        if age < 0:
            continue
        phase = [p for p in LIFE if p[0] <= age][-1]
        _, severity, scope, peers, is_open = phase
        start = T0 + timedelta(minutes=3 * k)
        out.append(
            Incident(
                id=f"inc-{k}",
                brand="kiwinet",
                start=start,
                detected_at=start,
                peak=start,
                end=None if is_open else start + timedelta(minutes=8),
                severity=severity,
                scope=scope,
                posts=10 * (age + 1),
                authors=5,
                peers=tuple({"brand": p} for p in peers),
            )
        )
    return out


def main(db: str, config_path: str, passes: int) -> None:
    config = load_alerts(config_path)
    with Store(db) as store:
        alerter = Alerter(config, store)
        saved = state.load_state(store, "kill-test")
        step = int(saved.decode()) if saved else 0
        while step < passes:
            now = T0 + timedelta(minutes=step)
            alerter.observe(incidents_at(step), now)
            step += 1
            state.save_state(store, "kill-test", str(step).encode(), clock=now)
            time.sleep(0.03)
        now = T0 + timedelta(minutes=passes)
        while alerter.flush(now, timeout=30):
            pass
        alerter.close(now)
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
