"""One event, one incident across the minute and hourly scales (``merge_scales``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from uproar.detect.scales import merge_scales
from uproar.records import Incident

from .conftest import T0


def _incident(
    id: str, start_h: float, end_h: float, scope: Any = "brand", peers: tuple[Any, ...] = ()
) -> Incident:
    start = T0 + timedelta(hours=start_h)
    return Incident(
        id=id,
        brand="wekanet",
        start=start,
        detected_at=start + timedelta(minutes=5),
        peak=start + timedelta(minutes=30),
        end=T0 + timedelta(hours=end_h),
        severity="high",
        scope=scope,
        posts=100,
        authors=0,
        peers=peers,
    )


PEER = {"brand": "kiwinet", "signal": 90.0, "expected": 10.0, "excess": 80.0}


def test_the_minute_incident_decides_us_or_everyone() -> None:
    # The hourly incident stayed open through the night and took a peer's separate outage
    # hours earlier for "everyone"; the minute incident compared the peers over its own
    # minutes and found only this brand.
    hourly = _incident("wekanet-h", 0.0, 10.0, scope="industry", peers=(PEER,))
    minute = _incident("wekanet-m", 6.0, 8.0)
    (merged,) = merge_scales([minute], [hourly])
    assert merged.scope == "brand" and merged.peers == ()
    assert merged.start == hourly.start and merged.end == minute.end
    # where the minute incident saw the peers surge too, the event is the industry's
    both = _incident("wekanet-m", 6.0, 8.0, scope="industry", peers=(PEER,))
    (merged,) = merge_scales([both], [hourly])
    assert merged.scope == "industry" and merged.peers == (PEER,)


def test_an_hourly_incident_alone_keeps_its_own_scope() -> None:
    hourly = _incident("wekanet-h", 0.0, 10.0, scope="industry", peers=(PEER,))
    (merged,) = merge_scales([], [hourly])
    assert merged is hourly


def test_the_event_is_detected_when_either_scale_first_saw_it() -> None:
    # A slow build: the hourly scale paged at 2:05, the minute scale only at 3:05 when a
    # flare came. The team was paged at 2:05, so that is the event's detection.
    hourly = _incident("wekanet-h", 2.0, 6.0)
    minute = _incident("wekanet-m", 3.0, 4.0)
    (merged,) = merge_scales([minute], [hourly])
    assert merged.detected_at == hourly.detected_at < minute.detected_at
    # and a sharp outage the minutes saw first keeps the minutes' time
    late_hour = _incident("wekanet-h", 3.5, 6.0)
    (merged,) = merge_scales([minute], [late_hour])
    assert merged.detected_at == minute.detected_at


def test_an_hourly_incident_of_chatter_is_no_event_and_does_not_glue_one_on() -> None:
    # The hourly scale stayed open from a viral ad at 6:00 (the minutes found it, and it is
    # chatter) through an outage at 15:00: the event is the outage, from its own start.
    hourly = _incident("wekanet-h", 6.0, 18.0)
    viral = _incident("wekanet-ad", 6.0, 8.0)
    outage = _incident("wekanet-out", 15.0, 17.0)
    merged = merge_scales([viral, outage], [hourly], chatter={"wekanet-ad"})
    assert [m.id for m in merged] == ["wekanet-ad", "wekanet-out"]
    assert merged[1].start == outage.start and merged[1].detected_at == outage.detected_at
    # touching the chatter alone, the hourly incident is that chatter seen in hours
    assert merge_scales([viral], [hourly], chatter={"wekanet-ad"}) == [viral]


def test_the_scale_that_saw_the_event_first_dates_its_onset() -> None:
    # The modem outage at 19:30: the minutes paged at 19:35, the hours only at the end of
    # a later hour, with an onset backdated by whole hours to 15:00. The event is the
    # minutes' from 19:30; where the hours paged first, theirs.
    hourly = replace(_incident("wekanet-h", 15.0, 30.0), detected_at=T0 + timedelta(hours=21))
    minute = _incident("wekanet-m", 19.5, 28.0)
    (merged,) = merge_scales([minute], [hourly])
    assert (merged.start, merged.detected_at) == (minute.start, minute.detected_at)
    early = replace(hourly, detected_at=T0 + timedelta(hours=16))
    (merged,) = merge_scales([minute], [early])
    assert (merged.start, merged.detected_at) == (early.start, early.detected_at)
