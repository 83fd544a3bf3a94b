"""``Alerter``: incidents in, alerts out, exactly the policy ``watch.toml`` asks for.

The watch calls ``observe(incidents, now)`` after every detection pass. It

1. collects the outcomes of sends that finished since the last call;
2. compares each incident with what alerts last saw of it (``alert_state``) and finds the
   transitions (``events.transitions``);
3. renders each for every channel that wants it (brand filter, minimum severity) and adds
   one ``alerts_sent`` row per (incident, event, channel, revision), in the same
   transaction as the new snapshots: a transition is recorded once, whatever happens next;
4. hands each channel's due rows to Apprise on a worker thread (``delivery.Courier``).

What may go when, per channel (checked when a row is due, so a row waits rather than
being dropped):

* **Minimum severity and brands**: a channel never gets rows it does not want.
* **Quiet hours**: during a channel's quiet hours, alerts below its quiet-hours severity
  (critical, by default) are *held*, not dropped, and every resolve is held too; when the
  quiet hours end, what was held goes as one summary message.
* **Rate limit**: at most one message per incident and channel every
  ``min_interval_minutes``; later events wait until the interval has passed and then go
  together. A resolve and an escalation (or opening) at critical go at once.
* **Superseding**: a message carries its incident's latest state, so older alerts about the
  same incident still waiting for that channel are marked ``superseded``, not sent after it.
* **Retries**: a failed send is retried after ``retry_base_seconds``, doubling up to
  ``retry_max_seconds``, ``max_attempts`` times in all, then ``gave_up``; each failure is
  recorded with its reason (URL secrets masked).
* **Restarts**: a row that was being sent when the process died may have gone out; the
  next ``Alerter`` marks it ``unknown`` and never resends it. Everything else (queued,
  held, failed) carries on.

``now`` is always passed in (the watch's clock), so tests drive time exactly.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import monotonic

from uproar.alerts.config import AlertsConfig, ChannelConfig, scrub, severity_rank
from uproar.alerts.delivery import Courier, Outcome
from uproar.alerts.events import Event, Snapshot, transitions
from uproar.alerts.render import Message, digest, neutralise, render
from uproar.records import Incident
from uproar.store import Store
from uproar.store import alerts as sql

log = logging.getLogger("uproar.alerts")

Key = tuple[str, str, str, str]

# A backlog (a channel back after an outage, quiet hours ending on a busy night) goes as
# summaries of at most this many alerts, so no message outgrows what a channel accepts.
MAX_PER_MESSAGE = 20


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert for one channel, as recorded: the event and what the message says."""

    incident: str
    event: str  # opened | escalated | scope | resolved
    channel: str
    revision: str
    brand: str
    severity: str
    scope: str  # brand | industry
    peers: tuple[str, ...]
    regions: tuple[str, ...]
    topics: tuple[str, ...]
    samples: tuple[str, ...]  # the sample posts' text, neutralised as sent
    link: str
    title: str
    body: str
    notify_type: str  # Apprise's: success (resolved), failure (high or critical), warning
    status: str  # queued, when observe() returns; the store has the rest

    @property
    def key(self) -> Key:
        return (self.incident, self.event, self.channel, self.revision)


