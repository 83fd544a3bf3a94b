"""When an update promised the next one: "next update at 9pm", "we'll post again in 30
minutes", "more news by 11.30pm tonight".

A promise is a word about updating followed, within the sentence, by a time: a clock time
(read in the drill's time zone, the next such time after the post) or a span from the post.
Times with no am/pm and no minutes ("at 3") are not read: they are as likely a count.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

import regex

_UPDATE = (
    r"(?:update|updates|post|posting|back|check in|let you know|hear|news|tweet|report back|"
    r"more info|more information|more details)"
)
_NUMBER = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "forty-five": 45,
    "sixty": 60, "ninety": 90,
}  # fmt: skip
_SPAN = regex.compile(
    _UPDATE + r"\b[^.!?\n]{0,60}?\b(?:in|within|every|by|over)\s+(?:the\s+next\s+)?"
    r"(?P<half>half\s+an\s+hour)?(?(half)|(?:(?P<n>\d+|" + "|".join(_NUMBER) + r")\s*)?"
    r"(?P<unit>minutes?|mins?|hours?|hrs?|h)\b)",
    regex.IGNORECASE | regex.VERSION0,
)
_CLOCK = regex.compile(
    _UPDATE + r"\b[^.!?\n]{0,60}?\b(?:at|by|around|before|until|no later than)\s+"
    r"(?:(?P<word>noon|midday|midnight)|(?P<h>\d{1,2})(?:[:.](?P<m>\d\d))?\s*(?P<ampm>am|pm|a\.m\.|p\.m\.)?)",
    regex.IGNORECASE | regex.VERSION0,
)


def promised_next(text: str, posted: datetime, tz: tzinfo) -> datetime | None:
    """The time ``text`` (posted at ``posted``) promises the next update by, in UTC, or
    None when it promises none."""
    found: list[tuple[int, datetime]] = []
    for m in _SPAN.finditer(text):
        if m.group("half"):
            minutes = 30.0
        else:
            raw = (m.group("n") or "1").lower()
            count = _NUMBER[raw] if raw in _NUMBER else int(raw)
            unit = m.group("unit").lower()
            minutes = count * (1 if unit.startswith("m") else 60)
        if minutes > 0:
            found.append((m.start(), posted + timedelta(minutes=minutes)))
    for m in _CLOCK.finditer(text):
        moment = _clock(m, posted, tz)
        if moment is not None:
            found.append((m.start(), moment))
    return min(found)[1] if found else None


def _clock(m: regex.Match[str], posted: datetime, tz: tzinfo) -> datetime | None:
    word = (m.group("word") or "").lower()
    if word:
        hour, minute = (0, 0) if word == "midnight" else (12, 0)
    else:
        ampm = (m.group("ampm") or "").lower().replace(".", "")
        if not ampm and m.group("m") is None:
            return None  # "at 3" could be three of anything
        hour, minute = int(m.group("h")), int(m.group("m") or 0)
        if hour > 23 or minute > 59 or (ampm and not 1 <= hour <= 12):
            return None
        if ampm == "pm" and hour != 12:
            hour += 12
        elif ampm == "am" and hour == 12:
            hour = 0
    local = posted.astimezone(tz)
    moment = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if moment <= local:
        moment += timedelta(days=1)
    return moment.astimezone(UTC)
