"""The dashboard's protections, against a real server: authentication on every route but
/health, CSRF, roles, the log-in throttle, the security headers and the session cookie."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi import WebSocket
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Origin

from uproar.serve import accounts, create_app
from uproar.serve.accounts import LoginLimiter
from uproar.serve.app import route_table
from uproar.serve.auth import LOOKUP_TTL_S
from uproar.serve.security import CONTENT_SECURITY_POLICY
from uproar.store import Store

from .conftest import ACCOUNTS, NOW, PASSWORD, Clients, Dashboard, Served, csrf_of

PUBLIC = {"/health", "/login"}


def concrete(path: str) -> str:
    """A route's path with its parameters filled in."""
    return re.sub(r"\{[^}]+\}", "x", path)


def names(client: httpx.Client) -> set[str]:
    return {u["name"] for u in client.get("/api/users").json()["users"]}


def test_health_answers_without_a_session_and_shows_no_data(dashboard: Dashboard) -> None:
    answer = httpx.get(f"{dashboard.url}/health")
    assert answer.status_code == 200
    assert answer.json() == {"ok": True}


def test_every_route_but_health_needs_an_account(dashboard: Dashboard) -> None:
    table = route_table(dashboard.app)
    checked = 0
    with httpx.Client(base_url=dashboard.url, timeout=30) as client:
        for path, methods in table:
            if path in PUBLIC or path == "/static":
                continue
            for method in sorted(methods - {"HEAD"}) or ["GET"]:
                url = concrete(path)
                api = client.request(method, url)
                assert api.status_code == 401, (method, path, api.status_code)
                assert api.json() == {
                    "ok": False,
                    "error": "log in, or send an API token",
                    "status": 401,
                }
                bad = client.request(method, url, headers={"authorization": "Bearer nope"})
                assert bad.status_code == 401, (method, path)
                page = client.request(method, url, headers={"accept": "text/html"})
                if path.startswith("/api/") or path == "/openapi.json":
                    assert page.status_code == 401, (method, path)
                else:
                    assert page.status_code == 303, (method, path)
                    assert page.headers["location"].startswith("/login?next=")
                checked += 1
    assert checked >= 8  # the openapi spec, the API, Search, Settings and its forms
    # a forged cookie is no session either
    forged = httpx.get(
        f"{dashboard.url}/api/me", cookies={"uproar_session": "eyJ1IjoiYW5uIn0.forged.sig"}
    )
    assert forged.status_code == 401


def test_a_path_that_does_not_exist_says_nothing_without_a_session(dashboard: Dashboard) -> None:
    assert httpx.get(f"{dashboard.url}/no/such/page").status_code == 401


