"""What every connection to a store is set up with."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_SETTING = """
import sys
from uproar.store import Store
with Store(sys.argv[1], read_only=sys.argv[2] == "ro") as store:
    row = store.connection.execute("SELECT current_setting('enable_progress_bar')").fetchone()
print(row[0])
"""


def test_no_connection_draws_duckdb_s_progress_bar(tmp_path: Path) -> None:
    # DuckDB draws it on stdout for a query over 2 s (as a process of its own sees it, not
    # under pytest's capture), which broke `uproar eval detect --json`'s output.
    path = tmp_path / "s.duckdb"
    for target, mode in ((path, "rw"), (path, "ro"), (":memory:", "rw")):
        out = subprocess.run(
            [sys.executable, "-c", _SETTING, str(target), mode],
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.strip() == "False", (target, mode, out.stdout)
