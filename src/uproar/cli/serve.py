"""``uproar serve`` (the team's dashboard) and ``uproar users`` (its accounts)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import typer

from uproar.cli.app import app
from uproar.cli.common import DbOption, JsonOption, choice, open_store, settings
from uproar.cli.output import console, emit_json, stdout
from uproar.errors import InputError
from uproar.serve import accounts, create_app
from uproar.serve.accounts import ROLES
from uproar.serve.server import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    Server,
    is_loopback,
    require_accounts_off_loopback,
    server_config,
)

HostOption = typer.Option(
    DEFAULT_HOST, "--host", help="Address to serve on; another than loopback needs an account."
)
PortOption = typer.Option(DEFAULT_PORT, "--port", help="Port to serve on.")


def run_server(db: Path, *, host: str, port: int, config: Path | None) -> None:
    """Check the bind, then serve ``db`` until Ctrl-C."""
    s = settings(db=db)
    # The app's lease opens the store (and says it lends it: a watch started meanwhile asks
    # for it rather than failing), so the checks read it through that lease.
    application = create_app(Path(s.db), config=config, memory_limit=s.memory_limit)
    try:
        with application.state.lease.store() as store:
            require_accounts_off_loopback(store, host)
            has_accounts = accounts.has_accounts(store)
    except BaseException:
        application.state.lease.close()
        raise
    if not has_accounts:
        console.print(
            "[yellow]warning:[/] the store has no accounts, so nobody can log in: "
            f"`uproar users add NAME --role admin --db {s.db}`"
        )
    shown = f"[{host}]" if ":" in host else host
    console.print(f"serving {s.db} on http://{shown}:{port}/ (Ctrl-C stops)", soft_wrap=True)
    if not is_loopback(host):
        console.print(
            "[yellow]note:[/] put an https proxy in front of it: cookies are marked Secure "
            "only when the request came over https"
        )
    Server(server_config(application, host=host, port=port)).run()


@app.command(
    epilog="""Examples:

  uproar serve --db uproar.duckdb

  uproar serve --db uproar.duckdb --host 0.0.0.0 --port 8788 --config watch.toml
"""
)
def serve(
    db: Path | None = DbOption,
    host: str = HostOption,
    port: int = PortOption,
    config: Path | None = typer.Option(
        None, "--config", metavar="FILE", help="watch.toml, for the alert channels Settings shows."
    ),
) -> None:
    """Serve the dashboard (log in with an account from `uproar users add`)."""
    run_server(Path(settings(db=db).db), host=host, port=port, config=config)


users_app = typer.Typer(help="Accounts for the dashboard and its API: add, list, remove, token.")
app.add_typer(users_app, name="users")

RoleOption = choice("viewer", "--role", choices=ROLES, help="What the account may do.")


def _now() -> datetime:
    return datetime.now(UTC)


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise InputError("--password-stdin read an empty line", field="password")
        return password
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@users_app.command(
    "add",
    epilog="""Examples:

  uproar users add ann --role admin

  printf '%s\\n' "$PASSWORD" | uproar users add bot --role viewer --password-stdin
""",
)
def users_add(
    name: str = typer.Argument(..., help="Account name (letters, digits, . _ @ -)."),
    role: str = RoleOption,
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
    db: Path | None = DbOption,
    as_json: bool = JsonOption,
) -> None:
    """Add an account (the password is asked twice, or read from stdin)."""
    password = _read_password(password_stdin)
    with open_store(db) as store:
        user = accounts.add_user(store, name, password, role=role, now=_now())
        accounts.audit(store, None, "user.add", user.name, {"role": user.role}, now=_now())
    if as_json:
        emit_json({"ok": True, "name": user.name, "role": user.role})
    else:
        stdout.print(f"added {user.name} ({user.role})")


@users_app.command(
    "list",
    epilog="""Examples:

  uproar users list --db uproar.duckdb --json
""",
)
def users_list(db: Path | None = DbOption, as_json: bool = JsonOption) -> None:
    """List the accounts and their roles."""
    with open_store(db, read_only=True) as store:
        rows = accounts.list_users(store)
    if as_json:
        emit_json({"ok": True, "users": rows})
        return
    if not rows:
        stdout.print("no accounts yet: `uproar users add NAME --role admin`")
    for r in rows:
        stdout.print(
            f"{r['name']}\t{r['role']}\t{r['tokens']} token(s)\tsince {r['created_at']:%Y-%m-%d}"
        )


@users_app.command(
    "remove",
    epilog="""Examples:

  uproar users remove wall --db uproar.duckdb
""",
)
def users_remove(
    name: str = typer.Argument(..., help="Account name."),
    db: Path | None = DbOption,
    as_json: bool = JsonOption,
) -> None:
    """Remove an account and its API tokens (its sessions end at their next request)."""
    with open_store(db) as store:
        accounts.remove_user(store, name)
        accounts.audit(store, None, "user.remove", name, None, now=_now())
    if as_json:
        emit_json({"ok": True, "name": name})
    else:
        stdout.print(f"removed {name}")


@users_app.command(
    "token",
    epilog="""Examples:

  uproar users token ci-bot --label grafana --db uproar.duckdb
""",
)
def users_token(
    name: str = typer.Argument(..., help="Account name."),
    label: str | None = typer.Option(None, "--label", help="What the token is for."),
    db: Path | None = DbOption,
    as_json: bool = JsonOption,
) -> None:
    """Make an API token for an account (shown once; send it as `Authorization: Bearer`)."""
    with open_store(db) as store:
        token = accounts.new_token(store, name, label=label, now=_now())
        accounts.audit(store, None, "token.add", name, {"label": label}, now=_now())
    if as_json:
        emit_json({"ok": True, "name": name, "token": token})
    else:
        stdout.print(token, soft_wrap=True)
