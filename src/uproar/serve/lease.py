"""The dashboard's hold on the store.

DuckDB lets one process write a file or several read it, never both (see ``store/store.py``).
The dashboard writes a little (log-ins that rehash, the audit log, approvals) and reads a lot,
for hours, beside an ``uproar watch`` or ``uproar listen`` that also holds the file for hours.
So the dashboard keeps the file open only while nobody else wants it:

- each request takes a ``Store`` view on its own cursor (``Store.for_thread``); many run at once;
- between requests, when another process asks for the file or a listener lends it (a listener
  cannot ask for it back), the dashboard checkpoints and closes it (``Store.wanted``);
- the next request opens it again, asking a listener to lend it if one holds it, exactly as a
  command does (``Store.__init__``'s wait).

Alone with its store (no listener beside it) the dashboard keeps the file open, with DuckDB's
cache warm. A process that already owns a ``Store`` (a future ``uproar watch`` that serves the
dashboard itself) passes it in, and it is never closed here.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from uproar.errors import StoreLockedError
from uproar.store import Store
from uproar.store.store import LEND_WAIT_SECONDS

# How often an idle dashboard looks for a process that wants the file.
LEND_CHECK_SECONDS = 0.25
# How long a request waits on a lock that no lender has marked (a watch starting up).
LOCK_GRACE_SECONDS = 10.0


class StoreLease:
    """Opens, shares between request threads, and lends the dashboard's store."""

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        store: Store | None = None,
        memory_limit: str | None = None,
        wait: float = LEND_WAIT_SECONDS,
    ) -> None:
        if (path is None) == (store is None):
            raise ValueError("give a store file or an open store, not both")
        self.path = str(path) if path is not None else store.path  # type: ignore[union-attr]
        self._own = store is None
        self._memory_limit, self._wait = memory_limit, wait
        self._cond = threading.Condition()
        self._users = 0
        # Opened now, so that a missing or damaged file fails `uproar serve` at once.
        self._store: Store | None = store if store is not None else self._open()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self.lend()

    def _open(self) -> Store:
        """The file, opened and marked as lent by this process (``DB.lends.PID``) before any
        request uses it: a watch or command that starts while a request runs then asks for
        it and waits, rather than finding a lock with no lender and failing. If one already
        asks, it goes first. A lock with no lender beside it (a watch that has opened the
        file but not yet marked it) is waited on for ``LOCK_GRACE_SECONDS``."""
        deadline = time.monotonic() + LOCK_GRACE_SECONDS
        # The mark goes down before the file is opened: opening it (the schema, upgrades)
        # takes a moment, and a watch that starts then must find a lender, not just a lock.
        mark = Path(f"{self.path}.lends.{os.getpid()}")
        while True:
            with contextlib.suppress(OSError):
                mark.touch()
            try:
                store = Store(
                    self.path, create=False, memory_limit=self._memory_limit, wait=self._wait
                )
            except StoreLockedError:
                if time.monotonic() >= deadline:
                    mark.unlink(missing_ok=True)
                    raise
                time.sleep(0.05)
                continue
            except BaseException:
                mark.unlink(missing_ok=True)
                raise
            if store.available():
                return store
            store.close()  # another process asked for it meanwhile: let it have it first
            time.sleep(0.05)

    @contextmanager
    def store(self) -> Iterator[Store]:
        """A ``Store`` for one request, on its own cursor."""
        view = self.borrow()
        try:
            yield view
        finally:
            self.give_back(view, lend=True)

    def borrow(self) -> Store:
        """A ``Store`` view on its own cursor, to ``give_back`` when done; opens the file
        first if it is not open here (which may wait on another process)."""
        view = self._borrow(wait=True)
        assert view is not None  # waiting, it opens the file or raises
        return view

    def try_borrow(self) -> Store | None:
        """As ``borrow``, but None rather than opening the file: the event loop borrows
        without blocking and leaves the opening to a thread."""
        return self._borrow(wait=False)

    def _borrow(self, *, wait: bool) -> Store | None:
        with self._cond:
            if self._store is None:
                if not wait:
                    return None
                self._store = self._open()  # others wait: they need the same file
            self._users += 1
            shared = self._store
        try:
            return shared.for_thread()
        except BaseException:
            with self._cond:
                self._users -= 1
            raise

    def give_back(self, view: Store, *, lend: bool) -> None:
        """Close a borrowed view. With ``lend``, also close the file if another process
        wants it (a checkpoint: not for the event loop, whose ticker lends within
        ``LEND_CHECK_SECONDS``)."""
        view.close_thread()
        with self._cond:
            self._users -= 1
        if lend:
            self.lend()

    def lend(self) -> bool:
        """Close the file if nobody here uses it and another process wants it; True if it
        is closed now. While it stays open, say so beside it (``DB.lends.PID``), so that a
        command asks for it rather than failing on the lock."""
        with self._cond:
            if self._store is None:
                return True
            if not self._own or self._users:
                return False
            store = self._store
            # available() marks the file as lent by this process, and releases it if a
            # command asked for it since wanted() looked.
            if not store.wanted() and store.available():
                return False
            self._store = None
            store.close()  # checkpoints: the next holder reads everything written here
            return True

    def start(self) -> None:
        """Look for processes that want the file while no request comes."""
        if self._ticker is not None or not self._own:
            return
        self._stop.clear()
        self._ticker = threading.Thread(target=self._tick, name="uproar-lend", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(LEND_CHECK_SECONDS):
            self.lend()

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
        with self._cond:
            store, self._store = self._store, None
        if store is not None and self._own:
            store.close()
