"""``uproar report``: HTML and PDF of a stored incident, from a simulated archive and from a
CSV one; self-contained, hostile text shown as text, loud on a wrong brand or incident."""

from __future__ import annotations

import re
from pathlib import Path

import pypdf
import pytest
from typer.testing import CliRunner

from uproar.cli.app import get_app
from uproar.report import build_report, write_report
from uproar.report.charts import spec, volume_chart
from uproar.store import Store
from uproar.times import zone

from .conftest import HOSTILE, Stored

pytestmark = pytest.mark.slow

SECTIONS = (
    "Summary",
    "Incidents",
    "Mention volume",
    "Timeline",
    "Lessons",
    "What people said",
    "Rumours and bait links",
    "What the brand posted",
    "The inbox",
)
EXTERNAL = re.compile(
    r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import"""
)


def run(runner: CliRunner, *args: str) -> tuple[int, str]:
    """Exit status and what the user sees (the CLI prints a library error in one line)."""
    result = runner.invoke(get_app(), list(args))
    seen = result.output + (str(result.exception) if result.exception else "")
    return result.exit_code, seen


def test_html_report_of_a_simulated_incident(
    runner: CliRunner, simulated_store: Stored, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    code, output = run(
        runner,
        "report",
        "--db",
        str(simulated_store.db),
        "--tz",
        "Pacific/Auckland",
        "--out",
        str(out),
    )
    assert code == 0, output
    html = out.read_text()
    for title in SECTIONS:
        assert title in html, title
    assert simulated_store.incident in html
    assert "NZST" in html or "NZDT" in html  # times in the asked zone, not UTC
    assert "<script" not in html.lower()
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    assert html.count("<svg") >= 3  # volume, sentiment, topics


def test_pdf_report_has_the_sections(simulated_store: Stored, tmp_path: Path) -> None:
    with Store(simulated_store.db, read_only=True) as store:
        report = build_report(store, incident=simulated_store.incident, themes=False)
    out = write_report(report, tmp_path / "report.pdf")
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(out).pages)
    for title in SECTIONS:
        assert title in text, title
    assert f"Incident {simulated_store.incident}" in text


def test_report_of_a_csv_archive_detects_and_escapes(
    runner: CliRunner, csv_store: Stored, tmp_path: Path
) -> None:
    out = tmp_path / "csv.html"
    code, output = run(
        runner, "report", "--db", str(csv_store.db), "--brand", "kiwinet", "--out", str(out)
    )
    assert code == 0, output
    html = out.read_text()
    assert "Incident kiwinet-" in html  # found by a detection run: none was stored
    assert HOSTILE not in html  # the brand's hostile post is shown, as text
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    )
    assert "<script" not in html.lower() and "<img" not in html.lower()
    pdf = tmp_path / "csv.pdf"
    code, output = run(
        runner,
        "report",
        "--db",
        str(csv_store.db),
        "--brand",
        "kiwinet",
        "--no-themes",
        "--out",
        str(pdf),
    )
    assert code == 0, output
    assert pdf.read_bytes().startswith(b"%PDF")


def test_mistakes_are_loud(runner: CliRunner, simulated_store: Stored, tmp_path: Path) -> None:
    db = str(simulated_store.db)
    code, output = run(runner, "report", "--db", db, "--brand", "kiwinett", "--out", "x.html")
    assert code != 0 and "kiwinet" in output and "unknown brand" in output
    code, output = run(runner, "report", "--db", db, "--incident", "nope", "--out", "x.html")
    assert code != 0 and "unknown incident" in output
    code, output = run(runner, "report", "--db", db, "--tz", "Mars/Olympus", "--out", "x.html")
    assert code != 0 and "time zone" in output
    code, output = run(runner, "report", "--db", db, "--out", str(tmp_path / "r.docx"))
    assert code != 0 and ".html or .pdf" in output
    code, output = run(
        runner,
        "report",
        "--db",
        db,
        "--since",
        "2014-09-07",
        "--until",
        "2014-09-05",
        "--out",
        "x.html",
    )
    assert code != 0 and "before" in output
    assert not (tmp_path / "r.docx").exists()


def test_charts_are_valid_vega_lite(simulated_store: Stored) -> None:
    with Store(simulated_store.db, read_only=True) as store:
        report = build_report(store, brand="kiwinet", tz=zone("Pacific/Auckland"), themes=False)
    chart = volume_chart(
        report.series, tz=report.tz, bands=report.bands, baselines=report.baselines
    )
    vl = spec(chart)  # validates against the Vega-Lite schema
    assert vl["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    assert report.shown_brands[0] == "kiwinet" and len(report.shown_brands) > 1  # with peers
    assert report.baselines["kiwinet"]  # a usual range from earlier days
    chapter = report.chapters[-1]
    assert chapter.timeline[0].what.startswith("Complaints begin")
    assert {lesson.measure for lesson in chapter.lessons} >= {"first_response_min"}
