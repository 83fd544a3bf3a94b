"""Settings: brands and peers, alert channels, and (admin only) accounts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import HTMLResponse, RedirectResponse

from uproar.errors import InputError
from uproar.serve import accounts
from uproar.serve.accounts import ROLES, User
from uproar.serve.auth import get_store, require_role
from uproar.serve.render import render
from uproar.serve.settings import alert_channels
from uproar.store import Store

router = APIRouter(tags=["settings"])
Admin = Annotated[User, Depends(require_role("admin"))]
Db = Annotated[Store, Depends(get_store)]


@router.get("/settings", response_class=HTMLResponse, summary="The Settings page.")
def settings_page(
    request: Request, store: Db, user: Annotated[User, Depends(require_role("viewer"))]
) -> HTMLResponse:
    admin = user.can("admin")
    return render(
        request,
        "settings.html.j2",
        {
            "brands": list(store.load_brands().values()),
            "channels": alert_channels(request.app.state.config),
            "config": request.app.state.config,
            "users": accounts.list_users(store) if admin else [],
            "audit": accounts.audit_entries(store, limit=50) if admin else [],
            "roles": ROLES,
            "admin": admin,
        },
    )


def _done() -> RedirectResponse:
    return RedirectResponse("/settings#users", status_code=303)


@router.post("/settings/users", summary="Add an account (admin).", response_class=HTMLResponse)
def add_user(
    request: Request,
    store: Db,
    user: Admin,
    name: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    role: Annotated[str, Form(max_length=20)] = "viewer",
) -> RedirectResponse:
    now = request.app.state.clock()
    added = accounts.add_user(store, name, password, role=role, now=now)
    accounts.audit(store, user, "user.add", added.name, {"role": added.role}, now=now)
    return _done()


@router.post("/settings/users/{name}/role", summary="Change an account's role (admin).",
             response_class=HTMLResponse)  # fmt: skip
def change_role(
    request: Request,
    store: Db,
    user: Admin,
    name: str,
    role: Annotated[str, Form(max_length=20)],
) -> RedirectResponse:
    if name == user.name and role != "admin":
        raise InputError("an admin cannot take the admin role from themself; ask another admin")
    changed = accounts.set_role(store, name, role)
    now = request.app.state.clock()
    accounts.audit(store, user, "user.role", changed.name, {"role": changed.role}, now=now)
    return _done()


@router.post("/settings/users/{name}/remove", summary="Remove an account (admin).",
             response_class=HTMLResponse)  # fmt: skip
def remove_user(request: Request, store: Db, user: Admin, name: str) -> RedirectResponse:
    if name == user.name:
        raise InputError("an admin cannot remove themself; ask another admin")
    accounts.remove_user(store, name)
    accounts.audit(store, user, "user.remove", name, None, now=request.app.state.clock())
    return _done()


@router.get("/api/users", tags=["api"], summary="The accounts and their roles (admin).")
def api_users(store: Db, user: Admin) -> dict[str, object]:
    return {
        "ok": True,
        "users": [
            {**u, "created_at": u["created_at"].isoformat()} for u in accounts.list_users(store)
        ],
    }
