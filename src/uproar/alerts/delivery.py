"""Sending through Apprise, off the caller's thread, one message in flight per channel.

``Courier`` owns a small thread pool (one thread per channel). ``start`` hands a message
to a channel whose previous one is done; ``done`` collects the outcomes that have come
back. The caller (``Alerter``, on the thread that owns the store) records them: delivery
threads never touch the store, so the store keeps one writer and a slow or dead channel
never blocks detection. Memory is bounded: at most one message per channel is in flight;
the backlog waits in the store (``alerts_sent``), not in a queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from uproar.alerts.config import ChannelConfig, apprise_loaded, scrub
from uproar.alerts.render import Message


@dataclass(frozen=True, slots=True)
class Outcome:
    """What Apprise said about one message: ``ok``, or the reason (secrets masked)."""

    ok: bool
    error: str | None = None


def send(channel: ChannelConfig, message: Message) -> Outcome:
    """Send ``message`` to ``channel`` now, on this thread; never raises for a channel
    that fails (the reason is in the outcome, with the URL's secrets masked)."""
    apprise_loaded()
    import apprise

    try:
        asset = apprise.AppriseAsset(storage_mode=apprise.PersistentStoreMode.MEMORY)
        notifier = apprise.Apprise(asset=asset)
        if not notifier.add(channel.url):
            return Outcome(False, f"Apprise cannot use {channel.masked_url}")
        result = notifier.notify(
            body=message.body,
            title=message.title,
            notify_type=apprise.NotifyType(message.notify_type),
            body_format=apprise.NotifyFormat.TEXT,
        )
        if result:
            return Outcome(True)
        logs = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR")]
        reason = "; ".join(dict.fromkeys(logs)) or f"Apprise reported {result.status.name}"
        return Outcome(False, scrub(reason, channel.url)[:500])
    except Exception as exc:  # a plugin's own bug must not kill the watch: it is a failure
        return Outcome(False, scrub(f"{type(exc).__name__}: {exc}", channel.url)[:500])


class Courier:
    """At most one message in flight per channel, sent on a worker thread."""

    def __init__(self, channels: Sequence[ChannelConfig]) -> None:
        self._channels = {c.name: c for c in channels}
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, len(self._channels)), thread_name_prefix="uproar-alerts"
        )
        self._flying: dict[str, tuple[object, Future[Outcome]]] = {}

    def busy(self, channel: str) -> bool:
        return channel in self._flying

    def start(self, channel: str, token: object, message: Message) -> None:
        """Send ``message`` to ``channel`` in the background; ``token`` comes back with
        its outcome. The channel must not be busy."""
        if channel in self._flying:
            raise RuntimeError(f"channel {channel!r} already has a message in flight")
        future = self._pool.submit(send, self._channels[channel], message)
        self._flying[channel] = (token, future)

    def done(self, *, timeout: float | None = 0) -> list[tuple[str, object, Outcome]]:
        """The outcomes that are in (waiting up to ``timeout`` seconds for the first one
        when any is in flight; None: until one is), as (channel, token, outcome)."""
        if self._flying and timeout != 0:
            wait(
                [f for _, f in self._flying.values()],
                timeout=timeout,
                return_when="FIRST_COMPLETED",
            )
        out = []
        for channel, (token, future) in list(self._flying.items()):
            if future.done():
                del self._flying[channel]
                out.append((channel, token, future.result()))
        return out

    @property
    def in_flight(self) -> int:
        return len(self._flying)

    def close(self) -> None:
        """Stop taking messages; those in flight finish (Apprise's own timeouts bound them)."""
        self._pool.shutdown(wait=True)
