"""``detect --series``: a timestamp,value CSV at any regular interval."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from uproar.cli.app import get_app
from uproar.detect.series import detect_series, read_series
from uproar.errors import InputError

from .conftest import T0

KEYS = {"brand", "start", "detected_at", "peak", "end", "severity", "scope", "posts",
        "authors", "regions", "topics", "terms", "sample_post_ids"}  # fmt: skip


def write_series(
    path: Path, *, step_min: int = 5, days: int = 3, spike_at: int | None = None, zone: str = ""
) -> Path:
    rng = np.random.default_rng(11)
    n = days * 1440 // step_min
    t = np.arange(n)
    rate = step_min * 2.0 * (1 + 0.5 * np.sin(2 * np.pi * t * step_min / 1440))
    values = rng.poisson(rate)
    if spike_at is not None:
        values[spike_at : spike_at + 6] += (rate[spike_at : spike_at + 6] * 5).astype(int)
    lines = ["timestamp,value"]
    for i, v in enumerate(values):
        when = (T0 + timedelta(minutes=int(i) * step_min)).replace(tzinfo=None)
        lines.append(f"{when.isoformat()}{zone},{v}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_spike_in_a_five_minute_series_is_found(tmp_path: Path) -> None:
    spike = 2 * 288 + 100  # day 3, 08:20
    path = write_series(tmp_path / "v.csv", spike_at=spike)
    result = detect_series(path)
    assert len(result.incidents) == 1
    inc = result.incidents[0]
    onset = T0 + timedelta(minutes=5 * spike)
    assert onset - timedelta(minutes=10) <= inc.start <= onset
    assert onset <= inc.detected_at <= onset + timedelta(minutes=10)
    assert inc.end is not None and inc.scope == "brand"


def test_a_quiet_series_has_no_incident(tmp_path: Path) -> None:
    assert detect_series(write_series(tmp_path / "q.csv", zone="Z")).incidents == ()


def test_zoneless_times_are_utc(tmp_path: Path) -> None:
    series = read_series(write_series(tmp_path / "u.csv", days=1))
    assert series.times[0] == T0 and series.step == timedelta(minutes=5) and series.notes == ()


@pytest.mark.parametrize(
    ("body", "line", "needle"),
    [
        ("timestamp,value\n2024-03-04T00:00:00,1\nnot-a-time,2\n", 3, "bad timestamp"),
        ("timestamp,value\n2024-03-04T00:00:00,1\n2024-03-04T00:01:00,x\n", 3, "bad value"),
        ("time,count\n2024-03-04T00:00:00,1\n", 1, "header"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path: Path, body: str, line: int, needle: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(body)
    with pytest.raises(InputError) as err:
        read_series(path)
    assert err.value.line == line and err.value.file == str(path)
    assert needle in err.value.message and f"bad.csv:{line}" in err.value.message


def test_cli_series_json_has_the_documented_keys(tmp_path: Path) -> None:
    path = write_series(tmp_path / "v.csv", spike_at=2 * 288 + 100)
    result = CliRunner().invoke(get_app(), ["detect", "--series", str(path), "--json"])
    assert result.exit_code == 0, result.output
    incidents = json.loads(result.stdout)
    assert len(incidents) == 1 and set(incidents[0]) >= KEYS
    assert incidents[0]["start"].endswith("Z") and incidents[0]["brand"] == "series"


def test_cli_series_bad_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("timestamp,value\n2024-03-04T00:00:00,1\nnope,2\n")
    result = CliRunner().invoke(get_app(), ["detect", "--series", str(path), "--json"])
    assert result.exit_code != 0