def test_static_files_are_public_and_carry_the_headers(dashboard: Dashboard) -> None:
    css = httpx.get(f"{dashboard.url}/static/uproar.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert css.headers["x-content-type-options"] == "nosniff"


def test_log_in_sets_a_safe_cookie_and_log_out_ends_it(
    dashboard: Dashboard, clients: Clients
) -> None:
    client = clients.new(dashboard.url)
    page = client.get("/login")
    answer = client.post(
        "/login",
        data={"name": "vic", "password": PASSWORD, "csrf_token": csrf_of(page.text),
              "next": "/search?q=x"},
    )  # fmt: skip
    assert answer.status_code == 303 and answer.headers["location"] == "/search?q=x"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http on loopback; an https proxy makes it Secure
    # log-in gives a new session: the anonymous one's CSRF token no longer works
    assert client.get("/api/me").json() == {"name": "vic", "role": "viewer"}
    token = csrf_of(client.get("/search").text)
    assert token != csrf_of(page.text)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/api/me").status_code == 401


def test_log_in_never_redirects_off_site(dashboard: Dashboard, clients: Clients) -> None:
    client = clients.new(dashboard.url)
    page = client.get("/login")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        client.cookies.clear()
        page = client.get("/login")
        answer = client.post(
            "/login",
            data={"name": "vic", "password": PASSWORD, "csrf_token": csrf_of(page.text),
                  "next": target},
        )  # fmt: skip
        assert answer.headers["location"] == "/", target


def test_a_wrong_password_is_refused_like_an_unknown_account(
    dashboard: Dashboard, clients: Clients
) -> None:
    client = clients.new(dashboard.url)
    token = csrf_of(client.get("/login").text)
    for name, password in (("vic", "wrong password"), ("nobody", PASSWORD)):
        answer = client.post(
            "/login", data={"name": name, "password": password, "csrf_token": token}
        )
        assert answer.status_code == 401
        assert "Wrong account name or password." in answer.text
    assert client.get("/api/me").status_code == 401


def test_csrf_is_required_on_state_changing_requests(
    dashboard: Dashboard, clients: Clients
) -> None:
    client, token = clients.log_in(dashboard.url, "ann")
    _other, other_token = clients.log_in(dashboard.url, "rob")
    form = {"name": "csrf-victim", "password": PASSWORD, "role": "viewer"}
    # no token, a wrong one, another session's: refused, nothing changed
    for extra in ({}, {"csrf_token": "0" * 64}, {"csrf_token": other_token}):
        answer = client.post("/settings/users", data={**form, **extra})
        assert answer.status_code == 403, extra
        assert "CSRF" in answer.text
    assert "csrf-victim" not in names(client)
    # the anonymous log-in form is protected too
    fresh = clients.new(dashboard.url, html=False)
    answer = fresh.post("/login", data={"name": "ann", "password": PASSWORD})
    assert answer.status_code == 403
    # the form field or the header makes it through
    assert client.post("/settings/users", data={**form, "csrf_token": token}).status_code == 303
    assert "csrf-victim" in names(client)
    answer = client.post("/settings/users/csrf-victim/remove", headers={"x-csrf-token": token})
    assert answer.status_code == 303
    assert "csrf-victim" not in names(client)


def test_an_api_token_needs_no_csrf_but_a_cookie_does(
    dashboard: Dashboard, clients: Clients
) -> None:
    bearer = {"authorization": f"Bearer {dashboard.tokens['ann']}"}
    with httpx.Client(base_url=dashboard.url, timeout=30) as api:
        assert api.get("/api/me", headers=bearer).json() == {"name": "ann", "role": "admin"}
        form = {"name": "token-made", "password": PASSWORD, "role": "viewer"}
        assert api.post("/settings/users", data=form, headers=bearer).status_code == 303
        assert api.post("/settings/users/token-made/remove", headers=bearer).status_code == 303
        # a token sent with a session cookie is no excuse to skip the CSRF check
        client, _ = clients.log_in(dashboard.url, "ann")
        answer = client.post(
            "/settings/users", data={**form, "name": "token-cookie"}, headers=bearer
        )
        assert answer.status_code == 403


def test_roles_are_enforced(dashboard: Dashboard, clients: Clients) -> None:
    for role, name in ACCOUNTS.items():
        client, token = clients.log_in(dashboard.url, name)
        settings = client.get("/settings")
        assert settings.status_code == 200
        assert ("Audit log" in settings.text) == (role == "admin")
        assert client.get("/search?q=kiwinet").status_code == 200
        answer = client.post(
            "/settings/users",
            data={"name": f"made-by-{name}", "password": PASSWORD, "csrf_token": token},
        )
        assert answer.status_code == (303 if role == "admin" else 403), role
        if role != "admin":
            assert "needs the admin role" in answer.text
        bearer = {"authorization": f"Bearer {dashboard.tokens[name]}"}
        answer = httpx.post(
            f"{dashboard.url}/settings/users/vic/role", data={"role": "admin"}, headers=bearer
        )
        assert answer.status_code == (303 if role == "admin" else 403), role
        if role == "admin":  # put it back
            httpx.post(
                f"{dashboard.url}/settings/users/vic/role", data={"role": "viewer"}, headers=bearer
            )


def test_role_changes_and_removals_take_effect_at_once(
    dashboard: Dashboard, clients: Clients
) -> None:
    admin, token = clients.log_in(dashboard.url, "ann")
    form = {"name": "temp", "password": PASSWORD, "role": "viewer", "csrf_token": token}
    assert admin.post("/settings/users", data=form).status_code == 303
    temp, _ = clients.log_in(dashboard.url, "temp")
    assert temp.get("/api/me").json()["role"] == "viewer"
    admin.post("/settings/users/temp/role", data={"role": "responder", "csrf_token": token})
    assert temp.get("/api/me").json()["role"] == "responder"
    admin.post("/settings/users/temp/remove", data={"csrf_token": token})
    assert temp.get("/api/me").status_code == 401
    assert temp.get("/search").status_code == 303
    # and the audit log says who did it
    audit = admin.get("/settings").text
    for action in ("session.login", "user.add", "user.role", "user.remove"):
        assert action in audit


def test_an_account_removed_by_another_process_is_refused_within_the_lookup_time(
    dashboard: Dashboard, clients: Clients
) -> None:
    """The gate remembers an account it found for LOOKUP_TTL_S; `uproar users remove` in
    another process (which this process cannot hear of) holds at most that long."""
    admin, token = clients.log_in(dashboard.url, "ann")
    form = {"name": "gone", "password": PASSWORD, "role": "viewer", "csrf_token": token}
    assert admin.post("/settings/users", data=form).status_code == 303
    gone, _ = clients.log_in(dashboard.url, "gone")
    assert gone.get("/api/me").json()["role"] == "viewer"  # the gate has it now
    removed = subprocess.run(
        [sys.executable, "-m", "uproar.cli", "users", "remove", "gone", "--db", str(dashboard.db)],
        capture_output=True,
        timeout=120,
    )
    assert removed.returncode == 0, removed.stderr
    time.sleep(LOOKUP_TTL_S)
    assert gone.get("/api/me").status_code == 401


def test_an_admin_cannot_lock_themself_out(dashboard: Dashboard, clients: Clients) -> None:
    admin, token = clients.log_in(dashboard.url, "ann")
    assert admin.post("/settings/users/ann/remove", data={"csrf_token": token}).status_code == 400
    answer = admin.post("/settings/users/ann/role", data={"role": "viewer", "csrf_token": token})
    assert answer.status_code == 400
    assert admin.get("/api/me").json()["role"] == "admin"


def test_every_html_response_has_the_policy_and_no_inline_code(
    dashboard: Dashboard, clients: Clients
) -> None:
    client, _ = clients.log_in(dashboard.url, "ann")
    viewer, _ = clients.log_in(dashboard.url, "vic")
    anonymous = clients.new(dashboard.url)
    pages = [
        anonymous.get("/login"),
        client.get("/search"),
        client.get("/search?q=kiwinet&sentiment=negative"),
        client.get("/search?q=kiwinet&brand=nope"),  # an error page
        client.get("/settings"),
        viewer.get("/settings"),
        client.get("/now"),
        client.get("/incidents/nope"),  # a 404 page naming the known ones
    ]
    statuses = []
    for page in pages:
        assert page.headers["content-type"].startswith("text/html"), page.url
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "same-origin"
        assert page.headers["x-frame-options"] == "DENY"
        html = page.text
        # scripts only from our own static files, or JSON data blocks (never executed)
        for attrs, body in re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S):
            external = re.search(r'\ssrc="/static/[^"]+"', attrs) and not body.strip()
            assert external or 'type="application/json"' in attrs, (page.url, attrs)
        assert "<style" not in html, page.url
        assert not re.search(r"\s(on[a-z]+|style)\s*=", html), page.url
        statuses.append(page.status_code)
    assert statuses == [200, 200, 200, 400, 200, 200, 200, 404]
    api = client.get("/api/search?q=x", headers={"accept": "application/json"})
    assert api.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_login_is_rate_limited_per_account_and_per_address(
    store_file: Path, clients: Clients, tmp_path: Path
) -> None:
    db = tmp_path / "uproar.duckdb"
    shutil.copy(store_file, db)
    clock = [1000.0]
    limiter = LoginLimiter(failures=5, window=60, clock=lambda: clock[0])
    with Served(create_app(db, login_limiter=limiter)) as served:
        client = clients.new(served.url)
        token = csrf_of(client.get("/login").text)

        def attempt(name: str, password: str) -> httpx.Response:
            return client.post(
                "/login", data={"name": name, "password": password, "csrf_token": token}
            )

        assert [attempt("vic", "wrong password").status_code for _ in range(5)] == [401] * 5
        blocked = attempt("vic", PASSWORD)  # even the right password, for now
        assert blocked.status_code == 429
        assert 1 <= int(blocked.headers["retry-after"]) <= 60
        assert "too many failed log-ins" in blocked.text
        clock[0] += 61
        assert attempt("vic", PASSWORD).status_code == 303
        client.cookies.clear()
        token = csrf_of(client.get("/login").text)
        # from one address, failures across many names add up too
        for i in range(5):
            assert attempt(f"guess{i}", "wrong password").status_code == 401
        assert attempt("rob", PASSWORD).status_code == 429


