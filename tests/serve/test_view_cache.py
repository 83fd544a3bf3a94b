"""The pages' view cache: one build for concurrent requests, the oldest view evicted."""

from __future__ import annotations

import threading
import time

from uproar.serve.pages._common import ViewCache


def test_a_view_is_built_once_for_concurrent_requests() -> None:
    cache = ViewCache(size=2)
    builds: list[int] = []

    def build() -> int:
        builds.append(1)
        time.sleep(0.05)
        return len(builds)

    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get(("incident", "a"), build)))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert builds == [1] and results == [1] * 8
    cache.get(("b",), lambda: 2)
    cache.get(("c",), lambda: 3)  # evicts the oldest
    assert cache.get(("incident", "a"), build) == 2 and len(builds) == 2
