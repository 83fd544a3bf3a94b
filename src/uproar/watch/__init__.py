"""``uproar watch``: live listeners, one writer, continuous detection, lag figures.

- ``config``: ``watch.toml``, declared as msgspec types.
- ``streams``: the ``Source`` protocol, Mastodon and Jetstream; ``feeds``: RSS/Atom;
  ``xstream``: X's filtered stream; ``runner``: the HTTP endpoint and ``run_watch``.
- ``writer``: the one writer (bounded, cursors with posts, lag); ``parsing``: the parse
  workers; ``detection``: the streaming detector over what was stored; ``lag``: bounded
  histograms.

The names below are imported when first used: a parse worker imports ``parsing`` alone,
not the listeners, the web server and the alerts (seconds of start-up on a busy machine).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uproar.watch.config import WatchConfig, load_watch
    from uproar.watch.runner import run_watch

__all__ = ["WatchConfig", "load_watch", "run_watch"]


def __getattr__(name: str) -> Any:
    if name in ("WatchConfig", "load_watch"):
        from uproar.watch import config

        return getattr(config, name)
    if name == "run_watch":
        from uproar.watch import runner

        return runner.run_watch
    raise AttributeError(f"module 'uproar.watch' has no attribute {name!r}")