class Alerter:
    """Alerts for one store and one ``[alerts]`` configuration.

    Not thread-safe: call it from the thread that owns ``store``. ``close`` (or leaving a
    ``with`` block) waits for the messages in flight and records their outcomes."""

    def __init__(self, config: AlertsConfig, store: Store) -> None:
        self.config = config
        self.store = store
        self._channels = {c.name: c for c in config.channels}
        self._courier = Courier(config.channels)
        self._flying: dict[str, list[sql.AlertRow]] = {}
        self._now: datetime | None = None
        self._seen: dict[str, Snapshot] = {}
        # Each channel's earliest due_at among rows waiting to go (None: not read yet)
        self._next_due: dict[str, datetime] | None = None
        self._scrubber = _Scrubber([c.url for c in config.channels])
        logging.getLogger("apprise").addFilter(self._scrubber)
        self.recovered = sql.abandon_in_flight(store)
        if self.recovered:
            log.warning(
                "%d alert(s) were being sent when the last watch stopped; they may have "
                "gone out and are not resent (status 'unknown' in alerts_sent)",
                self.recovered,
            )

    # -- the watch's two calls -------------------------------------------------------------
    def observe(self, incidents: Sequence[Incident], now: datetime) -> list[Alert]:
        """Find the transitions in ``incidents`` (the detector's current view: open ones
        and recently resolved ones), record the alerts they make, and start sending what
        is due. The alerts recorded by this call, in order; never waits for the network."""
        self._now = now
        self._collect(now, timeout=0)
        created = self._record(incidents, now)
        self._dispatch(now)
        return created

    def flush(self, now: datetime, *, timeout: float = 30.0) -> int:
        """Send everything due at ``now`` and wait for the outcomes (up to ``timeout``
        seconds in all). Failures are recorded for retry, not raised. How many messages
        are still in flight when it returns (0 when all came back)."""
        self._now = now
        deadline = monotonic() + timeout
        self._collect(now, timeout=0)
        self._dispatch(now)
        while self._courier.in_flight:
            left = deadline - monotonic()
            if left <= 0:
                break
            self._collect(now, timeout=left)
            self._dispatch(now)
        return self._courier.in_flight

    def close(self, now: datetime, *, timeout: float = 30.0) -> None:
        """Wait for what is in flight (not for what is due) and record it; stop the threads."""
        deadline = monotonic() + timeout
        while self._courier.in_flight and monotonic() < deadline:
            self._collect(now, timeout=max(0.0, deadline - monotonic()))
        self._courier.close()
        self._collect(now, timeout=0)
        logging.getLogger("apprise").removeFilter(self._scrubber)

    def __enter__(self) -> Alerter:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._now is not None:
            self.close(self._now)
        else:
            self._courier.close()
            logging.getLogger("apprise").removeFilter(self._scrubber)

    def counts(self) -> dict[str, int]:
        """How many alert rows are in each status (for the watch's status line)."""
        return sql.status_counts(self.store)

    # -- transitions -------------------------------------------------------------------
    def _record(self, incidents: Sequence[Incident], now: datetime) -> list[Alert]:
        by_id = {i.id: i for i in incidents}
        # What was last seen: kept in memory once read (this Alerter is alert_state's only
        # writer), so a pass with nothing new reads nothing from the store.
        missing = [i for i in by_id if i not in self._seen]
        for key, raw in sql.load_snapshots(self.store, missing).items():
            self._seen[key] = Snapshot.from_json(raw)
        for key in [k for k, s in self._seen.items() if not s.open and k not in by_id]:
            del self._seen[key]  # resolved and no longer reported: read again if it returns
        snapshots: dict[str, Snapshot] = {}
        alerts: list[Alert] = []
        for incident in by_id.values():
            before = self._seen.get(incident.id)
            events = transitions(before, Snapshot.of(incident))
            after = events[-1].after if events else None
            if after is None:
                continue
            snapshots[incident.id] = after
            backfill = now - timedelta(minutes=self.config.backfill_minutes)
            if before is None and after.end is not None and after.end < backfill:
                continue  # history from before the watch: recorded, not announced
            for event in events:
                alerts += self._alerts_for(event, incident, now)
        if not snapshots:
            return []
        rows = [_row(a, now) for a in alerts]
        saved = {k: s.as_json() for k, s in snapshots.items()}
        with self.store.transaction() as con:
            added = set(sql.record(con, snapshots=saved, rows=rows, now=now))
        if added:
            self._next_due = None
        self._seen.update(snapshots)
        return [a for a in alerts if a.key in added]

    def _alerts_for(self, event: Event, incident: Incident, now: datetime) -> list[Alert]:
        wanted = [c for c in self.config.channels if c.wants(incident.brand, event.severity)]
        if not wanted:
            return []
        until = incident.end
        samples = sql.sample_posts(
            self.store,
            brand=incident.brand,
            ids=incident.sample_post_ids,
            since=incident.start,
            until=until,
            limit=self.config.samples,
        )
        topics = tuple(incident.topics[:5]) or tuple(
            sql.top_topics(self.store, brand=incident.brand, since=incident.start, until=until)
        )
        quoted = tuple(neutralise(str(s["text"] or "")) for s in samples)
        out = []
        for channel in wanted:
            link = self.config.link(channel, incident.id)
            message = render(
                event,
                start=incident.start,
                posts=incident.posts,
                authors=incident.authors,
                topics=topics,
                samples=samples,
                link=link,
            )
            out.append(
                Alert(
                    incident=incident.id,
                    event=event.kind,
                    channel=channel.name,
                    revision=event.revision,
                    brand=incident.brand,
                    severity=event.severity,
                    scope=event.after.scope,
                    peers=event.after.peers,
                    regions=event.after.regions,
                    topics=topics,
                    samples=quoted,
                    link=link,
                    title=message.title,
                    body=message.body,
                    notify_type=message.notify_type,
                    status="queued",
                )
            )
        return out

    # -- delivery ----------------------------------------------------------------------
    def _dispatch(self, now: datetime) -> None:
        """Start one message on every idle channel that has rows due at ``now``."""
        if self._next_due is None:  # read again only after something was written
            self._next_due = sql.next_due(self.store)
        next_due = self._next_due
        for name, channel in self._channels.items():
            due_at = next_due.get(name)
            if self._courier.busy(name) or due_at is None or due_at > now:
                continue
            self._next_due = None  # this channel's rows change below
            pending = sql.rows(self.store, channel=name, statuses=("queued", "held", "failed"))
            due = [r for r in pending if r.due_at <= now]
            if not due:
                continue
            going = self._may_go(channel, due, now)
            if not going:
                continue
            # A message carries its incident's latest state: older alerts about the same
            # incident that still wait (held, or failed) are superseded by it, not sent after.
            newest: dict[str, datetime] = {}
            for r in going:
                newest[r.incident] = max(newest.get(r.incident, r.created_at), r.created_at)
            keys = {r.key for r in going}
            stale = [
                r
                for r in pending
                if r.key not in keys and r.incident in newest and r.created_at < newest[r.incident]
            ]
            with self.store.transaction() as con:
                sql.update(con, keys, status="sending", add_attempt=True, sent_at=now)
                superseded = [r.key for r in stale]
                sql.update(con, superseded, status="superseded", reason="a later alert")
            message = digest([Message(r.title, r.body, r.notify_type) for r in going])
            self._flying[name] = going
            self._courier.start(name, name, message)

    def _may_go(
        self, channel: ChannelConfig, due: list[sql.AlertRow], now: datetime
    ) -> list[sql.AlertRow]:
        """The due rows that may go now; the others are held until they may (quiet hours'
        end, or the rate limit's), with the reason recorded."""
        quiet_end = channel.quiet_hours.end_of(now) if channel.quiet_hours else None
        interval = self.config.interval(channel)
        going: list[sql.AlertRow] = []
        held: list[tuple[sql.AlertRow, datetime, str]] = []
        last: dict[str, datetime] | None = None
        for row in due:
            if quiet_end is not None and not _through_quiet(channel, row):
                held.append((row, quiet_end, "quiet hours"))
                continue
            if row.status == "failed" or _skips_rate_limit(row):
                going.append(row)
                continue
            if last is None:
                last = sql.last_dispatches(self.store, channel=channel.name)
            previous = last.get(row.incident)
            if previous is not None and now < previous + interval and interval > timedelta(0):
                held.append((row, previous + interval, "rate limit"))
                continue
            going.append(row)
        going = going[:MAX_PER_MESSAGE]  # the rest stay due and go with the next message
        changed = [(r, t, why) for r, t, why in held if r.status != "held" or r.due_at != t]
        if changed:
            with self.store.transaction() as con:
                for (until, reason), group in _grouped(changed).items():
                    sql.update(con, group, status="held", due_at=until, reason=reason)
        return going

    def _collect(self, now: datetime, *, timeout: float | None) -> None:
        """Record the outcomes that came back."""
        for name, _, outcome in self._courier.done(timeout=timeout):
            rows = self._flying.pop(name, [])
            self._settle(rows, outcome, now)

    def _settle(self, rows: list[sql.AlertRow], outcome: Outcome, now: datetime) -> None:
        """Record one message's outcome on every row it carried (their attempts were
        counted when they were handed over)."""
        self._next_due = None
        if outcome.ok:
            with self.store.transaction() as con:
                sql.update(con, [r.key for r in rows], status="sent")
            return
        retries: dict[tuple[datetime, str], list[Key]] = {}
        spent = []
        for row in rows:
            attempts = row.attempts + 1
            if attempts >= self.config.max_attempts:
                spent.append(row.key)
                log.error(
                    "alert %s %s to %s failed %d times; giving up: %s",
                    row.incident, row.event, row.channel, attempts, outcome.error,
                )  # fmt: skip
                continue
            wait = min(
                self.config.retry_base_seconds * 2 ** (attempts - 1),
                self.config.retry_max_seconds,
            )
            retries.setdefault((now + timedelta(seconds=wait), "retry"), []).append(row.key)
            log.warning(
                "alert %s %s to %s failed (try %d of %d), retrying in %.0f s: %s",
                row.incident, row.event, row.channel, attempts,
                self.config.max_attempts, wait, outcome.error,
            )  # fmt: skip
        with self.store.transaction() as con:
            sql.update(con, spent, status="gave_up", error=outcome.error)
            for (due, reason), keys in retries.items():
                sql.update(
                    con, keys, status="failed", due_at=due, reason=reason, error=outcome.error
                )


