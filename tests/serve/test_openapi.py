"""Schemathesis over the dashboard's OpenAPI spec (with an admin's API token, so every
operation is reached): no request it makes gets a 500."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from uproar.serve import accounts, create_app
from uproar.serve.accounts import LoginLimiter
from uproar.store import Store

from .conftest import NOW, Served

pytestmark = pytest.mark.slow


def test_schemathesis_finds_no_server_errors(store_file: Path, tmp_path: Path) -> None:
    db = tmp_path / "uproar.duckdb"
    shutil.copy(store_file, db)
    with Store(db) as store:
        token = accounts.new_token(store, "ann", label="schemathesis", now=NOW)
    app = create_app(db, clock=lambda: NOW, login_limiter=LoginLimiter(failures=10_000))
    with Served(app) as served:
        bearer = {"authorization": f"Bearer {token}"}
        spec = httpx.get(f"{served.url}/openapi.json", headers=bearer).json()
        assert {"/api/search", "/api/me", "/search", "/settings", "/health"} <= set(spec["paths"])
        result = subprocess.run(
            [
                sys.executable, "-m", "schemathesis.cli", "run", f"{served.url}/openapi.json",
                "--header", f"Authorization: Bearer {token}",
                "--checks", "not_a_server_error",
                "--max-examples", "25", "--max-time", "40", "--seed", "15",
                "--workers", "2", "--request-timeout", "20",
                "--report-dir", str(tmp_path / "schemathesis"),
            ],
            capture_output=True, text=True, timeout=180, cwd=tmp_path,
        )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout or "passed" in result.stdout, result.stdout[-2000:]
