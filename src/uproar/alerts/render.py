"""An alert's words: title and body, with the posts it quotes made harmless.

Post text is hostile. Sent as it is, a post could ping a whole workspace (Slack's
``<!channel>``, Discord's ``@everyone``), hide a phishing link behind friendly words
(``[your refund](https://evil.example)``, Slack's ``<https://evil|text>``) or break the
message's layout. ``neutralise`` makes any text safe for every Apprise channel at once
(Slack, Teams and Discord read markdown-like markup, e-mail reads HTML, which Apprise
escapes): control and direction-override characters go; ``<`` and ``>`` become lookalike
angle quotes, so no ``<...>`` control sequence survives; square brackets become fullwidth
ones, so no markdown link survives; every ``@`` before a name gets a zero-width space,
which stops a mention ping (Discord's documented way to escape ``@everyone``); links are
defanged the way security teams share them (``hxxps://evil[.]example``), so none becomes
clickable; whitespace collapses and the text is trimmed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from uproar.alerts.events import Event

ZWSP = "\u200b"
SAMPLE_CHARS = 280  # one tweet's worth: enough to read the complaint, short on a phone

# A link or a bare domain (Slack and Discord link "evil.example/path" too).
_LINK = re.compile(
    r"(?i)\b(?:(?P<scheme>[a-z][a-z0-9+.-]*)://)?"
    r"(?P<host>(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,})(?P<rest>[/?#]\S*)?"
)
_REPLACE = str.maketrans({"<": "‹", ">": "›", "[": "［", "]": "］", "`": "ʹ"})


def neutralise(text: str, *, limit: int = SAMPLE_CHARS) -> str:
    """``text`` safe to quote in any channel: no mentions, links, markup or control
    characters; one line of at most ``limit`` characters."""
    kept = "".join(
        ch if unicodedata.category(ch)[0] != "C" else " "
        for ch in unicodedata.normalize("NFC", text)
    )
    kept = " ".join(kept.split()).translate(_REPLACE)
    kept = _LINK.sub(_defang, kept).replace("@", "@" + ZWSP)
    if len(kept) > limit:
        kept = kept[: limit - 1].rstrip() + "…"
    return kept


def _defang(match: re.Match[str]) -> str:
    scheme = match["scheme"]
    shown = ""
    if scheme:
        shown = re.sub(r"(?i)^http", "hxxp", scheme) + "://"
    shown += match["host"].replace(".", "[.]")
    return shown + (match["rest"] or "")


@dataclass(frozen=True, slots=True)
class Message:
    """What goes to one channel: Apprise's title, body and notification type."""

    title: str
    body: str
    notify_type: str  # info | success | warning | failure


_HEADLINE = {
    "opened": "incident opened",
    "escalated": "incident escalated",
    "scope": "scope changed",
    "resolved": "incident resolved",
}


def render(
    event: Event,
    *,
    start: datetime,
    posts: int,
    authors: int,
    topics: Sequence[str],
    samples: Sequence[Mapping[str, Any]],
    link: str,
) -> Message:
    """The message for one event (times in UTC: channels reach people in many zones)."""
    after = event.after
    severity = after.severity.upper()
    brand = neutralise(after.brand, limit=80)
    what = _HEADLINE[event.kind]
    if event.kind == "escalated" and event.before is not None:
        what += f" {event.before.severity} → {after.severity}"
    title = f"[{severity}] {brand}: {what}"
    if after.scope == "industry":
        peers = ", ".join(neutralise(p, limit=80) for p in after.peers) or "peers"
        scope = f"everyone: the peers surged too ({peers})"
    else:
        scope = "us: the peers are quiet"
    lines = [title, "", f"Scope: {scope}"]
    if event.kind == "scope" and event.before is not None and event.before.scope != after.scope:
        lines[-1] += f" (was {'everyone' if event.before.scope == 'industry' else 'us'})"
    if after.regions:
        lines.append("Regions: " + ", ".join(neutralise(r, limit=20) for r in after.regions))
    lines.append("Topics: " + (", ".join(neutralise(t, limit=40) for t in topics) or "none yet"))
    span = f"since {start:%Y-%m-%d %H:%M} UTC"
    if after.end is not None:
        span = f"{start:%Y-%m-%d %H:%M} to {after.end:%H:%M} UTC"
    lines.append(f"Posts: {posts}" + (f" from {authors} authors" if authors else "") + f", {span}")
    if samples:
        lines += ["", "Sample posts:"]
        for s in samples:
            who = neutralise(str(s.get("author_handle") or s.get("author_id") or "?"), limit=40)
            lines.append(f"• {who}: “{neutralise(str(s.get('text') or ''))}”")
    lines += ["", f"Dashboard: {link}", f"Alert: {event.incident} {event.kind} {event.revision}"]
    if event.kind == "resolved":
        kind = "success"
    elif after.severity in ("high", "critical") and event.kind in ("opened", "escalated"):
        kind = "failure"
    else:
        kind = "warning"
    return Message(title=title, body="\n".join(lines), notify_type=kind)


def digest(messages: Sequence[Message]) -> Message:
    """Several held alerts for one channel as one message (quiet hours ending, a backlog
    after an outage of the channel): their titles first, then each body."""
    if len(messages) == 1:
        return messages[0]
    title = f"Uproar: {len(messages)} alerts"
    order = ("failure", "warning", "info", "success")
    kind = min((m.notify_type for m in messages), key=lambda k: order.index(k) if k in order else 9)
    heads = [f"• {m.title}" for m in messages]
    bodies = [m.body for m in messages]
    body = "\n".join([title, "", *heads, "", *("\n\n———\n\n".join(bodies).splitlines())])
    return Message(title=title, body=body, notify_type=kind)