@pytest.mark.parametrize("value", ["", "garbage", "a=b; uproar_session"])
def test_a_malformed_cookie_is_no_session(dashboard: Dashboard, value: str) -> None:
    answer = httpx.get(f"{dashboard.url}/api/me", headers={"cookie": value})
    assert answer.status_code == 401


def test_the_cookie_is_secure_behind_an_https_proxy(dashboard: Dashboard, clients: Clients) -> None:
    # uvicorn trusts X-Forwarded-Proto from a proxy on this machine (its default)
    client = clients.new(dashboard.url)
    token = csrf_of(client.get("/login").text)
    answer = client.post(
        "/login",
        data={"name": "vic", "password": PASSWORD, "csrf_token": token},
        headers={"x-forwarded-proto": "https"},
    )
    assert answer.status_code == 303
    assert "; Secure" in answer.headers["set-cookie"]


def test_a_websocket_without_an_account_is_closed(
    tmp_path: Path, store_file: Path, clients: Clients
) -> None:
    db = tmp_path / "uproar.duckdb"
    shutil.copy(store_file, db)
    with Store(db) as store:
        token = accounts.new_token(store, "vic", label="ws", now=NOW)
    app = create_app(db)

    @app.websocket("/ws")
    async def hello(socket: WebSocket) -> None:
        await socket.accept()
        await socket.send_text(f"hello {socket.state.user.name}")
        await socket.close()

    with Served(app) as served:
        url = served.url.replace("http://", "ws://") + "/ws"
        with pytest.raises(InvalidStatus) as refused:
            connect(url, open_timeout=30).close()
        assert refused.value.response.status_code == 403  # closed before the handshake
        bearer = {"Authorization": f"Bearer {token}"}
        with connect(url, additional_headers=bearer, open_timeout=30) as socket:
            assert socket.recv(timeout=30) == "hello vic"
        # a session cookie works from this site's pages only
        cookie = clients.log_in(served.url, "vic")[0].cookies["uproar_session"]
        session = {"Cookie": f"uproar_session={cookie}"}
        with connect(
            url, additional_headers=session, origin=Origin(served.url), open_timeout=30
        ) as ws:
            assert ws.recv(timeout=30) == "hello vic"
        with pytest.raises(InvalidStatus):
            connect(url, additional_headers=session, origin=Origin("http://evil.example"),
                    open_timeout=30).close()  # fmt: skip
