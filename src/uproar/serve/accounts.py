"""Accounts, roles, API tokens and the audit log: the library under ``uproar users`` and the
dashboard's log-in. Passwords are argon2id-hashed (argon2-cffi's defaults, RFC 9106's second
recommended parameter set); API tokens are 256 random bits, kept only as their SHA-256 (a
secret that long needs no slow hash: nothing can be guessed from it)."""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from uproar.errors import ConfigError, InputError
from uproar.store import Store
from uproar.store import accounts as sql

Role = Literal["viewer", "responder", "admin"]
# Each role can do what the ones before it can.
ROLES: tuple[Role, ...] = ("viewer", "responder", "admin")
TOKEN_PREFIX = "uproar_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
# NIST SP 800-63B 5.1.1.2: at least 8 characters for a chosen password.
MIN_PASSWORD = 8

_HASHER = PasswordHasher()
# Verified against when the account does not exist, so a wrong name costs as long as a
# wrong password (no telling which names exist from the timing).
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))

# Bumped by each change to an account made in this process, so that the dashboard's gate
# drops the accounts it looked up before (``uproar.serve.auth``).
_changes = 0


def changes() -> int:
    """How many account changes this process has made (the gate's cache checks it)."""
    return _changes


def _changed() -> None:
    global _changes
    _changes += 1


@dataclass(frozen=True, slots=True)
class User:
    """A signed-in account."""

    name: str
    role: Role

    def can(self, role: Role) -> bool:
        """Whether this account has ``role`` or a higher one."""
        return ROLES.index(self.role) >= ROLES.index(role)


def check_role(role: str) -> Role:
    for r in ROLES:
        if role == r:
            return r
    raise InputError(f"unknown role {role!r}; known: {', '.join(ROLES)}", field="role")


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise InputError(
            f"account name {name!r} must be 1-64 letters, digits or . _ @ - "
            "(starting with a letter or digit)",
            field="name",
        )


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError(
            f"the password must be at least {MIN_PASSWORD} characters", field="password"
        )


def add_user(store: Store, name: str, password: str, *, role: str, now: datetime) -> User:
    """Create an account; a taken name is an error (remove it first)."""
    _check_name(name)
    _check_password(password)
    checked = check_role(role)
    _changed()
    if not sql.add_user(store, name, checked, _HASHER.hash(password), now=now):
        raise InputError(
            f"account {name!r} already exists; `uproar users remove {name}` first", field="name"
        )
    return User(name, checked)


def remove_user(store: Store, name: str) -> None:
    _changed()
    if not sql.remove_user(store, name):
        raise _unknown(store, name)


def set_role(store: Store, name: str, role: str) -> User:
    checked = check_role(role)
    _changed()
    if not sql.set_role(store, name, checked):
        raise _unknown(store, name)
    return User(name, checked)


def _unknown(store: Store, name: str) -> InputError:
    from uproar.errors import UnknownNameError

    known = [u["name"] for u in sql.list_users(store)]
    return UnknownNameError("account", name, known, field="name")


def list_users(store: Store) -> list[dict[str, Any]]:
    return sql.list_users(store)


def has_accounts(store: Store) -> bool:
    return sql.count_users(store) > 0


def authenticate(store: Store, name: str, password: str) -> User | None:
    """The account if ``password`` is right, else None (for a wrong name too, in as long)."""
    row = sql.get_user(store, name)
    try:
        _HASHER.verify(row[2] if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    if _HASHER.check_needs_rehash(row[2]):
        sql.set_password_hash(store, name, _HASHER.hash(password))
    return User(row[0], check_role(row[1]))


def user(store: Store, name: str) -> User | None:
    """The account called ``name`` as it is now (removed: None; role changed: the new one)."""
    row = sql.get_user(store, name)
    return User(row[0], check_role(row[1])) if row else None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(store: Store, name: str, *, label: str | None, now: datetime) -> str:
    """A new API token for the account; returned once, kept only as its hash."""
    if sql.get_user(store, name) is None:
        raise _unknown(store, name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    sql.add_token(store, _token_hash(token), name, label, now=now)
    return token


def token_user(store: Store, token: str) -> User | None:
    found = sql.user_for_token(store, _token_hash(token))
    return User(found[0], check_role(found[1])) if found else None


def audit(
    store: Store,
    user: User | str | None,
    action: str,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
    *,
    now: datetime,
) -> None:
    """Record who did what to what, and when (e.g. ``audit(store, user, "reply.approve",
    "acme/2014-...#3", {"text": final_text}, now=now)``). ``user`` None: the command line."""
    name = user.name if isinstance(user, User) else user
    sql.add_audit(store, at=now, user=name, action=action, subject=subject, detail=detail)


def audit_entries(store: Store, *, limit: int = 100) -> list[dict[str, Any]]:
    return sql.audit_entries(store, limit=limit)


def session_secret(store: Store) -> str:
    """The key that signs the dashboard's cookies, made once and kept in the store (so
    sessions survive a restart, and removing it signs everyone out)."""
    return sql.secret(store, "session", secrets.token_urlsafe(48))


class LoginLimiter:
    """Failed log-ins allowed per account and per client address in a sliding window
    (OWASP Authentication Cheat Sheet: throttle both). ``clock`` is monotonic seconds."""

    def __init__(
        self, *, failures: int = 5, window: float = 60.0, clock: Any = time.monotonic
    ) -> None:
        if failures < 1 or window <= 0:
            raise ConfigError(
                f"a login limit needs failures >= 1 and window > 0, not {failures}, {window}"
            )
        self.failures, self.window, self._clock = failures, window, clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, *keys: str) -> int:
        """Seconds until a log-in for these keys may be tried again; 0: now."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key in keys:
                times = self._seen.get(key)
                if not times:
                    continue
                while times and times[0] <= now - self.window:
                    times.popleft()
                if len(times) >= self.failures:
                    wait = max(wait, times[0] + self.window - now)
        return max(1, math.ceil(wait)) if wait > 0 else 0

    def failed(self, *keys: str) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                self._seen.setdefault(key, deque()).append(now)
            if len(self._seen) > 100_000:  # bounded memory under a spray of names
                self._seen = {
                    k: v for k, v in self._seen.items() if v and v[-1] > now - self.window
                }

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._seen.pop(key, None)