def _grouped(
    held: list[tuple[sql.AlertRow, datetime, str]],
) -> dict[tuple[datetime, str], list[Key]]:
    groups: dict[tuple[datetime, str], list[Key]] = {}
    for row, until, reason in held:
        groups.setdefault((until, reason), []).append(row.key)
    return groups


class _Scrubber(logging.Filter):
    """Masks the channels' secrets in Apprise's own log records, whatever a plugin logs."""

    def __init__(self, urls: Sequence[str]) -> None:
        super().__init__()
        self.urls = list(urls)
        for url in self.urls:
            scrub("", url)  # work out each URL's secrets now, not inside a log call

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = message
        for url in self.urls:
            clean = scrub(clean, url)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def _through_quiet(channel: ChannelConfig, row: sql.AlertRow) -> bool:
    """Whether ``row`` may go during ``channel``'s quiet hours: severe enough, and not a
    resolve (resolves are summarised when the quiet hours end)."""
    assert channel.quiet_hours is not None
    if row.event == "resolved":
        return False
    return severity_rank(row.severity) >= severity_rank(channel.quiet_hours.severity)


def _skips_rate_limit(row: sql.AlertRow) -> bool:
    """A resolve, and an opening or escalation at critical, go at once."""
    return row.event == "resolved" or (
        row.event in ("opened", "escalated") and row.severity == "critical"
    )


def _row(alert: Alert, now: datetime) -> sql.AlertRow:
    return sql.AlertRow(
        incident=alert.incident,
        event=alert.event,
        channel=alert.channel,
        revision=alert.revision,
        brand=alert.brand,
        severity=alert.severity,
        created_at=now,
        status="queued",
        due_at=now,
        reason=None,
        attempts=0,
        sent_at=None,
        error=None,
        title=alert.title,
        body=alert.body,
        notify_type=alert.notify_type,
    )
