"""The dashboard's accounts, API tokens, audit log and secrets (tables in ``schema.sql``,
section "serve"). Hashing and roles live in ``uproar.serve.accounts``; this is only SQL."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from uproar.store.store import Store, naive_utc, utc


def add_user(store: Store, name: str, role: str, password_hash: str, *, now: datetime) -> bool:
    """Add an account; False if the name is taken."""
    row = store.connection.execute(
        """INSERT OR IGNORE INTO users VALUES ($name, $role, $hash, $now) RETURNING name""",
        {"name": name, "role": role, "hash": password_hash, "now": naive_utc(now)},
    ).fetchone()
    return row is not None


def get_user(store: Store, name: str) -> tuple[str, str, str] | None:
    """(name, role, password_hash) of an account, or None."""
    row = store.connection.execute(
        "SELECT name, role, password_hash FROM users WHERE name = $name", {"name": name}
    ).fetchone()
    return (str(row[0]), str(row[1]), str(row[2])) if row else None


def list_users(store: Store) -> list[dict[str, Any]]:
    rows = store.connection.execute(
        """SELECT u.name, u.role, u.created_at, count(t.token_hash) AS tokens
           FROM users u LEFT JOIN api_tokens t ON t.user_name = u.name
           GROUP BY ALL ORDER BY u.name"""
    ).fetchall()
    return [{"name": n, "role": r, "created_at": utc(c), "tokens": int(t)} for n, r, c, t in rows]


def count_users(store: Store) -> int:
    row = store.connection.execute("SELECT count(*) FROM users").fetchone()
    return int(row[0]) if row else 0


def remove_user(store: Store, name: str) -> bool:
    """Remove an account and its API tokens; False if there was none."""
    with store.transaction() as con:
        con.execute("DELETE FROM api_tokens WHERE user_name = $name", {"name": name})
        row = con.execute(
            "DELETE FROM users WHERE name = $name RETURNING name", {"name": name}
        ).fetchone()
    return row is not None


def set_role(store: Store, name: str, role: str) -> bool:
    row = store.connection.execute(
        "UPDATE users SET role = $role WHERE name = $name RETURNING name",
        {"name": name, "role": role},
    ).fetchone()
    return row is not None


def set_password_hash(store: Store, name: str, password_hash: str) -> bool:
    row = store.connection.execute(
        "UPDATE users SET password_hash = $hash WHERE name = $name RETURNING name",
        {"name": name, "hash": password_hash},
    ).fetchone()
    return row is not None


def add_token(
    store: Store, token_hash: str, user: str, label: str | None, *, now: datetime
) -> None:
    store.connection.execute(
        "INSERT INTO api_tokens VALUES ($hash, $user, $label, $now)",
        {"hash": token_hash, "user": user, "label": label, "now": naive_utc(now)},
    )


def user_for_token(store: Store, token_hash: str) -> tuple[str, str] | None:
    """(name, role) of the account that owns the token, or None."""
    row = store.connection.execute(
        """SELECT u.name, u.role FROM api_tokens t JOIN users u ON u.name = t.user_name
           WHERE t.token_hash = $hash""",
        {"hash": token_hash},
    ).fetchone()
    return (str(row[0]), str(row[1])) if row else None


def add_audit(
    store: Store,
    *,
    at: datetime,
    user: str | None,
    action: str,
    subject: str | None,
    detail: dict[str, Any] | None,
) -> None:
    store.connection.execute(
        "INSERT INTO audit_log VALUES ($at, $user, $action, $subject, $detail)",
        {
            "at": naive_utc(at),
            "user": user,
            "action": action,
            "subject": subject,
            "detail": json.dumps(detail, default=str) if detail is not None else None,
        },
    )


def audit_entries(store: Store, *, limit: int = 100) -> list[dict[str, Any]]:
    """The newest audit entries first."""
    rows = store.connection.execute(
        """SELECT logged_at, user_name, action, subject, detail FROM audit_log
           ORDER BY logged_at DESC LIMIT $limit""",
        {"limit": limit},
    ).fetchall()
    return [
        {
            "at": utc(at),
            "user": u,
            "action": a,
            "subject": s,
            "detail": json.loads(d) if d is not None else None,
        }
        for at, u, a, s, d in rows
    ]


def secret(store: Store, name: str, make: str) -> str:
    """The secret called ``name``, stored as ``make`` the first time it is asked for."""
    store.connection.execute(
        "INSERT OR IGNORE INTO serve_secrets VALUES ($name, $value)", {"name": name, "value": make}
    )
    row = store.connection.execute(
        "SELECT value FROM serve_secrets WHERE name = $name", {"name": name}
    ).fetchone()
    assert row is not None
    return str(row[0])
