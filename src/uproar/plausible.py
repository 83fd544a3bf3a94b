"""When a post can have been made: not before its platform existed, and not more than a
few minutes after it was read.

A post's time is whatever its source says: Bluesky's ``createdAt`` is written by the
poster's own client, and anyone who can reach the HTTP endpoint can send any time at all.
One post dated 0001-01-01 or 9999-12-31 once sent detection over a span of millennia, so
ingest quarantines a post outside this window (``reason`` below says why), and detection
reads only the span where a store's posts really are (``detect.batch``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

# The earliest a platform's post can be (naive UTC).
PLATFORM_START: dict[str, datetime] = {
    # The first tweet (jack, "just setting up my twttr"): 2006-03-21 20:50:14 UTC.
    "x": datetime(2006, 3, 21, 20, 50),
    # Mastodon shows fediverse posts older than itself (2016): identi.ca, the first
    # StatusNet server, opened on 2008-07-02.
    "mastodon": datetime(2008, 7, 2),
    # The AT Protocol network had no posts before 2022 (the team's first, late 2022;
    # Bluesky's public beta opened in February 2023).
    "bluesky": datetime(2022, 1, 1),
}
# Any other platform (a CSV export, an HTTP client's own): the social web's first years.
EARLIEST = datetime(2000, 1, 1)
# How far ahead of ingest time a post may be: a client's clock can run a little fast.
FUTURE_SKEW = timedelta(minutes=5)
# What time-bucketed reads (detection) consider at all, whatever a store holds from before
# the gate: no post is older than EARLIEST, and LATEST keeps date arithmetic (a minute
# after the last post, a window before the first) far from the calendar's ends.
LATEST = datetime(2200, 1, 1)


def earliest(platform: str) -> datetime:
    """The earliest plausible time of a ``platform`` post (naive UTC)."""
    return PLATFORM_START.get(platform, EARLIEST)


def reason(platform: str, created_at: datetime, now: datetime) -> str | None:
    """Why ``created_at`` (naive UTC) cannot be a ``platform`` post read at ``now``, or None."""
    start = earliest(platform)
    if created_at < start:
        return f"{created_at:%Y-%m-%d %H:%M} is before {platform} existed ({start:%Y-%m-%d})"
    if created_at > now + FUTURE_SKEW:
        minutes = int(FUTURE_SKEW.total_seconds() // 60)
        return (
            f"{created_at:%Y-%m-%d %H:%M} is more than {minutes} minutes after it was read "
            f"({now:%Y-%m-%d %H:%M} UTC)"
        )
    return None
